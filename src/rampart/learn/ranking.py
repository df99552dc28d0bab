"""Ranking figures of the classic fraud-detection protocol (`rampart evaluate --ranking`).

A risk team with a fixed daily capacity reads Rampart's scores as a ranking, not as actions:
which events look worst (AUC ROC and average precision over events), and which ``k`` entities
an investigator should check each day (precision at top-k entities per day, the "card
precision top-k" of the fraud-detection handbook). `rank_stream` is the pure core (iterables
in, `Ranking` out); the maths is in `event_figures` and `precision_at_k_per_day`.

>>> events = [b'{"event_id":"e%d","type":"payment.attempt","ts":"2026-03-0%dT10:00:00Z",'
...           b'"user_id":"u%d"}' % (i, 1 + i % 2, i % 3) for i in range(6)]
>>> decisions = [b'{"event_id":"e%d","action":"allow","score":0.%d,"areas":{},"reasons":[]}'
...              % (i, i) for i in range(6)]
>>> labels = [b'{"entity_type":"event","entity_id":"e5","area":"malicious_activity","label":1}']
>>> whole = rank_stream(events, decisions, labels, top_k=1).figures[0]
>>> whole.area, whole.positive_events, whole.auc_roc, whole.precision_at_k
('all', 1, 1.0, 0.5)
>>> [(d.day, d.entities, d.positives, d.hits) for d in whole.days]
[('2026-03-01', 3, 0, 0), ('2026-03-02', 3, 1, 1)]

How labels count (as `evaluate` reads SCORING.md: one winning label per (entity, area), the
latest ``ts`` standing; a ``label: 0`` is legitimate like no label; user and seller ids are one
account namespace):

* **Events.** An event is positive in area A when a winning event label calls it abusive in A;
  in the ``all`` row, in any area. Event figures score each event with its decision's ``score``
  (``areas[A]`` in A's row); an event without a decision scores 0; a resent event, or a second
  decision for one event, counts once (the first).
* **Entity-days.** The ranked entity is the event's own account (``--entity user``, default),
  or its device, ip, instrument or counterparty seller. Its score on a day (UTC) is the maximum
  of its events' scores that day; the entity-day is positive when one of those events is
  positive, or when the entity itself holds a winning abusive label in the area (an entity
  label does not say on which days it abused, so each of its active days counts).
* **Precision at k**, per day: of the ``k`` best-scored entities, the share that are positive,
  always over ``k`` (a day with fewer entities cannot fill its quota). As in the handbook, an
  entity found positive in a day's top k is taken out of the following days' rankings (it was
  caught and blocked); ``remove_detected=False`` keeps it. Ties are broken by a hash of (day,
  entity), not by the id itself, so ids that sort by creation order cannot help or hurt.
  The headline is the mean over the days of the window.
* ``since`` / ``until`` keep only events with ``since ≤ ts < until``: score a stream with its
  history (so 30-day features are warm) and rank only the test window.
"""

from __future__ import annotations

import statistics
import zlib
from array import array
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from rampart.learn.entities import ACCOUNT, AREA_INDEX, EntityKey
from rampart.learn.inputs import (
    EventView,
    Undecodable,
    decode_decisions,
    decode_events,
    decode_labels,
)
from rampart.learn.labelbook import LabelBook

__all__ = [
    "ENTITY_CHOICES",
    "DayPrecision",
    "Ranking",
    "RankingFigures",
    "event_figures",
    "precision_at_k_per_day",
    "rank_stream",
]

ALL: Final = "all"


def _own_account(event: EventView) -> EntityKey | None:
    return (ACCOUNT, event.user_id) if event.user_id is not None else None


def _device(event: EventView) -> EntityKey | None:
    device = event.device
    return ("device", device.id) if device is not None and device.id is not None else None


def _ip(event: EventView) -> EntityKey | None:
    return ("ip", event.ip) if event.ip is not None else None


def _instrument(event: EventView) -> EntityKey | None:
    props = event.props
    if props is None or props.payment is None or props.payment.instrument_id is None:
        return None
    return "instrument", props.payment.instrument_id


def _seller(event: EventView) -> EntityKey | None:
    props = event.props
    seller = props.seller_id if props is not None else None
    return (ACCOUNT, seller) if seller is not None else None


# The entity an event is ranked under, by the name `--entity` takes.
ENTITY_CHOICES: Final[dict[str, Callable[[EventView], EntityKey | None]]] = {
    "user": _own_account,
    "device": _device,
    "ip": _ip,
    "instrument": _instrument,
    "seller": _seller,
}


class DayPrecision(msgspec.Struct, kw_only=True, frozen=True):
    """One day's ranking: entities ranked (after removals), positives among them, hits in top k."""

    day: str
    entities: int
    positives: int
    hits: int
    precision: float


class RankingFigures(msgspec.Struct, kw_only=True, frozen=True):
    """Ranking figures of one score (``all``: the decision's score; else one area's)."""

    area: str
    events: int
    positive_events: int
    auc_roc: float | None = None
    average_precision: float | None = None
    entity_days: int = 0
    positive_entity_days: int = 0
    precision_at_k: float | None = None  # mean over days
    days: list[DayPrecision] = []


class Ranking(msgspec.Struct, kw_only=True, frozen=True):
    """What `rampart evaluate --ranking` reports, with the counts behind it."""

    entity: str
    top_k: int
    remove_detected: bool
    since: datetime | None
    until: datetime | None
    figures: list[RankingFigures]
    events: int = 0
    duplicate_events: int = 0
    events_outside_window: int = 0
    events_without_entity: int = 0
    events_without_decision: int = 0
    undecodable: int = 0
    labels: int = 0
    superseded_labels: int = 0

    def to_json(self, indent: int = 0) -> str:
        raw = msgspec.json.encode(self)
        return msgspec.json.format(raw, indent=indent).decode() if indent else raw.decode()


def event_figures(
    scores: Sequence[float], targets: Sequence[int]
) -> tuple[float | None, float | None]:
    """(AUC ROC, average precision) of ``scores`` against 0/1 ``targets``; None when only one
    class is present (neither is defined then).

    >>> event_figures([0.9, 0.2, 0.4, 0.1], [1, 0, 1, 0])
    (1.0, 1.0)
    >>> event_figures([0.9, 0.2], [0, 0])
    (None, None)
    """
    positives = sum(targets)
    if positives == 0 or positives == len(targets):
        return None, None
    from sklearn.metrics import average_precision_score, roc_auc_score

    return float(roc_auc_score(targets, scores)), float(average_precision_score(targets, scores))


def tie_key(day: str, entity: str) -> int:
    """The tie-breaker between equal scores: a hash of (day, entity), stable across runs."""
    return zlib.crc32(f"{day}\x00{entity}".encode())


def precision_at_k_per_day(
    rows: Iterable[tuple[str, str, float, bool]], k: int, *, remove_detected: bool = True
) -> list[DayPrecision]:
    """Precision at top-``k`` entities per day from (day, entity, score, positive) rows, one or
    more per entity-day (the entity-day's score is the max, it is positive if any row is).

    Days are sorted as strings (ISO dates sort by time). With ``remove_detected``, positives
    found in a day's top k are not ranked on the following days.

    >>> rows = [("d1", "a", 0.9, True), ("d1", "b", 0.5, False), ("d1", "a", 0.1, False),
    ...         ("d2", "a", 0.9, True), ("d2", "b", 0.2, True)]
    >>> [(d.day, d.entities, d.hits, d.precision) for d in precision_at_k_per_day(rows, 1)]
    [('d1', 2, 1, 1.0), ('d2', 1, 1, 1.0)]
    >>> [d.hits for d in precision_at_k_per_day(rows, 1, remove_detected=False)]
    [1, 1]
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    per_day: dict[str, dict[str, tuple[float, bool]]] = {}
    for day, entity, score, positive in rows:
        entities = per_day.setdefault(day, {})
        known = entities.get(entity)
        if known is None:
            entities[entity] = (score, positive)
        else:
            entities[entity] = (max(known[0], score), known[1] or positive)
    detected: set[str] = set()
    result: list[DayPrecision] = []
    for day in sorted(per_day):
        ranked = [
            (entity, score, positive)
            for entity, (score, positive) in per_day[day].items()
            if entity not in detected
        ]
        ranked.sort(key=lambda row: (-row[1], tie_key(day, row[0]), row[0]))
        hits = [entity for entity, _, positive in ranked[:k] if positive]
        result.append(
            DayPrecision(
                day=day,
                entities=len(ranked),
                positives=sum(1 for row in ranked if row[2]),
                hits=len(hits),
                precision=len(hits) / k,
            )
        )
        if remove_detected:
            detected.update(hits)
    return result


class _Column:
    """One score's event scores and targets, and its entity-days (max score, positive)."""

    def __init__(self, area: str) -> None:
        self.area = area
        self.scores = array("d")
        self.targets = array("b")
        self.entity_days: dict[tuple[str, str], tuple[float, bool]] = {}

    def add(
        self, score: float, target: bool, entity_day: tuple[str, str] | None, mark: bool
    ) -> None:
        self.scores.append(score)
        self.targets.append(target)
        if entity_day is None:
            return
        known = self.entity_days.get(entity_day)
        positive = target or mark
        if known is None:
            self.entity_days[entity_day] = (score, positive)
        else:
            self.entity_days[entity_day] = (max(known[0], score), known[1] or positive)

    def figures(self, k: int, remove_detected: bool) -> RankingFigures:
        auc, ap = event_figures(self.scores, self.targets)
        days = precision_at_k_per_day(
            ((day, entity, s, p) for (day, entity), (s, p) in self.entity_days.items()),
            k,
            remove_detected=remove_detected,
        )
        return RankingFigures(
            area=self.area,
            events=len(self.scores),
            positive_events=sum(self.targets),
            auc_roc=auc,
            average_precision=ap,
            entity_days=len(self.entity_days),
            positive_entity_days=sum(1 for _, p in self.entity_days.values() if p),
            precision_at_k=statistics.fmean(d.precision for d in days) if days else None,
            days=days,
        )


def rank_stream(
    events: Iterable[Any],
    decisions: Iterable[Any],
    labels: Iterable[Any],
    *,
    top_k: int = 100,
    entity: str = "user",
    remove_detected: bool = True,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Ranking:
    """Ranking figures of one run: ``all`` (the decision's score against abuse in any area),
    then one row per area some label calls abusive (that area's score). Inputs are as
    `rampart.learn.evaluate.score_stream` takes them; labels and decisions are read first.
    """
    if top_k < 1:
        raise ValueError(f"top-k must be at least 1, not {top_k}")
    entity_of = ENTITY_CHOICES.get(entity)
    if entity_of is None:
        raise ValueError(f"unknown entity {entity!r}; one of {', '.join(ENTITY_CHOICES)}")
    bad = Undecodable()
    book = LabelBook(decode_labels(labels, bad))
    areas = sorted(
        {area for area, index in AREA_INDEX.items() if book.abusive[index]}
        | {a for a, i in AREA_INDEX.items() if book.abusive_events_per_area[i]},
        key=AREA_INDEX.__getitem__,
    )
    columns = [_Column(ALL), *(_Column(area) for area in areas)]
    indices = [AREA_INDEX[area] for area in areas]

    scored: dict[str, tuple[float, ...]] = {}
    for decision in decode_decisions(decisions, bad):
        if decision.event_id not in scored:
            scored[decision.event_id] = (
                decision.score,
                *(decision.areas.get(area, 0.0) for area in areas),  # type: ignore[call-overload]
            )
    zeros = (0.0,) * len(columns)

    seen: set[str] = set()
    counts = dict.fromkeys(("events", "duplicate", "outside", "no_entity", "no_decision"), 0)
    for event in decode_events(events, bad):
        if event.event_id in seen:
            counts["duplicate"] += 1
            continue
        seen.add(event.event_id)
        ts = event.ts
        if (since is not None and ts < since) or (until is not None and ts >= until):
            counts["outside"] += 1
            continue
        counts["events"] += 1
        scores = scored.get(event.event_id)
        if scores is None:
            counts["no_decision"] += 1
            scores = zeros
        mask = book.abusive_events.get(event.event_id, 0)
        key = entity_of(event)
        entity_day = None
        if key is None:
            counts["no_entity"] += 1
        else:
            entity_day = (ts.astimezone(UTC).date().isoformat(), f"{key[0]}:{key[1]}")
        marks = [key is not None and key in book.abusive[index] for index in indices]
        columns[0].add(scores[0], mask != 0, entity_day, any(marks))
        for i, index in enumerate(indices, start=1):
            columns[i].add(scores[i], bool(mask >> index & 1), entity_day, marks[i - 1])

    return Ranking(
        entity=entity,
        top_k=top_k,
        remove_detected=remove_detected,
        since=since,
        until=until,
        figures=[column.figures(top_k, remove_detected) for column in columns],
        events=counts["events"],
        duplicate_events=counts["duplicate"],
        events_outside_window=counts["outside"],
        events_without_entity=counts["no_entity"],
        events_without_decision=counts["no_decision"],
        undecodable=bad.count,
        labels=book.count,
        superseded_labels=book.superseded,
    )
