"""Ranking figures (`rampart evaluate --ranking`): hand-computed cases and a naive reference."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rampart.cli import app
from rampart.learn.ranking import (
    event_figures,
    precision_at_k_per_day,
    rank_stream,
    tie_key,
)

runner = CliRunner()
AREA = "malicious_activity"


def _event(event_id: str, day: int, user: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "payment.attempt",
        "ts": f"2026-03-{day:02d}T12:00:00Z",
        "user_id": user,
        **extra,
    }


def _decision(event_id: str, score: float, **areas: float) -> dict[str, Any]:
    return {"event_id": event_id, "action": "allow", "score": score, "areas": areas, "reasons": []}


def _label(kind: str, entity: str, label: int = 1, ts: str | None = None) -> dict[str, Any]:
    found = {"entity_type": kind, "entity_id": entity, "area": AREA, "label": label}
    return found | ({"ts": ts} if ts else {})


def test_event_figures_match_hand_computed_values() -> None:
    # Scores 0.8 (+), 0.6 (-), 0.4 (+), 0.2 (-): 3 of 4 positive-negative pairs ordered right.
    auc, ap = event_figures([0.8, 0.6, 0.4, 0.2], [1, 0, 1, 0])
    assert auc == pytest.approx(0.75)
    # Precision at each positive: 1/1 and 2/3; mean 5/6.
    assert ap == pytest.approx(5 / 6)
    # Ties share credit: one tied pair of (+, -) is half right.
    assert event_figures([0.5, 0.5], [1, 0])[0] == pytest.approx(0.5)


def test_precision_at_k_takes_each_entitys_best_event_of_the_day() -> None:
    rows = [
        ("d1", "a", 0.1, True),  # a's best event of d1 is 0.9, and one of its events is fraud
        ("d1", "a", 0.9, False),
        ("d1", "b", 0.5, False),
        ("d1", "c", 0.4, True),
    ]
    (day,) = precision_at_k_per_day(rows, 2)
    assert (day.entities, day.positives, day.hits, day.precision) == (3, 2, 1, 0.5)


def test_precision_is_over_k_even_when_a_day_has_fewer_entities() -> None:
    (day,) = precision_at_k_per_day([("d1", "a", 0.3, True)], 5)
    assert day.precision == pytest.approx(0.2)


def test_entities_caught_are_removed_from_later_days_unless_kept() -> None:
    rows = [
        ("2026-03-01", "a", 0.9, True),
        ("2026-03-02", "a", 0.9, True),
        ("2026-03-02", "b", 0.5, False),
    ]
    removed = precision_at_k_per_day(rows, 1)
    assert [(d.entities, d.hits) for d in removed] == [(1, 1), (1, 0)]
    kept = precision_at_k_per_day(rows, 1, remove_detected=False)
    assert [(d.entities, d.hits) for d in kept] == [(1, 1), (2, 1)]
    # A legitimate entity in the top k is not "caught": it stays.
    rows = [("d1", "b", 0.9, False), ("d2", "b", 0.9, True)]
    assert [d.hits for d in precision_at_k_per_day(rows, 1)] == [0, 1]


def test_ties_are_broken_by_a_hash_not_by_the_id() -> None:
    rows = [("d1", entity, 0.5, entity == "z") for entity in ("a", "z")]
    (day,) = precision_at_k_per_day(rows, 1)
    first = min(("a", "z"), key=lambda entity: tie_key("d1", entity))
    assert day.hits == (first == "z")


def _reference(
    rows: list[tuple[str, str, float, bool]], k: int, remove: bool
) -> list[tuple[str, int, int, int]]:
    """Precision at k the slow way: an entity is in the top k when fewer than k entities of the
    day beat it (higher score, or equal score and earlier in the tie order)."""
    days = sorted({row[0] for row in rows})
    caught: set[str] = set()
    result = []
    for day in days:
        best: dict[str, float] = {}
        fraud: dict[str, bool] = {}
        for d, entity, score, positive in rows:
            if d == day and entity not in caught:
                best[entity] = max(best.get(entity, score), score)
                fraud[entity] = fraud.get(entity, False) or positive
        order = {e: (-s, tie_key(day, e), e) for e, s in best.items()}
        top = [e for e in best if sum(order[o] < order[e] for o in best) < k]
        hits = [e for e in top if fraud[e]]
        result.append((day, len(best), sum(fraud.values()), len(hits)))
        if remove:
            caught.update(hits)
    return result


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["2026-03-01", "2026-03-02", "2026-03-03"]),
            st.sampled_from(["a", "b", "c", "d", "e"]),
            st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
            st.booleans(),
        ),
        max_size=40,
    ),
    k=st.integers(1, 6),
    remove=st.booleans(),
)
def test_precision_at_k_matches_a_naive_reference(
    rows: list[tuple[str, str, float, bool]], k: int, remove: bool
) -> None:
    days = precision_at_k_per_day(rows, k, remove_detected=remove)
    assert [(d.day, d.entities, d.positives, d.hits) for d in days] == _reference(rows, k, remove)
    assert all(d.precision == d.hits / k for d in days)


def test_labels_count_as_scoring_md_reads_them() -> None:
    events = [
        _event("e1", 1, "u1"),
        _event("e2", 1, "u2"),
        _event("e3", 2, "u3"),
        _event("e4", 2, "s9"),  # a seller acting: labelled as a seller, ranked as an account
        _event("e1", 1, "u1"),  # a resend counts once
    ]
    decisions = [
        _decision("e1", 0.9, malicious_activity=0.9),
        _decision("e1", 0.0),  # a second decision for e1: the first stands
        _decision("e2", 0.8, malicious_activity=0.8),
        _decision("e4", 0.7, malicious_activity=0.7),
    ]  # e3 has no decision: it scores 0
    labels = [
        _label("event", "e1", 1, "2026-03-05T00:00:00Z"),
        _label("event", "e2", 1, "2026-03-05T00:00:00Z"),
        _label("event", "e2", 0, "2026-03-09T00:00:00Z"),  # an appeal overturns e2's label
        _label("event", "e3", 1, "2026-03-05T00:00:00Z"),
        _label("seller", "s9"),  # an abusive account: each of its active days is positive
    ]
    result = rank_stream(events, decisions, labels, top_k=1)
    assert (result.events, result.duplicate_events, result.events_without_decision) == (4, 1, 1)
    assert (result.labels, result.superseded_labels) == (5, 1)
    whole, area = result.figures
    assert (whole.area, area.area) == ("all", AREA)
    assert whole.positive_events == 2  # e1 and e3
    # Ranked: e1 0.9 (+), e4 0.7 (-, an event the label does not name), e2 0.8 (-), e3 0 (+).
    assert whole.auc_roc == pytest.approx(0.5)
    assert [(d.entities, d.positives, d.hits) for d in whole.days] == [(2, 1, 1), (2, 2, 1)]
    assert whole.precision_at_k == 1.0
    assert area == whole.__class__(**{**_fields(whole), "area": AREA})


def _fields(figures: Any) -> dict[str, Any]:
    return {name: getattr(figures, name) for name in figures.__struct_fields__}


def test_area_rows_read_their_own_score_and_labels() -> None:
    events = [_event("e1", 1, "u1"), _event("e2", 1, "u2")]
    decisions = [_decision("e1", 0.9, scalper=0.9), _decision("e2", 0.1, scalper=0.1)]
    labels = [
        {"entity_type": "event", "entity_id": "e2", "area": AREA, "label": 1},
        {"entity_type": "user", "entity_id": "u1", "area": "scalper", "label": 1},
    ]
    result = rank_stream(events, decisions, labels, top_k=1)
    by_area = {f.area: f for f in result.figures}
    assert set(by_area) == {"all", AREA, "scalper"}
    # The payment area scores 0 everywhere: its positive entity-day ranks by the tie order only.
    assert by_area[AREA].auc_roc == pytest.approx(0.5)
    # The scalper account is positive through its entity label; it has no labelled events.
    assert by_area["scalper"].positive_events == 0
    assert by_area["scalper"].auc_roc is None
    assert by_area["scalper"].days[0].hits == 1
    # In "all", the decision's score ranks u1 (abusive in scalper) first.
    assert by_area["all"].days[0].hits == 1


def test_other_entities_and_a_window() -> None:
    events = [
        _event("e1", 1, "u1", device={"id": "t1"}),
        _event("e2", 1, "u2", device={"id": "t1"}),
        _event("e3", 2, "u3"),
        _event("e4", 3, "u4", device={"id": "t2"}),
    ]
    decisions = [_decision(f"e{i}", i / 10) for i in range(1, 5)]
    labels = [_label("event", "e1"), _label("device", "t2")]
    result = rank_stream(
        events,
        decisions,
        labels,
        entity="device",
        since=datetime(2026, 3, 1, tzinfo=UTC),
        until=datetime(2026, 3, 3, tzinfo=UTC),
    )
    assert (result.events, result.events_outside_window, result.events_without_entity) == (3, 1, 1)
    whole = result.figures[0]
    assert [(d.day, d.entities, d.positives) for d in whole.days] == [("2026-03-01", 1, 1)]
    with pytest.raises(ValueError, match="unknown entity"):
        rank_stream([], [], [], entity="terminal")


def _write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def test_the_command_prints_a_table_and_json(tmp_path: Path) -> None:
    events = _write(tmp_path / "events.jsonl", [_event("e1", 1, "u1"), _event("e2", 1, "u2")])
    decisions = _write(tmp_path / "d.jsonl", [_decision("e1", 0.9), _decision("e2", 0.1)])
    verdicts = _write(tmp_path / "v.jsonl", [])
    labels = _write(tmp_path / "l.jsonl", [_label("event", "e1")])
    args = ["evaluate", "--events", str(events), "--decisions", str(decisions)]
    args += ["--verdicts", str(verdicts), "--labels", str(labels), "--ranking", "--top-k", "1"]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "P@1/day" in shown.output
    assert "1.000" in shown.output
    printed = runner.invoke(app, [*args, "--json"])
    assert printed.exit_code == 0, printed.output
    report = json.loads(printed.output)
    assert report["top_k"] == 1
    assert report["figures"][0]["auc_roc"] == 1.0
    assert report["figures"][0]["days"][0]["hits"] == 1
    wrong = runner.invoke(app, [*args, "--entity", "terminal"])
    assert wrong.exit_code == 2
    assert "unknown entity" in wrong.output
    # Without --ranking the scorecard is unchanged.
    card = runner.invoke(app, [*args[:9], "--json"])
    assert card.exit_code == 0
    assert "macro" in json.loads(card.output)
