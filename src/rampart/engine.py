"""One event through features → detectors → decide. Pure and deterministic: no I/O, no clock.

The event's own time is the only clock, so a replay of the same events gives the same decisions.
Detectors see the state as of the event being scored and never anything later. A re-sent
``event_id`` gets the stored decision back and changes nothing.

Entity verdicts name entities as the caller sent them (an ``ip`` verdict carries the address, held
in memory only for the event being scored); each (entity, area) is flagged once, at the event time
Rampart first knew.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, NamedTuple, Protocol, cast

import msgspec
from msgspec import UNSET

from rampart.contract.events import EVENT_TYPES
from rampart.contract.outputs import (
    ACTION_PRIORITY,
    Area,
    Decision,
    EntityType,
    Label,
    Verdict,
    VerdictAction,
)
from rampart.decide.policy import Policy, Signal, SignalAction, SignalMode
from rampart.detect.device_history import HISTORY_KINDS, DeviceHistory
from rampart.detect.graph.online import GraphFinding
from rampart.detect.models.view import ModelView
from rampart.features.fields import Getter, entity_getter, event_getter
from rampart.ingest.privacy import Accepted

# How many decisions are kept for answering a re-sent event id (the intake also drops them).
DEFAULT_DECISION_MEMORY: Final = 200_000
# The events that create an account or carry a payment instrument (see _note_history).
HISTORY_EVENT_TYPES: Final = frozenset({"account.created", "order.created", "payment.attempt"})

# Isolation-forest score from which an entity is reported as unusual (0.5 is ordinary).
ANOMALY_SHADOW_SCORE: Final = 0.7

# Confidence of a graph detector's verdict: a block passed its surprise and lift tests.
GRAPH_VERDICT_SCORE: Final = 0.8

# An entity is marked in an area when a verdict names it there, or when one of its own events
# is actioned with the area's score at least this (SCORING.md counts it flagged from then on).
MARK_SCORE: Final = 0.5


CarryEntity = Literal["user", "device", "ip"]


class Carry(msgspec.Struct, frozen=True, kw_only=True):
    """Later events of an entity already flagged in an area are actioned in that area.

    Once Rampart has named a device or an account as abusive, what it does next is part of the
    same abuse: the scraper's next page views, the farm's next clicks. The carried signal's
    weight stays under :data:`MARK_SCORE` so carrying never flags further entities by itself
    (the event's other ip or device are not accused by association); it only acts on the event.
    ``entities`` are the event's own entities that carry (``user``, ``device``, ``ip``). Only the
    device carries by default: an account may be a victim (taken over, then used by a farm) and
    gets its account back; residential and mobile addresses are shared by strangers (measured:
    carrying flagged addresses in information_leakage added no event recall and, once one
    carrier address was flagged, 176 legitimate users' friction on seed 303).

    A carried signal acts on the event but is not evidence for the policy: it never combines
    with other signals into an area score (see :func:`_with_carried`).
    """

    entities: tuple[CarryEntity, ...] = ("device",)
    # Areas whose abuse is done by its own accounts / addresses carry more of them.
    by_area: Mapping[Area, tuple[CarryEntity, ...]] = {}
    action: SignalAction = "challenge"
    weight: float = 0.3


DEFAULT_CARRY: Final = Carry(
    by_area={
        # Fake buyers, farm accounts and scalpers act through accounts they own.
        "brushing": ("user", "device"),
        "click_farm": ("user", "device"),
        "scalper": ("user", "device"),
        "incentive_abuse": ("user", "device"),
        "deal_hunter": ("user", "device"),
    }
)


class VerdictSpec(Protocol):
    @property
    def entities(self) -> tuple[EntityType, ...]: ...
    @property
    def action(self) -> VerdictAction: ...
    @property
    def device_history(self) -> tuple[EntityType, ...]: ...


class EngineRule(Protocol):
    """What the engine needs of a compiled rule (see :mod:`rampart.detect.rules`)."""

    @property
    def name(self) -> str: ...
    @property
    def areas(self) -> Sequence[Area]: ...
    @property
    def action(self) -> SignalAction: ...
    @property
    def weight(self) -> float: ...
    @property
    def mode(self) -> str: ...
    @property
    def verdict(self) -> VerdictSpec | None: ...
    @property
    def paths(self) -> frozenset[str]: ...
    @property
    def event_types(self) -> frozenset[str] | None: ...
    def evaluate(self, row: Mapping[str, Any]) -> bool | None: ...


class AreaModel(Protocol):
    """What the engine needs of a learned detector (see :mod:`rampart.detect.models`)."""

    @property
    def area(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    def probability(self, row: Sequence[float]) -> float: ...
    def explain(self, row: Sequence[float], k: int = 3) -> list[tuple[str, float]]: ...


class Stage(Protocol):
    """A stateful detector fed by every event (graphs, content indexes): row fields, findings."""

    def update(self, accepted: Accepted) -> tuple[dict[str, Any], list[GraphFinding]]: ...
    def state(self) -> bytes: ...
    def load_state(self, data: bytes) -> None: ...


class ScopedModel(NamedTuple):
    """A model and the event types it scores (None: all)."""

    model: AreaModel
    event_types: frozenset[str] | None = None


class AnomalyDetector(Protocol):
    """What the engine needs of an unsupervised model (see :mod:`rampart.detect.models`)."""

    @property
    def entity_type(self) -> str: ...
    @property
    def feature_names(self) -> tuple[str, ...]: ...
    def score(self, row: Sequence[float]) -> float: ...


class FeatureState(Protocol):
    """What the engine needs of the online features (see :mod:`rampart.features.online`)."""

    def update(self, accepted: Accepted) -> dict[str, Any]:
        """Apply the event; its features as of it, in a new dict the caller may change."""
        ...

    def apply_label(self, label: Label, ts: float) -> None: ...
    def snapshot(self) -> bytes: ...


class Scored(NamedTuple):
    """The engine's answer for one event."""

    decision: Decision
    verdicts: list[Verdict]
    duplicate: bool = False
    # What the detectors saw: the features, the event fields the rules read and the stages'
    # fields (None for a re-sent event), for the feature log.
    row: Mapping[str, Any] | None = None


class _Prepared(NamedTuple):
    rule: EngineRule
    signal: Signal
    evaluate: Callable[[Mapping[str, Any]], bool | None]
    verdict_entities: tuple[EntityType, ...]
    verdict_action: VerdictAction
    device_history: tuple[EntityType, ...]


def _verdict_entity_getter(entity: EntityType) -> Callable[[Accepted], str | None]:
    """How a verdict names its entity: as the caller sent it (an ip in clear, from memory)."""
    if entity == "ip":
        return lambda accepted: accepted.raw_ip
    # Every other verdict entity type is an entity kind of the same name.
    return entity_getter(entity)


class _Plan(NamedTuple):
    """What to compute for one event type: only the rules that can hit it, and what they read."""

    rules: tuple[_Prepared, ...]
    getters: tuple[tuple[str, Getter], ...]
    # Read by rules but filled later or only on some events: present as None until then.
    score_names: tuple[str, ...]


def _plan(rules: Sequence[_Prepared], extra_paths: Iterable[str] = ()) -> _Plan:
    paths = set(extra_paths).union(*(prepared.rule.paths for prepared in rules))
    return _Plan(
        rules=tuple(rules),
        getters=tuple(
            (path, event_getter(path)) for path in sorted(paths) if path.startswith("event.")
        ),
        score_names=tuple(
            p for p in sorted(paths) if p.startswith(("scores.", "graph.", "content."))
        ),
    )


def feature_reads(
    rules: Iterable[EngineRule], view: ModelView | None = None
) -> dict[str, frozenset[str]] | None:
    """Per event type, the features the engine reads on it: those of the rules that can hit it
    (see ``OnlineFeatures(reads=...)``). None (every feature) when a model view is given: its
    vector holds features on every event type.
    """
    if view is not None:
        return None
    live = [rule for rule in rules if rule.mode != "off"]
    return {
        kind: frozenset(
            path
            for rule in live
            if rule.event_types is None or kind in rule.event_types
            for path in rule.paths
            if path.startswith("features.")
        )
        for kind in EVENT_TYPES
    }


def _anomaly_signal(entity_type: str, score: float) -> Signal:
    """An unusual entity, reported in shadow: no label has said what it is, so it never acts."""
    return Signal(
        name=f"anomaly:{entity_type}",
        areas=(),
        action="review",
        weight=round(score, 4),
        mode="shadow",
    )


def _with_carried(
    decision: Decision, carried: Sequence[Signal], carry: Carry, *, allow_listed: bool
) -> Decision:
    """``decision`` with the carried signals added: they act, and raise no area beyond their
    own weight (allow-listed events stay allowed). An allowed decision with reasons is not
    necessarily allow-listed: score-only hits give reasons without an action."""
    if allow_listed:
        return decision
    areas = dict(decision.areas or {})
    for signal in carried:
        areas[signal.areas[0]] = max(areas.get(signal.areas[0], 0.0), signal.weight)
    action = decision.action
    if carry.action != "score" and ACTION_PRIORITY[carry.action] > ACTION_PRIORITY[action]:
        action = carry.action
    return msgspec.structs.replace(
        decision,
        action=action,
        score=max(decision.score, *(s.weight for s in carried)),
        areas=areas,
        reasons=[*decision.reasons, *(s.name for s in carried)],
    )


class EngineState(msgspec.Struct, kw_only=True):
    """What the engine itself keeps between events (the features keep their own)."""

    flagged: list[tuple[str, str, str]] = []
    decisions: list[tuple[str, bytes]] = []
    marked: list[tuple[str, str, list[str]]] = []
    stages: list[bytes] = []
    device_history: list[tuple[str, str, dict[str, float]]] = []


class Engine:
    """Scores events one at a time with a set of rules over online features."""

    def __init__(
        self,
        rules: Iterable[EngineRule],
        features: FeatureState,
        *,
        policy: Policy | None = None,
        pseudonymize_ip: Callable[[str], str] | None = None,
        decision_memory: int = DEFAULT_DECISION_MEMORY,
        carry: Carry | None = DEFAULT_CARRY,
        view: ModelView | None = None,
        models: Sequence[ScopedModel] = (),
        model_action: SignalAction = "review",
        model_mode: SignalMode = "live",
        observe: Callable[[Accepted, list[float]], None] | None = None,
        stages: Sequence[Stage] = (),
        anomalies: Sequence[AnomalyDetector] = (),
        row_paths: Iterable[str] = (),
    ) -> None:
        """``row_paths``: event paths to put in every event's row beside those rules and the
        view read (a logged run fills the default model view's, for training sets)."""
        self.policy = policy or Policy()
        self._carry = carry
        # (entity kind, id as kept: ip pseudonymised) -> areas it is flagged in.
        self._marked: dict[tuple[str, str], set[Area]] = {}
        self._carry_signals: dict[tuple[str, Area], Signal] = {}
        self._history = DeviceHistory()
        self._instrument_of = entity_getter("instrument")
        self._device_of = entity_getter("device")
        self.features = features
        self._pseudonymize_ip = pseudonymize_ip
        if models and view is None:
            raise ValueError("models need the view they were trained on")
        self._view = view
        self._models = {
            kind: tuple(m.model for m in models if m.event_types is None or kind in m.event_types)
            for kind in EVENT_TYPES
        }
        self._model_action: SignalAction = model_action
        # Models in shadow report in the decision's ``shadow`` list and never act.
        self._model_mode: SignalMode = model_mode
        self._observe = observe
        self.stages = tuple(stages)
        if anomalies and view is None:
            raise ValueError("anomaly models need the view they were trained on")
        position = {name: i for i, name in enumerate(view.names)} if view is not None else {}
        self._anomalies = [
            (model, tuple(position[name] for name in model.feature_names)) for model in anomalies
        ]
        # Event paths every row carries beside the rules' (the model view's, ``row_paths``).
        self.extra_paths = (*(view.row_paths if view is not None else ()), *row_paths)
        self._verdict_getters: dict[EntityType, Callable[[Accepted], str | None]] = {}
        self.replace_rules(rules)
        self._flagged: set[tuple[str, str, str]] = set()
        # Decisions of recent event ids, for re-sent events (None: a plain allow).
        self._decisions: OrderedDict[str, Decision | None] = OrderedDict()
        self._decision_memory = decision_memory

    def replace_rules(self, rules: Iterable[EngineRule]) -> None:
        """Run ``rules`` (``off`` ones are skipped) from the next event on.

        Everything the engine derives from its rules is derived before any of it is swapped in:
        a rule that fails to prepare leaves the engine as it was. What the engine learnt
        (flagged entities, held decisions, detector state) stays.
        """
        prepared = [self._prepare(rule) for rule in rules if rule.mode != "off"]
        # Most rules hold to one or two event types: evaluate only those that can hit.
        unrestricted = [p for p in prepared if p.rule.event_types is None]
        fallback = _plan(unrestricted, self.extra_paths)
        types = {t for p in prepared for t in (p.rule.event_types or ())}
        if self.extra_paths:
            types.update(EVENT_TYPES)
        plans = {
            kind: _plan(
                [p for p in prepared if p.rule.event_types is None or kind in p.rule.event_types],
                self.extra_paths,
            )
            for kind in types
        }
        # Getters are only added: entities flagged by a rule since removed keep theirs.
        getters = dict(self._verdict_getters)
        for entry in prepared:
            for entity in entry.verdict_entities:
                if entity not in getters:
                    getters[entity] = _verdict_entity_getter(entity)
        self._prepared, self._fallback, self._plans = prepared, fallback, plans
        self._verdict_getters = getters

    @property
    def running_rules(self) -> list[EngineRule]:
        """The rules the engine runs (live and shadow), in order."""
        return [entry.rule for entry in self._prepared]

    @property
    def view(self) -> ModelView | None:
        """The model view the engine's models read (None without models)."""
        return self._view

    def flagged_areas(self, kind: str, key: str) -> frozenset[Area]:
        """The areas an entity (as the engine keeps it: an ip by its pseudonym) is flagged in."""
        return frozenset(self._marked.get((kind, key), ()))

    @staticmethod
    def _prepare(rule: EngineRule) -> _Prepared:
        mode: SignalMode = "shadow" if rule.mode == "shadow" else "live"
        signal = Signal(
            name=f"rule:{rule.name}",
            areas=tuple(rule.areas),
            action=rule.action,
            weight=rule.weight,
            mode=mode,
        )
        verdict = rule.verdict
        return _Prepared(
            rule=rule,
            signal=signal,
            evaluate=rule.evaluate,
            verdict_entities=verdict.entities if verdict is not None else (),
            verdict_action=verdict.action if verdict is not None else "review",
            device_history=verdict.device_history if verdict is not None else (),
        )

    def row(self, accepted: Accepted, features: Mapping[str, Any]) -> dict[str, Any]:
        """The flat view the rules read: the event paths they use, the features, the scores."""
        plan = self._plans.get(accepted.event.type, self._fallback)
        return self._fill_row(plan, accepted, dict(features))

    @staticmethod
    def _fill_row(plan: _Plan, accepted: Accepted, row: dict[str, Any]) -> dict[str, Any]:
        """Add to ``row`` (the event's features) the event paths and scores the rules read."""
        for path, get in plan.getters:
            row[path] = get(accepted)
        for name in plan.score_names:
            row[name] = None
        return row

    def process(self, accepted: Accepted) -> Scored:
        """Score one event: update the state with it, decide, and flag entities."""
        event = accepted.event
        if event.event_id in self._decisions:
            stored = self._stored(event.event_id, self._decisions[event.event_id])
            return Scored(stored, [], duplicate=True)
        plan = self._plans.get(event.type, self._fallback)
        # The features' answer is a new dict per event: the row is built in it.
        row = self._fill_row(plan, accepted, self.features.update(accepted))
        self._note_history(accepted)
        found: list[GraphFinding] = []
        for stage in self.stages:
            stage_row, stage_found = stage.update(accepted)
            row.update(stage_row)
            found.extend(stage_found)
        # What Rampart knew before this event: its own findings must not carry onto itself.
        carry = self._carry
        carried = self._carried(accepted, carry) if self._marked and carry is not None else []
        flagged_before = self._marked_areas(accepted) if self._view is not None else set()
        signals: list[Signal] = []
        verdicts: list[Verdict] = []
        for prepared in plan.rules:
            if prepared.evaluate(row) is True:
                signals.append(prepared.signal)
                if prepared.verdict_entities and prepared.signal.mode == "live":
                    verdicts.extend(self._flag(prepared, accepted))
        explained: list[str] = []
        model_risk = 0.0  # the highest live model probability, acting or not
        if self._view is not None:
            hits = ["rule." + signal.name[5:] for signal in signals]  # rule:<name> → rule.<name>
            vector = self._view.vector(row, event.type, hits, flagged_before)
            if self._observe is not None:
                self._observe(accepted, vector)
            for model in self._models.get(event.type, ()):
                probability = model.probability(vector)
                if self._model_mode == "live":
                    model_risk = max(model_risk, probability)
                if probability >= model.threshold:
                    signals.append(self._model_signal(model.area, probability))
                    if self._model_mode == "live":
                        explained.extend(code for code, _ in model.explain(vector, 3))
            for anomaly, columns in self._anomalies:
                score = anomaly.score([vector[i] for i in columns])
                if score >= ANOMALY_SHADOW_SCORE:
                    signals.append(_anomaly_signal(anomaly.entity_type, score))
        for finding in found:
            verdict = self._verdict(
                accepted,
                finding.entity_type,
                finding.entity_id,
                finding.entity_id,
                finding.area,
                score=GRAPH_VERDICT_SCORE,
                action="review",
                evidence=list(finding.evidence),
            )
            if verdict is not None:
                verdicts.append(verdict)
        decision = self.policy.decide(event.event_id, signals)
        if explained:
            decision = msgspec.structs.replace(decision, reasons=[*decision.reasons, *explained])
        if model_risk > decision.score:
            # The overall risk is the model's estimate even under its operating point (for
            # ranking and for review queues); the action and the area scores stay the policy's.
            decision = msgspec.structs.replace(decision, score=round(model_risk, 4))
        if decision.action != "allow" and decision.areas:
            self._mark_own(accepted, decision.areas)
        if carried and carry is not None:
            allow_listed = any(s.action == "allow" and s.mode == "live" for s in signals)
            decision = _with_carried(decision, carried, carry, allow_listed=allow_listed)
        self._remember(event.event_id, decision)
        return Scored(decision, verdicts, row=row)

    def _verdict(
        self,
        accepted: Accepted,
        entity: EntityType,
        entity_id: str,
        kept_id: str,
        area: Area,
        *,
        score: float,
        action: VerdictAction,
        evidence: list[str],
    ) -> Verdict | None:
        """Mark the entity in the area; a verdict the first time it is flagged there, else None.

        ``kept_id`` is how the engine remembers it (an address by its pseudonym), ``entity_id``
        how the verdict names it.
        """
        self._mark((entity, kept_id), area)
        key = (entity, kept_id, area)
        if key in self._flagged:
            return None
        self._flagged.add(key)
        return Verdict(
            entity_type=entity,
            entity_id=entity_id,
            area=area,
            score=score,
            action=action,
            found_at=accepted.event.ts,
            evidence=evidence,
        )

    def _model_signal(self, area: str, probability: float) -> Signal:
        return Signal(
            name=f"model:{area}",
            areas=(cast(Area, area),),
            action=self._model_action,
            weight=round(probability, 4),
            mode=self._model_mode,
        )

    def _marked_areas(self, accepted: Accepted) -> set[str]:
        """Areas the event's own entities were flagged in before it."""
        found: set[str] = set()
        if self._marked:
            for key in self._own_entities(accepted):
                found.update(self._marked.get(key, ()))
        return found

    def _own_entities(self, accepted: Accepted) -> list[tuple[str, str]]:
        event = accepted.event
        own = []
        if event.user_id:
            own.append(("user", event.user_id))
        device = event.device
        if device is not UNSET and device.id:
            own.append(("device", device.id))
        if event.ip is not UNSET and event.ip:
            own.append(("ip", event.ip))
        return own

    def _mark(self, key: tuple[str, str], area: Area) -> None:
        areas = self._marked.get(key)
        if areas is None:
            self._marked[key] = {area}
        else:
            areas.add(area)

    def _mark_own(self, accepted: Accepted, areas: Mapping[Area, float]) -> None:
        strong = [area for area, score in areas.items() if score >= MARK_SCORE]
        if strong:
            for key in self._own_entities(accepted):
                for area in strong:
                    self._mark(key, area)

    def _carried(self, accepted: Accepted, carry: Carry) -> list[Signal]:
        found: dict[Area, Signal] = {}
        for key in self._own_entities(accepted):
            for area in sorted(self._marked.get(key, ())):
                if area not in found and key[0] in carry.by_area.get(area, carry.entities):
                    found[area] = self._carry_signal(key[0], area, carry)
        return list(found.values())

    def _carry_signal(self, kind: str, area: Area, carry: Carry) -> Signal:
        signal = self._carry_signals.get((kind, area))
        if signal is None:
            signal = self._carry_signals[(kind, area)] = Signal(
                name=f"flagged:{area}:{kind}",
                areas=(area,),
                action=carry.action,
                weight=min(carry.weight, MARK_SCORE - 1e-6),
            )
        return signal

    def apply_label(self, label: Label) -> None:
        """Feed a label (as known at its ``ts``) to the label-fed features."""
        ts = label.ts
        if ts is None:
            return
        if label.entity_type == "ip" and self._pseudonymize_ip is not None:
            label = msgspec.structs.replace(label, entity_id=self._pseudonymize_ip(label.entity_id))
        self.features.apply_label(label, ts.timestamp())

    def _note_history(self, accepted: Accepted) -> None:
        """Remember the cards a device tries and the accounts it creates (see DeviceHistory)."""
        event = accepted.event
        if event.type not in HISTORY_EVENT_TYPES:
            return
        device = self._device_of(accepted)
        if not device:
            return
        ts = event.ts.timestamp()
        if event.type == "account.created" and event.user_id:
            self._history.note(device, "user", str(event.user_id), ts)
        instrument = self._instrument_of(accepted)
        if instrument:
            self._history.note(device, "instrument", str(instrument), ts)

    def _flag(self, prepared: _Prepared, accepted: Accepted) -> list[Verdict]:
        found = []
        for entity in prepared.verdict_entities:
            entity_id = self._verdict_getters[entity](accepted)
            if (
                entity in prepared.device_history
                and entity in HISTORY_KINDS
                and (device := self._device_of(accepted))
            ):
                # What this device did before the rule could tell is the same abuse.
                now = accepted.event.ts.timestamp()
                for earlier in self._history.earlier(device, entity, now=now):
                    if earlier != entity_id:
                        found.extend(self._name(prepared, accepted, entity, earlier, earlier))
            if not entity_id:
                continue
            # Remember an address by its pseudonym: what the engine keeps (and checkpoints)
            # never holds the raw value; only the verdict answered to the caller does.
            kept_id = accepted.event.ip if entity == "ip" else entity_id
            found.extend(self._name(prepared, accepted, entity, entity_id, str(kept_id)))
        return found

    def _name(
        self,
        prepared: _Prepared,
        accepted: Accepted,
        entity: EntityType,
        entity_id: str,
        kept_id: str,
    ) -> list[Verdict]:
        found = []
        for area in prepared.signal.areas:
            verdict = self._verdict(
                accepted,
                entity,
                entity_id,
                kept_id,
                area,
                # A verdict's confidence is the rule's, even when the rule only scores.
                score=max(prepared.signal.weight, 0.5),
                action=prepared.verdict_action,
                evidence=[prepared.signal.name, f"event:{accepted.event.event_id}"],
            )
            if verdict is not None:
                found.append(verdict)
        return found

    def _remember(self, event_id: str, decision: Decision) -> None:
        # Most decisions are a plain allow: remembered as None, not as a Decision and its list,
        # so the memory holds no containers for the cycle collector to walk.
        plain = decision.action == "allow" and not (
            decision.reasons or decision.areas or decision.shadow or decision.score
        )
        self._decisions[event_id] = None if plain else decision
        if len(self._decisions) > self._decision_memory:
            self._decisions.popitem(last=False)

    @staticmethod
    def _stored(event_id: str, stored: Decision | None) -> Decision:
        return stored or Decision(event_id=event_id, action="allow", score=0.0, reasons=[])

    # --- snapshot ------------------------------------------------------------------------------

    def state(self) -> EngineState:
        encode = msgspec.json.encode
        return EngineState(
            flagged=sorted(self._flagged),
            decisions=[(k, encode(self._stored(k, v))) for k, v in self._decisions.items()],
            stages=[stage.state() for stage in self.stages],
            device_history=self._history.state(),
            marked=[
                (kind, key, sorted(areas)) for (kind, key), areas in sorted(self._marked.items())
            ],
        )

    def load_state(self, state: EngineState) -> None:
        decode = msgspec.json.Decoder(Decision).decode
        self._flagged = {tuple(item) for item in state.flagged}  # type: ignore[misc]
        self._decisions = OrderedDict()
        for event_id, data in state.decisions:
            self._remember(event_id, decode(data))
        self._history.load_state(state.device_history)
        if state.stages and len(state.stages) != len(self.stages):
            raise ValueError("the checkpoint was written with other detector stages")
        for stage, data in zip(self.stages, state.stages, strict=False):
            stage.load_state(data)
        self._marked = {
            (kind, key): {cast(Area, area) for area in areas} for kind, key, areas in state.marked
        }
