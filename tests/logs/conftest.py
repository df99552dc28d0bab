"""A tiny simulated world scored once with a log, and what the engine saw while scoring it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rampart.engine import Scored
from rampart.ingest.privacy import Accepted
from rampart.service.assemble import open_files


@dataclass
class ScoredWorld:
    world: Path
    out: Path
    logs: Path
    # event_id -> the row the detectors saw
    rows: dict[str, Mapping[str, Any]]


def score_world(
    world: Path, out: Path, *, checkpoint: Path | None = None, every: int = 1000
) -> dict[str, Mapping[str, Any]]:
    """Score ``world`` into ``out`` (decisions, verdicts, logs); the rows by event id."""
    opened = open_files(
        world / "events.jsonl",
        decisions=out / "decisions.jsonl",
        verdicts=out / "verdicts.jsonl",
        labels=world / "labels.jsonl",
        checkpoint=checkpoint,
        checkpoint_every=every,
        logs=out / "logs",
    )
    rows: dict[str, Mapping[str, Any]] = {}
    engine = opened.run.engine
    process = engine.process

    def seen(accepted: Accepted) -> Scored:
        scored = process(accepted)
        if scored.row is not None:
            rows[accepted.event.event_id] = scored.row
        return scored

    engine.process = seen  # type: ignore[method-assign]
    with opened.run as run:
        run.run(opened.source, "events", None)
    return rows


@pytest.fixture(scope="session")
def tiny_world(tiny_world_of: Callable[[int], Path]) -> Path:
    return tiny_world_of(3)


@pytest.fixture(scope="session")
def scored_world(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory) -> ScoredWorld:
    out = tmp_path_factory.mktemp("logs-scored")
    rows = score_world(tiny_world, out)
    return ScoredWorld(tiny_world, out, out / "logs", rows)


@pytest.fixture(scope="session")
def score() -> Any:
    """:func:`score_world`, for tests that score again (test modules cannot import conftest)."""
    return score_world
