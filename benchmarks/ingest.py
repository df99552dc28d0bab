"""Ingest throughput: decode + validate, and the full intake with pseudonymisation.

Runs on simulator output held in memory (so disk speed is not measured), single process, one
core, against ``orjson.loads`` alone on the same lines in the same run. Each figure is the median
of ``--repeat`` runs; the machine is noisy, so compare ratios as well as absolute rates.

    uv run python benchmarks/ingest.py [--preset demo] [--seed 7] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from rampart.contract.validate import ContractError, parse_line
from rampart.ingest.pipeline import Intake
from rampart.ingest.privacy import EventPrivacy
from rampart.ingest.rejects import RejectSink
from rampart.ingest.sources.base import SourceRecord
from rampart.simulate import world_config, write_world


def _time(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs, and the count the run returned."""
    seconds = []
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit", type=int, default=300_000, help="lines measured")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        write_world(world_config(preset=args.preset, seed=args.seed), Path(tmp))
        lines = (Path(tmp) / "events.jsonl").read_bytes().splitlines()[: args.limit]
    records = [SourceRecord(n, line) for n, line in enumerate(lines, start=1)]

    def orjson_only() -> int:
        loads = orjson.loads
        for line in lines:
            loads(line)
        return len(lines)

    def decode_validate() -> int:
        accepted = 0
        for record in records:
            if not isinstance(parse_line(record.raw, record.line), ContractError):
                accepted += 1
        return accepted

    def intake(pseudonymise: bool) -> Callable[[], int]:
        def run() -> int:
            privacy = EventPrivacy.for_demo()
            pipeline = Intake(privacy, RejectSink(None, scrub=privacy.scrub_raw))
            if pseudonymise:
                return sum(1 for _ in pipeline.run(records))
            return sum(1 for _ in pipeline.validated(records))

        return run

    figures = {
        "orjson.loads only (baseline)": _time(orjson_only, args.repeat),
        "decode + validate (msgspec, precise errors)": _time(decode_validate, args.repeat),
        "intake: validate + late + dedupe": _time(intake(pseudonymise=False), args.repeat),
        "intake + pseudonymisation + derived fields": _time(intake(pseudonymise=True), args.repeat),
    }
    baseline = figures["orjson.loads only (baseline)"][0]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {len(lines):,} events of preset "
        f"{args.preset!r} seed {args.seed}; median of {args.repeat}"
    )
    print("| stage | events/s | time vs orjson |")
    print("|---|---:|---:|")
    for name, (seconds, count) in figures.items():
        print(f"| {name} | {count / seconds:,.0f} | {seconds / baseline:.2f}x |")


if __name__ == "__main__":
    main()
