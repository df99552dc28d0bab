"""One state per key for all the features that share keys, window and source.

Features that differ in aggregation or filter (a count of failed logins, a count of all logins
and a maximum payment of the same user in the same hour) read one
:class:`~rampart.features.windows.KeyState`, so an event costs one dictionary lookup per group
and key, not one per feature. Within it each filter is a *lane* (see lanes.py).

What "as of this event" means (see also spec.py): :meth:`SpecGroup.update` applies the event
and then reads, so counts, sums, means, extremes, distinct counts, ``age`` and ``first_seen``
include it; ``time_since_last`` and ``last_value`` are read *before* it is applied (they look at
the previous event). The clock is the latest event (or label) time seen, never the wall clock;
a late event is counted in its own bucket while that bucket is in the window and ignored once it
is not. A lane with no event in its window is forgotten (age and first_seen start again); a key
with no event in any lane is forgotten as a whole, and its memory is freed by a sweep that does
a few steps whenever a key is added.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final

from rampart.features import distinct
from rampart.features.compiled import ReadFunction, compile_read
from rampart.features.lanes import Lane, Layout
from rampart.features.spec import FeatureSpec
from rampart.features.windows import (
    NEVER,
    Geometry,
    KeyState,
    evict,
    row_of,
    window_extreme,
    window_total,
)

# Expired keys freed per new key: more than one, so the sweep keeps up with the keys added.
SWEEP_STEPS: Final = 4


def empty_value(spec: FeatureSpec) -> Any:
    """What a feature reads for a key with nothing in its window."""
    if spec.agg in ("count", "distinct_count"):
        return 0
    if spec.agg == "sum":
        return 0.0 if spec.value_type == "float" else 0
    return None


class SpecGroup:
    """The features of one (keys, window, source), and their state per key."""

    def __init__(
        self, specs: list[FeatureSpec], kinds: tuple[str, ...], key_name: str, distinct_cap: int
    ) -> None:
        first = specs[0]
        self.specs = specs
        self.kinds = kinds  # the entity kinds of the key, sorted
        self.key_name = key_name  # where the event's key is found among its values
        self.label_area = first.label_area
        self.geometry = Geometry.for_window(first.window_seconds)
        self.windowed = first.window_seconds is not None
        self.distinct_cap = distinct_cap
        self.layout = layout = Layout(specs)
        self.lanes = layout.lanes
        self.slots = layout.slots
        self.states: dict[str, KeyState] = {}
        # (newest bucket, key) whenever a key's newest bucket moves on; the sweep frees those
        # whose newest bucket has since left the window.
        self.expiry: deque[tuple[float, str]] = deque()
        self.empty: dict[str, Any] = {s.qualified_name: empty_value(s) for s in specs}
        self.reads_previous = bool(layout.since_last_reads or layout.latest_reads)
        self._reads_more = bool(
            layout.mean_reads
            or layout.extreme_reads
            or layout.distinct_reads
            or layout.age_reads
            or layout.first_seen_reads
        )
        self.read: ReadFunction = compile_read(self)

    def new_state(self) -> KeyState:
        layout = self.layout
        return KeyState(
            ids=[],
            rows=[],
            totals=list(layout.zeros),
            queues=[[] for _ in range(layout.queues)] if layout.queues else None,
            members=[{} for _ in range(layout.member_sets)] if layout.member_sets else None,
            levels=[0] * layout.member_sets if layout.member_sets else None,
            recency=[NEVER, NEVER] * len(layout.lanes),
            latest=[None, NEVER] * layout.latest_pairs if layout.latest_pairs else None,
        )

    def lowest(self, now: float) -> float:
        return self.geometry.lowest(now)

    def locate(
        self, key: str, state: KeyState | None, bucket: float, lowest: float
    ) -> tuple[KeyState, int]:
        """The key's state, ready for an event in ``bucket``, and the offset of its row.

        Drops the buckets that left the window, starts a forgotten key again, creates a new
        one (freeing a few forgotten keys first: new keys pay for the sweep) and notes when the
        key's newest bucket moves on, for the sweep.
        """
        states = self.states
        if state is not None:
            ids = state.ids
            if ids[-1] < lowest:  # forgotten: start again as a new key
                del states[key]
                state = None
            else:
                if ids[0] < lowest:
                    evict(state, lowest, self.slots)
                if bucket > ids[-1] and self.windowed:
                    self.expiry.append((bucket, key))
        if state is None:
            if self.windowed:
                if self.expiry and self.expiry[0][0] < lowest:
                    self.sweep(lowest)
                self.expiry.append((bucket, key))
            state = states[key] = self.new_state()
        return state, row_of(state, bucket, self.slots)

    # --- the hot path: compiled per layout (see compiled.py) ---------------------------------

    @staticmethod
    def restart_lane(lane: Lane, state: KeyState, ts: float) -> None:
        """A lane with nothing in its window starts again, as a key seen for the first time.

        Its counts and queue entries have already left with their buckets; its members are all
        stale, so they go and its sampling level goes back to exact.
        """
        state.recency[2 * lane.position] = state.recency[2 * lane.position + 1] = ts
        for index, _, _ in lane.distinct_fields:
            assert state.members is not None
            assert state.levels is not None
            state.members[index].clear()
            state.levels[index] = 0
        for index, _ in lane.latest_fields:
            assert state.latest is not None
            state.latest[2 * index] = None
            state.latest[2 * index + 1] = NEVER

    def peek(self, key: str, now: float, out: dict[str, Any]) -> None:
        """Read ``key`` at ``now`` without changing any state (for what-if reads)."""
        state = self.states.get(key)
        lowest = self.geometry.lowest(now)
        if state is None or state.ids[-1] < lowest:
            return
        totals = state.totals
        if state.ids[0] < lowest:
            zeros = self.layout.zeros
            totals = [
                window_total(state, lowest, self.slots, slot, zeros[slot])
                for slot in range(self.slots)
            ]
        if self.reads_previous:
            self.write_previous(state, now, lowest, out)
        self._write_current(state, now, lowest, totals, out)

    def write_previous(
        self, state: KeyState, now: float, lowest: float, out: dict[str, Any]
    ) -> None:
        """time_since_last and last_value, from the lanes' latest events before this one."""
        width = self.geometry.width
        recency = state.recency
        for name, position in self.layout.since_last_reads:
            last = recency[2 * position + 1]
            out[name] = now - last if last // width >= lowest else None
        latest = state.latest
        for name, index, _ in self.layout.latest_reads:
            assert latest is not None
            seen = latest[2 * index + 1]
            out[name] = latest[2 * index] if seen // width >= lowest else None

    def _write_current(
        self, state: KeyState, now: float, lowest: float, totals: list[float], out: dict[str, Any]
    ) -> None:
        """Every other feature, for :meth:`peek` (the compiled read does this for events)."""
        for name, slot in self.layout.total_reads:
            out[name] = totals[slot]
        if not self._reads_more:
            return
        layout = self.layout
        for name, sum_slot, presence_slot in layout.mean_reads:
            present = totals[presence_slot]
            out[name] = totals[sum_slot] / present if present else None
        for name, queue, negate in layout.extreme_reads:
            assert state.queues is not None
            top = window_extreme(state.queues[queue], lowest)
            out[name] = -top if negate and top is not None else top
        for name, index, slot in layout.distinct_reads:
            assert state.levels is not None
            out[name] = distinct.estimate(totals[slot], state.levels[index])
        width = self.geometry.width
        recency = state.recency
        for name, position in layout.age_reads:
            alive = recency[2 * position + 1] // width >= lowest
            out[name] = now - recency[2 * position] if alive else None
        for name, position in layout.first_seen_reads:
            alive = recency[2 * position + 1] // width >= lowest
            out[name] = recency[2 * position] if alive else None

    def sweep(self, lowest: float) -> None:
        """Free up to a few keys whose newest bucket has left the window."""
        expiry, states = self.expiry, self.states
        for _ in range(SWEEP_STEPS):
            if not expiry or expiry[0][0] >= lowest:
                return
            _, key = expiry.popleft()
            state = states.get(key)
            if state is not None and state.ids[-1] < lowest:
                del states[key]
