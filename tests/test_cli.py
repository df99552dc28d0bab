"""The command line end to end, on small real files."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from rampart.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-world")
    result = runner.invoke(app, ["simulate", "--preset", "tiny", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Attack campaigns" in result.output
    return out


def test_validate_accepts_simulator_output(tiny_world: Path) -> None:
    result = runner.invoke(app, ["validate", str(tiny_world / "events.jsonl")])
    assert result.exit_code == 0, result.output
    assert " 0 invalid" in result.output


def test_validate_reports_every_invalid_line_and_exits_1(contract_dir: Path) -> None:
    result = runner.invoke(app, ["validate", str(contract_dir / "examples" / "invalid.jsonl")])
    assert result.exit_code == 1
    assert result.output.count("✗") == 7
    assert "line 4, event x4: props.quantity: must be an integer, got a string" in result.output
    assert "0 valid, 7 invalid" in result.output


def test_ingest_keeps_unknown_fields_scrubbed(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        b'{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00Z","tenant":"t1",'
        b'"props":{"path":"/","ab_bucket":3,"contact":"mail me at bob@example.com"}}\n'
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["ingest", "--demo", "--events", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = orjson.loads(out.read_bytes())
    assert record["extra"] == {
        "tenant": "t1",
        "props": {"ab_bucket": 3, "contact": "mail me at <email>"},
    }


def test_evaluate_all_allow_flags_nothing(tiny_world: Path, tmp_path: Path) -> None:
    decisions = tmp_path / "decisions.jsonl"
    with decisions.open("wb") as handle:
        for line in (tiny_world / "events.jsonl").read_bytes().splitlines():
            event_id = orjson.loads(line)["event_id"]
            handle.write(
                orjson.dumps({"event_id": event_id, "action": "allow", "score": 0, "reasons": []})
                + b"\n"
            )
    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_bytes(b"")
    args = [
        "evaluate",
        "--events",
        str(tiny_world / "events.jsonl"),
        "--decisions",
        str(decisions),
        "--verdicts",
        str(verdicts),
        "--labels",
        str(tiny_world / "labels.jsonl"),
    ]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    card = orjson.loads(as_json.output)
    assert card["friction"]["rate"] == 0.0
    assert len(card["areas"]) == 8
    assert all(area["entity_recall"] == 0.0 for area in card["areas"])
    assert all(area["flagged_entities"] == 0 for area in card["areas"])


def test_demo_runs_on_a_small_world(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--preset", "tiny", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "events.jsonl").stat().st_size > 0
