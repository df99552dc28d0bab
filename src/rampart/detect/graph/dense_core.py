"""The incrementally maintained graph of the dense-block detector and its weighted core.

:class:`CoreGraph` holds the live edges ``source -> (target, bucket)`` with their raw and
integer (FRAUDAR column-weighted) weights, and the weighted ``k``-core of that graph: the largest
node set in which every node keeps a weighted degree of at least ``k``. Edge insertions, weight
changes (a target's column weight drops as its degree grows) and bucket expiry update the core
locally:

- *shrink*: a core node whose in-core degree fell below ``k`` leaves, and the loss cascades to
  its core neighbours (only nodes next to a lighter or removed edge are looked at, through the
  core's own edges);
- *grow*: nodes can only join through a changed edge or a node that just left, so a search from
  those, through non-core nodes whose total degree is at least ``k``, finds every candidate; the
  candidates are then pruned to those that keep ``k`` counting the core and each other.

The core's own edges are kept too (``core_src_adj`` / ``core_tgt_adj``): peeling and the shrink
walk them instead of the heavy sources' whole adjacency. Raw weights are stored only when they
are not 1.0, so an ordinary edge costs one entry per side.

The core is unique, so this gives exactly the set a recomputation from scratch would.

>>> g = CoreGraph(k=60_000, offset=5.0)
>>> g.insert([("a", ("x", 0), 1.0), ("a", ("y", 0), 1.0), ("b", ("x", 0), 1.0)])
>>> sorted(g.core.src), sorted(g.core.tgt)
([], [])
>>> g.insert([("b", ("y", 0), 1.0), ("c", ("x", 0), 1.0)])
>>> sorted(g.core.src), sorted(g.core.tgt)
(['a', 'b'], [('x', 0), ('y', 0)])
"""

from __future__ import annotations

from collections.abc import Iterable

from rampart.detect.graph.dense_peel import Degrees, cascade, column_factor, prune_to_core

__all__ = ["TB", "CoreGraph"]

TB = tuple[str, int]
"""A target in one time bucket: ``(target, bucket)``."""


class CoreGraph:
    """Live bipartite edges, their column weights and their weighted ``k``-core (incremental)."""

    def __init__(self, k: int, offset: float) -> None:
        self.k = k
        self.offset = offset
        self.src_adj: dict[str, dict[TB, int]] = {}
        self.tgt_adj: dict[TB, dict[str, int]] = {}
        # Raw weights other than 1.0 (the usual raw weight has no entry).
        self.tgt_raw: dict[TB, dict[str, float]] = {}
        self.buckets: dict[int, list[TB]] = {}
        self.src_total: dict[str, int] = {}
        self.tgt_total: dict[TB, int] = {}
        self.core: Degrees[TB] = Degrees({}, {})
        # The core's own edges, both ways: what peeling and the shrink walk (heavy sources have
        # most of their edges outside the core).
        self.core_src_adj: dict[str, dict[TB, int]] = {}
        self.core_tgt_adj: dict[TB, dict[str, int]] = {}
        self.edges = 0
        # Set when anything inside the core changed, so the caller knows to peel again.
        self.core_changed = False
        self._factors: list[float] = [0.0]
        self._shrink_src: set[str] = set()
        self._shrink_tgt: set[TB] = set()
        self._grow_src: set[str] = set()
        self._grow_tgt: set[TB] = set()

    # --- updates ------------------------------------------------------------------------------

    def insert(self, edges: Iterable[tuple[str, TB, float]]) -> None:
        """Add edges ``(source, (target, bucket), raw weight)``; a repeated edge keeps its max."""
        touched: set[TB] = set()
        tgt_adj, tgt_raw, tgt_total = self.tgt_adj, self.tgt_raw, self.tgt_total
        src_adj, src_total, buckets = self.src_adj, self.src_total, self.buckets
        added = 0
        for s, tb, raw in edges:
            ws = tgt_adj.get(tb)
            if ws is None:
                ws = tgt_adj[tb] = {}
                tgt_total[tb] = 0
                bucket = buckets.get(tb[1])
                if bucket is None:
                    buckets[tb[1]] = [tb]
                else:
                    bucket.append(tb)
            if s not in ws:
                ws[s] = 0  # weighed by _reweight below
                added += 1
                if s not in src_adj:
                    src_adj[s] = {}
                    src_total[s] = 0
                if raw != 1.0:
                    tgt_raw.setdefault(tb, {})[s] = raw
                touched.add(tb)
            else:
                raws = tgt_raw.get(tb)
                if raw > (1.0 if raws is None else raws.get(s, 1.0)):
                    tgt_raw.setdefault(tb, {})[s] = raw
                    touched.add(tb)
        self.edges += added
        for tb in touched:
            self._reweight(tb)
        self._update_core()

    def expire(self, cutoff: int) -> None:
        """Drop every bucket ``<= cutoff`` with its edges."""
        for b in [b for b in self.buckets if b <= cutoff]:
            for tb in self.buckets.pop(b):
                self._drop_target(tb)
        self._update_core()

    def _factor(self, degree: int) -> float:
        factors = self._factors
        while len(factors) <= degree:
            factors.append(column_factor(len(factors), self.offset))
        return factors[degree]

    def _reweight(self, tb: TB) -> None:
        """Recompute the weights of ``tb``'s edges after its degree or a raw weight changed.

        Nodes outside the core whose edges got heavier are grow seeds, if their total degree
        reaches ``k`` (a later change in the same update only lowers it or seeds them again).
        """
        ws = self.tgt_adj[tb]
        raws = self.tgt_raw.get(tb)
        factor = self._factor(len(ws))
        unit = int(factor + 0.5)
        core_src, k = self.core.src, self.k
        src_adj, src_total, grow_src = self.src_adj, self.src_total, self._grow_src
        total = 0
        if tb not in self.core.tgt:
            grew = False
            for s, old in ws.items():
                w = unit if raws is None else int(raws.get(s, 1.0) * factor + 0.5)
                total += w
                if w != old or not w:
                    ws[s] = w
                    src_adj[s][tb] = w
                    degree = src_total[s] = src_total[s] + w - old
                    if w > old:
                        grew = True
                        if degree >= k and s not in core_src:
                            grow_src.add(s)
            self.tgt_total[tb] = total
            if grew and total >= k:
                self._grow_tgt.add(tb)
            return
        core_tgt = self.core.tgt
        core_adj = self.core_tgt_adj[tb]
        for s, old in ws.items():
            w = unit if raws is None else int(raws.get(s, 1.0) * factor + 0.5)
            total += w
            if w == old and w:
                continue
            delta = w - old
            ws[s] = w
            src_adj[s][tb] = w
            degree = src_total[s] = src_total[s] + delta
            if s in core_src:
                core_src[s] += delta
                core_tgt[tb] += delta
                self.core_src_adj[s][tb] = w
                core_adj[s] = w
                self.core_changed = True
                if delta < 0:
                    self._shrink_src.add(s)
                    self._shrink_tgt.add(tb)
            elif delta > 0 and degree >= k:
                grow_src.add(s)
        self.tgt_total[tb] = total

    def _drop_target(self, tb: TB) -> None:
        ws = self.tgt_adj.pop(tb)
        del self.tgt_total[tb]
        self.tgt_raw.pop(tb, None)
        self.edges -= len(ws)
        src_adj, src_total, core_src = self.src_adj, self.src_total, self.core.src
        if self.core.tgt.pop(tb, None) is not None:
            self.core_changed = True
            core_src_adj = self.core_src_adj
            for s in self.core_tgt_adj.pop(tb):
                del core_src_adj[s][tb]
                core_src[s] -= ws[s]
                self._shrink_src.add(s)
        for s, w in ws.items():
            adj = src_adj[s]
            del adj[tb]
            src_total[s] -= w
            if not adj:
                del src_adj[s], src_total[s]
                if core_src.pop(s, None) is not None:
                    del self.core_src_adj[s]
                    self.core_changed = True
                self._shrink_src.discard(s)
                self._grow_src.discard(s)

    # --- the core -----------------------------------------------------------------------------

    def _update_core(self) -> None:
        dropped_src, dropped_tgt = self._shrink()
        seeds_src = self._grow_src | dropped_src
        seeds_tgt = self._grow_tgt | dropped_tgt
        self._grow_src, self._grow_tgt = set(), set()
        if seeds_src or seeds_tgt:
            self._grow(seeds_src, seeds_tgt)

    def _shrink(self) -> tuple[set[str], set[TB]]:
        k, core = self.k, self.core
        low_src = [s for s in self._shrink_src if core.src.get(s, k) < k]
        low_tgt = [t for t in self._shrink_tgt if core.tgt.get(t, k) < k]
        self._shrink_src, self._shrink_tgt = set(), set()
        core_src_adj, core_tgt_adj = self.core_src_adj, self.core_tgt_adj
        dropped_src, dropped_tgt = cascade(core_src_adj, core_tgt_adj, core, low_src, low_tgt, k)
        if dropped_src or dropped_tgt:
            self.core_changed = True
        for s in dropped_src:
            for t in core_src_adj.pop(s):
                core_tgt_adj[t].pop(s, None)
        for t in dropped_tgt:
            for s in core_tgt_adj.pop(t):
                adj = core_src_adj.get(s)
                if adj is not None:
                    del adj[t]
        return dropped_src, dropped_tgt

    def _grow(self, seeds_src: set[str], seeds_tgt: set[TB]) -> None:
        k, src_adj, tgt_adj = self.k, self.src_adj, self.tgt_adj
        src_total, tgt_total = self.src_total, self.tgt_total
        core_src, core_tgt = self.core.src, self.core.tgt
        # Candidates: non-core nodes of total degree >= k reachable from the seeds through such.
        # Whether a node is one is a property of the node alone, so one walk finds them and
        # their degrees into the core and the candidates (0 marks "found, not walked yet").
        deg_src = {
            s: 0 for s in seeds_src if s in src_adj and s not in core_src and src_total[s] >= k
        }
        deg_tgt = {
            t: 0 for t in seeds_tgt if t in tgt_adj and t not in core_tgt and tgt_total[t] >= k
        }
        stack_src, stack_tgt = list(deg_src), list(deg_tgt)
        while stack_src or stack_tgt:
            while stack_src:
                s = stack_src.pop()
                degree = 0
                for t, w in src_adj[s].items():
                    if t in core_tgt:
                        degree += w
                    elif tgt_total[t] >= k:
                        degree += w
                        if t not in deg_tgt:
                            deg_tgt[t] = 0
                            stack_tgt.append(t)
                deg_src[s] = degree
            while stack_tgt:
                t = stack_tgt.pop()
                degree = 0
                for s, w in tgt_adj[t].items():
                    if s in core_src:
                        degree += w
                    elif src_total[s] >= k:
                        degree += w
                        if s not in deg_src:
                            deg_src[s] = 0
                            stack_src.append(s)
                deg_tgt[t] = degree
        if not deg_src and not deg_tgt:
            return
        prune_to_core(src_adj, tgt_adj, Degrees(deg_src, deg_tgt), k)
        if not deg_src and not deg_tgt:
            return
        self.core_changed = True
        # Joiners add their edges to the degrees of the core nodes next to them.
        core_src_adj, core_tgt_adj = self.core_src_adj, self.core_tgt_adj
        for t in deg_tgt:
            core_tgt_adj[t] = {}
        for s in deg_src:
            s_adj = core_src_adj[s] = {}
            for t, w in src_adj[s].items():
                if t in core_tgt:
                    core_tgt[t] += w
                elif t not in deg_tgt:
                    continue
                s_adj[t] = w
                core_tgt_adj[t][s] = w
        for t in deg_tgt:
            t_adj = core_tgt_adj[t]
            for s, w in tgt_adj[t].items():
                if s in core_src:
                    core_src[s] += w
                    t_adj[s] = w
                    core_src_adj[s][t] = w
        core_src.update(deg_src)
        core_tgt.update(deg_tgt)
