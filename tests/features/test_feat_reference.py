"""Every aggregation against a naive reference, on random streams of events and labels.

The reference keeps every (event, key, value) it was shown and scans them all for every read,
with the documented granularity (bucket width and span of windows.py), the documented clock
(the latest time seen), late events (counted while their bucket is in the window), forgetting
(a key with nothing in its window starts again) and what "as of this event" includes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.features.conftest import EPOCH, make_event, specs_of

from rampart.contract.outputs import Label
from rampart.features.online import OnlineFeatures
from rampart.features.spec import FeatureSpec

SPECS = specs_of(
    [
        {"name": "n_user_30s", "agg": "count", "keys": ["user"], "window": "30s"},
        {"name": "n_user_97s", "agg": "count", "keys": ["user"], "window": "97s"},
        {"name": "n_user_10m", "agg": "count", "keys": ["user"], "window": "10m"},
        {"name": "n_user_life", "agg": "count", "keys": ["user"]},
        {"name": "n_all_30s", "agg": "count", "keys": [], "window": "30s"},
        {"name": "n_pay_device_user", "agg": "count", "keys": ["device", "user"],
         "window": "97s", "where": {"event.type": "payment.attempt"}},
        {"name": "n_failed_logins", "agg": "count", "keys": ["user"], "window": "10m",
         "where": {"event.type": "account.login", "event.props.success": False}},
        {"name": "n_logins", "agg": "count", "keys": ["user"], "window": "10m",
         "where": {"event.type": "account.login"}},
        {"name": "failed_share", "agg": "ratio", "numerator": "n_failed_logins",
         "denominator": "n_logins"},
        {"name": "n_success", "agg": "count", "keys": ["device"], "window": "97s",
         "where": {"event.props.success": [True]}},
        {"name": "amount_sum_97s", "agg": "sum", "keys": ["user"], "window": "97s",
         "field": "event.props.amount"},
        {"name": "quantity_sum_life", "agg": "sum", "keys": ["user"],
         "field": "event.props.quantity"},
        {"name": "amount_sum_all", "agg": "sum", "keys": [], "window": "10m",
         "field": "event.props.amount"},
        {"name": "amount_mean", "agg": "mean", "keys": ["user"], "window": "10m",
         "field": "event.props.amount"},
        {"name": "quantity_mean", "agg": "mean", "keys": ["device"], "window": "97s",
         "field": "event.props.quantity"},
        {"name": "amount_max", "agg": "max", "keys": ["user"], "window": "97s",
         "field": "event.props.amount"},
        {"name": "amount_min", "agg": "min", "keys": ["user"], "window": "97s",
         "field": "event.props.amount"},
        {"name": "quantity_max_life", "agg": "max", "keys": ["device"],
         "field": "event.props.quantity"},
        {"name": "quantity_min_pair", "agg": "min", "keys": ["device", "user"], "window": "30s",
         "field": "event.props.quantity"},
        {"name": "devices_per_user", "agg": "distinct_count", "keys": ["user"], "window": "10m",
         "field": "device"},
        {"name": "users_per_device", "agg": "distinct_count", "keys": ["device"],
         "window": "97s", "field": "event.user_id"},
        {"name": "items_per_seller", "agg": "distinct_count", "keys": ["seller"],
         "field": "event.props.item_id"},
        {"name": "users_30s", "agg": "distinct_count", "keys": [], "window": "30s",
         "field": "user"},
        {"name": "user_age", "agg": "age", "keys": ["user"], "window": "97s"},
        {"name": "link_age", "agg": "age", "keys": ["device", "user"]},
        {"name": "device_first_seen", "agg": "first_seen", "keys": ["device"], "window": "10m"},
        {"name": "since_last_payment", "agg": "time_since_last", "keys": ["user"],
         "window": "97s", "where": {"event.type": "payment.attempt"}},
        {"name": "since_last_device", "agg": "time_since_last", "keys": ["device"]},
        {"name": "last_amount", "agg": "last_value", "keys": ["user"], "window": "10m",
         "field": "event.props.amount"},
        {"name": "last_device", "agg": "last_value", "keys": ["user"], "window": "97s",
         "field": "device"},
        {"name": "last_item", "agg": "last_value", "keys": ["seller"],
         "field": "event.props.item_id"},
        {"name": "seller_bad_carts", "agg": "count", "keys": ["seller"], "window": "10m",
         "source": "labels", "label_area": "malicious_activity",
         "where": {"event.type": "cart.add"}},
        {"name": "user_labels", "agg": "count", "keys": ["user"], "window": "97s",
         "source": "labels"},
        {"name": "device_labels", "agg": "count", "keys": ["device"], "source": "labels",
         "label_area": "scalper"},
        {"name": "all_labels", "agg": "count", "keys": [], "window": "10m", "source": "labels"},
    ]
)  # fmt: skip


# --- the reference -------------------------------------------------------------------------


def geometry(seconds: int | None) -> tuple[float, int]:
    """Bucket width and span by the documented rule, written out again."""
    if seconds is None:
        return float(2**62), 1
    smallest = max(1, -(-seconds // 64))
    for width in range(smallest, 2 * smallest + 1):
        if seconds % width == 0:
            return float(width), seconds // width
    return float(smallest), -(-seconds // smallest)


@dataclass
class Record:
    seq: int
    ts: float
    key: Any
    value: Any
    clock: float  # the clock when it was applied


@dataclass
class Reference:
    specs: list[FeatureSpec]
    clock: float = float("-inf")
    seq: int = 0
    records: dict[str, list[Record]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lowest(self, spec: FeatureSpec, now: float) -> float:
        width, span = geometry(spec.window_seconds)
        return now // width - (span - 1)

    def bucket(self, spec: FeatureSpec, ts: float) -> float:
        return ts // geometry(spec.window_seconds)[0]

    def add(self, spec: FeatureSpec, ts: float, key: Any, value: Any) -> bool:
        if self.bucket(spec, ts) < self.lowest(spec, self.clock):
            return False  # too late to count
        self.seq += 1
        record = Record(self.seq, ts, key, value, self.clock)
        self.records.setdefault(spec.name, []).append(record)
        return True

    def run(self, spec: FeatureSpec, key: Any, until: int) -> list[Record]:
        """The key's records since it was last forgotten, applied before sequence ``until``."""
        current: list[Record] = []
        for record in self.records.get(spec.name, []):
            if record.key != key or record.seq >= until:
                continue
            if current:
                newest = max(self.bucket(spec, r.ts) for r in current)
                if newest < self.lowest(spec, record.clock):
                    current = []
            current.append(record)
        return current

    def value(self, spec: FeatureSpec, key: Any, now: float, applied: int | None) -> Any:
        """A feature of ``key`` at ``now``; ``applied`` is the sequence of this event's record."""
        until = self.seq + 1
        lowest = self.lowest(spec, now)
        run = self.run(spec, key, until)
        if run and max(self.bucket(spec, r.ts) for r in run) < lowest:
            run = []
        window = [r for r in run if self.bucket(spec, r.ts) >= lowest]
        values = [r.value for r in window if r.value is not None]
        previous = [r for r in run if r.seq != applied]
        match spec.agg:
            case "count":
                return len(window)
            case "sum":
                return sum(values, 0.0 if spec.value_type == "float" else 0)
            case "mean":
                return sum(values) / len(values) if values else None
            case "max":
                return max(values, default=None)
            case "min":
                return min(values, default=None)
            case "distinct_count":
                return len(set(values))
            case "age":
                return now - min(r.ts for r in run) if run else None
            case "first_seen":
                return min(r.ts for r in run) if run else None
            case "time_since_last":
                return now - max(r.ts for r in previous) if previous else None
            case "last_value":
                valued = [r for r in previous if r.value is not None]
                if not valued:
                    return None
                last = max(valued, key=lambda r: (r.ts, r.seq))
                return last.value if self.bucket(spec, last.ts) >= lowest else None
        raise AssertionError(spec.agg)


def event_value(event: dict[str, Any], path: str) -> Any:
    """A field of a generated event, by its contract path or entity kind."""
    kind = event["kind"]
    return {
        "event.type": {"payment": "payment.attempt", "cart": "cart.add", "login": "account.login"}[
            kind
        ],
        "event.user_id": event["user"],
        "user": event["user"],
        "device": event["device"],
        "seller": event["seller"] if kind == "cart" else None,
        "event.props.item_id": event["item"] if kind == "cart" else None,
        "event.props.amount": event["amount"] if kind == "payment" else None,
        "event.props.quantity": event["quantity"] if kind == "cart" else None,
        "event.props.success": event["success"] if kind in ("payment", "login") else None,
    }[path]


def passes(spec: FeatureSpec, event: dict[str, Any]) -> bool:
    for path, allowed in spec.where.items():
        options = allowed if isinstance(allowed, list) else [allowed]
        if event_value(event, path) not in options:
            return False
    return True


def key_of(spec: FeatureSpec, event: dict[str, Any]) -> Any:
    parts = tuple(event_value(event, kind) for kind in spec.keys)
    return None if None in parts else parts


def expected_after(reference: Reference, event: dict[str, Any], ts: float) -> dict[str, Any]:
    """Apply an event to the reference; return what every feature should read."""
    reference.clock = max(reference.clock, ts)
    reference.events[event["id"]] = event
    applied: dict[str, int | None] = {}
    for spec in reference.specs:
        applied[spec.name] = None
        key = key_of(spec, event)
        if spec.agg == "ratio" or spec.source == "labels" or key is None:
            continue
        if passes(spec, event):
            value = event_value(event, spec.field) if spec.field else None
            if reference.add(spec, ts, key, value):
                applied[spec.name] = reference.seq
    return read_reference(reference, event, reference.clock, applied)


def read_reference(
    reference: Reference, event: dict[str, Any], now: float, applied: dict[str, int | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in reference.specs:
        if spec.agg == "ratio":
            continue
        key = key_of(spec, event)
        if key is None:
            empty = reference.value(spec, object(), now, None)
            out[spec.qualified_name] = empty
        else:
            out[spec.qualified_name] = reference.value(spec, key, now, applied.get(spec.name))
    for spec in reference.specs:
        if spec.agg == "ratio":
            top = out[f"features.{spec.numerator}"]
            bottom = out[f"features.{spec.denominator}"]
            out[spec.qualified_name] = top / bottom if bottom else None
    return out


def apply_reference_label(reference: Reference, label: Label, ts: float) -> None:
    reference.clock = max(reference.clock, ts)
    if label.label != 1:
        return
    for spec in reference.specs:
        if spec.source != "labels" or spec.label_area not in (None, label.area):
            continue
        key: Any = None
        if label.entity_type == "event":
            event = reference.events.get(label.entity_id)
            # Without a type in `where`, only orders, payments and refunds are remembered.
            if event is not None and ("event.type" in spec.where or event["kind"] == "payment"):
                key = key_of(spec, event) if passes(spec, event) else None
        elif not spec.where and spec.keys == (label.entity_type,):
            key = (label.entity_id,)
        elif not spec.where and not spec.keys:
            key = ()
        if key is not None:
            reference.add(spec, ts, key, None)


# --- streams ---------------------------------------------------------------------------------

USERS = ["u1", "u2"]
DEVICES = ["d1", "d2", None]
# Mostly small steps, some past a window edge, some late (negative).
DELTAS = [0, 0.5, 1, 3, 7, 29, 31, 60, 96, 98, 250, 601, 4000, -1, -5, -15, -50, -200]

event_steps = st.fixed_dictionaries(
    {
        "step": st.just("event"),
        "kind": st.sampled_from(["payment", "payment", "cart", "login"]),
        "delta": st.sampled_from(DELTAS),
        "user": st.sampled_from(USERS),
        "device": st.sampled_from(DEVICES),
        "seller": st.sampled_from(["s1", "s2"]),
        "item": st.sampled_from(["i1", "i2", "i3", "i4"]),
        "amount": st.sampled_from([0.5, 1.0, 2.25, 10.0, 99.99]),
        "quantity": st.integers(1, 5),
        "success": st.booleans(),
    }
)
label_steps = st.fixed_dictionaries(
    {
        "step": st.just("label"),
        "entity_type": st.sampled_from(["user", "device", "seller", "event", "event"]),
        "pick": st.integers(0, 10_000),
        "area": st.sampled_from(["malicious_activity", "scalper"]),
        "label": st.sampled_from([1, 1, 0]),
        "delta": st.sampled_from(DELTAS),
    }
)
streams = st.lists(st.one_of(event_steps, event_steps, label_steps), min_size=1, max_size=60)


def label_of(step: dict[str, Any], event_ids: list[str]) -> Label:
    kind = step["entity_type"]
    pools: dict[str, list[str]] = {"user": USERS, "device": ["d1", "d2"], "seller": ["s1", "s2"]}
    if kind == "event":
        entity = event_ids[step["pick"] % len(event_ids)] if event_ids else "missing"
    else:
        entity = pools[kind][step["pick"] % len(pools[kind])]
    return Label(entity_type=kind, entity_id=entity, area=step["area"], label=step["label"])


def same(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    assert actual.keys() == expected.keys()
    for name, want in expected.items():
        got = actual[name]
        if isinstance(want, float) and isinstance(got, float):
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (where, name, got, want)
        else:
            assert got == want, (where, name, got, want)
            assert type(got) is type(want), (where, name, got, want)


def pay(delta: float, user: str = "u1", amount: float = 1.0, device: str = "d1") -> dict[str, Any]:
    """A payment step for the explicit examples."""
    step = {"step": "event", "kind": "payment", "delta": delta, "user": user, "device": device}
    return step | {"seller": "s1", "item": "i1", "amount": amount, "quantity": 1, "success": True}


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams, st.integers(0, 60))
# A member seen again late (in an older bucket) still expires with its newest bucket.
@example([pay(100), pay(1), pay(-1), pay(30), pay(1)], 99)
@example([pay(100, device="d1"), pay(10, device="d2"), pay(-10, device="d1"), pay(601)], 2)
# A late maximum (and minimum) that is older than the current one, then the window moves on.
@example([pay(100, amount=1.0), pay(-15, amount=99.99), pay(-5, amount=0.5), pay(96)], 99)
@example([pay(100, amount=99.99), pay(10, amount=1.0), pay(-5, amount=10.0), pay(60)], 99)
@example([pay(100, amount=2.25), pay(10, amount=1.0), pay(-5, amount=10.0), pay(1)], 99)
# Exactly at the window's edge: 30 s later is out, 29 s later is in.
@example([pay(100), pay(29), pay(1), pay(30)], 1)
def test_every_feature_matches_the_naive_reference(steps: list[dict[str, Any]], cut: int) -> None:
    online = OnlineFeatures(SPECS)
    reference = Reference(SPECS)
    restored: OnlineFeatures | None = None
    seconds = 0.0
    event_ids: list[str] = []
    for position, step in enumerate(steps):
        if position == cut:
            restored = OnlineFeatures.restore(SPECS, online.snapshot())
        seconds = max(0.0, seconds + step["delta"])
        ts = EPOCH + seconds
        if step["step"] == "label":
            label = label_of(step, event_ids)
            online.apply_label(label, ts)
            if restored is not None:
                restored.apply_label(label, ts)
            apply_reference_label(reference, label, ts)
            continue
        event = {**step, "id": f"e{position}"}
        event_ids.append(event["id"])
        accepted = make_event(
            step["kind"],
            seconds,
            event_id=event["id"],
            user=step["user"],
            device=step["device"],
            seller=step["seller"],
            item=step["item"],
            amount=step["amount"],
            quantity=step["quantity"],
            success=step["success"],
        )
        ts = accepted.event.ts.timestamp()
        what_if = read_reference(reference, event, max(reference.clock, ts), {})
        same(online.read(accepted), what_if, f"read before step {position}")
        got = online.update(accepted)
        same(got, expected_after(reference, event, ts), f"step {position}")
        if restored is not None:
            assert restored.update(accepted) == got, f"restored, step {position}"
    if restored is not None:
        assert restored.snapshot() == online.snapshot()
