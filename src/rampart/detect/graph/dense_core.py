"""The incrementally maintained graph of the dense-block detector and its weighted core.

:class:`CoreGraph` holds the live edges ``source -> (target, bucket)`` with their raw and
integer (FRAUDAR column-weighted) weights, and the weighted ``k``-core of that graph: the largest
node set in which every node keeps a weighted degree of at least ``k``. Edge insertions, weight
changes (a target's column weight drops as its degree grows) and bucket expiry update the core
locally:

- *shrink*: a core node whose in-core degree fell below ``k`` leaves, and the loss cascades to
  its core neighbours (only nodes next to a lighter or removed edge are looked at);
- *grow*: nodes can only join through a changed edge or a node that just left, so a search from
  those, through non-core nodes whose total degree is at least ``k``, finds every candidate; the
  candidates are then pruned to those that keep ``k`` counting the core and each other.

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

from rampart.detect.graph.dense_peel import Degrees, column_factor

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
        self.tgt_raw: dict[TB, dict[str, float]] = {}
        self.buckets: dict[int, list[TB]] = {}
        self.src_total: dict[str, int] = {}
        self.tgt_total: dict[TB, int] = {}
        self.core: Degrees[TB] = Degrees({}, {})
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
        tgt_raw, buckets = self.tgt_raw, self.buckets
        for s, tb, raw in edges:
            raws = tgt_raw.get(tb)
            if raws is None:
                raws = tgt_raw[tb] = {}
                self.tgt_adj[tb] = {}
                self.tgt_total[tb] = 0
                buckets.setdefault(tb[1], []).append(tb)
            old = raws.get(s)
            if old is None:
                raws[s] = raw
                self.edges += 1
                if s not in self.src_adj:
                    self.src_adj[s] = {}
                    self.src_total[s] = 0
                touched.add(tb)
            elif raw > old:
                raws[s] = raw
                touched.add(tb)
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
        """Recompute the weights of ``tb``'s edges after its degree or a raw weight changed."""
        raws = self.tgt_raw[tb]
        ws = self.tgt_adj[tb]
        factor = self._factor(len(raws))
        core_src, core_tgt = self.core.src, self.core.tgt
        tb_in_core = tb in core_tgt
        src_adj, src_total = self.src_adj, self.src_total
        total = 0
        for s, raw in raws.items():
            w = int(raw * factor + 0.5)
            total += w
            old = ws.get(s, 0)
            if w == old:
                continue
            delta = w - old
            ws[s] = w
            src_adj[s][tb] = w
            src_total[s] += delta
            s_in_core = s in core_src
            if tb_in_core and s_in_core:
                core_src[s] += delta
                core_tgt[tb] += delta
                self.core_changed = True
                if delta < 0:
                    self._shrink_src.add(s)
                    self._shrink_tgt.add(tb)
            elif delta > 0:
                if not s_in_core:
                    self._grow_src.add(s)
                if not tb_in_core:
                    self._grow_tgt.add(tb)
        self.tgt_total[tb] = total

    def _drop_target(self, tb: TB) -> None:
        ws = self.tgt_adj.pop(tb)
        del self.tgt_raw[tb], self.tgt_total[tb]
        core_src = self.core.src
        tb_in_core = self.core.tgt.pop(tb, None) is not None
        if tb_in_core:
            self.core_changed = True
        self.edges -= len(ws)
        for s, w in ws.items():
            adj = self.src_adj[s]
            del adj[tb]
            self.src_total[s] -= w
            if tb_in_core and s in core_src:
                core_src[s] -= w
                self._shrink_src.add(s)
            if not adj:
                del self.src_adj[s], self.src_total[s]
                if core_src.pop(s, None) is not None:
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
        k, src_adj, tgt_adj = self.k, self.src_adj, self.tgt_adj
        core_src, core_tgt = self.core.src, self.core.tgt
        low_src = [s for s in self._shrink_src if core_src.get(s, k) < k]
        low_tgt = [t for t in self._shrink_tgt if core_tgt.get(t, k) < k]
        self._shrink_src, self._shrink_tgt = set(), set()
        dropped_src: set[str] = set()
        dropped_tgt: set[TB] = set()
        while low_src or low_tgt:
            while low_src:
                s = low_src.pop()
                if core_src.pop(s, None) is None:
                    continue
                dropped_src.add(s)
                for t, w in src_adj[s].items():
                    d = core_tgt.get(t)
                    if d is not None:
                        core_tgt[t] = d - w
                        if d - w < k <= d:
                            low_tgt.append(t)
            while low_tgt:
                t = low_tgt.pop()
                if core_tgt.pop(t, None) is None:
                    continue
                dropped_tgt.add(t)
                for s, w in tgt_adj[t].items():
                    d = core_src.get(s)
                    if d is not None:
                        core_src[s] = d - w
                        if d - w < k <= d:
                            low_src.append(s)
        if dropped_src or dropped_tgt:
            self.core_changed = True
        return dropped_src, dropped_tgt

    def _grow(self, seeds_src: set[str], seeds_tgt: set[TB]) -> None:
        k, src_adj, tgt_adj = self.k, self.src_adj, self.tgt_adj
        src_total, tgt_total = self.src_total, self.tgt_total
        core_src, core_tgt = self.core.src, self.core.tgt
        # Candidates: non-core nodes of total degree >= k reachable from the seeds through such.
        cand_src = {
            s for s in seeds_src if s in src_adj and s not in core_src and src_total[s] >= k
        }
        cand_tgt = {
            t for t in seeds_tgt if t in tgt_adj and t not in core_tgt and tgt_total[t] >= k
        }
        stack_src, stack_tgt = list(cand_src), list(cand_tgt)
        while stack_src or stack_tgt:
            while stack_src:
                for t in src_adj[stack_src.pop()]:
                    if t not in cand_tgt and t not in core_tgt and tgt_total[t] >= k:
                        cand_tgt.add(t)
                        stack_tgt.append(t)
            while stack_tgt:
                for s in tgt_adj[stack_tgt.pop()]:
                    if s not in cand_src and s not in core_src and src_total[s] >= k:
                        cand_src.add(s)
                        stack_src.append(s)
        if not cand_src and not cand_tgt:
            return
        deg_src = {
            s: sum(w for t, w in src_adj[s].items() if t in core_tgt or t in cand_tgt)
            for s in cand_src
        }
        deg_tgt = {
            t: sum(w for s, w in tgt_adj[t].items() if s in core_src or s in cand_src)
            for t in cand_tgt
        }
        low_src = [s for s, d in deg_src.items() if d < k]
        low_tgt = [t for t, d in deg_tgt.items() if d < k]
        while low_src or low_tgt:
            while low_src:
                s = low_src.pop()
                if deg_src.pop(s, None) is None:
                    continue
                for t, w in src_adj[s].items():
                    d = deg_tgt.get(t)
                    if d is not None:
                        deg_tgt[t] = d - w
                        if d - w < k <= d:
                            low_tgt.append(t)
            while low_tgt:
                t = low_tgt.pop()
                if deg_tgt.pop(t, None) is None:
                    continue
                for s, w in tgt_adj[t].items():
                    d = deg_src.get(s)
                    if d is not None:
                        deg_src[s] = d - w
                        if d - w < k <= d:
                            low_src.append(s)
        if not deg_src and not deg_tgt:
            return
        self.core_changed = True
        # Joiners add their edges to the degrees of the core nodes next to them.
        for s in deg_src:
            for t, w in src_adj[s].items():
                if t in core_tgt:
                    core_tgt[t] += w
        for t in deg_tgt:
            for s, w in tgt_adj[t].items():
                if s in core_src:
                    core_src[s] += w
        core_src.update(deg_src)
        core_tgt.update(deg_tgt)
