"""The served scorer in process, without HTTP: CPU per event, how long a snapshot holds the lock.

    uv run python benchmarks/serving.py [--events N] [--world DIR]

Scores a simulated stream through :class:`rampart.service.scorer.Scorer` (intake, journal with
its fsyncs, engine, held answers) in batches of 1,000, once with the interpreter's default cycle
collector and once with :func:`rampart.service.runtime.scoring_gc` (what `rampart serve` runs
with), alternating, three times; then, on the state of the first ``--events`` events, compares
the time the scorer's lock is held to take a snapshot by forking (what the scorer does) with
encoding the state under the lock (what it did before). CPU times are quoted: this machine is
shared. Without ``--world`` a `small` world (seed 11) is simulated into a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from rampart.service.runtime import scoring_gc
from rampart.service.scorer import Scorer
from rampart.simulate import world_config, write_world


def cpu_per_event(events: list[bytes], tuned: bool) -> float:
    gc_mode = scoring_gc() if tuned else contextlib.nullcontext()
    with (
        tempfile.TemporaryDirectory() as folder,
        Scorer.open(Path(folder), demo=True) as scorer,
        gc_mode,
    ):
        scorer.score_many(events[:3000])  # warm-up: first-use caches, parsers
        rest = events[3000:]
        started = time.process_time()
        for start in range(0, len(rest), 1000):
            scorer.score_many(rest[start : start + 1000])
        return (time.process_time() - started) / len(rest) * 1e6


def snapshot_pause(events: list[bytes]) -> list[tuple[float, float, int]]:
    """(ms of CPU with the lock held when forking, when encoding inline, state MiB) x 3."""
    pauses = []
    with (
        tempfile.TemporaryDirectory() as folder,
        Scorer.open(Path(folder), demo=True, snapshot_every=10**12) as scorer,
        scoring_gc(),
    ):
        for start in range(0, len(events), 1000):
            scorer.score_many(events[start : start + 1000])
        for _ in range(3):
            scorer.snapshot_every = scorer._since_snapshot = 1
            started = time.process_time()
            with scorer._lock:
                scorer._snapshot_due()
            forked = time.process_time() - started
            scorer.wait_for_snapshot()
            scorer.snapshot_every = 10**12
            started = time.process_time()
            with scorer._lock:
                state = scorer.state()
            inline = time.process_time() - started
            pauses.append((forked * 1000, inline * 1000, len(state) >> 20))
    return pauses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--world", type=Path)
    options = parser.parse_args()
    world = options.world
    if world is None:
        world = Path(tempfile.mkdtemp())
        write_world(world_config(preset="small", difficulty="hard", seed=11), world)
    events = (world / "events.jsonl").read_bytes().splitlines()[: options.events]
    runs: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(3):
        for tuned in (False, True):
            runs[tuned].append(cpu_per_event(events, tuned))
    default, collected = statistics.median(runs[False]), statistics.median(runs[True])
    print(f"{len(events):,} events, load {os.getloadavg()[0]:.1f}")
    print(f"CPU per event, default collector: {default:.0f} µs (runs {runs[False]})")
    print(f"CPU per event, scoring_gc:        {collected:.0f} µs ({collected / default:.2f}x)")
    for forked, inline, mebibytes in snapshot_pause(events):
        print(
            f"snapshot of {mebibytes} MiB: lock held {forked:.0f} ms CPU forking, "
            f"{inline:.0f} ms CPU encoding inline"
        )


if __name__ == "__main__":
    main()
