"""Labels resolved for scoring: one winning label per (entity, area), regrouped by use.

Several labels for one (entity, area): the latest ``ts`` stands (an appeal overturns an
earlier chargeback); labels without ``ts`` rank before dated ones; file order breaks ties.

>>> from rampart.contract.outputs import Label
>>> book = LabelBook([
...     Label(entity_type="seller", entity_id="s7", area="brushing", label=1, campaign="c1"),
...     Label(entity_type="event", entity_id="e9", area="brushing", label=1),
...     Label(entity_type="user", entity_id="u1", area="scalper", label=1),
...     Label(entity_type="user", entity_id="u1", area="scalper", label=0),
... ])
>>> sorted(book.abusive_accounts), book.abusive_events, book.superseded
(['s7'], {'e9': 32}, 1)
>>> book.campaigns[AREA_INDEX["brushing"]]
{'c1': {('account', 's7')}}
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from rampart.contract.outputs import AREAS, Label
from rampart.learn.entities import ACCOUNT, AREA_INDEX, KIND_OF, EntityKey

_UNDATED: Final = datetime.min.replace(tzinfo=UTC)


class LabelBook:
    """The winning labels, grouped the way scoring reads them (lists are indexed by area)."""

    def __init__(self, labels: Iterable[Label]) -> None:
        winners: dict[tuple[str, str, int], tuple[tuple[datetime, int], Label]] = {}
        self.count = 0
        # Labels replaced by another for the same (entity, area), whichever way round.
        self.superseded = 0
        # Account ids some label calls a seller / a user (for per-type counts only).
        self.sellers: set[str] = set()
        self.users: set[str] = set()
        for index, label in enumerate(labels):
            self.count += 1
            if label.entity_type == "seller":
                self.sellers.add(label.entity_id)
            elif label.entity_type == "user":
                self.users.add(label.entity_id)
            kind = "event" if label.entity_type == "event" else KIND_OF[label.entity_type]
            key = (kind, label.entity_id, AREA_INDEX[label.area])
            rank = (label.ts or _UNDATED, index)
            previous = winners.get(key)
            if previous is not None:
                self.superseded += 1
                if previous[0] > rank:
                    continue
            winners[key] = (rank, label)

        self.abusive: list[set[EntityKey]] = [set() for _ in AREAS]
        self.legitimate: list[set[EntityKey]] = [set() for _ in AREAS]
        self.campaigns: list[dict[str, set[EntityKey]]] = [{} for _ in AREAS]
        self.abusive_accounts: set[str] = set()  # abusive in any area: never legitimate users
        self.abusive_events: dict[str, int] = {}  # event id -> mask of the areas it is abusive in
        self.abusive_events_per_area = [0] * len(AREAS)
        self.tracked: dict[EntityKey, int] = {}  # campaign entity -> mask of its campaign areas
        for (kind, entity_id, area), (_, label) in winners.items():
            if kind == "event":
                if label.label == 1:
                    mask = self.abusive_events.get(entity_id, 0)
                    self.abusive_events[entity_id] = mask | 1 << area
                    self.abusive_events_per_area[area] += 1
                continue
            entity = (kind, entity_id)
            if label.label == 0:
                self.legitimate[area].add(entity)
                continue
            self.abusive[area].add(entity)
            if kind == ACCOUNT:
                self.abusive_accounts.add(entity_id)
            if label.campaign is not None:
                self.campaigns[area].setdefault(label.campaign, set()).add(entity)
                self.tracked[entity] = self.tracked.get(entity, 0) | 1 << area
