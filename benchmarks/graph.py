"""Dense-block detection: FRAUDAR's injection protocol, streamed through the incremental detector.

Background: ``--edges`` edges (default 1,000,000) between ``--nodes`` sources and as many targets
(default 500,000 each), both endpoints drawn from a Zipf law (exponent ``--zipf``, default 1.0,
ranks shuffled over the ids), timestamps uniform over 30 days. Injected: a 200 x 200 block at
edge probability 0.05, 0.1 or 0.2 (FRAUDAR's sizes), its edges within 10 minutes at a random time
(lockstep), under three camouflages (FRAUDAR §5): none; random (block sources also hit uniformly
random targets); popular (targets drawn by degree, i.e. from the same Zipf law), as many
camouflage edges as block edges, in the same 10 minutes.

Per cell, the merged stream goes through :class:`DenseBlockDetector` in time order in batches of
``--batch`` (1,000) edges; reported: member F1 / precision / recall (sources and targets named by
any detection over the stream vs. the injected ones), µs per edge amortised (the whole stream's
``add_batch`` time over its edges: wall clock, and this process's CPU time, which other jobs on a
shared machine inflate less), the largest core seen. Baseline in the same run: static
FRAUDAR (the same column weights, no time) peeled once over the whole untimed graph, its densest
block scored the same way, and its time.

    uv run python benchmarks/graph.py [--seed 7] [--edges 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import Counter

import numpy as np
import numpy.typing as npt

from rampart.detect.graph import DenseBlockDetector, DenseConfig
from rampart.detect.graph.dense_peel import edge_weight, peel_best, weighted_degrees

DAY = 86_400.0
BLOCK = 200
BURST = 600.0
DENSITIES = (0.05, 0.1, 0.2)
CAMOUFLAGES = ("none", "random", "popular")

Stream = tuple[list[str], list[str], list[float]]


def zipf_ids(
    rng: np.random.Generator, n_nodes: int, size: int, exponent: float, perm: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    cdf = np.cumsum(1.0 / np.arange(1, n_nodes + 1) ** exponent)
    ranks = np.searchsorted(cdf, rng.random(size) * cdf[-1])
    ids: npt.NDArray[np.int64] = perm[np.minimum(ranks, n_nodes - 1)]
    return ids


def make_stream(
    rng: np.random.Generator, args: argparse.Namespace, p: float, camouflage: str
) -> tuple[Stream, set[str]]:
    n, e = args.nodes, args.edges
    src_perm, tgt_perm = rng.permutation(n), rng.permutation(n)
    src = zipf_ids(rng, n, e, args.zipf, src_perm)
    tgt = zipf_ids(rng, n, e, args.zipf, tgt_perm)
    ts = rng.uniform(0.0, 30 * DAY, e)
    fraud = rng.choice(n, BLOCK, replace=False)
    items = rng.choice(n, BLOCK, replace=False)
    i, j = np.nonzero(rng.random((BLOCK, BLOCK)) < p)
    start = rng.uniform(2 * DAY, 28 * DAY)
    parts_src, parts_tgt = [src, fraud[i]], [tgt, items[j]]
    parts_ts = [ts, start + rng.uniform(0.0, BURST, len(i))]
    if camouflage != "none":
        c = len(i)
        parts_src.append(fraud[rng.integers(0, BLOCK, c)])
        if camouflage == "random":
            parts_tgt.append(rng.integers(0, n, c))
        else:
            parts_tgt.append(zipf_ids(rng, n, c, args.zipf, tgt_perm))
        parts_ts.append(start + rng.uniform(0.0, BURST, c))
    all_src, all_tgt = np.concatenate(parts_src), np.concatenate(parts_tgt)
    all_ts = np.concatenate(parts_ts)
    order = np.argsort(all_ts, kind="stable")
    stream = (
        [f"s{x}" for x in all_src[order].tolist()],
        [f"t{x}" for x in all_tgt[order].tolist()],
        all_ts[order].tolist(),
    )
    members = {f"s{x}" for x in fraud.tolist()} | {f"t{x}" for x in items.tolist()}
    return stream, members


def scores(found: set[str], members: set[str]) -> tuple[float, float, float]:
    hit = len(found & members)
    precision = hit / len(found) if found else 0.0
    recall = hit / len(members)
    f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
    return f1, precision, recall


def run_incremental(
    stream: Stream, cfg: DenseConfig, batch: int
) -> tuple[set[str], float, float, int]:
    """Members found, wall and CPU seconds spent in ``add_batch``, the largest core."""
    detector = DenseBlockDetector(cfg)
    sources, targets, ts = stream
    found: set[str] = set()
    largest_core = 0
    elapsed = cpu = 0.0
    for i in range(0, len(ts), batch):
        start, start_cpu = time.perf_counter(), time.process_time()
        detections = detector.add_batch(
            sources[i : i + batch], targets[i : i + batch], ts[i : i + batch]
        )
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        largest_core = max(largest_core, detector.core_size)
        for d in detections:
            found.update(d.sources)
            found.update(d.targets)
    return found, elapsed, cpu, largest_core


def run_static(stream: Stream, offset: float) -> tuple[set[str], float]:
    """FRAUDAR without time: column weights over the untimed graph, one greedy peeling."""
    start = time.perf_counter()
    sources, targets, _ = stream
    pairs = set(zip(sources, targets, strict=True))
    degree = Counter(t for _, t in pairs)
    src_adj: dict[str, dict[tuple[str, int], int]] = {}
    tgt_adj: dict[tuple[str, int], dict[str, int]] = {}
    for s, t in pairs:
        w = edge_weight(1.0, degree[t], offset)
        src_adj.setdefault(s, {})[t, 0] = w
        tgt_adj.setdefault((t, 0), {})[s] = w
    block = peel_best(tgt_adj, weighted_degrees(src_adj, tgt_adj, src_adj, tgt_adj))
    found = set(block.sources) | {t for t, _ in block.targets}
    return found, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=500_000)
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--horizon-hours", type=float, default=24.0)
    parser.add_argument("--no-static", action="store_true", help="skip the static baseline")
    parser.add_argument("--quick", action="store_true", help="100k edges, 50k nodes, p=0.1 only")
    args = parser.parse_args()
    densities: tuple[float, ...] = DENSITIES
    if args.quick:
        args.edges, args.nodes, densities = 100_000, 50_000, (0.1,)
    cfg = DenseConfig(horizon_seconds=args.horizon_hours * 3600.0)
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; edges={args.edges:,} nodes={args.nodes:,} "
        f"zipf={args.zipf} batch={args.batch} seed={args.seed}; "
        f"load average {os.getloadavg()[0]:.1f}; {cfg}"
    )
    print(
        "| p | camouflage | F1 | precision | recall | µs/edge | CPU µs/edge | max core "
        "| static F1 (P / R) | static s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for p in densities:
        for camouflage in CAMOUFLAGES:
            rng = np.random.default_rng([args.seed, int(p * 100), CAMOUFLAGES.index(camouflage)])
            stream, members = make_stream(rng, args, p, camouflage)
            found, elapsed, cpu, core = run_incremental(stream, cfg, args.batch)
            f1, precision, recall = scores(found, members)
            static = "-"
            static_s = "-"
            if not args.no_static:
                static_found, static_elapsed = run_static(stream, cfg.column_offset)
                sf1, sp, sr = scores(static_found, members)
                static, static_s = f"{sf1:.3f} ({sp:.2f} / {sr:.2f})", f"{static_elapsed:.1f}"
            print(
                f"| {p} | {camouflage} | {f1:.3f} | {precision:.3f} | {recall:.3f} "
                f"| {elapsed / len(stream[2]) * 1e6:.1f} | {cpu / len(stream[2]) * 1e6:.1f} "
                f"| {core} | {static} | {static_s} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
