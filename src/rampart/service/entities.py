"""What Rampart knows of one entity: its features, links, verdicts and recent decisions.

``GET /v1/entities/{type}/{id}`` answers from two places, both read under the scorer's lock
(``scorer.read``) so the view is the one between two events:

- the engine's state as of its clock (the latest event time): the online features keyed by the
  entity's kind alone, the areas it is flagged in, and its links in the graph stage (the accounts
  of a linkage ring, the devices and instruments an account uses, the accounts seen on a device
  or instrument, suspicious brushing / click-farm blocks it is in);
- an :class:`EntityIndex` fed by the scorer's observers with every scored event (replay
  included): the last :data:`RECENT_PER_ENTITY` decisions of each entity and the verdicts given
  on it.

Nothing is changed by a read: graph queries that would update their structures (a ring rebuilt
on read, a sweep) are not called, the structures are only looked at. A read that moved a ring's
next rebuild would make the running server answer differently from a restart that replays its
log. Rings are therefore shown as the last event that touched them left them.

The caller names an entity as events do; an ``ip`` is looked up by the keyed pseudonym intake
gives it (the index and the engine keep only that) and answered with the address as sent. Links
never carry PII: accounts, devices and instruments are ids, and the attribute values rings hold
for PII (addresses, phones, e-mails) are pseudonyms that are not shown.

An entity nothing is known of is a 200 with empty sections and ``known: false``, not a 404: an
id Rampart has not seen is a normal answer for an investigator (and a 404 would tell a probing
caller no more than ``known`` does).

>>> index = EntityIndex(max_entities=2, recent=2)
>>> ts = datetime(2026, 3, 1, tzinfo=UTC)
>>> for event_id in ("e1", "e2", "e3"):
...     index.note("user", "u1", RecentDecision(event_id=event_id, ts=ts, action="allow", score=0))
>>> [d.event_id for d in index.recent("user", "u1")]  # newest first, 2 kept
['e3', 'e2']
>>> index.note("device", "d1", RecentDecision(event_id="e3", ts=ts, action="allow", score=0))
>>> index.note("ip", "ip_x", RecentDecision(event_id="e3", ts=ts, action="allow", score=0))
>>> index.recent("user", "u1"), len(index)  # the least recently noted entity went first
([], 2)
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from heapq import nsmallest
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec

from rampart.contract.outputs import Area, Verdict
from rampart.detect.graph.dense import MemberScore
from rampart.detect.graph.online import GraphStage
from rampart.features.fields import entity_getter
from rampart.features.online import OnlineFeatures
from rampart.ingest.privacy import Accepted

if TYPE_CHECKING:
    from rampart.engine import Engine
    from rampart.service.scorer import Answer, Scorer

# Kinds an entity may be asked about: those the engine keys state by and a caller can name.
# ``ip`` is named by its address and kept as a pseudonym; the others are ids as events carry them.
ENTITY_TYPES: Final = ("user", "device", "ip", "item", "seller", "instrument", "session", "coupon")
# Kinds an event's decision is indexed under (the contract's verdict entity types).
INDEXED_KINDS: Final = ("user", "device", "ip", "item", "seller", "instrument")
RECENT_PER_ENTITY: Final = 20
# Entities whose recent decisions are kept, least recently active forgotten first. Measured
# (tracemalloc, as in test_entities.py): ~4.7 KB per entity holding 20 decisions of its own,
# so ~94 MB at most; an event's record is shared by its entities (3 each: ~2.2 KB an entity,
# ~45 MB in all).
DEFAULT_MAX_ENTITIES: Final = 20_000
MAX_LINKS: Final = 20  # ids per list of links (a ring of 5,000 accounts shows 20 of them)
_SEPARATOR: Final = "\x1f"  # never inside an id (see rampart.features.dispatch)


class RecentDecision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One decision on an event of the entity (one per event, shared by its entities)."""

    event_id: str
    ts: datetime  # the event's own (already parsed) time: no copy
    action: str
    score: float


class EntityVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """A verdict on the entity (its id is the entity's, as the caller named it)."""

    area: Area
    score: float
    action: str
    found_at: str
    evidence: list[str]


class Ring(msgspec.Struct, kw_only=True):
    """An account's linkage ring as the last event touching it left it."""

    ring_id: str
    size: int
    members: list[str]  # up to MAX_LINKS, smallest ids first


class Block(msgspec.Struct, kw_only=True):
    """A currently suspicious dense block (brushing, click farm) the entity is in."""

    area: Area
    sources: int
    targets: int
    surprise: float


class Links(msgspec.Struct, kw_only=True, omit_defaults=True):
    ring: Ring | None = None
    accounts: list[str] = []  # accounts seen with this device / instrument (most recent last)
    devices: list[str] = []  # devices this account was seen on
    instruments: list[str] = []  # payment instruments this account used
    blocks: list[Block] = []


class EntityView(msgspec.Struct, kw_only=True):
    """The answer of ``GET /v1/entities/{type}/{id}``."""

    entity_type: str
    entity_id: str
    known: bool
    as_of: str | None  # the engine clock: the latest event time seen
    features: dict[str, Any]
    flagged_areas: list[Area]
    verdicts: list[EntityVerdict]
    links: Links
    recent_decisions: list[RecentDecision]


class _IndexState(msgspec.Struct, array_like=True, kw_only=True):
    records: list[RecentDecision]
    entries: list[tuple[str, list[int], dict[str, EntityVerdict] | None]]


class _Entry:
    __slots__ = ("recent", "verdicts")

    def __init__(self, recent: int) -> None:
        self.recent: deque[RecentDecision] = deque(maxlen=recent)
        self.verdicts: dict[str, EntityVerdict] | None = None


class EntityIndex:
    """Recent decisions and verdicts per entity, bounded (see :data:`DEFAULT_MAX_ENTITIES`).

    Fed through ``Scorer.open(..., observers=[index])``, so it is called under the scorer's
    lock; read it under the same lock (``scorer.read``). Entities are keyed as the engine keeps
    them (an ip by its pseudonym): it holds no raw PII. It goes into the scorer's snapshots
    (:meth:`state`), so a scorer restored from one keeps the recent decisions from before it.
    """

    def __init__(
        self,
        *,
        max_entities: int = DEFAULT_MAX_ENTITIES,
        recent: int = RECENT_PER_ENTITY,
        pseudonymize_ip: Callable[[str], str] | None = None,
    ) -> None:
        self.max_entities = max_entities
        self.recent_per_entity = recent
        # How a verdict's address (named as sent) is turned into the key the index uses.
        self.pseudonymize_ip = pseudonymize_ip
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._getters = [(kind, entity_getter(kind)) for kind in INDEXED_KINDS if kind != "ip"]

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, accepted: Accepted, answer: Answer) -> None:
        """Note a scored event under each of its entities (the Scorer observer)."""
        event = accepted.event
        # One record shared by the event's entities.
        record = RecentDecision(
            event_id=event.event_id,
            ts=event.ts,
            action=answer.action,
            score=answer.score,
        )
        for kind, get in self._getters:
            value = get(accepted)
            if value:
                self.note(kind, str(value), record)
        if event.ip:
            self.note("ip", str(event.ip), record)
        for verdict in answer.verdicts:
            self._verdict(accepted, verdict)

    def state(self) -> bytes:
        """The index as msgpack, each decision once however many entities share it."""
        numbers: dict[int, int] = {}
        records: list[RecentDecision] = []
        entries = []
        for name, entry in self._entries.items():
            refs = []
            for record in entry.recent:
                number = numbers.get(id(record))
                if number is None:
                    number = numbers[id(record)] = len(records)
                    records.append(record)
                refs.append(number)
            entries.append((name, refs, entry.verdicts))
        return msgspec.msgpack.encode(_IndexState(records=records, entries=entries))

    def load_state(self, data: bytes) -> None:
        """Replace what is held by what :meth:`state` gave."""
        state = msgspec.msgpack.decode(data, type=_IndexState)
        self._entries = OrderedDict()
        for name, refs, verdicts in state.entries:
            entry = _Entry(self.recent_per_entity)
            entry.recent.extend(state.records[number] for number in refs)
            entry.verdicts = verdicts
            self._entries[name] = entry

    def note(self, kind: str, key: str, record: RecentDecision) -> None:
        self._entry(kind, key).recent.append(record)

    def recent(self, kind: str, key: str) -> list[RecentDecision]:
        """The entity's recent decisions, newest first."""
        entry = self._entries.get(kind + _SEPARATOR + key)
        return list(reversed(entry.recent)) if entry is not None else []

    def verdicts(self, kind: str, key: str) -> list[EntityVerdict]:
        entry = self._entries.get(kind + _SEPARATOR + key)
        if entry is None or entry.verdicts is None:
            return []
        return sorted(entry.verdicts.values(), key=lambda v: (v.found_at, v.area))

    def _verdict(self, accepted: Accepted, verdict: Verdict) -> None:
        key = verdict.entity_id
        if verdict.entity_type == "ip":
            if key == accepted.raw_ip and accepted.event.ip:
                key = str(accepted.event.ip)
            elif self.pseudonymize_ip is not None:
                key = self.pseudonymize_ip(key)
            else:
                return  # never keep an address in clear
        entry = self._entry(verdict.entity_type, key)
        if entry.verdicts is None:
            entry.verdicts = {}
        # An entity is flagged once per area (the engine's rule): one verdict per area at most.
        entry.verdicts[verdict.area] = EntityVerdict(
            area=verdict.area,
            score=verdict.score,
            action=verdict.action,
            found_at=_moment(verdict.found_at),
            evidence=list(verdict.evidence),
        )

    def _entry(self, kind: str, key: str) -> _Entry:
        name = kind + _SEPARATOR + key
        entries = self._entries
        entry = entries.get(name)
        if entry is None:
            entry = entries[name] = _Entry(self.recent_per_entity)
            if len(entries) > self.max_entities:
                entries.popitem(last=False)
        else:
            entries.move_to_end(name)
        return entry


def lookup_key(
    entity_type: str, entity_id: str, pseudonymize: Callable[[Literal["ip"], str], str]
) -> str:
    """The key the engine keeps an entity under: an ip's pseudonym, else the id as sent.

    >>> lookup_key("ip", "203.0.113.7", lambda kind, v: f"{kind}_<{v}>")
    'ip_<203.0.113.7>'
    >>> lookup_key("user", "u1", lambda kind, v: "never")
    'u1'
    """
    return pseudonymize("ip", entity_id) if entity_type == "ip" else entity_id


def view_entity(
    scorer: Scorer, index: EntityIndex | None, entity_type: str, entity_id: str
) -> EntityView:
    """The entity as of the scorer's current state; call it under the scorer's lock.

    ``entity_type`` must be one of :data:`ENTITY_TYPES` (the caller checks).
    """
    key = lookup_key(entity_type, entity_id, scorer.intake.privacy.pseudonymizer.token)
    engine = scorer.engine
    clock = _clock(engine)
    features = entity_features(engine, entity_type, key, clock)
    links = entity_links(engine, entity_type, key)
    flagged = sorted(engine.flagged_areas(entity_type, key))
    verdicts = index.verdicts(entity_type, key) if index is not None else []
    recent = index.recent(entity_type, key) if index is not None else []
    known = bool(
        any(v not in (None, 0, 0.0) for v in features.values())
        or flagged
        or verdicts
        or recent
        or links != Links()
    )
    return EntityView(
        entity_type=entity_type,
        entity_id=entity_id,
        known=known,
        as_of=_moment(datetime.fromtimestamp(clock, UTC)) if clock is not None else None,
        features=features,
        flagged_areas=flagged,
        verdicts=verdicts,
        links=links,
        recent_decisions=recent,
    )


def entity_features(
    engine: Engine, entity_type: str, key: str, clock: float | None
) -> dict[str, Any]:
    """The online features keyed by ``entity_type`` alone, read at ``clock`` (no change made).

    Features of composite keys (``device+user``) and global ones are left out: they describe a
    pair or the whole stream, not this entity.
    """
    online = engine.features
    if not isinstance(online, OnlineFeatures) or clock is None:
        return {}
    out = online.peek_key((entity_type,), key)
    return {name.removeprefix("features."): out[name] for name in sorted(out)}


def entity_links(engine: Engine, entity_type: str, key: str) -> Links:
    """What the graph stage links the entity to, read without updating the graphs."""
    graph = next((s for s in engine.stages if isinstance(s, GraphStage)), None)
    links = Links()
    if graph is None:
        return links
    rings = graph.rings
    if entity_type == "user":
        ring = rings.current_ring(key, limit=MAX_LINKS)
        if ring is not None:
            ring_id, size, members = ring
            links.ring = Ring(ring_id=ring_id, size=size, members=members)
        attributes = rings.attributes_of(key)
        links.devices = _bounded(value for kind, value in attributes if kind == "device")
        links.instruments = _bounded(value for kind, value in attributes if kind == "instrument")
        links.blocks = _blocks(
            ("brushing", graph.brushing.score(key)),
        )
    elif entity_type in ("device", "instrument"):
        holders = rings.holders_of(entity_type, key)
        if holders:
            links.accounts = holders[-MAX_LINKS:]
        if entity_type == "device":
            links.blocks = _blocks(("click_farm", graph.farm.score(key)))
    elif entity_type == "item":
        links.blocks = _blocks(
            ("brushing", graph.brushing.score_target(key)),
            ("click_farm", graph.farm.score_target(f"item:{key}")),
        )
    return links


def _blocks(*scores: tuple[Area, MemberScore]) -> list[Block]:
    return [
        Block(
            area=area,
            sources=score.block_sources,
            targets=score.block_targets,
            surprise=round(score.surprise, 2),
        )
        for area, score in scores
        if score.in_block
    ]


def _bounded(values: Iterable[str]) -> list[str]:
    return nsmallest(MAX_LINKS, values)


def _clock(engine: Engine) -> float | None:
    clock = getattr(engine.features, "clock", None)
    return clock if isinstance(clock, float) and clock != float("-inf") else None


def _moment(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
