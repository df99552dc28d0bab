"""Dense-block detection on a stream of bipartite edges: brushing and click farms.

Sources are buyer accounts or devices, targets are sellers, items or posts. A brushing group or a
click farm is a set of sources that hit the same set of targets *at the same time*; this
detector finds such blocks as they form, with ``found_at`` = the event time of the edge after
which it knew.

How (and why):

- **Lockstep through time buckets.** A target is split into ``(target, bucket)`` nodes, one per
  ``bucket_seconds`` of event time. Sources that hit the same targets within minutes then share
  the same target nodes and form a dense block; ordinary users hitting the same popular items on
  different days do not. This is the CopyCatch / EvilCohort idea (same targets, same time window)
  reduced to a graph that FRAUDAR's density can score, and it needs no extra machinery: one
  bucketing of the target key. A burst that straddles a bucket boundary lands in two buckets and
  keeps half its density in each, which is why the default bucket (1 h) is much longer than a
  typical burst (minutes).
- **Camouflage resistance (FRAUDAR, Hooi et al. KDD 2016).** An edge into a target node with
  ``d`` sources weighs ``raw / log(d + c)``: edges to popular targets are cheap, so fraudsters
  adding edges to popular targets (camouflage) add little density to honest-looking sets and
  cannot hide their own block. Repeated edges keep their largest raw weight (replays and
  duplicates add nothing). Weights are fixed-point integers so that sums are exact
  (:mod:`rampart.detect.graph.dense_peel`).
- **Density and peeling.** ``g(S) = f(S) / |S|`` with ``f`` the total edge weight inside ``S``;
  greedy peeling (drop the lightest node, keep the densest set seen) finds the block; it is taken
  out and peeling repeats for up to ``max_blocks`` blocks.
- **Incremental (Spade, Jiang et al. VLDB 2023).** Spade keeps the peeling order and, on an edge
  insertion, reorders only from the first affected position. Here the part of the order that can
  hold a block is kept instead: the greedy order always removes every node outside the weighted
  ``k``-core first (a node of the core never has degree < k while outside nodes remain), and then
  peels the core exactly as it would peel the core alone. So the blocks are a function of the
  ``k``-core, which is maintained locally under insertions, weight changes and expiry
  (:mod:`rampart.detect.graph.dense_core`); the core is re-peeled only when something inside it
  changed. ``k`` (``min_core``) is the least weighted degree a member keeps inside its block —
  the densest subgraph of density ``g`` has every member of degree at least ``g``, so a block
  dense enough to matter lies in the core. The core of a sparse background is small, so the
  re-peel is cheap; that is the "affected part" here. The same argument one level up makes it
  cheaper still: the peeling of the core is first tried on its ``g``-core, ``g`` a little under
  the density found after the previous update, which gives the same block whenever the density
  found there is at least ``g`` (:func:`~rampart.detect.graph.dense_peel.peel_densest`).
  Spade's own move (reordering from the first affected position) does not pay here: a batch of
  1,000 edges changes nodes near the start of the order, so the reusable prefix is ~0.5% of it.
- **When a block is suspicious.** Density alone depends on the traffic, so a block is compared
  with what its members' activity elsewhere would give: under a configuration (Chung-Lu) null,
  sources ``A`` and target nodes ``B`` share ``mu = D_A D_B / M`` edges on average, where ``M``
  is the number of edges in the window and ``D_A``, ``D_B`` count the members' edges *outside*
  the block plus one per member (with the block's own edges in the degrees, a burst that is a
  large part of the window would explain itself away). ``m`` observed edges have Poisson surprise
  ``m ln(m / mu) - m + mu`` nats (a Chernoff bound on ``-ln P(X >= m)``). A block is suspicious
  when the surprise reaches ``min_surprise``, the lift ``m / mu`` reaches ``min_lift`` (the
  densest part of an honest graph beats ``mu`` a little, having been picked for density), and
  it has ``min_sources`` sources and ``min_targets`` distinct targets. Targets that get most of
  their traffic from outside the block (popular items the block also hit: camouflage) count in
  its density but are not reported as members (``min_target_share``). Because targets are
  time-bucketed, a lockstep group is surprising even when every one of its targets is popular.
  Greedy peeling keeps the densest set, which leaves out members lighter than its density; a
  suspicious block is therefore widened by the nodes with ``min_member_edges`` edges into it.
- **Ageing out.** Edges live in their bucket; when event time reaches a bucket ``horizon_seconds``
  past another, the older bucket is dropped whole (its edges leave the graph and the core shrinks
  accordingly). Edges older than the horizon when they arrive are ignored. A member reported
  once is reported again only after ``horizon_seconds``.

Only event time is used; everything is deterministic (ties in the peeling are broken by key),
and :meth:`DenseBlockDetector.state` / :meth:`DenseBlockDetector.load_state` round-trip exactly.

>>> det = DenseBlockDetector(DenseConfig(min_sources=3, min_targets=3, min_surprise=5.0))
>>> for i in range(40):  # background: unrelated users, one item each, over a day
...     _ = det.add(f"user{i}", f"item{i % 17}", ts=i * 2000.0)
>>> farm = [(s, t) for s in ("f1", "f2", "f3", "f4") for t in ("p1", "p2", "p3", "p4")]
>>> found = det.add_batch(  # a farm: 4 devices x 4 posts within minutes
...     [s for s, _ in farm], [t for _, t in farm], [80_000.0 + 10 * i for i in range(16)])
>>> found[0].sources, found[0].targets, found[0].found_at
(('f1', 'f2', 'f3', 'f4'), ('p1', 'p2', 'p3', 'p4'), 80150.0)
>>> det.score("f2").in_block, det.score("user3").in_block
(True, False)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

import msgspec

from rampart.detect.graph.dense_core import TB, CoreGraph
from rampart.detect.graph.dense_peel import WEIGHT_SCALE, PeeledBlock, extract_blocks

__all__ = [
    "BlockDetection",
    "DenseBlockDetector",
    "DenseBlockState",
    "DenseConfig",
    "MemberScore",
]

STATE_VERSION: Final = 1


class DenseConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Parameters of :class:`DenseBlockDetector` (event-time seconds, FRAUDAR weight units)."""

    bucket_seconds: float = 3600.0
    """Width of the time buckets targets are split into: hits closer than this are lockstep."""
    horizon_seconds: float = 86_400.0
    """How long edges stay in the graph (rounded up to whole buckets)."""
    column_offset: float = 5.0
    """FRAUDAR's ``c`` in the column weight ``1 / log(degree + c)``."""
    min_core: float = 1.0
    """Least weighted degree a block member keeps inside the block (one edge weighs ~0.3-0.56)."""
    max_blocks: int = 4
    """How many blocks are peeled out of the core after each update."""
    min_sources: int = 3
    min_targets: int = 3
    min_surprise: float = 50.0
    """Poisson surprise (nats) of the block's edge count over the degree-based expectation."""
    min_target_share: float = 0.5
    """A target is reported only if at least this share of its live edges come from the block:
    popular targets the block also hit (camouflage, or victims) keep their density in the block
    but are not named as members."""
    min_member_edges: int = 3
    """A node the peeling left out is still a member of a suspicious block if it has this many
    edges into the block, and a third of the block's average (``DenseBlockDetector._expand``)."""
    min_lift: float = 5.0
    """Least ratio of the block's edge count to the degree-based expectation: the densest part
    of an honest graph also beats the expectation a little (it was picked for being dense)."""

    def __post_init__(self) -> None:
        if self.bucket_seconds <= 0 or self.horizon_seconds <= 0:
            raise ValueError("bucket_seconds and horizon_seconds must be positive")
        if self.column_offset <= 1.0:
            raise ValueError("column_offset must be > 1 (log(1 + c) must be positive)")
        if self.min_core <= 0:
            raise ValueError("min_core must be positive")


class BlockDetection(msgspec.Struct, frozen=True):
    """A suspicious block, reported when it first holds members not reported before."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    density: float
    """``f(S) / |S|`` over (target, bucket) nodes, in edge-weight units."""
    edges: int
    expected_edges: float
    surprise: float
    first_seen: float
    """Start of the earliest time bucket of the block."""
    last_seen: float
    """End of the latest time bucket of the block."""
    found_at: float


class MemberScore(msgspec.Struct, frozen=True):
    """Whether a node is in a currently suspicious block, and that block's figures."""

    in_block: bool
    block_sources: int = 0
    block_targets: int = 0
    density: float = 0.0
    surprise: float = 0.0


_NOT_IN_BLOCK: Final = MemberScore(False)


class DenseBlockState(msgspec.Struct, frozen=True):
    """Everything :class:`DenseBlockDetector` needs to resume (the core is recomputed)."""

    version: int
    config: DenseConfig
    newest_bucket: int | None
    edges: list[tuple[str, str, int, float]]
    """``(source, target, bucket, raw weight)``, sorted."""
    reported: list[tuple[int, str, float]]
    """``(0 for a source / 1 for a target, name, found_at)``, sorted."""


def poisson_surprise(observed: int, expected: float) -> float:
    """``-ln P(X >= observed)`` bounded from below (Chernoff) for ``X ~ Poisson(expected)``.

    >>> poisson_surprise(10, 10.0), round(poisson_surprise(40, 4.0), 1)
    (0.0, 56.1)
    """
    if expected <= 0.0 or observed <= expected:
        return 0.0
    return observed * math.log(observed / expected) - observed + expected


class _Block(msgspec.Struct, frozen=True):
    """A peeled block with its suspicion figures (internal)."""

    peeled: PeeledBlock[TB]
    sources: frozenset[str]
    targets: tuple[str, ...]
    expected: float
    surprise: float
    suspicious: bool


class DenseBlockDetector:
    """Incremental, camouflage-resistant dense-block detector (see the module docstring)."""

    def __init__(self, config: DenseConfig | None = None) -> None:
        self.config = config or DenseConfig()
        self._reset()

    def _reset(self) -> None:
        cfg = self.config
        self.k_ = max(1, math.ceil(cfg.min_core * WEIGHT_SCALE))
        self.n_buckets_ = max(1, math.ceil(cfg.horizon_seconds / cfg.bucket_seconds))
        self.graph_ = CoreGraph(self.k_, cfg.column_offset)
        self.newest_bucket_: int | None = None
        self.peeled_: list[PeeledBlock[TB]] = []
        self.blocks_: list[_Block] = []
        self.reported_: dict[tuple[int, str], float] = {}
        self.late_edges_ = 0

    # --- the stream ---------------------------------------------------------------------------

    def add(self, source: str, target: str, ts: float, weight: float = 1.0) -> list[BlockDetection]:
        """Add one edge at event time ``ts``; return the blocks it made suspicious."""
        return self.add_batch([source], [target], [ts], [weight])

    def add_batch(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        ts: Sequence[float],
        weights: Sequence[float] | None = None,
    ) -> list[BlockDetection]:
        """Add edges as one update at the time of the newest; ``found_at`` is that time.

        Buckets past the horizon of the newest edge are dropped first; edges falling in a
        dropped bucket are ignored.
        """
        if not (len(sources) == len(targets) == len(ts)):
            raise ValueError("sources, targets and ts must have the same length")
        if weights is not None and len(weights) != len(ts):
            raise ValueError("weights must have the same length as ts")
        if not ts:
            return []
        if weights is not None and min(weights) <= 0:
            raise ValueError("edge weights must be positive")
        width = self.config.bucket_seconds
        buckets = [math.floor(t / width) for t in ts]
        newest = max(buckets)
        if self.newest_bucket_ is None or newest > self.newest_bucket_:
            self.newest_bucket_ = newest
            self.graph_.expire(newest - self.n_buckets_)
            self._expire_reported(max(ts))
        cutoff = self.newest_bucket_ - self.n_buckets_
        raw = weights if weights is not None else [1.0] * len(ts)
        edges = [
            (s, (t, b), float(w))
            for s, t, b, w in zip(sources, targets, buckets, raw, strict=True)
            if b > cutoff
        ]
        self.late_edges_ += len(ts) - len(edges)
        self.graph_.insert(edges)
        return self._evaluate(max(ts))

    def _expire_reported(self, now: float) -> None:
        horizon = self.config.horizon_seconds
        old = [key for key, at in self.reported_.items() if at < now - horizon]
        for key in old:
            del self.reported_[key]

    def _evaluate(self, now: float) -> list[BlockDetection]:
        self._refresh()
        found: list[BlockDetection] = []
        for block in self.blocks_:
            if not block.suspicious:
                continue
            sources = sorted(block.sources)
            keys = [(0, s) for s in sources] + [(1, t) for t in block.targets]
            if all(key in self.reported_ for key in keys):
                continue
            for key in keys:
                self.reported_.setdefault(key, now)
            found.append(self._detection(block, tuple(sources), now))
        return found

    def _refresh(self) -> None:
        """Re-peel the core if it changed; re-judge the blocks (the background moves anyway)."""
        graph = self.graph_
        if graph.core_changed:
            graph.core_changed = False
            # Peel over the core's own edges, starting a little under the last densities found.
            self.peeled_ = extract_blocks(
                graph.core_src_adj,
                graph.core_tgt_adj,
                graph.core,
                self.k_,
                self.config.max_blocks,
                [p.weight * 97 // (100 * p.size) for p in self.peeled_],
            )
        self.blocks_ = [self._judge(p) for p in self.peeled_]

    def _judge(self, peeled: PeeledBlock[TB]) -> _Block:
        graph, cfg = self.graph_, self.config
        # Degrees outside the block (plus one per member), so that a block that is a large part
        # of the window does not inflate its own expectation.
        outside_src = sum(len(graph.src_adj[s]) + 1 for s in peeled.sources) - peeled.edges
        outside_tgt = sum(len(graph.tgt_adj[t]) + 1 for t in peeled.targets) - peeled.edges
        expected = outside_src * outside_tgt / graph.edges
        surprise = poisson_surprise(peeled.edges, expected)
        targets = self._member_targets(peeled.sources, peeled.targets)
        suspicious = (
            surprise >= cfg.min_surprise
            and peeled.edges >= cfg.min_lift * expected
            and len(peeled.sources) >= cfg.min_sources
            and len(targets) >= cfg.min_targets
        )
        if not suspicious:
            return _Block(peeled, peeled.sources, targets, expected, surprise, False)
        sources, targets = self._expand(peeled)
        return _Block(peeled, sources, targets, expected, surprise, True)

    def _expand(self, peeled: PeeledBlock[TB]) -> tuple[frozenset[str], tuple[str, ...]]:
        """Members the peeling left out: nodes with ``min_member_edges`` edges into the block.

        The densest set leaves out members lighter than its density (a brushing account with 5
        orders in a block averaging 10); having at least a third of the block's average degree into
        it, within the same buckets, is evidence enough.
        """
        src_adj, tgt_adj = self.graph_.src_adj, self.graph_.tgt_adj
        least = self.config.min_member_edges
        # A third of the block's average in-block degree on each side, so that the many chance
        # collisions of its camouflage edges (two block sources on one random item) stay out.
        least_tgt = max(least, math.ceil(peeled.edges / len(peeled.targets) / 3))
        least_src = max(least, math.ceil(peeled.edges / len(peeled.sources) / 3))
        hits = Counter[TB]()
        for s in peeled.sources:
            hits.update(tb for tb in src_adj[s] if tb not in peeled.targets)
        tbs = set(peeled.targets) | {tb for tb, n in hits.items() if n >= least_tgt}
        targets = self._member_targets(peeled.sources, tbs)
        named = set(targets)
        sources = Counter[str]()
        for tb in tbs:
            if tb[0] in named:
                sources.update(s for s in tgt_adj[tb] if s not in peeled.sources)
        extra = {s for s, n in sources.items() if n >= least_src}
        return peeled.sources | extra, targets

    def _member_targets(self, sources: frozenset[str], tbs: Iterable[TB]) -> tuple[str, ...]:
        """The targets that get most of their traffic from ``sources`` (not camouflage).

        ``sources`` are core nodes, so a core target's core edges are enough to count them.
        """
        graph = self.graph_
        tgt_adj, core_tgt_adj, buckets = graph.tgt_adj, graph.core_tgt_adj, graph.buckets
        inside = Counter[str]()
        for tb in tbs:
            adj = core_tgt_adj.get(tb)
            inside[tb[0]] += len(sources.intersection(tgt_adj[tb] if adj is None else adj))
        share = self.config.min_target_share
        members = []
        for t, n in inside.items():
            total = 0
            for b in buckets:
                ws = tgt_adj.get((t, b))
                if ws is not None:
                    total += len(ws)
                    if n < share * total:
                        break  # mostly outside traffic already
            else:
                members.append(t)
        return tuple(sorted(members))

    def _detection(self, block: _Block, sources: tuple[str, ...], now: float) -> BlockDetection:
        peeled, width = block.peeled, self.config.bucket_seconds
        buckets = [b for _, b in peeled.targets]
        return BlockDetection(
            sources=sources,
            targets=block.targets,
            density=peeled.weight / WEIGHT_SCALE / peeled.size,
            edges=peeled.edges,
            expected_edges=block.expected,
            surprise=block.surprise,
            first_seen=min(buckets) * width,
            last_seen=(max(buckets) + 1) * width,
            found_at=now,
        )

    # --- queries ------------------------------------------------------------------------------

    def score(self, source: str) -> MemberScore:
        """Is ``source`` in a currently suspicious block?"""
        for block in self.blocks_:
            if block.suspicious and source in block.sources:
                return self._member(block)
        return _NOT_IN_BLOCK

    def score_target(self, target: str) -> MemberScore:
        """Is ``target`` (in any time bucket) in a currently suspicious block?"""
        for block in self.blocks_:
            if block.suspicious and target in block.targets:
                return self._member(block)
        return _NOT_IN_BLOCK

    def _member(self, block: _Block) -> MemberScore:
        p = block.peeled
        return MemberScore(
            True,
            len(block.sources),
            len(block.targets),
            p.weight / WEIGHT_SCALE / p.size,
            block.surprise,
        )

    def blocks(self) -> list[PeeledBlock[TB]]:
        """The blocks peeled after the last update, suspicious or not (densest first)."""
        return [b.peeled for b in self.blocks_]

    @property
    def edge_count(self) -> int:
        """Live (not yet expired) distinct edges."""
        return self.graph_.edges

    @property
    def core_size(self) -> int:
        """Nodes in the weighted core (what gets re-peeled)."""
        return len(self.graph_.core.src) + len(self.graph_.core.tgt)

    # --- checkpoints --------------------------------------------------------------------------

    def state(self) -> DenseBlockState:
        """A msgspec-serialisable snapshot; :meth:`load_state` resumes from it exactly."""
        graph = self.graph_
        no_raws: dict[str, float] = {}
        edges = sorted(
            (s, t, b, graph.tgt_raw.get((t, b), no_raws).get(s, 1.0))
            for (t, b), ws in graph.tgt_adj.items()
            for s in ws
        )
        reported = sorted((kind, name, at) for (kind, name), at in self.reported_.items())
        return DenseBlockState(STATE_VERSION, self.config, self.newest_bucket_, edges, reported)

    def load_state(self, state: DenseBlockState) -> None:
        """Replace this detector's state with ``state`` (taken with the same configuration)."""
        if state.version != STATE_VERSION:
            raise ValueError(f"unsupported dense-block state version {state.version}")
        if state.config != self.config:
            raise ValueError("the state was taken with a different DenseConfig")
        self._reset()
        self.newest_bucket_ = state.newest_bucket
        self.graph_.insert((s, (t, b), raw) for s, t, b, raw in state.edges)
        self.reported_ = {(kind, name): at for kind, name, at in state.reported}
        self._refresh()
