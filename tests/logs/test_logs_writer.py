"""The log holds every scored event once, with the row the detectors saw, typed by the schema."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import polars as pl
import pytest

from rampart.contract.events import decode_event
from rampart.contract.outputs import Decision, Verdict
from rampart.detect.rules.pack import load_pack
from rampart.engine import Scored
from rampart.ingest.privacy import Accepted, EventPrivacy
from rampart.logs.layout import parts
from rampart.logs.reader import read_logs
from rampart.logs.schema import DECISION_COLUMNS, read_schema
from rampart.logs.writer import LogWriter
from rampart.packs import DEFAULT_PACK


def _jsonl(path: Path, kind: type[Any]) -> list[Any]:
    decoder = msgspec.json.Decoder(kind)
    return [decoder.decode(line) for line in path.read_bytes().splitlines()]


def test_every_decision_is_logged_once_as_answered(scored_world: Any) -> None:
    decisions = _jsonl(scored_world.out / "decisions.jsonl", Decision)
    logged = read_logs(scored_world.logs).collect()
    assert logged.height == len(decisions) > 5000
    assert logged["event_id"].n_unique() == logged.height
    by_id = {row["event_id"]: row for row in logged.iter_rows(named=True)}
    for decision in decisions:
        row = by_id[decision.event_id]
        assert row["action"] == decision.action
        assert row["score"] == decision.score
        assert row["reasons"] == decision.reasons
        assert {a: s for a, s in row["areas"].items() if s is not None} == decision.areas
        assert (json.loads(row["shadow"]) if row["shadow"] else []) == decision.shadow


def test_logged_rows_are_the_rows_the_detectors_saw(scored_world: Any) -> None:
    logged = read_logs(scored_world.logs).collect()
    columns = [c for c in logged.columns if "." in c]
    assert "event.type" in columns
    assert "graph.ring_size" in columns
    assert any(c.startswith("features.") for c in columns)
    for row in logged.iter_rows(named=True):
        seen = scored_world.rows[row["event_id"]]
        for name in columns:
            expected = seen.get(name)
            if isinstance(expected, tuple):
                expected = list(expected)
            assert row[name] == expected, (row["event_id"], name)


def test_the_packs_rules_compiled_to_polars_run_on_the_log(scored_world: Any) -> None:
    """What the backtest does: every active rule, vectorised, over the logged table."""
    pack = load_pack(DEFAULT_PACK)
    logged = read_logs(scored_world.logs).collect()
    hits = logged.select(pl.col("event_id"), *pack.polars())
    assert hits.height == logged.height
    fired = 0
    for row in hits.iter_rows(named=True):
        seen = scored_world.rows[row["event_id"]]
        for rule in pack.active_rules:
            assert (row[rule.name] is True) == (rule.evaluate(seen) is True), rule.name
            fired += row[rule.name] is True
    assert fired > 100


def test_verdicts_are_logged_with_the_scoring_event(scored_world: Any) -> None:
    verdicts = _jsonl(scored_world.out / "verdicts.jsonl", Verdict)
    logged = read_logs(scored_world.logs, table="verdicts").collect()
    assert logged.height == len(verdicts) > 0
    assert logged["event_id"].is_not_null().all()
    answered = sorted((v.entity_type, v.area, v.found_at) for v in verdicts)
    kept = sorted(logged.select("entity_type", "area", "found_at").iter_rows())
    assert kept == answered


def test_every_part_of_a_version_has_the_same_schema(scored_world: Any) -> None:
    schema = read_schema(scored_world.logs)
    assert schema is not None
    assert schema.version == 1
    found = list(parts(scored_world.logs, "decisions"))
    assert len(found) > 3  # a part per checkpoint (every 1000 events) and day
    expected = schema.polars("decisions")
    for _, _, path in found:
        assert dict(pl.read_parquet_schema(path)) == expected, path


def test_parts_are_partitioned_by_the_event_day_in_utc(scored_world: Any) -> None:
    for table, column in (("decisions", "ts"), ("verdicts", "found_at")):
        days = set()
        for day, _, path in parts(scored_world.logs, table):
            days.add(day)
            assert set(pl.read_parquet(path)[column].dt.date()) == {day}
        assert days, table


def test_one_flush_writes_a_part_per_day(tmp_path: Path) -> None:
    times = [datetime(2026, 3, d, h, tzinfo=UTC) for d, h in ((1, 23), (2, 0), (2, 5), (4, 1))]
    with LogWriter(tmp_path, {"event.type": "str"}, pack_fingerprint="p") as writer:
        for i, ts in enumerate(times):
            writer.append(*_scored(f"e{i}", ts))
    found = [(day, number) for day, number, _ in parts(tmp_path, "decisions")]
    assert found == [(date(2026, 3, 1), 0), (date(2026, 3, 2), 1), (date(2026, 3, 4), 2)]
    logged = read_logs(tmp_path).collect()
    assert logged["event_id"].to_list() == ["e0", "e1", "e2", "e3"]
    assert logged["day"].to_list() == [t.date() for t in times]


def test_schema_file_names_the_pack_and_types_the_columns(scored_world: Any) -> None:
    data = json.loads((scored_world.logs / "_schema.json").read_text())
    pack = load_pack(DEFAULT_PACK)
    assert data["version"] == 1
    assert data["pack_fingerprint"] == pack.fingerprint
    decisions = data["decisions"]
    assert list(decisions)[: len(DECISION_COLUMNS)] == list(DECISION_COLUMNS)
    for name, kind in decisions.items():
        if "." in name:
            assert pack.catalogue[name] == kind


def test_a_second_run_appends_after_the_existing_parts(tmp_path: Path) -> None:
    first = _one_event_log(tmp_path, "e1", datetime(2026, 3, 1, 9, tzinfo=UTC))
    second = _one_event_log(tmp_path, "e2", datetime(2026, 3, 1, 10, tzinfo=UTC))
    assert (first, second) == (1, 2)
    assert read_logs(tmp_path).collect()["event_id"].to_list() == ["e1", "e2"]


def _scored(event_id: str, ts: datetime) -> tuple[Accepted, Scored]:
    raw = {"event_id": event_id, "type": "page.view", "ts": ts.isoformat(), "props": {"path": "/"}}
    accepted = EventPrivacy.for_demo().protect(decode_event(json.dumps(raw).encode()))
    decision = Decision(event_id=event_id, action="allow", score=0.0, reasons=[])
    return accepted, Scored(decision, [], row={"event.type": "page.view"})


def _one_event_log(root: Path, event_id: str, ts: datetime) -> int:
    with LogWriter(root, {"event.type": "str"}, pack_fingerprint="p") as writer:
        writer.append(*_scored(event_id, ts))
    return writer.state().next_part


def test_a_resent_event_is_not_logged_again(tmp_path: Path) -> None:
    decision = Decision(event_id="e1", action="allow", score=0.0, reasons=[])
    with LogWriter(tmp_path, {}, pack_fingerprint="p") as writer:
        writer.append(None, Scored(decision, [], duplicate=True))  # type: ignore[arg-type]
    assert writer.state().next_part == 0


@pytest.mark.parametrize("rows", [0, -1])
def test_flush_rows_must_be_positive(tmp_path: Path, rows: int) -> None:
    with pytest.raises(ValueError, match="flush_rows"):
        LogWriter(tmp_path, {}, pack_fingerprint="p", flush_rows=rows)


def test_a_day_is_the_utc_day_of_the_event(tmp_path: Path) -> None:
    # 01:00 at UTC+7 is the previous day in UTC.
    local = datetime(2026, 3, 2, 1, tzinfo=timezone(timedelta(hours=7)))
    _one_event_log(tmp_path, "e1", local)
    assert [day for day, _, _ in parts(tmp_path, "decisions")] == [date(2026, 3, 1)]
