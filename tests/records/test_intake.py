"""A label stream: good labels stored, bad lines reported with PII scrubbed, reruns idempotent."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from rampart.learn.inputs import read_lines
from rampart.records.entities import EntityKeeper
from rampart.records.intake import LabelRejects, take_labels
from rampart.records.store import Records
from rampart.records.validation import LabelProblem

LINES = [
    b'{"entity_type":"user","entity_id":"u1","area":"scalper","label":1,'
    b'"ts":"2026-03-01T10:00:00Z","source":"chargeback","campaign":"c1"}\n',
    b'{"entity_type":"ip","entity_id":"203.0.113.7","area":"scalper","label":1,'
    b'"ts":"2026-03-01T10:05:00Z"}\n',
    b"\n",
    b'{"entity_type":"user","entity_id":"u2","area":"scalper","label":9,'
    b'"note":"call +65 9123 4567"}\n',
    b"definitely not json\n",
    b'{"entity_type":"seller","entity_id":"s1","area":"brushing","label":0,'
    b'"ts":"2026-03-02T00:00:00+08:00","source":"appeal"}\n',
]


def _take(
    records: Records, lines: list[bytes], problems: list[LabelProblem], batch_size: int = 1000
) -> tuple[int, int, int, int]:
    stats = take_labels(
        lines,
        records.labels,
        records.keeper,
        actor="ana",
        origin="labels.jsonl",
        on_problem=lambda problem, raw: problems.append(problem),
        batch_size=batch_size,
    )
    return stats.read, stats.stored, stats.duplicates, stats.invalid


def test_good_labels_are_stored_and_bad_lines_reported_without_stopping(records: Records) -> None:
    problems: list[LabelProblem] = []
    assert _take(records, LINES, problems) == (5, 3, 0, 2)
    assert [(p.line, p.path) for p in problems] == [(4, "label"), (5, None)]
    stored = {s.label.entity_id: s for s in records.labels.read()}
    assert set(stored) == {"u1", "s1", records.keeper.keep("ip", "203.0.113.7")}
    assert stored["u1"].label.source == "chargeback"
    assert stored["u1"].label.campaign == "c1"
    assert stored["s1"].origin == "labels.jsonl"


def test_running_the_same_stream_again_stores_nothing_new(records: Records) -> None:
    _take(records, LINES, [])
    audit_rows = len(records.audit.entries())
    assert _take(records, LINES, [], batch_size=2) == (5, 0, 3, 2)
    assert records.labels.count() == 3
    assert len(records.audit.entries()) == audit_rows


def test_a_stream_cut_short_and_sent_again_completes_without_duplicates(records: Records) -> None:
    _take(records, LINES[:2], [])  # a crash after the first batch: resend the whole file
    assert _take(records, LINES, [], batch_size=1) == (5, 1, 2, 2)
    assert records.labels.count() == 3


def test_rejects_file_holds_precise_errors_and_no_pii(records: Records, tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    lines = [*LINES, b'{"entity_type":"ip","entity_id":"198.51.100.9","area":"scalper"}\n']
    with LabelRejects(path, records.keeper, source="labels.jsonl") as sink:
        take_labels(lines, records.labels, records.keeper, actor="ana", on_problem=sink.add)
    rejects = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [r["line"] for r in rejects] == [4, 5, 7]
    assert rejects[0]["error"].startswith("line 4, label user u2 in scalper: label:")
    assert rejects[2]["path"] == "label"
    assert rejects[2]["label"].startswith("ip ip_")
    text = path.read_text()
    for pii in ("198.51.100.9", "+65 9123 4567"):
        assert pii not in text
    assert "call <phone>" in text


def test_without_a_secret_pii_lines_are_rejected_and_the_rest_stored(
    records: Records, tmp_path: Path
) -> None:
    no_secret = EntityKeeper(None)
    problems: list[LabelProblem] = []
    stats = take_labels(
        LINES, records.labels, no_secret, actor="ana", on_problem=lambda p, r: problems.append(p)
    )
    assert (stats.stored, stats.invalid) == (2, 3)
    assert problems[0].line == 2
    assert problems[0].label == "ip <ip withheld> in scalper"


def test_gzip_streams_are_read_like_plain_ones(records: Records, tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.writelines(LINES)
    assert _take(records, list(read_lines(path)), []) == (5, 3, 0, 2)
