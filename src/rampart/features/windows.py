"""Event-time windows cut into at most 64 buckets, and the per-key state that lives in them.

A window of ``W`` seconds is cut into ``span`` buckets of ``width`` seconds (``width`` is the
smallest whole number of seconds at least ``W / 64`` that divides ``W``, when one is close;
``span * width == W`` then). Bucket ids are ``floor(ts / width)``. A read at clock ``now`` counts
the events whose bucket id is at least :meth:`Geometry.lowest` ``= floor(now / width) - span + 1``:

- every event younger than ``W - width`` counts, and no event ``W`` old or older
  (``W + width`` when no divisor was close), so the edge is exact to one bucket, ``W / 64``;
- a lifetime window is one bucket that never expires.

>>> hour = Geometry.for_window(3600)
>>> hour.width, hour.span
(60.0, 60)
>>> now = 7250.0  # events up to 3,540 s old (W - width) always count, none 3,600 s old
>>> [hour.bucket(now - age) >= hour.lowest(now) for age in (3539, 3570, 3600)]
[True, True, False]
>>> Geometry.for_window(86_400).width, Geometry.for_window(None).span
(1350.0, 1)

Per key, :class:`KeyState` holds the bucket ids (ascending), one row of additive slots per
bucket (count, sums, distinct members last seen there) with their running totals, so a read is
O(1) and expiry is amortised O(1): each bucket is dropped once.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable
from math import ceil
from typing import Any, Final, NamedTuple

import msgspec

MAX_BUCKETS: Final = 64
# A lifetime window: everything falls in bucket 0, and bucket 0 never leaves the window.
LIFETIME_WIDTH: Final = float(2**62)
# "Never seen": a time whose bucket is before any window (unlike -inf, whose bucket is nan).
NEVER: Final = -1e300


class Geometry(NamedTuple):
    """How a window is cut into buckets."""

    width: float
    span: int

    @classmethod
    def for_window(cls, seconds: int | None) -> Geometry:
        if seconds is None:
            return cls(LIFETIME_WIDTH, 1)
        smallest = max(1, ceil(seconds / MAX_BUCKETS))
        # A width that divides the window makes the edge exactly W; look a little above the
        # smallest width for one (most windows written in s/m/h/d have one).
        for width in range(smallest, 2 * smallest + 1):
            if seconds % width == 0:
                return cls(float(width), seconds // width)
        return cls(float(smallest), ceil(seconds / smallest))

    def bucket(self, ts: float) -> float:
        return ts // self.width

    def lowest(self, now: float) -> float:
        """The oldest bucket id still inside the window at clock ``now``."""
        return now // self.width - (self.span - 1)


class KeyState(msgspec.Struct, gc=False):
    """Everything one group of features holds for one key.

    ``rows`` is flat: bucket ``ids[i]`` owns ``rows[i * slots : (i + 1) * slots]``. ``totals``
    holds each slot's running total, then ``[first seen, last seen]`` of each lane. ``queues``
    are monotonic queues for max/min, flat ``[bucket, value, ...]`` with values strictly
    decreasing (a min stores negated values). ``members`` maps each distinct value to the bucket
    it was last seen in; ``levels`` is its sampling level (0 = exact, see distinct.py).
    ``latest`` is ``[value, time, ...]`` per last_value field (see lanes.py).

    Untracked by the cycle collector (``gc=False``: it never takes part in a cycle), so that
    millions of keys do not slow every collection down.
    """

    ids: list[float]
    rows: list[float]
    totals: list[float]
    queues: list[list[float]] | None
    members: list[dict[Hashable, float]] | None
    levels: list[int] | None
    latest: list[Any] | None


def row_of(state: KeyState, bucket: float, slots: int) -> int:
    """The offset in ``rows`` of ``bucket``'s row, creating the row when it is missing.

    The newest bucket is the common case; an older one (a late event) is found by bisection.
    """
    ids = state.ids
    if ids and ids[-1] == bucket:
        return (len(ids) - 1) * slots
    if not ids or ids[-1] < bucket:
        ids.append(bucket)
        state.rows.extend([0] * slots)
        return (len(ids) - 1) * slots
    position = bisect_left(ids, bucket)
    if ids[position] != bucket:
        ids.insert(position, bucket)
        start = position * slots
        state.rows[start:start] = [0] * slots
    return position * slots


def find_row(state: KeyState, bucket: float, slots: int) -> int:
    """The offset of an existing bucket's row, or -1 when that bucket has left."""
    ids = state.ids
    position = bisect_left(ids, bucket)
    if position < len(ids) and ids[position] == bucket:
        return position * slots
    return -1


def evict(state: KeyState, lowest: float, slots: int) -> None:
    """Drop the buckets older than ``lowest`` (some remain: the caller checked the newest)."""
    ids = state.ids
    rows = state.rows
    totals = state.totals
    gone = bisect_left(ids, lowest)
    for offset in range(0, gone * slots, slots):
        for slot in range(slots):
            totals[slot] -= rows[offset + slot]
    del ids[:gone]
    del rows[: gone * slots]
    if state.queues is not None:
        for queue in state.queues:
            drop_expired(queue, lowest)


def drop_expired(queue: list[float], lowest: float) -> None:
    end = 0
    while end < len(queue) and queue[end] < lowest:
        end += 2
    if end:
        del queue[:end]


def push_extreme(queue: list[float], bucket: float, value: float) -> None:
    """Record ``value`` in ``bucket`` in a max-queue (values decreasing from front to back).

    An entry is kept only while no entry in the same or a newer bucket is at least as large:
    it could never be the maximum again. So the front is the window's maximum, each entry is
    pushed and popped once, and the queue holds at most one entry per bucket.
    """
    if not queue or queue[-2] <= bucket:
        while queue and queue[-1] <= value:
            del queue[-2:]
        if queue and queue[-2] == bucket:
            return  # a larger value already holds this bucket
        queue.append(bucket)
        queue.append(value)
        return
    # A late event: its bucket is older than the newest entry.
    position = 0
    while position < len(queue) and queue[position] < bucket:
        position += 2
    if position < len(queue) and queue[position + 1] >= value:
        return  # dominated by an entry in the same or a newer bucket
    if position < len(queue) and queue[position] == bucket:
        queue[position + 1] = value
    else:
        queue[position:position] = [bucket, value]
    start = position
    while start >= 2 and queue[start - 1] <= value:
        start -= 2
    del queue[start:position]


def window_extreme(queue: list[float], lowest: float) -> float | None:
    """The maximum among entries still in the window, without changing the queue."""
    for position in range(0, len(queue), 2):
        if queue[position] >= lowest:
            return queue[position + 1]
    return None


def window_total(state: KeyState, lowest: float, slots: int, slot: int, zero: float) -> float:
    """One slot summed over the buckets still in the window, without changing the state.

    ``zero`` is the slot's empty total: ``0`` for counts, ``0.0`` for sums of a float field.
    """
    start = bisect_left(state.ids, lowest)
    rows = state.rows
    if start == 0:
        return state.totals[slot]
    total = zero
    for offset in range(start * slots + slot, len(rows), slots):
        total += rows[offset]
    return total
