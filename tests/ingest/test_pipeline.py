"""Intake: bad records go to the rejects file with their errors; the good ones around them go on."""

from __future__ import annotations

from pathlib import Path

import orjson

from rampart.ingest.late import LatePolicy
from rampart.ingest.pipeline import Intake
from rampart.ingest.privacy import EventPrivacy
from rampart.ingest.rejects import RejectSink
from rampart.ingest.sources.jsonl import JsonLinesSource


def _event(event_id: str, ts: str, email: str = "ann@example.com") -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "type": "account.created",
            "ts": ts,
            "user_id": f"u-{event_id}",
            "ip": "203.0.113.7",
            "props": {"email": email},
        }
    )


def _run(tmp_path: Path, lines: list[bytes], lateness: float = 3600) -> tuple[list[str], Intake]:
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    privacy = EventPrivacy.for_demo()
    with RejectSink(tmp_path / "rejects.jsonl", privacy.scrub_raw) as sink:
        intake = Intake(privacy, sink, late_policy=LatePolicy(lateness))
        accepted = [a.event.event_id for a in intake.run(JsonLinesSource(source), "events")]
    return accepted, intake


def test_bad_lines_do_not_stop_the_stream(tmp_path: Path, contract_dir: Path) -> None:
    invalid = (contract_dir / "examples" / "invalid.jsonl").read_bytes().splitlines()
    lines = [_event("g1", "2026-03-01T10:00:00Z"), *invalid, _event("g2", "2026-03-01T10:01:00Z")]
    accepted, intake = _run(tmp_path, lines)
    assert accepted == ["g1", "g2"]
    assert (intake.stats.read, intake.stats.accepted, intake.stats.invalid) == (9, 2, 7)
    rejects = [
        orjson.loads(line) for line in (tmp_path / "rejects.jsonl").read_bytes().splitlines()
    ]
    assert [r["line"] for r in rejects] == list(range(2, 9))
    assert [r["event_id"] for r in rejects] == ["x1", "x2", "x3", "x4", "x5", None, None]
    assert rejects[3]["path"] == "props.quantity"
    assert (
        rejects[3]["error"] == "line 5, event x4: props.quantity: must be an integer, got a string"
    )
    assert all(r["kind"] == "invalid" and r["source"] == "events" for r in rejects)
    assert rejects[6]["raw"] == "not json at all"


def test_duplicates_are_dropped_and_counted(tmp_path: Path) -> None:
    lines = [_event("a", "2026-03-01T10:00:00Z"), _event("a", "2026-03-01T10:00:05Z")]
    accepted, intake = _run(tmp_path, lines)
    assert accepted == ["a"]
    assert intake.stats.duplicates == 1
    assert not (tmp_path / "rejects.jsonl").read_bytes()


def test_events_beyond_the_lateness_are_rejected_not_lost(tmp_path: Path) -> None:
    lines = [
        _event("now", "2026-03-01T12:00:00Z"),
        _event("a-bit-late", "2026-03-01T11:59:30Z"),
        _event("too-late", "2026-03-01T11:00:00Z", email="late.person@example.org"),
    ]
    accepted, intake = _run(tmp_path, lines, lateness=60)
    assert accepted == ["now", "a-bit-late"]
    reject = orjson.loads((tmp_path / "rejects.jsonl").read_bytes())
    assert (reject["kind"], reject["event_id"], reject["path"]) == ("late", "too-late", "ts")
    assert "late by 3600 s" in reject["reason"]
    # The rejected record is kept, with its PII pseudonymised.
    assert orjson.loads(reject["raw"])["event_id"] == "too-late"
    assert "late.person@example.org" not in reject["raw"]
    assert intake.stats.late == 1
