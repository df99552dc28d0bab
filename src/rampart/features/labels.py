"""What a label on an *event* needs: the keys that event had, remembered for a while.

A label names an event by its ``event_id`` and arrives days later; label-fed features are keyed
by entities (the event's seller, instrument, user). So for every event that passes the filter
(``where``) of some label-fed feature, the online state remembers ``event_id -> keys``, one key
per label-fed group (None where the event lacks it).

Which events: those of the types a label-fed feature's ``where`` names in ``event.type``; a
feature whose ``where`` names no type remembers only :data:`LABELLED_EVENT_TYPES` (orders,
payments and refunds: the events that chargebacks and reviews label). Entity labels are not
affected: they need no memory.

Bounds: an entry is kept for the longest label-fed window (a lifetime one keeps entries until the
cap), and at most ``cap`` entries (default 1,000,000; the oldest go first). A label on an event
that was forgotten is not counted. Give label-fed features a ``where`` on ``event.type``
(orders, payments) to say which events are worth remembering.

>>> memory = LabelledEvents(keep_seconds=60.0, cap=2)
>>> memory.remember("e1", 0.0, ("s1",))
>>> memory.remember("e2", 30.0, ("s2",))
>>> memory.keys_of("e1"), memory.keys_of("e3")
(('s1',), None)
>>> memory.expire(now=70.0)
>>> memory.keys_of("e1"), memory.keys_of("e2")
(None, ('s2',))
"""

from __future__ import annotations

from collections import deque
from typing import Final

DEFAULT_LABELLED_EVENT_CAP: Final = 1_000_000
LABELLED_EVENT_TYPES: Final = frozenset({"order.created", "payment.attempt", "refund.requested"})
# Entries freed per call: more than the one a call can add, so the memory keeps up.
_EXPIRE_STEPS: Final = 4

EventKeys = tuple[str | None, ...]


class LabelledEvents:
    """A bounded, time-ordered map from event id to the label-fed keys of its event."""

    def __init__(self, keep_seconds: float | None, cap: int = DEFAULT_LABELLED_EVENT_CAP) -> None:
        self.keep_seconds = keep_seconds
        self.cap = cap
        self.entries: dict[str, EventKeys] = {}
        # Event ids in the order they came, with their times (two deques: no pair to allocate).
        self.order_ids: deque[str] = deque()
        self.order_times: deque[float] = deque()

    def __len__(self) -> int:
        return len(self.entries)

    def remember(self, event_id: str, ts: float, keys: EventKeys) -> None:
        self.entries[event_id] = keys
        self.order_ids.append(event_id)
        self.order_times.append(ts)

    def keys_of(self, event_id: str) -> EventKeys | None:
        return self.entries.get(event_id)

    def expire(self, now: float) -> None:
        """Forget a few entries past their time or over the cap (amortised O(1) per event)."""
        times, entries = self.order_times, self.entries
        oldest_kept = float("-inf") if self.keep_seconds is None else now - self.keep_seconds
        for _ in range(_EXPIRE_STEPS):
            if not times or (times[0] >= oldest_kept and len(entries) <= self.cap):
                return
            times.popleft()
            entries.pop(self.order_ids.popleft(), None)
