"""`rampart promote`: a rule or model put live (or back in shadow) is a recorded, audited change."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rampart.cli import app
from rampart.records import Records


def test_promoting_a_shadow_rule_is_recorded_and_audited(tmp_path: Path) -> None:
    records = tmp_path / "records.sqlite"
    runner = CliRunner()
    args = ["promote", "--rule", "lockstep_target_owner", "--records", str(records)]
    who = ["--actor", "ana", "--reason", "precision 0.93 in February"]
    first = runner.invoke(app, [*args, "--to", "live", *who])
    assert first.exit_code == 0, first.output
    assert "shadow → live by ana" in first.output
    again = runner.invoke(app, [*args, "--to", "live", *who])
    assert again.exit_code == 0, again.output
    assert "already live" in again.output
    with Records.open(records) as store:
        entries = store.audit.entries()
        assert [e.action for e in entries] == ["rule_version.add", "rule_version.mode", "promotion"]
        assert entries[-1].actor == "ana"
        (version,) = store.rules.history("default", "lockstep_target_owner")
        assert version.mode == "live"


def test_promote_refuses_unclear_requests(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["promote", "--records", str(tmp_path / "r.sqlite"), "--actor", "a", "--reason", "r"]
    assert runner.invoke(app, [*base, "--to", "live"]).exit_code == 2
    assert runner.invoke(app, [*base, "--rule", "x", "--to", "everywhere"]).exit_code == 2
    unknown = runner.invoke(app, [*base, "--rule", "no_such_rule", "--to", "live"])
    assert unknown.exit_code == 2
