"""Kill the scorer with SIGKILL mid-run, start it again: the outputs equal an uninterrupted run,
and the Parquet log holds each event exactly once, as the uninterrupted run's does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from rampart.logs.reader import read_logs
from rampart.simulate import world_config, write_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crash-world")
    write_world(world_config(preset="small", difficulty="hard", seed=5), out)
    return out


def _score(world: Path, out: Path, checkpoint: Path | None) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "rampart.cli", "score", "--demo",
        "--events", str(world / "events.jsonl"), "--labels", str(world / "labels.jsonl"),
        "--decisions", str(out / "decisions.jsonl"), "--verdicts", str(out / "verdicts.jsonl"),
        "--rejects", str(out / "rejects.jsonl"), "--logs", str(out / "logs"),
    ]  # fmt: skip
    if checkpoint is not None:
        command += ["--checkpoint", str(checkpoint), "--checkpoint-every", "2000"]
    with (out / "stderr.txt").open("ab") as stderr:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)


def _log(out: Path, table: str) -> pl.DataFrame:
    frame = read_logs(out / "logs", table=table).collect()  # type: ignore[arg-type]
    return frame.sort(frame.columns[:4])


def test_sigkill_then_restart_gives_the_uninterrupted_outputs(world: Path, tmp_path: Path) -> None:
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    reference.mkdir()
    crashed.mkdir()
    uninterrupted = _score(world, reference, checkpoint=None)
    assert uninterrupted.wait(timeout=600) == 0, (reference / "stderr.txt").read_text()
    expected_lines = (reference / "decisions.jsonl").read_bytes().count(b"\n")

    checkpoint = tmp_path / "checkpoint"
    victim = _score(world, crashed, checkpoint)
    decisions = crashed / "decisions.jsonl"
    deadline = time.monotonic() + 300
    # Kill it for real once it is well into the stream and has checkpointed at least once.
    while time.monotonic() < deadline and victim.poll() is None:
        written = decisions.stat().st_size if decisions.exists() else 0
        if (checkpoint / "checkpoint.msgpack").exists() and written > 0:
            lines = decisions.read_bytes().count(b"\n")
            if lines > expected_lines // 3:
                break
        time.sleep(0.05)
    assert victim.poll() is None, "the run finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    killed_at = decisions.read_bytes().count(b"\n")
    assert 0 < killed_at < expected_lines

    resumed = _score(world, crashed, checkpoint)
    assert resumed.wait(timeout=600) == 0, (crashed / "stderr.txt").read_text()
    for name in ("decisions.jsonl", "verdicts.jsonl", "rejects.jsonl"):
        assert (crashed / name).read_bytes() == (reference / name).read_bytes(), name
    for table in ("decisions", "verdicts"):
        got, expected = _log(crashed, table), _log(reference, table)
        assert got.height == expected.height, table
        assert got.equals(expected), table
    logged = _log(crashed, "decisions")
    assert logged.height == expected_lines
    assert logged["event_id"].n_unique() == expected_lines
    assert expected_lines > 10_000
    # The checkpoint holds pseudonyms only: no address a verdict names in clear.
    ip_verdicts = [
        line.split(b'"entity_id":"')[1].split(b'"')[0]
        for line in (crashed / "verdicts.jsonl").read_bytes().splitlines()
        if b'"entity_type":"ip"' in line
    ]
    assert ip_verdicts
    state = (checkpoint / "checkpoint.msgpack").read_bytes()
    assert not [ip for ip in ip_verdicts if ip in state]
