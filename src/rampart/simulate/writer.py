"""Writing a world to disk: events.jsonl (time-ordered), labels.jsonl, truth.json."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson

from rampart.simulate.config import WorldConfig
from rampart.simulate.world import Run, WorldSummary, gc_paused


def write_world(
    config: WorldConfig,
    out_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> WorldSummary:
    """Stream a world into ``out_dir``; ``progress(done, total)`` counts generation chunks."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with gc_paused():
        return _write(config, out_dir, progress)


def _write(
    config: WorldConfig, out_dir: Path, progress: Callable[[int, int], None] | None
) -> WorldSummary:
    run = Run(config)
    total = run.n_chunks + 1
    dumps = orjson.dumps
    with (out_dir / "events.jsonl").open("wb") as f:
        for k, chunk in enumerate(run.chunks()):
            if chunk:
                f.write(b"\n".join(map(dumps, chunk)))
                f.write(b"\n")
            if progress is not None:
                progress(k + 1, total)
    labels = run.labels()
    with (out_dir / "labels.jsonl").open("wb") as f:
        f.write(b"".join(dumps(rec) + b"\n" for rec in labels))
    summary = run.summary(labels)
    (out_dir / "truth.json").write_bytes(
        dumps(run.truth(summary), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    if progress is not None:
        progress(total, total)
    return summary
