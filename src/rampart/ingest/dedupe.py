"""Drop re-sent events by ``event_id``, with memory bounded by an event-time horizon.

Ids are remembered in buckets of event time. Once the watermark (the latest event time seen)
has moved more than ``horizon`` past a bucket, the bucket and its ids are forgotten. The late
event policy (:mod:`rampart.ingest.late`) never accepts an event older than the watermark minus
its allowed lateness, and the horizon is at least that long, so every event that is accepted at
all is checked against every earlier accepted event that could share its id within the horizon.

A hard cap on the number of remembered ids protects memory under a flood: past the cap the
oldest bucket is forgotten early and :attr:`EventIdDeduper.evicted_early` counts the ids lost,
so an operator can see the horizon shrank.

>>> d = EventIdDeduper(horizon_s=3600)
>>> d.seen_before("e1", ts=0.0), d.seen_before("e1", ts=10.0), d.seen_before("e2", ts=10.0)
(False, True, False)
>>> d.seen_before("e1", ts=7200.0)  # e1's bucket is now more than an hour behind: forgotten
False
"""

from __future__ import annotations

from collections import deque
from typing import Final

import msgspec

DEFAULT_HORIZON_S: Final = 24 * 3600.0
DEFAULT_MAX_IDS: Final = 5_000_000


class DeduperState(msgspec.Struct, kw_only=True):
    """The remembered ids by bucket, for a snapshot."""

    watermark: float
    evicted_early: int
    buckets: list[tuple[int, list[str]]]


class EventIdDeduper:
    """Answers "was this ``event_id`` accepted before, within the horizon?" and remembers it."""

    def __init__(
        self,
        horizon_s: float = DEFAULT_HORIZON_S,
        bucket_s: float | None = None,
        max_ids: int = DEFAULT_MAX_IDS,
    ) -> None:
        if horizon_s <= 0:
            raise ValueError("horizon_s must be positive")
        self.horizon_s = horizon_s
        # About 64 buckets over the horizon: expiry is at most 1/64 of the horizon late.
        self.bucket_s = bucket_s if bucket_s is not None else horizon_s / 64
        self.max_ids = max_ids
        self.evicted_early = 0
        self._bucket_of: dict[str, int] = {}
        self._buckets: deque[tuple[int, list[str]]] = deque()
        self._watermark = float("-inf")

    def __len__(self) -> int:
        return len(self._bucket_of)

    def __contains__(self, event_id: object) -> bool:
        """Whether ``event_id`` is remembered now (a look that remembers nothing)."""
        return event_id in self._bucket_of

    def seen_before(self, event_id: str, ts: float) -> bool:
        """True when ``event_id`` was already accepted; otherwise remember it and say False."""
        if ts > self._watermark:
            self._watermark = ts
            self._expire()
        if event_id in self._bucket_of:
            return True
        self._remember(event_id, int(ts // self.bucket_s))
        if len(self._bucket_of) > self.max_ids:
            self._evict_oldest()
        return False

    def state(self) -> DeduperState:
        """Everything needed to carry on exactly here after a restart."""
        return DeduperState(
            watermark=self._watermark,
            evicted_early=self.evicted_early,
            buckets=[(bucket, list(ids)) for bucket, ids in self._buckets],
        )

    def load_state(self, state: DeduperState) -> None:
        self._watermark = state.watermark
        self.evicted_early = state.evicted_early
        self._buckets = deque((bucket, list(ids)) for bucket, ids in state.buckets)
        self._bucket_of = {i: bucket for bucket, ids in self._buckets for i in ids}

    def _remember(self, event_id: str, bucket: int) -> None:
        self._bucket_of[event_id] = bucket
        if self._buckets and self._buckets[-1][0] == bucket:
            self._buckets[-1][1].append(event_id)
            return
        if not self._buckets or self._buckets[-1][0] < bucket:
            self._buckets.append((bucket, [event_id]))
            return
        # A late event: its bucket is older than the newest one; find or insert it in order.
        for position, (existing, ids) in enumerate(self._buckets):
            if existing == bucket:
                ids.append(event_id)
                return
            if existing > bucket:
                self._buckets.insert(position, (bucket, [event_id]))
                return

    def _expire(self) -> None:
        oldest_kept = int((self._watermark - self.horizon_s) // self.bucket_s)
        while self._buckets and self._buckets[0][0] < oldest_kept:
            self._forget(self._buckets.popleft()[1])

    def _evict_oldest(self) -> None:
        while len(self._bucket_of) > self.max_ids and self._buckets:
            ids = self._buckets.popleft()[1]
            self.evicted_early += len(ids)
            self._forget(ids)

    def _forget(self, ids: list[str]) -> None:
        for event_id in ids:
            self._bucket_of.pop(event_id, None)
