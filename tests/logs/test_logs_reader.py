"""Reading a window opens only its days; older parts read new columns as nulls."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from rampart.contract.events import decode_event
from rampart.contract.outputs import Decision
from rampart.engine import Scored
from rampart.ingest.privacy import EventPrivacy
from rampart.logs.layout import parts
from rampart.logs.reader import read_decisions, read_logs, read_verdicts
from rampart.logs.writer import LogWriter

_PRIVACY = EventPrivacy.for_demo()


Logged = list[tuple[str, datetime, dict[str, Any]]]


def _log(root: Path, columns: dict[str, str], events: Logged) -> None:
    with LogWriter(root, columns, pack_fingerprint="p") as writer:
        for event_id, ts, row in events:
            raw = {"event_id": event_id, "type": "page.view", "ts": ts.isoformat(),
                   "props": {"path": "/"}}  # fmt: skip
            accepted = _PRIVACY.protect(decode_event(json.dumps(raw).encode()))
            decision = Decision(event_id=event_id, action="allow", score=0.0, reasons=[])
            writer.append(accepted, Scored(decision, [], row=row))


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_a_window_opens_only_its_days(tmp_path: Path) -> None:
    _log(tmp_path, {}, [(f"e{d}", _at(d), {}) for d in (1, 2, 3, 4)])
    # A part of a day outside the window that no reader could open: never touched.
    for day, _, path in parts(tmp_path, "decisions"):
        if day in (date(2026, 3, 1), date(2026, 3, 4)):
            path.write_bytes(b"not parquet")
    window = read_logs(tmp_path, since="2026-03-02", until=date(2026, 3, 3)).collect()
    assert window["event_id"].to_list() == ["e2", "e3"]
    assert window["day"].to_list() == [date(2026, 3, 2), date(2026, 3, 3)]


def test_since_and_until_cut_at_the_instant_both_inclusive(tmp_path: Path) -> None:
    _log(tmp_path, {}, [(f"e{h}", _at(2, h), {}) for h in range(0, 24, 3)])
    frame = read_decisions(tmp_path, since=_at(2, 6), until=datetime(2026, 3, 2, 12)).collect()
    assert frame["event_id"].to_list() == ["e6", "e9", "e12"]
    assert read_decisions(tmp_path, since="2026-03-03").collect().height == 0


def test_parts_written_before_a_new_column_read_it_as_null(tmp_path: Path) -> None:
    _log(tmp_path, {"features.a": "int"}, [("old", _at(1), {"features.a": 1})])
    _log(tmp_path, {"features.a": "int", "features.b": "float"},
         [("new", _at(1, 13), {"features.a": 2, "features.b": 0.5})])  # fmt: skip
    frame = read_logs(tmp_path).collect()
    assert frame.select("event_id", "features.a", "features.b").rows() == [
        ("old", 1, None),
        ("new", 2, 0.5),
    ]
    assert frame.schema["features.b"] == pl.Float64()


def test_an_empty_table_reads_as_an_empty_frame_of_its_schema(tmp_path: Path) -> None:
    _log(tmp_path, {"features.a": "int"}, [("e1", _at(1), {"features.a": 1})])
    verdicts = read_verdicts(tmp_path).collect()
    assert verdicts.height == 0
    assert {"entity_type", "entity_id", "found_at", "day"} <= set(verdicts.columns)
