"""Same config, same bytes; other seeds and difficulties, other worlds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rampart.simulate import DIFFICULTIES, PRESETS, WorldSummary, world_config, write_world

if TYPE_CHECKING:
    from tests.simulate.conftest import Worlds

FILES = ("events.jsonl", "labels.jsonl", "truth.json")


def test_two_runs_write_identical_files(tmp_path: Path) -> None:
    cfg = world_config("tiny", "hard", seed=11)
    a = write_world(cfg, tmp_path / "a")
    b = write_world(cfg, tmp_path / "b")
    assert a == b
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_write_world_reports_progress_and_matches_simulate(tmp_path: Path, worlds: Worlds) -> None:
    calls: list[tuple[int, int]] = []
    summary = write_world(
        world_config("tiny", "hard", seed=7), tmp_path, lambda d, t: calls.append((d, t))
    )
    assert isinstance(summary, WorldSummary)
    assert calls[-1][0] == calls[-1][1]
    assert len(calls) >= 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == summary.n_events
    world = worlds("hard", 7)
    assert [json.loads(line) for line in lines[:50]] == world.events[:50]
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["summary"]["n_events"] == summary.n_events
    assert len(truth["campaigns"]) == len(summary.campaigns)


def test_other_seed_other_world(worlds: Worlds) -> None:
    a, b = worlds("hard", 7), worlds("hard", 8)
    assert a.events[0]["event_id"] != b.events[0]["event_id"]
    assert a.summary.n_events != b.summary.n_events


def test_presets_and_difficulties() -> None:
    assert {"tiny", "demo", "large"} <= set(PRESETS)
    assert DIFFICULTIES == ("easy", "hard")
    large, demo = world_config("large"), world_config("demo")
    assert (large.n_users, large.days) == (50_000, 14)
    assert (demo.n_users, demo.days) == (6000, 5)
    with pytest.raises(ValueError, match="unknown preset"):
        world_config("huge")
    with pytest.raises(ValueError, match="unknown difficulty"):
        world_config("tiny", "medium")


def test_output_does_not_depend_on_the_process(tmp_path: Path) -> None:
    """String hashing is salted per process: nothing may iterate a set of strings unsorted."""
    script = (
        "import sys; from pathlib import Path;"
        "from rampart.simulate import world_config, write_world;"
        "write_world(world_config('tiny', 'easy', seed=5), Path(sys.argv[1]))"
    )
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / salt)], check=True, env=env)
    for name in FILES:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()
