"""Static kernels of the dense-block detector: edge weights, weighted cores, greedy peeling.

Everything here is a pure function over adjacency maps with *integer* edge weights. Weights are
FRAUDAR's column weights ``raw / log(deg(target) + c)`` fixed to ``WEIGHT_SCALE`` units, so sums
are exact and independent of the order they are added in: the incremental detector and a
recomputation from scratch then agree bit for bit (floats summed in different orders would not,
and a tie in the peeling would break differently).

A graph is two maps, ``src_adj[source][target] = weight`` and ``tgt_adj[target][source] = weight``
(targets are ``(target, bucket)`` pairs in the detector, any hashable, ordered key works here).
Peeling, the hot loop of the detector, runs over an :class:`IndexedGraph`: the node set
numbered in tie-break order, adjacency as lists of ids and weights, the heap a list of plain
ints; building it costs one pass over the targets' edges and pays for itself in the loop.

>>> src_adj = {"a": {"x": 4, "y": 4}, "b": {"x": 4, "y": 4}, "c": {"x": 1}}
>>> tgt_adj = {"x": {"a": 4, "b": 4, "c": 1}, "y": {"a": 4, "b": 4}}
>>> block = peel_best(tgt_adj, weighted_degrees(src_adj, tgt_adj, {"a", "b", "c"}, {"x", "y"}))
>>> sorted(block.sources), sorted(block.targets), block.weight, block.edges
(['a', 'b'], ['x', 'y'], 16, 4)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar

import msgspec

__all__ = [
    "WEIGHT_SCALE",
    "Degrees",
    "IndexedGraph",
    "PeeledBlock",
    "cascade",
    "column_factor",
    "edge_weight",
    "extract_blocks",
    "peel_best",
    "peel_densest",
    "prune_to_core",
    "weighted_degrees",
]

# 2**16 units per unit of weight: a relative rounding error of ~1e-5, far below any threshold.
WEIGHT_SCALE: Final = 1 << 16


class Key(Hashable, Protocol):
    """A node key: hashable and ordered (ties in the peeling are broken by key)."""

    def __lt__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=Key)


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


def cascade(
    src_adj: Mapping[str, Mapping[T, int]],
    tgt_adj: Mapping[T, Mapping[str, int]],
    degrees: Degrees[T],
    low_src: list[str],
    low_tgt: list[T],
    k: int,
) -> tuple[set[str], set[T]]:
    """Drop the ``low_*`` nodes from ``degrees`` and, in cascade, every node left below ``k``.

    ``degrees`` counts edges inside its own node set and is updated in place; nodes listed but
    not in it are skipped. Returns the dropped nodes. This one walk is the shrink of the
    incremental core, the pruning of grow candidates and :func:`prune_to_core`.
    """
    src, tgt = degrees.src, degrees.tgt
    dropped_src: set[str] = set()
    dropped_tgt: set[T] = set()
    while low_src or low_tgt:
        while low_src:
            s = low_src.pop()
            if src.pop(s, None) is None:
                continue
            dropped_src.add(s)
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
            dropped_tgt.add(t)
            for s, w in tgt_adj[t].items():
                d = src.get(s)
                if d is not None:
                    src[s] = d - w
                    if d - w < k <= d:
                        low_src.append(s)
    return dropped_src, dropped_tgt


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
    low_src = [s for s, d in degrees.src.items() if d < k]
    low_tgt = [t for t, d in degrees.tgt.items() if d < k]
    cascade(src_adj, tgt_adj, degrees, low_src, low_tgt, k)
    return degrees


class IndexedGraph(Generic[T]):
    """The edges between a set of sources and a set of targets, numbered for peeling.

    Node ids follow the peeling's tie-break order: sources by key, then targets by key, so a
    heap of plain ints ``degree << shift | id`` pops the lightest node with ties broken exactly
    as ``(degree, kind, key)`` would be, without a tuple per entry. ``nbrs[i]`` and ``wts[i]``
    are node ``i``'s neighbours and edge weights.
    """

    __slots__ = ("nbrs", "sources", "targets", "wts")

    def __init__(
        self,
        tgt_adj: Mapping[T, Mapping[str, int]],
        sources: Collection[str],
        targets: Collection[T],
    ) -> None:
        self.sources = sorted(sources)
        self.targets = sorted(targets)
        n_src = len(self.sources)
        sid = {s: i for i, s in enumerate(self.sources)}
        nbrs: list[list[int]] = [[] for _ in range(n_src + len(self.targets))]
        wts: list[list[int]] = [[] for _ in nbrs]
        # From the target side: targets are time-bucketed, so their adjacency is the short one.
        for j, t in enumerate(self.targets, n_src):
            nj, wj = nbrs[j], wts[j]
            for s, w in tgt_adj[t].items():
                i = sid.get(s)
                if i is not None:
                    nj.append(i)
                    wj.append(w)
                    nbrs[i].append(j)
                    wts[i].append(w)
        self.nbrs = nbrs
        self.wts = wts

    def ids(self, degrees: Degrees[T]) -> list[int]:
        """``degrees`` as a list by node id (the nodes must be those the graph was built on)."""
        return [degrees.src[s] for s in self.sources] + [degrees.tgt[t] for t in self.targets]

    def peel(self, deg: list[int]) -> PeeledBlock[T]:
        """Greedy peeling (``deg``: degrees by id, consumed); the densest suffix of the order."""
        nbrs, wts = self.nbrs, self.wts
        shift = len(nbrs).bit_length()
        mask = (1 << shift) - 1
        heap = [d << shift | i for i, d in enumerate(deg)]
        heapq.heapify(heap)
        pop, push = heapq.heappop, heapq.heappush
        alive = [True] * len(nbrs)
        weight = sum(deg) // 2  # every edge counted from both ends
        size = len(nbrs)
        order: list[int] = []
        best_weight, best_size, best_step = weight, size, 0
        while heap:
            key = pop(heap)
            i = key & mask
            d = key >> shift
            if deg[i] != d or not alive[i]:
                continue  # stale entry: the node was dropped or got lighter since
            alive[i] = False
            for j, w in zip(nbrs[i], wts[i], strict=True):
                if w and alive[j]:
                    dj = deg[j] - w
                    deg[j] = dj
                    push(heap, dj << shift | j)
            order.append(i)
            weight -= d
            size -= 1
            # weight / size > best_weight / best_size, in exact integer arithmetic
            if size and weight * best_size > best_weight * size:
                best_weight, best_size, best_step = weight, size, len(order)
        kept = order[best_step:]
        return self._block(kept, best_weight if kept else 0)

    def _block(self, members: list[int], weight: int) -> PeeledBlock[T]:
        n_src, nbrs = len(self.sources), self.nbrs
        inside = set(members)
        sources = [i for i in members if i < n_src]
        edges = sum(1 for i in sources for j in nbrs[i] if j in inside)
        return PeeledBlock(
            frozenset(self.sources[i] for i in sources),
            frozenset(self.targets[i - n_src] for i in members if i >= n_src),
            weight,
            edges,
        )


def peel_best(tgt_adj: Mapping[T, Mapping[str, int]], degrees: Degrees[T]) -> PeeledBlock[T]:
    """Greedy peeling (FRAUDAR): drop the lightest node until none is left; keep the densest set.

    The lightest node is the one of least degree, ties broken by (sources first, then key), so
    the order is a function of the graph alone. Density is ``weight / size``; among equally dense
    sets the larger (earlier) one wins. ``degrees`` (inside its node set) is not modified.
    """
    graph = IndexedGraph(tgt_adj, degrees.src, degrees.tgt)
    return graph.peel(graph.ids(degrees))


def peel_densest(
    src_adj: Mapping[str, Mapping[T, int]],
    tgt_adj: Mapping[T, Mapping[str, int]],
    degrees: Degrees[T],
    guess: int = 0,
) -> PeeledBlock[T]:
    """:func:`peel_best`, first tried on the ``guess``-core of the node set (same result).

    Greedy peeling removes everything outside the ``g``-core before any node of it, each node at
    a degree below ``g``; a suffix density of ``g`` or more in that phase keeps growing until the
    ``g``-core is reached. So when the ``g``-core's own peeling finds a density of at least
    ``g``, nothing earlier beats it, and that block is the block of the whole set. With ``guess``
    a little under the last density found, the ``g``-core is a small part of the set; otherwise
    the whole set is peeled. ``src_adj`` / ``tgt_adj`` may hold edges leaving the set (skipped).
    """
    # A second, lower try when the density fell: still much cheaper than the whole set.
    for g in (guess, guess * 3 // 4) if guess > 0 else ():
        sub = Degrees(dict(degrees.src), dict(degrees.tgt))
        low_src = [s for s, d in sub.src.items() if d < g]
        low_tgt = [t for t, d in sub.tgt.items() if d < g]
        cascade(src_adj, tgt_adj, sub, low_src, low_tgt, g)
        if sub.src and sub.tgt:
            block = peel_best(tgt_adj, sub)
            if block.weight >= g * block.size:
                return block
    return peel_best(tgt_adj, degrees)


def extract_blocks(
    src_adj: Mapping[str, Mapping[T, int]],
    tgt_adj: Mapping[T, Mapping[str, int]],
    core: Degrees[T],
    k: int,
    max_blocks: int,
    guesses: Sequence[int] = (),
) -> list[PeeledBlock[T]]:
    """Up to ``max_blocks`` blocks: peel the ``k``-core, take its densest set out, repeat.

    ``core`` holds the in-core degrees of a ``k``-core; each later block is peeled from the
    ``k``-core of what the earlier blocks left, as FRAUDAR does to find several blocks.
    ``guesses[i]`` is passed to :func:`peel_densest` for block ``i`` (a speed hint only).
    """
    blocks: list[PeeledBlock[T]] = []
    current = Degrees(dict(core.src), dict(core.tgt))
    src, tgt = current.src, current.tgt
    while src and tgt and len(blocks) < max_blocks:
        guess = guesses[len(blocks)] if len(blocks) < len(guesses) else 0
        block = peel_densest(src_adj, tgt_adj, current, guess)
        if not block.sources or not block.targets:
            break
        blocks.append(block)
        for s in block.sources:
            del src[s]
        for t in block.targets:
            del tgt[t]
        # What is left, pruned back to its k-core.
        low_src: list[str] = []
        low_tgt: list[T] = []
        for s in block.sources:
            for t, w in src_adj[s].items():
                d = tgt.get(t)
                if d is not None:
                    tgt[t] = d - w
                    if d - w < k <= d:
                        low_tgt.append(t)
        for t in block.targets:
            for s, w in tgt_adj[t].items():
                d = src.get(s)
                if d is not None:
                    src[s] = d - w
                    if d - w < k <= d:
                        low_src.append(s)
        cascade(src_adj, tgt_adj, current, low_src, low_tgt, k)
    return blocks
