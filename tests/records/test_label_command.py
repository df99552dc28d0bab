"""`rampart label FILE --records ...` end to end, on both engines."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from tests.records.conftest import SECRET
from typer.testing import CliRunner

from rampart.cli import app
from rampart.ingest.pii import ENV_SECRET, ENV_SECRET_FILE
from rampart.records.store import Records

runner = CliRunner()

STREAM = b"".join(
    orjson.dumps(label) + b"\n" if label else b"\n"
    for label in [
        {
            "entity_type": "user",
            "entity_id": "u1",
            "area": "scalper",
            "label": 1,
            "ts": "2026-03-01T10:00:00Z",
            "source": "chargeback",
        },
        {
            "entity_type": "ip",
            "entity_id": "203.0.113.7",
            "area": "information_leakage",
            "label": 1,
            "ts": "2026-03-01T11:00:00Z",
            "source": "report",
        },
        {"entity_type": "user", "entity_id": "u2", "area": "scalpr", "label": 1},
        {},  # a blank line: skipped, but it keeps its number
        {
            "entity_type": "seller",
            "entity_id": "s1",
            "area": "brushing",
            "label": 0,
            "ts": "2026-03-02T00:00:00+08:00",
            "source": "appeal",
        },
    ]
)


@pytest.fixture
def stream(tmp_path: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(STREAM)
    return path


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SECRET, SECRET.decode())
    monkeypatch.delenv(ENV_SECRET_FILE, raising=False)


@pytest.mark.usefixtures("secret")
def test_labels_are_stored_once_with_problems_in_the_rejects_file(
    stream: Path, database_url: str, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.jsonl"
    args = ["label", str(stream), "--records", database_url, "--rejects", str(rejects)]
    result = runner.invoke(app, [*args, "--actor", "ana"])
    assert result.exit_code == 0, result.output
    assert "read 4 label lines: stored 3 new, 0 already stored, 1 invalid" in result.output
    assert f"(rejects in {rejects})" in result.output
    (reject,) = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert reject["line"] == 3
    assert reject["path"] == "area"
    assert reject["label"] == "user u2 in scalpr"

    again = runner.invoke(app, args)
    assert "stored 0 new, 3 already stored, 1 invalid" in again.output

    with Records.open(database_url) as records:
        stored = {s.label.entity_type: s for s in records.labels.read()}
        assert set(stored) == {"user", "ip", "seller"}
        assert stored["ip"].label.entity_id.startswith("ip_")
        assert stored["seller"].label.source == "appeal"
        assert stored["user"].origin == "labels.jsonl"
        actors = {e.actor for e in records.audit.entries(target="labels")}
        assert actors == {"ana"}


def test_without_a_secret_only_pii_lines_are_refused(
    stream: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_SECRET, raising=False)
    monkeypatch.delenv(ENV_SECRET_FILE, raising=False)
    result = runner.invoke(app, ["label", str(stream), "--records", database_url])
    assert result.exit_code == 0, result.output
    assert "stored 2 new, 0 already stored, 2 invalid" in result.output
    assert "line 2, label ip <ip withheld> in information_leakage: entity_id:" in result.output
    assert "line 3, label user u2 in scalpr: area:" in result.output
    assert "203.0.113.7" not in result.output


@pytest.mark.usefixtures("secret")
def test_records_default_to_the_environment(
    stream: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPART_RECORDS_URL", database_url)
    result = runner.invoke(app, ["label", str(stream)])
    assert result.exit_code == 0, result.output
    assert "stored 3 new" in result.output


def test_a_missing_file_or_database_fails_cleanly(stream: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["label", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    url = "postgresql://rampart:hunter2@127.0.0.1:1/none?connect_timeout=2"
    unreachable = runner.invoke(app, ["label", str(stream), "--records", url])
    assert unreachable.exit_code == 2
    shown = "".join(unreachable.output.split())  # the terminal wraps long lines
    assert "recordsatpostgresql+psycopg://rampart:***@127.0.0.1:1/none" in shown
    assert "hunter2" not in unreachable.output


@pytest.mark.usefixtures("secret")
def test_scoring_with_records_stores_its_labels(
    stream: Path, database_url: str, tmp_path: Path
) -> None:
    """`rampart score --labels L --records URL` feeds the labels to the features at their time
    and stores them in the records, as `rampart label` does."""
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b'{"event_id":"e1","type":"account.login","ts":"2026-03-01T09:00:00Z",'
        b'"user_id":"u1","props":{"success":true}}\n'
    )
    args = ["score", "--events", str(events), "--decisions", str(tmp_path / "d.jsonl"),
            "--verdicts", str(tmp_path / "v.jsonl"), "--labels", str(stream),
            "--records", database_url]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "stored 3 new, 0 already stored, 1 invalid" in result.output
    # The scorer skips the bad line too, saying where and why, and scores on.
    assert "label skipped: labels.jsonl line 3:" in " ".join(result.output.split())
    assert len((tmp_path / "d.jsonl").read_text().splitlines()) == 1
    with Records.open(database_url) as records:
        assert {s.label.source for s in records.labels.read()} == {"chargeback", "report", "appeal"}
        assert {e.actor for e in records.audit.entries(target="labels")} == {"score"}
    without_labels = runner.invoke(app, [*args[:-4], "--records", database_url])
    assert without_labels.exit_code == 2
    assert "give --labels too" in without_labels.output
