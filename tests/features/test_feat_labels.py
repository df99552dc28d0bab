"""Label-fed features: labels count at their time, on entities and on remembered events."""

from __future__ import annotations

from typing import Any

from tests.features.conftest import EPOCH, make_event, specs_of

from rampart.contract.outputs import Label
from rampart.features.labels import LabelledEvents
from rampart.features.online import OnlineFeatures
from rampart.ingest.privacy import EventPrivacy

DAY = 86_400.0
SPECS = specs_of(
    [
        {"name": "seller_fraud_orders_30d", "agg": "count", "source": "labels",
         "keys": ["seller"], "window": "30d", "label_area": "malicious_activity",
         "where": {"event.type": "cart.add"}},
        {"name": "instrument_labels_30d", "agg": "count", "source": "labels",
         "keys": ["instrument"], "window": "30d"},
        {"name": "ip_labels_7d", "agg": "count", "source": "labels", "keys": ["ip"],
         "window": "7d"},
        {"name": "user_labels_7d", "agg": "count", "source": "labels", "keys": ["user"],
         "window": "7d"},
    ]
)  # fmt: skip


def label(kind: str, entity: str, area: str = "malicious_activity", value: int = 1) -> Label:
    return Label(entity_type=kind, entity_id=entity, area=area, label=value)  # type: ignore[arg-type]


def cart(seconds: float, event_id: str, seller: str = "s1", user: str = "u1") -> Any:
    # cart.add stands in for an order here: it carries a seller.
    return make_event("cart", seconds, event_id=event_id, seller=seller, user=user)


def test_confirmed_fraud_per_seller_as_known_at_decision_time() -> None:
    online = OnlineFeatures(SPECS)
    online.update(cart(0, "o1"))
    online.update(cart(10, "o2"))
    online.update(cart(20, "o3", seller="s2"))
    assert online.update(cart(30, "o4"))["features.seller_fraud_orders_30d"] == 0
    online.apply_label(label("event", "o1"), EPOCH + 2 * DAY)  # a chargeback two days later
    online.apply_label(label("event", "o2", area="scalper"), EPOCH + 2 * DAY)  # another area
    online.apply_label(label("event", "o2", value=0), EPOCH + 2 * DAY)  # legitimate
    online.apply_label(label("event", "o3"), EPOCH + 2 * DAY)  # another seller
    online.apply_label(label("event", "unknown"), EPOCH + 2 * DAY)
    assert online.update(cart(2 * DAY + 1, "o5"))["features.seller_fraud_orders_30d"] == 1
    online.apply_label(label("event", "o4"), EPOCH + 3 * DAY)
    assert online.update(cart(3 * DAY + 1, "o6"))["features.seller_fraud_orders_30d"] == 2
    # 30 days after the labels were known, they have left the window.
    assert online.update(cart(33 * DAY, "o7"))["features.seller_fraud_orders_30d"] == 0
    assert online.update(cart(33 * DAY, "o8", seller="s2"))["features.seller_fraud_orders_30d"] == 0


def test_labels_on_entities_count_for_their_own_kind() -> None:
    online = OnlineFeatures(SPECS)
    online.apply_label(label("user", "u7"), EPOCH + 50)
    online.apply_label(label("user", "u7", area="brushing"), EPOCH + 60)
    online.apply_label(label("seller", "u7"), EPOCH + 60)  # a seller label is not a user label
    online.apply_label(label("instrument", "card-9"), EPOCH + 70)
    out = online.update(make_event("payment", 100, event_id="p1", user="u7", instrument="card-9"))
    assert out["features.user_labels_7d"] == 2
    assert out["features.instrument_labels_30d"] == 1
    assert out["features.seller_fraud_orders_30d"] == 0


def test_ip_labels_must_carry_the_pseudonym_events_carry() -> None:
    privacy = EventPrivacy.for_demo()
    online = OnlineFeatures(SPECS)
    raw_ip = "203.0.113.7"
    pseudonym = privacy.pseudonymizer.token("ip", raw_ip)
    online.apply_label(label("ip", raw_ip), EPOCH)  # not pseudonymised: matches nothing
    online.apply_label(label("ip", pseudonym), EPOCH)
    event = privacy.protect(make_event("login", 10, event_id="l1", ip=raw_ip).event)
    assert online.update(event)["features.ip_labels_7d"] == 1


def test_only_orders_payments_and_refunds_are_remembered_without_a_type() -> None:
    online = OnlineFeatures(SPECS)
    online.update(make_event("login", 0, event_id="login1", user="u1"))
    online.update(make_event("payment", 1, event_id="pay1", user="u1"))
    online.apply_label(label("event", "login1"), EPOCH + 5)
    online.apply_label(label("event", "pay1"), EPOCH + 5)
    out = online.update(make_event("login", 10, event_id="login2", user="u1"))
    assert out["features.user_labels_7d"] == 1
    assert online.labelled.keys_of("login1") is None


def test_labelled_events_are_bounded_by_a_cap() -> None:
    memory = LabelledEvents(keep_seconds=None, cap=3)
    for n in range(10):
        memory.remember(f"e{n}", float(n), ("k",))
        memory.expire(now=float(n))
    assert len(memory) <= 3
    assert memory.keys_of("e9") == ("k",)
    assert memory.keys_of("e0") is None
