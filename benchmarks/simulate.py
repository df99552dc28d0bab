"""Simulator speed: seconds to generate and write a world, per million events.

    uv run python benchmarks/simulate.py [--preset large] [--seed 7] [--repeat 3]

The baseline in the same run is writing the same number of small JSON lines with orjson alone,
the floor any generator that writes JSON Lines pays.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from rampart.simulate import world_config, write_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--difficulty", default="hard")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    seconds: list[float] = []
    events = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            start = time.perf_counter()
            summary = write_world(
                world_config(args.preset, args.difficulty, args.seed), Path(tmp) / "world"
            )
            seconds.append(time.perf_counter() - start)
            events = summary.n_events
        start = time.perf_counter()
        with (Path(tmp) / "floor.jsonl").open("wb") as handle:
            row = {"event_id": "ev_0", "type": "page.view", "ts": "2026-03-01T00:00:00Z"}
            for n in range(events):
                row["event_id"] = f"ev_{n}"
                handle.write(orjson.dumps(row) + b"\n")
        floor = time.perf_counter() - start
    median = statistics.median(seconds)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; preset {args.preset!r} {args.difficulty} seed "
        f"{args.seed}; median of {args.repeat}"
    )
    print(
        f"{events:,} events in {median:.1f} s = {median / events * 1e6:.1f} s per million "
        f"({events / median:,.0f} events/s); orjson-only floor {floor:.1f} s "
        f"({median / floor:.1f}x)"
    )


if __name__ == "__main__":
    main()
