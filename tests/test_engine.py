"""The engine: deterministic, idempotent per event_id, never looks ahead, flags each entity once."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from rampart.contract.events import decode_event
from rampart.contract.outputs import Label
from rampart.detect.rules.pack import load_pack
from rampart.engine import Engine
from rampart.features.online import OnlineFeatures
from rampart.ingest.privacy import Accepted, EventPrivacy
from rampart.packs import DEFAULT_PACK
from rampart.simulate import simulate, world_config

PACK = """
features:
  - {name: device_signups_30d, agg: count, keys: [device], window: 30d,
     where: {event.type: account.created}}
  - {name: seller_fraud_30d, agg: count, source: labels, keys: [seller], window: 30d}
rules:
  - name: device_multi_signup
    areas: [account_integrity]
    expression: event.type == "account.created" and features.device_signups_30d >= 2
    action: review
    weight: 0.8
    mode: live
    verdict: {entity: device, action: review}
  - name: risky_seller
    areas: [malicious_activity]
    expression: event.type == "order.created" and features.seller_fraud_30d >= 1
    action: block
    weight: 0.9
    mode: live
  - name: try_out
    areas: [scalper]
    expression: event.type == "account.created"
    action: block
    weight: 0.9
    mode: shadow
"""


def _signup(event_id: str, ts: str, device: str = "d1") -> bytes:
    return msgspec.json.encode({
        "event_id": event_id, "type": "account.created", "ts": ts, "user_id": f"u-{event_id}",
        "device": {"id": device}, "ip": "203.0.113.9", "props": {"email": f"{event_id}@ex.com"},
    })  # fmt: skip


def _order(event_id: str, ts: str, seller: str) -> bytes:
    return msgspec.json.encode({
        "event_id": event_id, "type": "order.created", "ts": ts, "user_id": "buyer",
        "props": {"order_id": event_id, "seller_id": seller, "total": 5, "currency": "SGD",
                  "items": [{"item_id": "i", "quantity": 1, "unit_price": 5}]},
    })  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    (tmp_path / "pack.yaml").write_text("name: test\nversion: 1\n")
    (tmp_path / "rules.yaml").write_text(PACK)
    pack = load_pack(tmp_path)
    return Engine(pack.rules, OnlineFeatures(list(pack.features)))


def _accept(raw: bytes) -> Accepted:
    return EventPrivacy.for_demo().protect(decode_event(raw))


def test_second_signup_on_a_device_is_reviewed_and_the_device_flagged_once(engine: Engine) -> None:
    first = engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z")))
    assert first.decision.action == "allow"
    assert first.decision.shadow[0]["name"] == "rule:try_out"
    second = engine.process(_accept(_signup("e2", "2026-03-01T10:05:00Z")))
    assert second.decision.action == "review"
    assert second.decision.areas == {"account_integrity": 0.8}
    assert second.decision.reasons == ["rule:device_multi_signup"]
    assert [(v.entity_type, v.entity_id, v.area) for v in second.verdicts] == [
        ("device", "d1", "account_integrity")
    ]
    assert second.verdicts[0].found_at.isoformat() == "2026-03-01T10:05:00+00:00"
    third = engine.process(_accept(_signup("e3", "2026-03-01T10:06:00Z")))
    assert third.decision.action == "review"
    assert third.verdicts == []  # already flagged
    # From now on the flagged device's events carry the flag (after the rule's own reason).
    assert third.decision.reasons == [
        "rule:device_multi_signup",
        "flagged:account_integrity:device",
    ]


def _login(event_id: str, ts: str, user: str, device: str) -> bytes:
    return msgspec.json.encode({
        "event_id": event_id, "type": "account.login", "ts": ts, "user_id": user,
        "device": {"id": device}, "ip": "198.51.100.7", "props": {"success": True},
    })  # fmt: skip


def test_a_flagged_device_carries_to_its_later_events_without_accusing_others(
    engine: Engine,
) -> None:
    engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z")))
    engine.process(_accept(_signup("e2", "2026-03-01T10:05:00Z")))  # flags d1
    later = engine.process(_accept(_login("l1", "2026-03-01T11:00:00Z", "victim", "d1")))
    assert later.decision.action == "challenge"
    assert later.decision.reasons == ["flagged:account_integrity:device"]
    # Below the 0.5 that would flag the event's own user and ip (SCORING.md).
    assert later.decision.areas == {"account_integrity": 0.3}
    assert later.verdicts == []
    # An account in account_integrity may be a victim: the user does not carry there.
    own_device = engine.process(_accept(_login("l2", "2026-03-01T11:01:00Z", "u-e2", "d2")))
    assert own_device.decision.action == "allow"


def test_carry_acts_also_when_only_score_rules_hit(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(
        PACK
        + """
  - name: any_login_scores
    areas: [account_integrity]
    expression: event.type == "account.login"
    action: score
    weight: 0.1
    mode: live
"""
    )
    pack = load_pack(tmp_path)
    engine = Engine(pack.rules, OnlineFeatures(list(pack.features)))
    engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z")))
    engine.process(_accept(_signup("e2", "2026-03-01T10:05:00Z")))  # flags d1
    later = engine.process(_accept(_login("l1", "2026-03-01T11:00:00Z", "u9", "d1")))
    assert later.decision.action == "challenge"
    assert later.decision.reasons == ["rule:any_login_scores", "flagged:account_integrity:device"]


def test_carry_survives_a_snapshot(engine: Engine, tmp_path: Path) -> None:
    engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z")))
    engine.process(_accept(_signup("e2", "2026-03-01T10:05:00Z")))
    pack = load_pack(tmp_path)
    restored = Engine(pack.rules, OnlineFeatures(list(pack.features)))
    restored.load_state(
        msgspec.msgpack.decode(msgspec.msgpack.encode(engine.state()), type=type(engine.state()))
    )
    later = restored.process(_accept(_login("l1", "2026-03-01T11:00:00Z", "u9", "d1")))
    assert later.decision.reasons == ["flagged:account_integrity:device"]


def test_carry_can_be_switched_off(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(PACK)
    pack = load_pack(tmp_path)
    engine = Engine(pack.rules, OnlineFeatures(list(pack.features)), carry=None)
    engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z")))
    engine.process(_accept(_signup("e2", "2026-03-01T10:05:00Z")))
    later = engine.process(_accept(_login("l1", "2026-03-01T11:00:00Z", "u9", "d1")))
    assert later.decision.action == "allow"


def test_a_resent_event_returns_the_stored_decision_and_changes_nothing(engine: Engine) -> None:
    engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z")))
    again = engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z")))
    assert again.duplicate
    assert again.decision == engine.process(_accept(_signup("e1", "2026-03-01T10:00:00Z"))).decision
    # Had the re-sent e1 counted, the device would hold two signups already.
    features = engine.features
    assert isinstance(features, OnlineFeatures)
    state = features.read(_accept(_signup("probe", "2026-03-01T10:01:00Z")))
    assert state["features.device_signups_30d"] == 1  # e1 once; a read leaves the probe out


def test_labels_apply_at_their_time_only(engine: Engine) -> None:
    label = msgspec.json.decode(
        b'{"entity_type":"seller","entity_id":"s9","area":"malicious_activity","label":1,'
        b'"ts":"2026-03-01T12:00:00Z"}',
        type=Label,
    )
    before = engine.process(_accept(_order("o1", "2026-03-01T11:00:00Z", "s9")))
    engine.apply_label(label)
    after = engine.process(_accept(_order("o2", "2026-03-01T12:30:00Z", "s9")))
    assert (before.decision.action, after.decision.action) == ("allow", "block")


def test_decisions_never_depend_on_later_events() -> None:
    """Scoring a prefix of a stream gives exactly the decisions of the same prefix of the whole."""
    world = simulate(world_config("tiny", "hard", seed=21))
    lines = [msgspec.json.encode(event) for event in world.events]
    pack = load_pack(DEFAULT_PACK)

    def run(stream: list[bytes]) -> list[bytes]:
        engine = Engine(pack.rules, OnlineFeatures(list(pack.features)))
        return [msgspec.json.encode(engine.process(_accept(raw)).decision) for raw in stream]

    whole = run(lines)
    cut = len(lines) // 2
    assert run(lines[:cut]) == whole[:cut]
    assert run(lines) == whole  # and a replay is identical
    assert any(b'"action":"allow"' not in d for d in whole)


CARD_PACK = """
features:
  - {name: device_cards_24h, agg: distinct_count, field: event.props.payment.instrument_id,
     keys: [device], window: 24h, where: {event.type: payment.attempt}}
rules:
  - name: card_testing
    areas: [malicious_activity]
    expression: event.type == "payment.attempt" and features.device_cards_24h >= 3
    action: block
    weight: 0.9
    mode: live
    verdict: {entity: [device, instrument], action: block, device_history: [instrument]}
"""


def _attempt(event_id: str, ts: str, card: str, device: str = "tester") -> bytes:
    return msgspec.json.encode({
        "event_id": event_id, "type": "payment.attempt", "ts": ts, "user_id": "u1",
        "device": {"id": device}, "ip": "198.51.100.7",
        "props": {"order_id": "o1", "amount": 1, "currency": "SGD", "success": False,
                  "payment": {"method": "card", "instrument_id": card}},
    })  # fmt: skip


def test_a_card_tester_is_named_with_the_cards_it_tried_before_it_was_caught(
    tmp_path: Path,
) -> None:
    (tmp_path / "rules.yaml").write_text(CARD_PACK)
    pack = load_pack(tmp_path)
    engine = Engine(pack.rules, OnlineFeatures(list(pack.features)))
    engine.process(_accept(_attempt("p0", "2026-03-01T09:00:00Z", "old", device="other")))
    engine.process(_accept(_attempt("p1", "2026-03-01T10:00:00Z", "c1")))
    engine.process(_accept(_attempt("p2", "2026-03-01T10:01:00Z", "c2")))
    third = engine.process(_accept(_attempt("p3", "2026-03-01T10:02:00Z", "c3")))
    named = sorted((v.entity_type, v.entity_id) for v in third.verdicts)
    assert named == [("device", "tester"), ("instrument", "c1"), ("instrument", "c2"),
                     ("instrument", "c3")]  # fmt: skip
