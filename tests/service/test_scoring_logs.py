"""A scoring run stopped past its checkpoint and resumed logs each event exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from rampart.ingest.sources.base import SourceItem
from rampart.logs.layout import parts
from rampart.logs.reader import read_logs
from rampart.service.assemble import OpenedScoring, open_files


class StoppedError(Exception):
    """Stands for the kill: the run stops between two checkpoints."""


@pytest.fixture(scope="module")
def world(tiny_world_of: Callable[[int], Path]) -> Path:
    return tiny_world_of(11)


def _open(world: Path, out: Path, checkpoint: Path | None) -> OpenedScoring:
    return open_files(
        world / "events.jsonl",
        decisions=out / "decisions.jsonl",
        verdicts=out / "verdicts.jsonl",
        labels=world / "labels.jsonl",
        checkpoint=checkpoint,
        checkpoint_every=1000,
        logs=out / "logs",
    )


def _stopping(items: Iterator[SourceItem], after: int) -> Iterator[SourceItem]:
    for position, item in enumerate(items, start=1):
        if position > after:
            raise StoppedError
        yield item


def _table(root: Path, table: str) -> pl.DataFrame:
    frame = read_logs(root, table=table).collect()  # type: ignore[arg-type]
    return frame.sort(frame.columns[:4])


@pytest.mark.parametrize("stop_after", [1, 2500, 4321])
def test_resumed_log_equals_the_uninterrupted_one(
    world: Path, tmp_path: Path, stop_after: int
) -> None:
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    opened = _open(world, reference, None)
    with opened.run as run:
        run.run(opened.source, "events", None)

    checkpoint = tmp_path / "checkpoint"
    first = _open(world, crashed, checkpoint)
    with pytest.raises(StoppedError), first.run as run:
        run.run(_stopping(iter(first.source), stop_after), "events", None)
    # Closing flushed what was held: parts past the checkpoint exist, and a torn temporary.
    written = list(parts(crashed / "logs", "decisions"))
    assert written
    (written[-1][2].parent / ".part-999999.parquet.tmp").write_bytes(b"torn")
    stopped_at = read_logs(crashed / "logs").collect().height
    assert stopped_at == stop_after

    resumed = _open(world, crashed, checkpoint)
    with resumed.run as run:
        stats = run.run(resumed.source, "events", None)
    assert stats.resumed_from == (stop_after // 1000) * 1000
    for table in ("decisions", "verdicts"):
        got, expected = _table(crashed / "logs", table), _table(reference / "logs", table)
        assert got.height == expected.height, table
        assert got.equals(expected), table
    decisions = read_logs(crashed / "logs").collect()
    assert decisions["event_id"].n_unique() == decisions.height
    for name in ("decisions.jsonl", "verdicts.jsonl"):
        assert (crashed / name).read_bytes() == (reference / name).read_bytes()
    assert not list((crashed / "logs").rglob("*.tmp"))


def test_a_checkpoint_without_a_log_cannot_resume_a_logged_run(world: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint"
    opened = open_files(
        world / "events.jsonl",
        decisions=tmp_path / "d.jsonl",
        verdicts=tmp_path / "v.jsonl",
        checkpoint=checkpoint,
        checkpoint_every=1000,
    )
    with pytest.raises(StoppedError), opened.run as run:
        run.run(_stopping(iter(opened.source), 1500), "events", None)
    with pytest.raises(ValueError, match="another run"):
        open_files(
            world / "events.jsonl",
            decisions=tmp_path / "d.jsonl",
            verdicts=tmp_path / "v.jsonl",
            checkpoint=checkpoint,
            checkpoint_every=1000,
            logs=tmp_path / "logs",
        )
