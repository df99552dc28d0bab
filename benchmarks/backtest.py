"""Backtest speed: the default pack (every rule) over a 5M-event decision log, embedded (DuckDB).

Builds the log once: a tiny simulated world scored with ``--logs``, its decisions replicated
with fresh event, user, device and ip ids per copy and spread over 31 days (same schema, one
part per day), and its labels replicated the same way. Then, each the median of ``--repeat``:

- baseline: ``SELECT count(*)`` over the same Parquet files in DuckDB (a plain scan);
- the backtest of every rule of the default pack, without labels;
- the same with the replicated labels (resolution of the labels included).

    uv run python benchmarks/backtest.py [--copies 620] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from rampart.contract.outputs import Label
from rampart.detect.rules import load_pack
from rampart.ingest.pii import Pseudonymizer
from rampart.learn.backtest import backtest, pack_rules, read_labels
from rampart.logs import read_logs
from rampart.logs.layout import part_path
from rampart.logs.schema import SCHEMA_FILE
from rampart.packs import DEFAULT_PACK
from rampart.service.assemble import score_files
from rampart.simulate import world_config, write_world

DAYS = 31
_IDS = ("event_id", "user_id", "device_id", "ip", "session_id")


def score_with_logs(out: Path, seed: int = 3) -> Path:
    """A tiny world simulated into ``out`` and scored with a log (the base of the copies)."""
    write_world(world_config(preset="tiny", difficulty="hard", seed=seed), out)
    score_files(
        out / "events.jsonl",
        decisions=out / "decisions.jsonl",
        verdicts=out / "verdicts.jsonl",
        labels=out / "labels.jsonl",
        logs=out / "logs",
        checkpoint_every=50_000,
    )
    return out


def build_log(base: Path, out: Path, copies: int) -> tuple[int, list[Label]]:
    """Replicate ``base``'s log into ``out``: (rows written, replicated labels)."""
    logged = read_logs(base / "logs").collect().drop("day")
    (out / "decisions").mkdir(parents=True)
    shutil.copy(base / "logs" / SCHEMA_FILE, out / SCHEMA_FILE)
    first = date(2026, 3, 1)
    earliest: datetime = logged["ts"].min()  # type: ignore[assignment]
    start = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
    per_day = -(-copies // DAYS)
    rows = 0
    for d in range(DAYS):
        # Every copy lands on day d, at its own time of day (first day's events moved).
        shift = datetime.combine(first + timedelta(days=d), datetime.min.time(), UTC) - start
        chunk = [
            logged.with_columns(*(pl.col(c) + f"-{k}" for c in _IDS), pl.col("ts") + shift)
            for k in range(d * per_day, min(copies, (d + 1) * per_day))
        ]
        if not chunk:
            break
        frame = pl.concat(chunk)
        path = part_path(out, "decisions", first + timedelta(days=d), d)
        path.parent.mkdir(parents=True)
        frame.write_parquet(path)
        rows += frame.height
    labels = read_labels(base / "labels.jsonl")
    replicated = [
        Label(
            entity_type=label.entity_type,
            entity_id=label.entity_id + f"-{k}" if label.entity_type != "ip" else label.entity_id,
            area=label.area,
            label=label.label,
            ts=label.ts,
        )
        for k in range(copies)
        for label in labels
    ]
    return rows, replicated


def _median(run: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall and CPU (this process, every thread: user + sys) seconds, and the result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def _load(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in averages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=620)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Keep the built log in this folder.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rampart-backtest-"))
    try:
        base = score_with_logs(work / "world")
        log = args.keep or work / "log"
        started = time.perf_counter()
        rows, labels = build_log(base, log, args.copies)
        print(
            f"built {rows:,} logged events over {DAYS} days "
            f"in {time.perf_counter() - started:.1f} s"
        )
        rules = pack_rules(load_pack(DEFAULT_PACK))
        files = [str(p) for p in sorted((log / "decisions").rglob("*.parquet"))]

        def count() -> int:
            row = (
                duckdb.connect().execute(f"SELECT count(*) FROM read_parquet({files!r})").fetchone()
            )
            return int(row[0]) if row else 0

        load_before = os.getloadavg()
        base_s, base_cpu, counted = _median(count, args.repeat)
        plain_s, plain_cpu, plain = _median(lambda: backtest(log, rules), args.repeat)
        keyed = Pseudonymizer.from_config(demo=True, env={})

        def ip(address: str) -> str:
            return keyed.token("ip", address)

        labelled_s, labelled_cpu, labelled = _median(
            lambda: backtest(log, rules, labels=labels, pseudonymize_ip=ip), args.repeat
        )
        hits = sum(r.hits for r in plain.rows if r.scope_kind == "all")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(rules)} rules")
        print(f"load average before / after: {_load(load_before)} / {_load(os.getloadavg())}")
        print(
            f"baseline count(*) scan of {counted:,} rows: {base_s:.2f} s, CPU {base_cpu:.2f} s "
            f"(medians of {args.repeat})"
        )
        print(
            f"backtest, no labels: {plain_s:.2f} s, CPU {plain_cpu:.2f} s "
            f"for {plain.events:,} events ({plain.events / plain_s / 1e6:.2f} M events/s; "
            f"{hits:,} rule hits, "
            f"{len(plain.rows):,} result rows)"
        )
        print(
            f"backtest with {len(labels):,} labels: {labelled_s:.2f} s, CPU {labelled_cpu:.2f} s "
            f"for {labelled.events:,} events"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
