"""Every event and label the simulator writes is valid contract v1, in time order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from jsonschema import Draft202012Validator

if TYPE_CHECKING:
    from tests.simulate.conftest import Worlds


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_every_event_validates_against_the_schema(
    difficulty: str, worlds: Worlds, event_validator: Draft202012Validator
) -> None:
    validator = event_validator
    world = worlds(difficulty)
    assert len(world.events) > 3000
    bad = [(ev, err.message) for ev in world.events for err in validator.iter_errors(ev)]
    assert bad[:3] == []


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_every_label_validates_against_the_schema(
    difficulty: str, worlds: Worlds, label_validator: Draft202012Validator
) -> None:
    validator = label_validator
    world = worlds(difficulty)
    assert len(world.labels) > 100
    bad = [(rec, err.message) for rec in world.labels for err in validator.iter_errors(rec)]
    assert bad[:3] == []


def test_events_are_time_ordered_with_unique_ids(worlds: Worlds) -> None:
    events = worlds().events
    stamps = [ev["ts"] for ev in events]
    assert stamps == sorted(stamps)
    assert all(ts.endswith("Z") and len(ts) == 24 for ts in stamps)
    ids = [ev["event_id"] for ev in events]
    assert len(set(ids)) == len(ids)


def test_events_fall_inside_the_window(worlds: Worlds) -> None:
    world = worlds()
    start, end = world.summary.window_start, world.summary.window_end
    assert all(start <= ev["ts"] < end for ev in world.events)
    assert datetime.fromisoformat(end) > datetime.fromisoformat(start)


def test_event_labels_point_at_real_events(worlds: Worlds) -> None:
    world = worlds()
    ids = {ev["event_id"] for ev in world.events}
    event_labels = [rec for rec in world.labels if rec["entity_type"] == "event"]
    assert event_labels
    assert all(rec["entity_id"] in ids for rec in event_labels)
    assert all(rec["label"] == 1 and "campaign" in rec for rec in event_labels)


def test_labels_become_known_after_the_abuse(worlds: Worlds) -> None:
    world = worlds()
    ts = {ev["event_id"]: ev["ts"] for ev in world.events}
    for rec in world.labels:
        if rec["entity_type"] == "event":
            assert rec["ts"] >= ts[rec["entity_id"]]
    chargebacks = [rec for rec in world.labels if rec["source"] == "chargeback"]
    assert chargebacks
    # chargebacks arrive one to three weeks later, so after this one-day window
    assert all(rec["ts"] > world.summary.window_end for rec in chargebacks)


def test_summary_matches_the_events(worlds: Worlds) -> None:
    world = worlds()
    assert world.summary.n_events == len(world.events)
    by_type: dict[str, int] = {}
    for ev in world.events:
        by_type[ev["type"]] = by_type.get(ev["type"], 0) + 1
    assert world.summary.events_by_type == by_type
    assert world.summary.n_labels == len(world.labels)
