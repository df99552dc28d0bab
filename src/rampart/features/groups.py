"""One state per key for all the features that share keys, window and source.

Features that differ in aggregation or filter (a count of failed logins, a count of all logins
and a maximum payment of the same user in the same hour) read one
:class:`~rampart.features.windows.KeyState`, so an event costs one dictionary lookup per group
and key, not one per feature. Within it each filter is a *lane* (see lanes.py).

The update itself is generated per layout (compiled.py, dispatch.py); this module holds the
state and the rare paths. What "as of this event" means (see also spec.py): an update applies
the event and then reads, so counts, sums, means, extremes, distinct counts, ``age`` and
``first_seen`` include it; ``time_since_last`` and ``last_value`` are read *before* it is applied
(they look at the previous event). The clock is the latest event (or label) time seen, never the
wall clock; a late event is counted in its own bucket while that bucket is in the window and
ignored once it is not. A lane with no event in its window is forgotten (age and first_seen
start again); a key with no event in any lane is forgotten as a whole (it reads empty at once),
and its memory is freed by a sweep that does a few steps whenever a key is added.
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

# Expired notes looked at per note added: more than one, so the sweep keeps up.
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
        # Notes (bucket, key), oldest first, for the sweep: a key is noted when it is created,
        # with its bucket; when its note leaves the window the sweep frees the key if its newest
        # bucket has left too, or notes it again with its newest bucket. So a busy key costs a
        # note per window, not per bucket. Two deques rather than one of pairs: no tuple to
        # allocate (and for the cycle collector to track) per note.
        self.expiry_buckets: deque[float] = deque()
        self.expiry_keys: deque[str] = deque()
        self.reads_previous = bool(layout.since_last_reads or layout.latest_reads)
        self._reads_more = bool(
            layout.mean_reads
            or layout.extreme_reads
            or layout.distinct_reads
            or layout.age_reads
            or layout.first_seen_reads
        )
        self._plain = not (layout.queues or layout.member_sets or layout.latest_pairs)
        self.read: ReadFunction = compile_read(self)

    def new_state(self) -> KeyState:
        """The state of a key seen for the first time (or again after it was forgotten)."""
        layout = self.layout
        if self._plain:  # the common layout: counts and sums only
            return KeyState([], [], layout.initial_totals[:], None, None, None, None)
        return KeyState(
            ids=[],
            rows=[],
            totals=layout.initial_totals[:],
            queues=[[] for _ in range(layout.queues)] if layout.queues else None,
            members=[{} for _ in range(layout.member_sets)] if layout.member_sets else None,
            levels=[0] * layout.member_sets if layout.member_sets else None,
            latest=[None, NEVER] * layout.latest_pairs if layout.latest_pairs else None,
        )

    def lowest(self, now: float) -> float:
        return self.geometry.lowest(now)

    def locate(
        self, key: str, state: KeyState | None, bucket: float, lowest: float
    ) -> tuple[KeyState, int]:
        """The key's state, ready for an event in ``bucket``, and the offset of its row.

        Drops the buckets that left the window, starts a forgotten key again, or creates a new
        key (noting it for the sweep). The compiled update calls it for the rarer cases only.
        """
        states = self.states
        if state is None:
            if self.windowed:
                # A new key pays for a few sweep steps, so forgotten keys never pile up.
                if self.expiry_buckets and self.expiry_buckets[0] < lowest:
                    self.sweep(lowest)
                self.expiry_buckets.append(bucket)
                self.expiry_keys.append(key)
            state = states[key] = self.new_state()
        elif state.ids[-1] < lowest:
            # Forgotten: start again, last in the dictionary like a new key. Its note is still
            # queued (every key held has one: the sweep frees a key or notes it again).
            del states[key]
            state = states[key] = self.new_state()
        elif state.ids[0] < lowest:
            evict(state, lowest, self.slots)
        return state, row_of(state, bucket, self.slots)

    def restart_lane(self, lane: Lane, state: KeyState, ts: float) -> None:
        """A lane with nothing in its window starts again, as a key seen for the first time.

        Its counts and queue entries have already left with their buckets; its members are all
        stale, so they go and its sampling level goes back to exact.
        """
        first = self.layout.first_seen_at(lane.position)
        state.totals[first] = state.totals[first + 1] = ts
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
            ] + totals[self.slots :]
        if self.reads_previous:
            self.write_previous(state, now, lowest, out)
        self._write_current(state, now, lowest, totals, out)

    def write_previous(
        self, state: KeyState, now: float, lowest: float, out: dict[str, Any]
    ) -> None:
        """time_since_last and last_value, from the lanes' latest events before this one."""
        width = self.geometry.width
        layout = self.layout
        for name, position in layout.since_last_reads:
            last = state.totals[layout.first_seen_at(position) + 1]
            out[name] = now - last if last // width >= lowest else None
        latest = state.latest
        for name, index, _ in layout.latest_reads:
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
        for name, position in layout.age_reads:
            first = layout.first_seen_at(position)
            alive = totals[first + 1] // width >= lowest
            out[name] = now - totals[first] if alive else None
        for name, position in layout.first_seen_reads:
            first = layout.first_seen_at(position)
            alive = totals[first + 1] // width >= lowest
            out[name] = totals[first] if alive else None

    def sweep(self, lowest: float) -> None:
        """Look at a few notes that left the window: free their keys, or note them again."""
        buckets, keys, states = self.expiry_buckets, self.expiry_keys, self.states
        for _ in range(SWEEP_STEPS):
            if not buckets or buckets[0] >= lowest:
                return
            buckets.popleft()
            key = keys.popleft()
            state = states.get(key)
            if state is None:
                continue  # a note of a key freed or started again since
            newest = state.ids[-1]
            if newest < lowest:
                del states[key]
            else:
                buckets.append(newest)
                keys.append(key)
