"""The graph detectors on the event path: what each event adds to the graphs, what they say.

Three incremental graphs are fed from the events as they are scored:

- **linkage rings** (:class:`~rampart.detect.graph.rings.LinkageRings`): an account is linked to
  the devices, payment instruments, shipping addresses, phones and e-mails (all pseudonymised)
  it uses, and to the account that referred it. Events that carry such attributes get the
  account's ring as features: ``graph.ring_size``, ``graph.ring_growth`` (members new within a
  day), ``graph.ring_shared`` (attribute values shared inside the ring).
- **brushing blocks** (:class:`~rampart.detect.graph.dense.DenseBlockDetector`): reviewer
  account × item, from reviews. Orders alone are left out: scalper bots buying the same hot items
  within minutes form dense buyer × item blocks too (measured on seed 303: every order-based
  block was a scalper group); fake reviews are what brushing buys. A suspicious block's
  reviewers, items and the items' sellers get ``brushing`` verdicts.
- **click-farm blocks**: device × engaged target (``item:…``, ``live:…``, ``seller:…``). A
  suspicious block's devices get ``click_farm`` verdicts; so do the farm's client (an owner
  holding two or more of the block's targets) and the client's items in the block.

``graph.brushing_block`` / ``graph.farm_block`` tell rules that the event's own account /
device is in a currently suspicious block. Findings carry ``found_at`` = the time of the event
after which the block was known, and the block's members as evidence (ids, never PII).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, NamedTuple

import msgspec
from msgspec import UNSET

from rampart.contract.outputs import Area, EntityType
from rampart.detect.graph.dense import (
    BlockDetection,
    DenseBlockDetector,
    DenseBlockState,
    DenseConfig,
)
from rampart.detect.graph.rings import LinkageRings, RingsConfig, RingsState
from rampart.detect.recent import RecentValues
from rampart.features.fields import entity_getter
from rampart.ingest.privacy import Accepted

__all__ = ["GRAPH_FIELDS", "GraphConfig", "GraphFinding", "GraphStage"]

# What the graph stage adds to the row the rules read, with its type (see the rule language).
GRAPH_FIELDS: Final[dict[str, str]] = {
    "graph.ring_size": "int",
    "graph.ring_growth": "int",
    "graph.ring_shared": "int",
    "graph.brushing_block": "bool",
    "graph.farm_block": "bool",
}
# Attributes that link accounts into rings, by entity kind (pseudonymised where they are PII).
RING_KINDS: Final = ("device", "instrument", "address", "phone", "email")
# Event types that carry a ring attribute: only they pay for linking and for the ring query.
RING_EVENT_TYPES: Final = frozenset(
    {"account.created", "account.login", "account.updated", "order.created", "payment.attempt"}
)
MAX_EVIDENCE_MEMBERS: Final = 20
# Targets of one owner in a click-farm block that make the owner the farm's client.
CLIENT_TARGETS: Final = 2
MAX_DEVICE_TARGETS: Final = 16
# Devices engaging one target within the window before its edges enter the dense detector.
LOCKSTEP_DEVICES: Final = 3
LOCKSTEP_SECONDS: Final = 600.0
# Lockstep edges wait for the farm detector until the oldest is this old (event time) or this
# many have queued: a re-peel and re-judge of the core costs about a millisecond, so one per
# batch rather than one per edge (a farm's wave runs for many minutes; a minute later is early).
FARM_FLUSH_SECONDS: Final = 60.0
FARM_FLUSH_EDGES: Final = 256
# Items' sellers and targets' owners remembered for naming them (oldest forgotten first).
MAX_OWNERS: Final = 500_000


class GraphConfig(msgspec.Struct, frozen=True, kw_only=True):
    rings: RingsConfig = RingsConfig()
    # Brushing: a handful of fake buyers ordering and reviewing a seller's few items, in hours.
    brushing: DenseConfig = DenseConfig(min_targets=2, min_sources=3, min_surprise=30.0)
    # Click farms: tens of devices engaging the same targets within minutes.
    # Surprise 120 nats: viral posts draw bursts of strangers (measured up to ~85 nats on the
    # tuning worlds), farms' waves score 150 and more.
    farm: DenseConfig = DenseConfig(
        bucket_seconds=1800.0, min_sources=5, min_targets=2, min_surprise=120.0
    )


class GraphFinding(NamedTuple):
    """An entity a graph detector names in an area, with the block's evidence."""

    entity_type: EntityType
    entity_id: str
    area: Area
    evidence: tuple[str, ...]  # the detector's reason code first, then the block


class GraphState(msgspec.Struct, kw_only=True):
    rings: RingsState
    brushing: DenseBlockState
    farm: DenseBlockState
    item_sellers: dict[str, str]
    target_owners: dict[str, str]
    device_targets: dict[str, dict[str, float]]
    target_recent: dict[str, list[tuple[str, float, bool]]]
    farm_pending: list[tuple[str, str, float]] = []


class GraphStage:
    """Feeds the graphs from events in time order; answers features and findings per event."""

    def __init__(self, config: GraphConfig | None = None) -> None:
        self.config = config or GraphConfig()
        self.rings = LinkageRings(self.config.rings)
        self.brushing = DenseBlockDetector(self.config.brushing)
        self.farm = DenseBlockDetector(self.config.farm)
        self._ring_getters = [(kind, entity_getter(kind)) for kind in RING_KINDS]
        self._device_of = entity_getter("device")
        # Who sells an item / owns a target, as the events said: to name them in verdicts.
        self._item_sellers: dict[str, str] = {}
        self._target_owners: dict[str, str] = {}
        # Each target's engagements of the last LOCKSTEP_SECONDS (see _lockstep_edges).
        self._target_recent: dict[str, list[tuple[str, float, bool]]] = {}
        # Each device's most recent engagement targets, to tell farm members from passers-by.
        self._device_targets = RecentValues[str](per_key=MAX_DEVICE_TARGETS, max_keys=MAX_OWNERS)
        # Lockstep edges not yet given to the farm detector (see FARM_FLUSH_SECONDS).
        self._farm_pending: list[tuple[str, str, float]] = []

    def update(self, accepted: Accepted) -> tuple[dict[str, Any], list[GraphFinding]]:
        """Add the event to the graphs; its graph features and any new findings."""
        event = accepted.event
        kind = event.type
        user = event.user_id or None
        ts = event.ts.timestamp()
        row: dict[str, Any] = {}
        findings: list[GraphFinding] = []
        if user is not None and kind in RING_EVENT_TYPES:
            row.update(self._rings(accepted, user, ts))
        if kind == "review.posted" and user is not None:
            props: Any = event.props
            _remember(self._item_sellers, props.item_id, props.seller_id)
            for found in self.brushing.add(user, props.item_id, ts):
                findings.extend(self._brushing_findings(found))
            row["graph.brushing_block"] = self.brushing.score(user).in_block
        elif kind == "engagement":
            device = self._device_of(accepted)
            if device:
                props = event.props
                target = f"{props.target_type}:{props.target_id}"
                if props.owner_id:
                    _remember(self._target_owners, target, props.owner_id)
                self._device_targets.note(str(device), target, ts)
                self._farm_pending.extend(self._lockstep_edges(str(device), target, ts))
                findings.extend(self._flush_farm(ts))
                row["graph.farm_block"] = self.farm.score(str(device)).in_block
        return row, findings

    def _flush_farm(self, now: float) -> list[GraphFinding]:
        """Give the queued lockstep edges to the farm detector once the batch is due."""
        pending = self._farm_pending
        if not pending or (
            len(pending) < FARM_FLUSH_EDGES and now - pending[0][2] < FARM_FLUSH_SECONDS
        ):
            return []
        self._farm_pending = []
        sources, targets, times = zip(*pending, strict=True)
        findings: list[GraphFinding] = []
        for found in self.farm.add_batch(sources, targets, times):
            findings.extend(self._farm_findings(found))
        return findings

    def _lockstep_edges(self, device: str, target: str, ts: float) -> list[tuple[str, str, float]]:
        """The engagement edges worth the dense-block detector: those of targets engaged by
        :data:`LOCKSTEP_DEVICES` or more devices within :data:`LOCKSTEP_SECONDS`.

        A lone like cannot be part of a lockstep block, and the detector costs about a
        millisecond an edge, so most engagement stays out. A target's recent edges wait in a
        short queue; when it reaches the bar they all go in (a farm's first hits included), and
        later ones go straight in while it stays there.
        """
        cutoff = ts - LOCKSTEP_SECONDS
        # (device, ts, already fed) of the target's engagements within the window
        queue = [e for e in self._target_recent.pop(target, None) or () if e[1] >= cutoff]
        queue.append((device, ts, False))
        if len({e[0] for e in queue}) < LOCKSTEP_DEVICES:
            fed: list[tuple[str, str, float]] = []
        else:
            fed = [(d, target, t) for d, t, done in queue if not done]
            queue = [(d, t, True) for d, t, _ in queue]
        self._target_recent[target] = queue  # most recently engaged target last
        if len(self._target_recent) > MAX_OWNERS:
            del self._target_recent[next(iter(self._target_recent))]
        return fed

    def _hits(self, device: str, targets: set[str]) -> int:
        return len(targets.intersection(self._device_targets.get(device)))

    def _rings(self, accepted: Accepted, user: str, ts: float) -> dict[str, Any]:
        rings = self.rings
        for kind, get in self._ring_getters:
            value = get(accepted)
            if value:
                rings.link(user, kind, str(value), ts)
        event = accepted.event
        if event.type == "account.created":
            referrer = getattr(event.props, "referrer_id", UNSET)
            if referrer:
                rings.refer(str(referrer), user, ts)
        info = rings.ring(user, ts)
        return {
            "graph.ring_size": info.size,
            "graph.ring_growth": info.growth,
            "graph.ring_shared": info.shared,
        }

    def _brushing_findings(self, found: BlockDetection) -> list[GraphFinding]:
        evidence = _evidence("graph:brushing_block", found)
        sellers = sorted({self._item_sellers[i] for i in found.targets if i in self._item_sellers})
        return [
            *_named("user", found.sources, "brushing", evidence),
            *_named("item", found.targets, "brushing", evidence),
            *_named("seller", sellers, "brushing", evidence),
        ]

    def _farm_findings(self, found: BlockDetection) -> list[GraphFinding]:
        evidence = _evidence("graph:farm_block", found)
        # A farm works for a client: several of a block's targets belong to one owner (its shop
        # and its items), while the targets it hits to look ordinary are strangers' (one each).
        by_owner: dict[str, list[str]] = {}
        for target in found.targets:
            owner = self._target_owners.get(target)
            if owner is not None:
                by_owner.setdefault(owner, []).append(target)
        clients = {o: ts for o, ts in by_owner.items() if len(ts) >= CLIENT_TARGETS}
        owners = sorted(clients)
        # With a client known, a member device is one that hit two or more of the client's
        # targets: a passer-by liking one popular item the farm also hit is not in the farm.
        client_targets = {t for ts in clients.values() for t in ts}
        # Without a client the block may be strangers drawn to a viral post at once: its
        # devices are not named (the lockstep rules still see them).
        sources = [d for d in found.sources if self._hits(d, client_targets) >= CLIENT_TARGETS]
        items = sorted(
            t.split(":", 1)[1] for ts in clients.values() for t in ts if t.startswith("item:")
        )
        return [
            *_named("device", sources, "click_farm", evidence),
            *_named("item", items, "click_farm", evidence),
            *_named("seller", owners, "click_farm", evidence),
        ]

    # --- snapshot ------------------------------------------------------------------------------

    def state(self) -> bytes:
        return msgspec.msgpack.encode(
            GraphState(
                rings=self.rings.state(),
                brushing=self.brushing.state(),
                farm=self.farm.state(),
                item_sellers=self._item_sellers,
                target_owners=self._target_owners,
                device_targets=self._device_targets.values,
                target_recent=self._target_recent,
                farm_pending=self._farm_pending,
            )
        )

    def load_state(self, data: bytes) -> None:
        state = msgspec.msgpack.decode(data, type=GraphState)
        self.rings.load_state(state.rings)
        self.brushing.load_state(state.brushing)
        self.farm.load_state(state.farm)
        self._item_sellers = dict(state.item_sellers)
        self._target_owners = dict(state.target_owners)
        self._device_targets.values = {d: dict(t) for d, t in state.device_targets.items()}
        self._target_recent = {t: [tuple(e) for e in q] for t, q in state.target_recent.items()}  # type: ignore[misc]
        self._farm_pending = [(s, t, ts) for s, t, ts in state.farm_pending]


def _remember(owners: dict[str, str], key: str, owner: str) -> None:
    owners.pop(key, None)  # re-inserted: the most recently seen is forgotten last
    owners[key] = owner
    if len(owners) > MAX_OWNERS:
        del owners[next(iter(owners))]


def _evidence(name: str, found: BlockDetection) -> tuple[str, ...]:
    members = [*found.sources, *found.targets][:MAX_EVIDENCE_MEMBERS]
    return (
        name,
        f"block:{len(found.sources)}x{len(found.targets)} surprise {found.surprise:.0f}",
        *(f"member:{m}" for m in members),
    )


def _named(
    entity: EntityType, ids: Iterable[str], area: Area, evidence: tuple[str, ...]
) -> list[GraphFinding]:
    return [GraphFinding(entity, i, area, evidence) for i in ids]
