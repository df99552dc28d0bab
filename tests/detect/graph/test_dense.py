"""Dense-block detector: the incremental detector equals a from-scratch recomputation.

The reference below is written to be obviously right rather than fast: it rebuilds the live edge
set from everything sent so far, recomputes every degree from scratch at every step, and peels by
scanning for the lightest node.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.detect.graph import BlockDetection, DenseBlockDetector, DenseBlockState, DenseConfig
from rampart.detect.graph.dense_peel import WEIGHT_SCALE, edge_weight

Node = tuple[int, str, int]  # (0, source, 0) or (1, target, bucket): sorts like the detector's ties
Block = tuple[frozenset[str], frozenset[tuple[str, int]], int, int]


def live_weights(
    sent: list[tuple[str, str, float, float]], batch_ends: int, cfg: DenseConfig
) -> dict[tuple[Node, Node], int]:
    """Integer weights of the live edges after the first ``batch_ends`` edges were sent."""
    buckets = [math.floor(ts / cfg.bucket_seconds) for _, _, ts, _ in sent[:batch_ends]]
    cutoff = max(buckets) - math.ceil(cfg.horizon_seconds / cfg.bucket_seconds)
    raw: dict[tuple[str, str, int], float] = {}
    for (s, t, _, w), b in zip(sent[:batch_ends], buckets, strict=True):
        if b > cutoff:
            raw[s, t, b] = max(w, raw.get((s, t, b), 0.0))
    degree = Counter((t, b) for _, t, b in raw)
    return {
        ((0, s, 0), (1, t, b)): edge_weight(w, degree[t, b], cfg.column_offset)
        for (s, t, b), w in raw.items()
    }


def degree_in(node: Node, nodes: set[Node], weights: dict[tuple[Node, Node], int]) -> int:
    return sum(
        w
        for (a, b), w in weights.items()
        if (a == node and b in nodes) or (b == node and a in nodes)
    )


def core_of(nodes: set[Node], weights: dict[tuple[Node, Node], int], k: int) -> set[Node]:
    nodes = set(nodes)
    while True:
        low = {n for n in nodes if degree_in(n, nodes, weights) < k}
        if not low:
            return nodes
        nodes -= low


def peel_order(nodes: set[Node], weights: dict[tuple[Node, Node], int]) -> list[Node]:
    left, order = set(nodes), []
    while left:
        lightest = min(left, key=lambda n: (degree_in(n, left, weights), n))
        order.append(lightest)
        left.remove(lightest)
    return order


def densest_suffix(order: list[Node], weights: dict[tuple[Node, Node], int]) -> set[Node]:
    best: set[Node] = set(order)
    best_density = Fraction(-1)
    for i in range(len(order)):
        rest = set(order[i:])
        f = sum(w for (a, b), w in weights.items() if a in rest and b in rest)
        if Fraction(f, len(rest)) > best_density:
            best, best_density = rest, Fraction(f, len(rest))
    return best


def reference_blocks(weights: dict[tuple[Node, Node], int], cfg: DenseConfig) -> list[Block]:
    k = math.ceil(cfg.min_core * WEIGHT_SCALE)
    nodes = core_of({n for edge in weights for n in edge}, weights, k)
    blocks: list[Block] = []
    while (
        len(blocks) < cfg.max_blocks and any(n[0] == 0 for n in nodes) and any(n[0] for n in nodes)
    ):
        best = densest_suffix(peel_order(nodes, weights), weights)
        f = sum(w for (a, b), w in weights.items() if a in best and b in best)
        m = sum(1 for a, b in weights if a in best and b in best)
        sources = frozenset(n[1] for n in best if n[0] == 0)
        targets = frozenset((n[1], n[2]) for n in best if n[0] == 1)
        blocks.append((sources, targets, f, m))
        nodes = core_of(nodes - best, weights, k)
    return blocks


edge_lists = st.lists(
    st.tuples(
        st.sampled_from([f"s{i}" for i in range(7)]),
        st.sampled_from([f"t{i}" for i in range(5)]),
        st.integers(0, 60).map(float),
        st.sampled_from([1.0, 1.0, 1.0, 0.5, 3.0]),
    ),
    min_size=1,
    max_size=45,
)


@settings(max_examples=150, deadline=None)
@given(
    edges=edge_lists,
    batch=st.integers(1, 9),
    min_core=st.sampled_from([0.4, 0.8, 1.3]),
    shuffle=st.randoms(use_true_random=False),
)
def test_incremental_equals_static_recomputation_after_every_batch(
    edges: list[tuple[str, str, float, float]], batch: int, min_core: float, shuffle: random.Random
) -> None:
    # Mostly time-ordered with some late edges, as a real stream is.
    edges = sorted(edges, key=lambda e: e[2] + shuffle.uniform(0, 15))
    cfg = DenseConfig(bucket_seconds=10.0, horizon_seconds=25.0, min_core=min_core, max_blocks=3)
    detector = DenseBlockDetector(cfg)
    for end in range(batch, len(edges) + batch, batch):
        chunk = edges[end - batch : end]
        detector.add_batch(*(list(col) for col in zip(*chunk, strict=True)))
        weights = live_weights(edges, end, cfg)
        k = math.ceil(min_core * WEIGHT_SCALE)
        core = core_of({n for edge in weights for n in edge}, weights, k)
        assert set(detector.graph_.core.src) == {n[1] for n in core if n[0] == 0}
        assert set(detector.graph_.core.tgt) == {(n[1], n[2]) for n in core if n[0] == 1}
        graph = detector.graph_
        assert graph.core_src_adj == {
            s: {t: w for t, w in graph.src_adj[s].items() if t in graph.core.tgt}
            for s in graph.core.src
        }
        assert graph.core_tgt_adj == {
            t: {s: w for s, w in graph.tgt_adj[t].items() if s in graph.core.src}
            for t in graph.core.tgt
        }
        assert detector.edge_count == len(weights)
        got = [(b.sources, b.targets, b.weight, b.edges) for b in detector.blocks()]
        assert got == reference_blocks(weights, cfg)


@settings(max_examples=60, deadline=None)
@given(edges=edge_lists, min_core=st.sampled_from([0.4, 0.8, 1.3]))
def test_greedy_peeling_of_the_whole_graph_ends_with_the_core_peeled_alone(
    edges: list[tuple[str, str, float, float]], min_core: float
) -> None:
    """Why peeling only the core is enough: the full order removes the rest first."""
    cfg = DenseConfig(bucket_seconds=10.0, horizon_seconds=1000.0, min_core=min_core)
    weights = live_weights(sorted(edges, key=lambda e: e[2]), len(edges), cfg)
    nodes = {n for edge in weights for n in edge}
    core = core_of(nodes, weights, math.ceil(min_core * WEIGHT_SCALE))
    full = peel_order(nodes, weights)
    assert set(full[len(full) - len(core) :]) == core
    assert full[len(full) - len(core) :] == peel_order(core, weights)


def noisy_stream(
    rng: random.Random, block: bool, camouflage: str
) -> tuple[list[tuple[str, str, float, float]], set[str]]:
    """Background over a day plus, optionally, a 12 x 12 lockstep block at half density."""
    edges = [
        (f"u{rng.randrange(2000)}", f"i{min(rng.randrange(300), rng.randrange(300))}", ts, 1.0)
        for ts in sorted(rng.uniform(0, 86_400) for _ in range(3000))
    ]
    members: set[str] = set()
    if block:
        fraud = [f"f{i}" for i in range(12)]
        posts = [f"p{i}" for i in range(12)]
        members = set(fraud) | set(posts)
        start = 50_000.0
        for s in fraud:
            for t in posts:
                if rng.random() < 0.5:
                    edges.append((s, t, start + rng.uniform(0, 600), 1.0))
            for _ in range(6 if camouflage else 0):
                # popular: the low item ids get most background traffic
                target = (
                    f"i{rng.randrange(5)}" if camouflage == "popular" else f"i{rng.randrange(3000)}"
                )
                edges.append((s, target, start + rng.uniform(0, 600), 1.0))
        edges.sort(key=lambda e: e[2])
    return edges, members


def run(detector: DenseBlockDetector, edges: list[tuple[str, str, float, float]]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(edges), 100):
        chunk = edges[i : i + 100]
        for d in detector.add_batch(*(list(c) for c in zip(*chunk, strict=True))):
            found |= set(d.sources) | set(d.targets)
    return found


@pytest.mark.parametrize("camouflage", ["", "random", "popular"])
def test_injected_lockstep_block_is_found_despite_camouflage(camouflage: str) -> None:
    edges, members = noisy_stream(random.Random(3), block=True, camouflage=camouflage)
    found = run(DenseBlockDetector(), edges)
    recall = len(found & members) / len(members)
    precision = len(found & members) / len(found)
    assert recall >= 0.9, (recall, sorted(found - members))
    assert precision >= 0.9, sorted(found - members)


def test_background_alone_raises_nothing() -> None:
    edges, _ = noisy_stream(random.Random(4), block=False, camouflage="")
    assert run(DenseBlockDetector(), edges) == set()


def test_state_round_trip_gives_identical_output() -> None:
    edges, _ = noisy_stream(random.Random(5), block=True, camouflage="popular")
    cfg = DenseConfig(horizon_seconds=30_000.0)
    straight, restored = DenseBlockDetector(cfg), DenseBlockDetector(cfg)
    out_straight: list[BlockDetection] = []
    out_restored: list[BlockDetection] = []
    for i in range(0, len(edges), 250):
        chunk = [list(c) for c in zip(*edges[i : i + 250], strict=True)]
        out_straight += straight.add_batch(*chunk)
        # Checkpoint after every batch: encode, decode into a fresh detector, continue there.
        blob = msgspec.json.encode(restored.state())
        restored = DenseBlockDetector(cfg)
        restored.load_state(msgspec.json.decode(blob, type=DenseBlockState))
        out_restored += restored.add_batch(*chunk)
    assert out_straight
    assert out_restored == out_straight
    assert restored.state() == straight.state()


def test_edges_age_out_after_the_horizon() -> None:
    det = DenseBlockDetector(DenseConfig(bucket_seconds=60.0, horizon_seconds=600.0))
    det.add_batch(["a", "b", "a"], ["x", "x", "y"], [0.0, 10.0, 20.0])
    assert det.edge_count == 3
    det.add("c", "z", ts=620.0)  # bucket 10: bucket 0 is now 10 buckets old and leaves
    assert det.edge_count == 1
    assert det.add("d", "x", ts=5.0) == []  # late beyond the horizon: ignored
    assert (det.edge_count, det.late_edges_) == (1, 1)


def test_repeated_edges_keep_their_largest_weight() -> None:
    det = DenseBlockDetector()
    det.add_batch(["a", "a", "a"], ["x", "x", "x"], [0.0, 1.0, 2.0], [1.0, 3.0, 2.0])
    assert det.state().edges == [("a", "x", 0, 3.0)]


def test_bad_input_and_config_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        DenseConfig(bucket_seconds=0.0)
    with pytest.raises(ValueError, match="column_offset"):
        DenseConfig(column_offset=1.0)
    det = DenseBlockDetector()
    with pytest.raises(ValueError, match="same length"):
        det.add_batch(["a"], ["x", "y"], [0.0])
    with pytest.raises(ValueError, match="positive"):
        det.add("a", "x", 0.0, weight=0.0)
    other = DenseBlockDetector(DenseConfig(min_core=2.0))
    with pytest.raises(ValueError, match="different DenseConfig"):
        other.load_state(det.state())
