"""Collecting events into time buckets, and labels beside them.

Generators append events in any order; each lands in the bucket of its time chunk. A chunk is
sorted and handed out once all generators have run up to its end, so memory holds only the
open chunks (plus the small share of events that attack code pre-generates).

>>> em = Emitter(start=0, end=10_000, chunk_ms=5_000)
>>> a = Actor("u_1", "s1", None, "203.0.113.9", None)
>>> em.emit("account.login", 6_000, a, {"success": True})["type"]
'account.login'
>>> em.emit("account.login", 12_000, a, {"success": True}) is None  # after the window
True
>>> [e["ts"] for e in em.take(1)]
[6000]
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

Event = dict[str, Any]
_BY_TS = itemgetter("ts")


@dataclass(slots=True)
class Actor:
    """Who is acting, from where: the common top-level fields of an event."""

    user_id: str | None
    session_id: str | None
    device: dict[str, Any] | None
    ip: str
    geo: dict[str, Any] | None


class Emitter:
    def __init__(self, start: int, end: int, chunk_ms: int) -> None:
        self.start = start
        self.end = end
        self.chunk_ms = chunk_ms
        self.n_chunks = max(1, -(-(end - start) // chunk_ms))
        self.buckets: list[list[Event]] = [[] for _ in range(self.n_chunks)]
        self.flushed = -1

    def emit(self, etype: str, ts: int, actor: Actor, props: dict[str, Any]) -> Event | None:
        """Add an event; returns it, or None when it falls outside the window (not sent)."""
        if ts >= self.end or ts < self.start:
            return None
        ev: Event = {"event_id": "", "type": etype, "ts": ts}
        if actor.user_id is not None:
            ev["user_id"] = actor.user_id
        if actor.session_id is not None:
            ev["session_id"] = actor.session_id
        if actor.device is not None:
            ev["device"] = actor.device
        ev["ip"] = actor.ip
        if actor.geo is not None:
            ev["geo"] = actor.geo
        ev["props"] = props
        self._put(ev, ts)
        return ev

    def emit_system(self, etype: str, ts: int, user_id: str, props: dict[str, Any]) -> Event | None:
        """An event the platform sends about an account (fulfilment, system cancellation)."""
        if ts >= self.end or ts < self.start:
            return None
        ev: Event = {"event_id": "", "type": etype, "ts": ts, "user_id": user_id, "props": props}
        self._put(ev, ts)
        return ev

    def _put(self, ev: Event, ts: int) -> None:
        k = (ts - self.start) // self.chunk_ms
        if k <= self.flushed:
            raise RuntimeError(f"event at {ts} after its chunk {k} was written")
        self.buckets[k].append(ev)

    def take(self, k: int) -> list[Event]:
        """Chunk ``k``, time-ordered; ties keep insertion order, which is deterministic."""
        bucket = self.buckets[k]
        self.buckets[k] = []
        self.flushed = k
        bucket.sort(key=_BY_TS)
        return bucket


@dataclass(slots=True)
class PendingLabel:
    """A label whose subject may be an event not yet given its id."""

    entity_type: str
    entity: str | Event
    area: str
    label: int
    ts: int
    source: str
    campaign: str | None


class Labels:
    """All labels of a world; an entity keeps its earliest label per (area, label)."""

    def __init__(self, end: int) -> None:
        self.end = end
        self._entities: dict[tuple[str, str, str, int], PendingLabel] = {}
        self._events: list[PendingLabel] = []

    def event(self, ev: Event | None, area: str, campaign: str, delay_ms: int, source: str) -> None:
        if ev is None:
            return
        self._events.append(
            PendingLabel("event", ev, area, 1, ev["ts"] + delay_ms, source, campaign)
        )

    def entity(
        self,
        entity_type: str,
        entity_id: str,
        area: str,
        ts: int,
        source: str,
        campaign: str | None,
        label: int = 1,
    ) -> None:
        key = (entity_type, entity_id, area, label)
        old = self._entities.get(key)
        if old is None or ts < old.ts:
            self._entities[key] = PendingLabel(
                entity_type, entity_id, area, label, ts, source, campaign
            )

    def resolved(self) -> list[PendingLabel]:
        """Everything, sorted by when it became known; events now carry their ids.

        An event labelled twice in one area (two campaigns touching it) keeps its first label.
        """
        out = list(self._entities.values())
        seen: set[tuple[int, str]] = set()
        for p in self._events:
            key = (id(p.entity), p.area)
            if isinstance(p.entity, dict) and p.entity["event_id"] and key not in seen:
                seen.add(key)
                out.append(p)
        out.sort(key=lambda p: (p.ts, p.entity_type, _eid(p.entity), p.area, p.label))
        return out


def item_page(item_id: str, dwell_ms: int | None, status: int = 200) -> dict[str, object]:
    """The props of a view of an item's page, as every actor in the world sends them.

    >>> item_page("i9", 1200)
    {'path': '/item/i9', 'target_type': 'item', 'target_id': 'i9', 'dwell_ms': 1200, 'status': 200}
    """
    props: dict[str, object] = {
        "path": f"/item/{item_id}",
        "target_type": "item",
        "target_id": item_id,
    }
    if dwell_ms is not None:
        props["dwell_ms"] = dwell_ms
    props["status"] = status
    return props


def _eid(entity: str | Event) -> str:
    return entity if isinstance(entity, str) else str(entity["event_id"])
