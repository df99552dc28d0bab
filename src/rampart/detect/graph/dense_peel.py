"""Static kernels of the dense-block detector: edge weights, weighted cores, greedy peeling.

Everything here is a pure function over adjacency maps with *integer* edge weights. Weights are
FRAUDAR's column weights ``raw / log(deg(target) + c)`` fixed to ``WEIGHT_SCALE`` units, so sums
are exact and independent of the order they are added in: the incremental detector and a
recomputation from scratch then agree bit for bit (floats summed in different orders would not,
and a tie in the peeling would break differently).

A graph is two maps, ``src_adj[source][target] = weight`` and ``tgt_adj[target][source] = weight``
(targets are ``(target, bucket)`` pairs in the detector, any hashable key works here).

>>> src_adj = {"a": {"x": 4, "y": 4}, "b": {"x": 4, "y": 4}, "c": {"x": 1}}
>>> tgt_adj = {"x": {"a": 4, "b": 4, "c": 1}, "y": {"a": 4, "b": 4}}
>>> block = peel_best(src_adj, tgt_adj, weighted_degrees(src_adj, tgt_adj, {"a", "b", "c"},
...                                                     {"x", "y"}))
>>> sorted(block.sources), sorted(block.targets), block.weight, block.edges
(['a', 'b'], ['x', 'y'], 16, 4)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Hashable, Mapping
from typing import Final, Generic, TypeVar

import msgspec

__all__ = [
    "WEIGHT_SCALE",
    "Degrees",
    "PeeledBlock",
    "column_factor",
    "edge_weight",
    "extract_blocks",
    "peel_best",
    "prune_to_core",
    "weighted_degrees",
]

# 2**16 units per unit of weight: a relative rounding error of ~1e-5, far below any threshold.
WEIGHT_SCALE: Final = 1 << 16

T = TypeVar("T", bound=Hashable)


def column_factor(degree: int, offset: float) -> float:
    """FRAUDAR's column weight of a target with ``degree`` sources, in ``WEIGHT_SCALE`` units.

    >>> round(column_factor(1, 5.0) / WEIGHT_SCALE, 3)
    0.558
    """
    return WEIGHT_SCALE / math.log(degree + offset)


def edge_weight(raw: float, degree: int, offset: float) -> int:
    """The integer weight of an edge of raw weight ``raw`` into a target with ``degree`` sources.

    Popular targets get lighter edges, so that camouflage (fraudsters also hitting popular
    targets) adds little density to anything.

    >>> edge_weight(1.0, 1, 5.0), edge_weight(1.0, 100, 5.0)
    (36576, 14082)
    """
    return int(raw * column_factor(degree, offset) + 0.5)


class Degrees(msgspec.Struct, Generic[T]):
    """Weighted degrees of a node set, counted inside the set (``src`` and ``tgt`` sides)."""

    src: dict[str, int]
    tgt: dict[T, int]


class PeeledBlock(msgspec.Struct, Generic[T], frozen=True):
    """The densest suffix of a greedy peeling: its members, total weight and edge count."""

    sources: frozenset[str]
    targets: frozenset[T]
    weight: int
    edges: int

    @property
    def size(self) -> int:
        return len(self.sources) + len(self.targets)


def weighted_degrees(
    src_adj: Mapping[str, Mapping[T, int]],
    tgt_adj: Mapping[T, Mapping[str, int]],
    sources: Collection[str],
    targets: Collection[T],
) -> Degrees[T]:
    """Degrees of ``sources`` and ``targets`` counting only edges inside that node set."""
    src = {s: sum(w for t, w in src_adj[s].items() if t in targets) for s in sources}
    tgt = {t: sum(w for s, w in tgt_adj[t].items() if s in sources) for t in targets}
    return Degrees(src, tgt)


def prune_to_core(
    src_adj: Mapping[str, Mapping[T, int]],
    tgt_adj: Mapping[T, Mapping[str, int]],
    degrees: Degrees[T],
    k: int,
) -> Degrees[T]:
    """The weighted ``k``-core inside ``degrees``' node set: drop nodes of degree < k until none.

    The result is unique (the largest subset where every degree is at least ``k``), whatever
    order nodes are dropped in. ``degrees`` is consumed.
    """
    src, tgt = degrees.src, degrees.tgt
    low_src = [s for s, d in src.items() if d < k]
    low_tgt = [t for t, d in tgt.items() if d < k]
    while low_src or low_tgt:
        while low_src:
            s = low_src.pop()
            if src.pop(s, None) is None:
                continue
            for t, w in src_adj[s].items():
                d = tgt.get(t)
                if d is not None:
                    tgt[t] = d - w
                    if d - w < k <= d:
                        low_tgt.append(t)
        while low_tgt:
            t = low_tgt.pop()
            if tgt.pop(t, None) is None:
                continue
            for s, w in tgt_adj[t].items():
                d = src.get(s)
                if d is not None:
                    src[s] = d - w
                    if d - w < k <= d:
                        low_src.append(s)
    return Degrees(src, tgt)


def peel_best(
    src_adj: Mapping[str, Mapping[T, int]],
    tgt_adj: Mapping[T, Mapping[str, int]],
    degrees: Degrees[T],
) -> PeeledBlock[T]:
    """Greedy peeling (FRAUDAR): drop the lightest node until none is left; keep the densest set.

    The lightest node is the one of least degree, ties broken by (sources first, then key), so
    the order is a function of the graph alone. Density is ``weight / size``; among equally dense
    sets the larger (earlier) one wins. ``degrees`` is not modified.
    """
    src, tgt = dict(degrees.src), dict(degrees.tgt)
    weight = sum(src.values())
    size = len(src) + len(tgt)
    heap: list[tuple[int, int, str, T | None]] = [(d, 0, s, None) for s, d in src.items()]
    heap += [(d, 1, "", t) for t, d in tgt.items()]
    heapq.heapify(heap)
    order: list[tuple[int, str, T | None]] = []
    best_weight, best_size, best_step = weight, size, 0
    while heap:
        d, kind, s, t = heapq.heappop(heap)
        if kind == 0:
            if src.get(s) != d:
                continue  # stale entry: the node was dropped or got lighter since
            del src[s]
            for tt, w in src_adj[s].items():
                dt = tgt.get(tt)
                if dt is not None:
                    tgt[tt] = dt - w
                    heapq.heappush(heap, (dt - w, 1, "", tt))
        else:
            assert t is not None
            if tgt.get(t) != d:
                continue
            del tgt[t]
            for ss, w in tgt_adj[t].items():
                ds = src.get(ss)
                if ds is not None:
                    src[ss] = ds - w
                    heapq.heappush(heap, (ds - w, 0, ss, None))
        order.append((kind, s, t))
        weight -= d
        size -= 1
        # weight / size > best_weight / best_size, in exact integer arithmetic
        if size and weight * best_size > best_weight * size:
            best_weight, best_size, best_step = weight, size, len(order)
    kept = order[best_step:]
    sources = frozenset(s for kind, s, _ in kept if kind == 0)
    targets = frozenset(t for kind, _, t in kept if kind == 1 and t is not None)
    edges = sum(1 for s in sources for t in src_adj[s] if t in targets)
    return PeeledBlock(sources, targets, best_weight if best_size else 0, edges)


def extract_blocks(
    src_adj: Mapping[str, Mapping[T, int]],
    tgt_adj: Mapping[T, Mapping[str, int]],
    core: Degrees[T],
    k: int,
    max_blocks: int,
) -> list[PeeledBlock[T]]:
    """Up to ``max_blocks`` blocks: peel the ``k``-core, take its densest set out, repeat.

    ``core`` holds the in-core degrees of a ``k``-core; each later block is peeled from the
    ``k``-core of what the earlier blocks left, as FRAUDAR does to find several blocks.
    """
    blocks: list[PeeledBlock[T]] = []
    current = Degrees(dict(core.src), dict(core.tgt))
    while current.src and current.tgt and len(blocks) < max_blocks:
        block = peel_best(src_adj, tgt_adj, current)
        if not block.sources or not block.targets:
            break
        blocks.append(block)
        for s in block.sources:
            del current.src[s]
            for t, w in src_adj[s].items():
                if t in current.tgt and t not in block.targets:
                    current.tgt[t] -= w
        for t in block.targets:
            del current.tgt[t]
            for s, w in tgt_adj[t].items():
                if s in current.src:
                    current.src[s] -= w
        current = prune_to_core(src_adj, tgt_adj, current, k)
    return blocks
