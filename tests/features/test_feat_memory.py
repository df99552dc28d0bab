"""Memory stays bounded: a hot key stays small, and forgotten keys are freed."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from tests.features.conftest import make_event, specs_of

from rampart.features.distinct import DEFAULT_DISTINCT_CAP
from rampart.features.online import OnlineFeatures, state_bytes
from rampart.features.windows import MAX_BUCKETS
from rampart.ingest.privacy import Accepted

HOT_IP = "100.64.0.1"  # a carrier NAT address: every event of a region comes through it
HOT_SPECS = specs_of(
    [
        {"name": "n_1h", "agg": "count", "keys": ["ip"], "window": "1h"},
        {"name": "amount_1h", "agg": "sum", "keys": ["ip"], "window": "1h",
         "field": "event.props.amount"},
        {"name": "amount_max_1h", "agg": "max", "keys": ["ip"], "window": "1h",
         "field": "event.props.amount"},
        {"name": "amount_mean_24h", "agg": "mean", "keys": ["ip"], "window": "24h",
         "field": "event.props.amount"},
        {"name": "users_24h", "agg": "distinct_count", "keys": ["ip"], "window": "24h",
         "field": "user"},
        {"name": "ip_age", "agg": "age", "keys": ["ip"], "window": "90d"},
        {"name": "last_user", "agg": "last_value", "keys": ["ip"], "window": "7d",
         "field": "user"},
        {"name": "n_lifetime", "agg": "count", "keys": ["ip"]},
    ]
)  # fmt: skip


def hot_events(count: int) -> Iterator[Accepted]:
    for n in range(count):
        yield make_event(
            "payment", n * 1.7, event_id=f"e{n}", user=f"user-{n % 40_000}", ip=HOT_IP,
            amount=float(n % 97),
        )  # fmt: skip


def test_one_hot_key_of_100000_events_stays_small() -> None:
    online = OnlineFeatures(HOT_SPECS)
    for accepted in hot_events(100_000):
        out = online.update(accepted)
    # The documented bounds: at most 64 buckets per (key, window), a few KB per group, and
    # a distinct count holds at most 2 x cap + 16 members (live and not yet swept).
    for group in online.groups:
        state = group.states[HOT_IP]
        assert len(state.ids) <= MAX_BUCKETS
        limit = 256_000 if group.layout.distinct_reads else 16_000
        assert state_bytes(state) < limit, (group.key_name, group.specs[0].window)
        for members in state.members or ():
            assert len(members) <= 2 * DEFAULT_DISTINCT_CAP + 16
    assert online.stats().memory_bytes < 512_000
    assert out["features.n_lifetime"] == 100_000
    assert abs(out["features.users_24h"] - 40_000) < 4_000  # sampled beyond the cap


def test_the_memory_estimate_agrees_with_tracemalloc() -> None:
    online = OnlineFeatures(HOT_SPECS)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for accepted in hot_events(6_000):  # each event is freed after its update
            online.update(accepted)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    measured = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    estimated = online.stats().memory_bytes
    assert 0.6 * measured < estimated < 1.5 * measured, (estimated, measured)


def test_forgotten_keys_are_freed_by_the_sweep() -> None:
    specs = specs_of([{"name": "n", "agg": "count", "keys": ["user"], "window": "10m"}])
    online = OnlineFeatures(specs)
    # A new user every second for two hours: about 600 are inside the window at any time.
    for n in range(7_200):
        online.update(make_event("login", n, event_id=f"e{n}", user=f"u{n}"))
    group = online.groups[0]
    assert len(group.states) < 700
    assert len(group.expiry_keys) < 700


def test_known_keys_moving_on_do_not_pile_up_notes() -> None:
    specs = specs_of([{"name": "n", "agg": "count", "keys": ["user"], "window": "1h"}])
    online = OnlineFeatures(specs)
    # The same 100 users, each every 10 minutes, for two days: no new keys after the first.
    for n in range(28_800):
        online.update(make_event("login", n * 6, event_id=f"e{n}", user=f"u{n % 100}"))
    group = online.groups[0]
    assert len(group.states) == 100
    assert len(group.expiry_keys) < 1_000  # about 6 live notes per user, a few stale


def test_lifetime_keys_are_kept() -> None:
    specs = specs_of([{"name": "n", "agg": "count", "keys": ["user"]}])
    online = OnlineFeatures(specs)
    for n in range(1_000):
        online.update(make_event("login", n * 3600, event_id=f"e{n}", user=f"u{n}"))
    assert len(online.groups[0].states) == 1_000
