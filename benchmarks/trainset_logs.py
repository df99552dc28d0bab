"""Training-set build from the decision log vs by replaying the events (issue 5), same run.

Expects a world and its log (``rampart simulate --out W --seed 7``, then ``rampart score --demo
--events W/events.jsonl --labels W/labels.jsonl ... --logs W/logs``). Builds the training set of
the whole world both ways over the same view (the one the log gives), checks they are equal
(rows, every column, targets) and prints both timings (best of ``--repeat``).

    uv run python benchmarks/trainset_logs.py --world /tmp/tw [--until TS --label-delay-h H]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from rampart.ingest.privacy import DEMO_MARKETPLACE_DOMAINS
from rampart.learn.trainset import build_training_set
from rampart.learn.trainset_logs import build_training_set_from_logs
from rampart.packs import DEFAULT_PACK


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--until", type=datetime.fromisoformat, default=None)
    parser.add_argument("--label-delay-h", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    cut = {"until": args.until, "label_delay": timedelta(hours=args.label_delay_h)}
    labels = args.world / "labels.jsonl"
    logged = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        from_log = build_training_set_from_logs(
            args.world / "logs", labels, pack=DEFAULT_PACK, **cut
        )
        logged.append(time.perf_counter() - start)
    replayed = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        replay = build_training_set(
            args.world / "events.jsonl",
            labels,
            pack=DEFAULT_PACK,
            names=from_log.names,
            marketplace_domains=DEMO_MARKETPLACE_DOMAINS,
            **cut,
        )
        replayed.append(time.perf_counter() - start)
    same = (
        from_log.event_ids == replay.event_ids
        and np.array_equal(from_log.x, replay.x, equal_nan=True)
        and all(np.array_equal(from_log.targets[a], replay.targets[a]) for a in from_log.targets)
    )
    print(f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(
        f"rows {len(from_log.ts):,}, columns {len(from_log.names)},",
        f"positives {from_log.positives()}",
    )
    print(f"omitted event fields (not logged on every event type): {len(from_log.omitted)}")
    print(
        f"from the log: {min(logged):.2f} s   by replay: {min(replayed):.2f} s   "
        f"speed-up {min(replayed) / min(logged):.1f}x   identical: {same}"
    )


if __name__ == "__main__":
    main()
