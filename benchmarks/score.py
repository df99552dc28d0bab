"""Scoring throughput and latency: `rampart score`'s loop on the demo world, default pack.

Single process, one core, events held in memory (disk is not measured). Measures, in one run:
- decode only (contract decode + validate): the baseline;
- the whole path per event: intake (validate, dedupe, late policy, pseudonymisation, content
  detectors on texts), online features, the detector stages (linkage rings, dense blocks,
  templated reviews), every rule of the default pack, the models of ``--model DIR`` if given,
  the policy; events per second (median of ``--repeat`` runs) and per-event latency
  p50/p99/p99.9 (from the last run); ``--no-stages`` leaves the stages out (to see their cost);
- memory per active entity key of the online state (its own estimate, and the process RSS).

    uv run python benchmarks/score.py [--preset demo] [--seed 7] [--repeat 3] [--model DIR]
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from rampart.contract.validate import ContractError, parse_line
from rampart.detect.rules.pack import load_pack
from rampart.detect.stages import default_stages
from rampart.engine import Engine, feature_reads
from rampart.features.online import OnlineFeatures
from rampart.ingest.pipeline import Intake
from rampart.ingest.privacy import EventPrivacy
from rampart.ingest.rejects import RejectSink
from rampart.ingest.sources.base import SourceRecord
from rampart.packs import DEFAULT_PACK
from rampart.service.assemble import open_models
from rampart.service.runtime import scoring_gc
from rampart.simulate import world_config, write_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=None, help="model directory to score with")
    parser.add_argument(
        "--no-stages", action="store_true", help="leave the graph/content stages out"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        write_world(world_config(preset=args.preset, seed=args.seed), Path(tmp))
        lines = (Path(tmp) / "events.jsonl").read_bytes().splitlines()
    records = [SourceRecord(n, line) for n, line in enumerate(lines, start=1)]
    pack = load_pack(DEFAULT_PACK)
    opened = open_models(args.model, pack) if args.model else None
    view = opened.view if opened else None
    models = opened.models if opened else []
    anomalies = opened.anomalies if opened else []

    decode_runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        valid = sum(1 for r in records if not isinstance(parse_line(r.raw, r.line), ContractError))
        decode_runs.append(time.perf_counter() - start)
    assert valid == len(records)

    score_runs: list[float] = []
    cpu_runs: list[float] = []  # process CPU time: less sensitive to other jobs on the machine
    latencies: list[int] = []
    engine: Engine | None = None
    for _ in range(args.repeat):
        privacy = EventPrivacy.for_demo()
        intake = Intake(privacy, RejectSink(None, privacy.scrub_raw))
        engine = Engine(
            pack.rules,
            OnlineFeatures(list(pack.features), reads=feature_reads(pack.rules, view)),
            pseudonymize_ip=functools.partial(privacy.pseudonymizer.token, "ip"),
            stages=[] if args.no_stages else default_stages(),
            view=view,
            models=models,
            anomalies=anomalies,
        )
        latencies = []
        clock = time.perf_counter_ns
        process = engine.process
        accepted_stream = intake.run(records)
        with scoring_gc():  # as `rampart score` runs its loop
            start = time.perf_counter()
            cpu_start = time.process_time()
            while True:
                began = clock()
                accepted = next(accepted_stream, None)
                if accepted is None:
                    break
                process(accepted)
                latencies.append(clock() - began)
            score_runs.append(time.perf_counter() - start)
            cpu_runs.append(time.process_time() - cpu_start)
    assert engine is not None
    assert isinstance(engine.features, OnlineFeatures)
    stats = engine.features.stats()

    latencies.sort()

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000

    decode = statistics.median(decode_runs)
    score = statistics.median(score_runs)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {len(records):,} events of preset {args.preset!r} seed "
        f"{args.seed}; {len(pack.features)} features, {len(pack.rules)} rules, "
        f"{'no' if args.no_stages else 'all'} detector stages, {len(models)} models, "
        f"{len(anomalies)} anomaly models; median of {args.repeat}; load average "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print("| measure | value |")
    print("|---|---:|")
    print(f"| decode + validate only (baseline) | {len(records) / decode:,.0f} events/s |")
    print(f"| full scoring path | {len(records) / score:,.0f} events/s |")
    cpu = statistics.median(cpu_runs)
    print(f"| full scoring path, per CPU second | {len(records) / cpu:,.0f} events/s |")
    print(f"| scoring time vs decode only | {score / decode:.1f}x |")
    print(
        f"| latency p50 / p99 / p99.9 | {quantile(0.5):.1f} / {quantile(0.99):.1f} / "
        f"{quantile(0.999):.1f} µs |"
    )
    print(f"| online state: keys | {stats.keys:,} |")
    per_key = stats.memory_bytes / max(stats.keys, 1)
    print(f"| online state: estimated bytes per key | {per_key:,.0f} |")
    print(f"| process peak RSS | {rss_mib:,.0f} MiB |")


if __name__ == "__main__":
    main()
