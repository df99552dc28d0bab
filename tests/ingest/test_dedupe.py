"""Deduplication by event_id against a naive reference that remembers everything forever."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.ingest.dedupe import EventIdDeduper


def test_duplicates_within_horizon_are_seen() -> None:
    deduper = EventIdDeduper(horizon_s=100.0, bucket_s=10.0)
    assert not deduper.seen_before("a", 0.0)
    assert deduper.seen_before("a", 50.0)
    assert not deduper.seen_before("b", 95.0)
    assert deduper.seen_before("a", 99.0)


def test_memory_is_bounded_by_the_horizon() -> None:
    deduper = EventIdDeduper(horizon_s=100.0, bucket_s=10.0)
    for second in range(10_000):
        deduper.seen_before(f"e{second}", float(second))
    # Ids older than the horizon (plus one bucket of slack) are forgotten.
    assert len(deduper) <= 100 + 2 * 10


def test_hard_cap_evicts_oldest_and_counts_it() -> None:
    deduper = EventIdDeduper(horizon_s=1e6, bucket_s=1.0, max_ids=100)
    for n in range(250):
        deduper.seen_before(f"e{n}", float(n))
    assert len(deduper) <= 100
    assert deduper.evicted_early == 150
    assert deduper.seen_before("e249", 250.0)


def test_late_event_is_remembered_in_its_own_bucket() -> None:
    deduper = EventIdDeduper(horizon_s=100.0, bucket_s=10.0)
    deduper.seen_before("now", 500.0)
    assert not deduper.seen_before("late", 450.0)
    assert deduper.seen_before("late", 505.0)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([f"id{n}" for n in range(12)]), st.integers(0, 500)),
        max_size=120,
    )
)
def test_matches_a_reference_within_the_horizon(stream: list[tuple[str, int]]) -> None:
    """Ordered streams: while an id's first sighting is within the horizon, both agree."""
    horizon = 100.0
    deduper = EventIdDeduper(horizon_s=horizon, bucket_s=5.0)
    first_seen: dict[str, float] = {}
    for event_id, ts in sorted(stream, key=lambda pair: pair[1]):
        answer = deduper.seen_before(event_id, float(ts))
        if event_id in first_seen and ts - first_seen[event_id] <= horizon:
            assert answer, (event_id, ts, first_seen[event_id])
        if event_id not in first_seen:
            assert not answer
        if not answer:
            first_seen[event_id] = float(ts)


def test_state_round_trip_carries_on_identically() -> None:
    first = EventIdDeduper(horizon_s=100.0, bucket_s=10.0)
    for n in range(50):
        first.seen_before(f"e{n}", float(n * 3))
    second = EventIdDeduper(horizon_s=100.0, bucket_s=10.0)
    second.load_state(first.state())
    later = [(f"e{n}", float(150 + n)) for n in range(0, 60, 2)]
    assert [first.seen_before(i, t) for i, t in later] == [
        second.seen_before(i, t) for i, t in later
    ]
    assert len(first) == len(second)
