"""Putting a world together and running it chunk by chunk, in time order.

:class:`Run` streams sorted chunks of events (ids assigned, timestamps formatted); labels and
the truth summary are ready once the last chunk is out. :func:`simulate` collects everything
in memory for tests and notebooks; :func:`rampart.simulate.write_world` streams to files.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rampart.simulate.campaigns import run_campaigns
from rampart.simulate.campaigns.base import Campaign
from rampart.simulate.catalog import build_catalog
from rampart.simulate.clock import DAY, HOUR, fmt_ts, parse_ts
from rampart.simulate.config import WorldConfig
from rampart.simulate.emit import Emitter, Event, Labels
from rampart.simulate.ids import EventIdSource, stream
from rampart.simulate.legit import Legit
from rampart.simulate.market import Market
from rampart.simulate.moments import organic_moments
from rampart.simulate.population import build_population


@dataclass(frozen=True)
class CampaignSummary:
    id: str
    areas: tuple[str, ...]
    tactic: str
    entities: dict[str, int]  # entity type -> count
    events: int  # labelled abusive events

    @property
    def area(self) -> str:
        return self.areas[0]


@dataclass(frozen=True)
class WorldSummary:
    events_by_type: dict[str, int]
    n_events: int
    n_users: int
    n_abusive_users: int
    campaigns: list[CampaignSummary]
    n_labels: int
    n_abusive_events: int
    window_start: str
    window_end: str


@dataclass
class World:
    config: WorldConfig
    events: list[Event]
    labels: list[dict[str, Any]]
    truth: dict[str, Any]
    summary: WorldSummary = field(repr=False)

    def labelled(self, entity_type: str, area: str | None = None, label: int = 1) -> set[str]:
        """Ids of entities of a type carrying ``label`` (in ``area``, or in any area)."""
        return {
            rec["entity_id"]
            for rec in self.labels
            if rec["entity_type"] == entity_type
            and rec["label"] == label
            and (area is None or rec["area"] == area)
        }


class Run:
    """One simulation; iterate :meth:`chunks` once, then read labels, truth and summary."""

    def __init__(self, cfg: WorldConfig) -> None:
        self.cfg = cfg
        start = parse_ts(cfg.start)
        end = start + cfg.days * DAY
        pop = build_population(cfg, stream(cfg.seed, "population"))
        cat = build_catalog(cfg, pop, stream(cfg.seed, "catalog"))
        # 6-hour chunks keep memory to a few hours of traffic plus what is scheduled ahead
        self.em = Emitter(start, end, 6 * HOUR)
        self.m = Market(cfg, pop, cat, self.em, Labels(end), start, end)
        taken: set[str] = set(pop.by_id) | {it.item_id for it in cat.items}
        self.legit = Legit(self.m, taken)
        organic_moments(self.m, taken)
        self.campaigns: list[Campaign] = run_campaigns(self.m, taken)
        self.legit.trap_labels()
        self.counts: Counter[str] = Counter()
        self._ids = EventIdSource(stream(cfg.seed, "event-ids"))
        self.done = False

    @property
    def n_chunks(self) -> int:
        return self.em.n_chunks

    def chunks(self) -> Iterator[list[Event]]:
        next_id = self._ids.next
        counts = self.counts
        for k in range(self.em.n_chunks):
            self.legit.run_chunk(k)
            events = self.em.take(k)
            for ev in events:
                ev["event_id"] = next_id()
                ev["ts"] = fmt_ts(ev["ts"])
            counts.update(ev["type"] for ev in events)
            yield events
        self.done = True

    def labels(self) -> list[dict[str, Any]]:
        assert self.done, "labels are known once every chunk has been generated"
        out = []
        for p in self.m.labels.resolved():
            rec: dict[str, Any] = {
                "entity_type": p.entity_type,
                "entity_id": p.entity if isinstance(p.entity, str) else p.entity["event_id"],
                "area": p.area,
                "label": p.label,
                "ts": fmt_ts(p.ts),
                "source": p.source,
            }
            if p.campaign is not None:
                rec["campaign"] = p.campaign
            out.append(rec)
        return out

    def summary(self, labels: list[dict[str, Any]]) -> WorldSummary:
        abusive_users = {
            rec["entity_id"] for rec in labels if rec["entity_type"] == "user" and rec["label"] == 1
        }
        return WorldSummary(
            events_by_type=dict(sorted(self.counts.items())),
            n_events=sum(self.counts.values()),
            n_users=len(self.m.pop.users) + len(self.m.extra_users),
            n_abusive_users=len(abusive_users),
            campaigns=[
                CampaignSummary(
                    c.id,
                    tuple(c.areas),
                    c.tactic,
                    {k: len(v) for k, v in c.entity_ids().items()},
                    c.events,
                )
                for c in self.campaigns
            ],
            n_labels=len(labels),
            n_abusive_events=sum(1 for r in labels if r["entity_type"] == "event"),
            window_start=fmt_ts(self.m.start),
            window_end=fmt_ts(self.m.end),
        )

    def truth(self, summary: WorldSummary) -> dict[str, Any]:
        from rampart.simulate.truth import truth_document

        return truth_document(self, summary)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Millions of small, acyclic dicts make the cyclic GC rescan the heap over and over;
    generation creates no garbage cycles worth collecting, so pause it meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def simulate(config: WorldConfig) -> World:
    """The whole world in memory (fine up to the demo preset; use write_world for large)."""
    with gc_paused():
        return _simulate(config)


def _simulate(config: WorldConfig) -> World:
    run = Run(config)
    events: list[Event] = []
    for chunk in run.chunks():
        events.extend(chunk)
    labels = run.labels()
    summary = run.summary(labels)
    return World(config, events, labels, run.truth(summary), summary)
