"""Champion/challenger experiments: two engines on the same traffic, a salted hash picks who acts.

An :class:`Experiment` splits the traffic by its *unit* entity (the event's user by default, or
its device or ip): a keyed BLAKE2b hash of the unit id, salted with the experiment's salt, puts
every unit in one bucket for good, whatever the order or the run, and a share of the buckets in
the challenger arm. :class:`ExperimentEngine` feeds **every** event to both arms (each keeps its
own state, so either arm is right for every entity at every moment), lets the unit's arm act,
and records what the other arm would have done as one entry of the acting decision's ``shadow``
list (the contract's "what rules or models in shadow mode would have done")::

    {"name": "experiment:<name>:<other arm>", "action": ..., "areas": [...], "weight": <score>,
     "reasons": [...], "unit": "user"}

The acting arm is the one the entry does not name. Events without the unit entity (a page view
with no user) go to the champion. Entity verdicts follow the same split: an entity of the unit
kind (for ``user``: users and sellers, one account namespace) gets the verdicts of its own arm
only; verdicts on other kinds (items, instruments, ...) come from the champion, so the
challenger never acts outside its bucket.

>>> e = Experiment(name="m2", challenger_share=0.5)
>>> e.arm_of("u1") == e.arm_of("u1"), e.arm_of(None)
(True, 'champion')
>>> Experiment(name="m2", challenger_share=0.0).arm_of("u1")
'champion'
>>> Experiment(name="m2", challenger_share=1.0).arm_of("u1")
'challenger'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final, Generic, Literal, Protocol, Self, TypeVar

import msgspec
from msgspec import UNSET

from rampart.contract.outputs import Decision, Label, Verdict
from rampart.ingest.privacy import Accepted

Arm = Literal["champion", "challenger"]
Unit = Literal["user", "device", "ip"]
ARMS: Final[tuple[Arm, Arm]] = ("champion", "challenger")
UNITS: Final[tuple[Unit, ...]] = ("user", "device", "ip")
SHADOW_PREFIX: Final = "experiment:"

# Verdict entity types that name a unit of each kind (a seller is an account, as a user is).
_UNIT_ENTITY_TYPES: Final[dict[Unit, frozenset[str]]] = {
    "user": frozenset({"user", "seller"}),
    "device": frozenset({"device"}),
    "ip": frozenset({"ip"}),
}
_SCALE: Final = float(1 << 64)


class Experiment(msgspec.Struct, frozen=True, kw_only=True):
    """A champion/challenger split: its name, salt, the challenger's share and the unit kind.

    The salt defaults to the name, so two experiments split the population independently, and
    re-running one experiment (same name and salt) puts every unit in the same arm again.
    """

    name: str
    salt: str | None = None
    challenger_share: float = 0.5
    unit: Unit = "user"

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise ValueError(f"experiment name {self.name!r} must be non-empty, without ':'")
        if not 0.0 <= self.challenger_share <= 1.0:
            raise ValueError(f"challenger share {self.challenger_share} is not within 0..1")
        if self.unit not in UNITS:
            raise ValueError(f"unknown experiment unit {self.unit!r}; known: {', '.join(UNITS)}")

    def bucket(self, unit_id: str) -> float:
        """Where ``unit_id`` falls in [0, 1): a salted BLAKE2b hash, stable across runs.

        >>> Experiment(name="x").bucket("u1") == Experiment(name="x").bucket("u1")
        True
        """
        salt = (self.name if self.salt is None else self.salt).encode()
        if len(salt) > 64:  # BLAKE2b keys hold at most 64 bytes
            salt = hashlib.blake2b(salt).digest()
        digest = hashlib.blake2b(unit_id.encode(), digest_size=8, key=salt).digest()
        return int.from_bytes(digest, "big") / _SCALE

    def arm_of(self, unit_id: str | None) -> Arm:
        """The arm of one unit (no unit: the champion)."""
        if not unit_id:
            return "champion"
        return "challenger" if self.bucket(unit_id) < self.challenger_share else "champion"

    def unit_of(self, accepted: Accepted) -> str | None:
        """The event's unit id as the caller sent it (an ip in clear, as verdicts name it)."""
        event = accepted.event
        if self.unit == "user":
            return event.user_id or None
        if self.unit == "device":
            device = event.device
            return (device.id or None) if device is not UNSET else None
        return accepted.raw_ip or None

    def shadow_name(self, arm: Arm) -> str:
        return f"{SHADOW_PREFIX}{self.name}:{arm}"


class ArmScored(Protocol):
    """What the wrapper needs of an engine's answer (the engine's ``Scored``)."""

    @property
    def decision(self) -> Decision: ...
    @property
    def verdicts(self) -> list[Verdict]: ...
    @property
    def duplicate(self) -> bool: ...
    @property
    def row(self) -> Mapping[str, Any] | None: ...
    def _replace(
        self,
        *,
        decision: Decision = ...,
        verdicts: list[Verdict] = ...,
        row: Mapping[str, Any] | None = ...,
    ) -> Self: ...


S = TypeVar("S", bound=ArmScored)
S_co = TypeVar("S_co", bound=ArmScored, covariant=True)


class ArmEngine(Protocol[S_co]):
    """What the wrapper needs of an engine (see :class:`rampart.engine.Engine`)."""

    def process(self, accepted: Accepted) -> S_co: ...
    def apply_label(self, label: Label) -> None: ...


def shadow_entry(experiment: Experiment, arm: Arm, decision: Decision) -> dict[str, object]:
    """What ``arm`` decided, as one ``shadow`` entry (the shape of a shadow rule's entry)."""
    return {
        "name": experiment.shadow_name(arm),
        "action": decision.action,
        "areas": sorted(decision.areas),
        "weight": decision.score,
        "reasons": list(decision.reasons),
        "unit": experiment.unit,
    }


class ExperimentEngine(Generic[S]):
    """Two engines on every event; the unit's arm acts, the other is recorded in ``shadow``.

    The answer's ``row`` (what goes to the feature log) is always the champion's: the log's
    columns are the champion pack's. Experiment runs are not checkpointed (:meth:`state`).
    """

    def __init__(
        self, experiment: Experiment, champion: ArmEngine[S], challenger: ArmEngine[S]
    ) -> None:
        self.experiment = experiment
        self.champion = champion
        self.challenger = challenger
        self.verdicts_dropped = 0  # verdicts of an arm on entities of the other arm's bucket
        self.events_by_arm: dict[Arm, int] = dict.fromkeys(ARMS, 0)
        self._entity_types = _UNIT_ENTITY_TYPES[experiment.unit]

    @property
    def features(self) -> object:
        return getattr(self.champion, "features", None)

    def process(self, accepted: Accepted) -> S:
        champion = self.champion.process(accepted)
        challenger = self.challenger.process(accepted)
        arm = self.experiment.arm_of(self.experiment.unit_of(accepted))
        acting, other = (champion, challenger) if arm == "champion" else (challenger, champion)
        other_arm: Arm = "challenger" if arm == "champion" else "champion"
        decision = msgspec.structs.replace(
            acting.decision,
            shadow=[
                *acting.decision.shadow,
                shadow_entry(self.experiment, other_arm, other.decision),
            ],
        )
        if acting.duplicate:
            return acting._replace(decision=decision, verdicts=[])
        self.events_by_arm[arm] += 1
        verdicts = self._owned(champion.verdicts, "champion") + self._owned(
            challenger.verdicts, "challenger"
        )
        return acting._replace(decision=decision, verdicts=verdicts, row=champion.row)

    def _owned(self, verdicts: list[Verdict], arm: Arm) -> list[Verdict]:
        """The verdicts of ``arm`` that it may give: on its own units, or (champion) others."""
        kept = []
        for verdict in verdicts:
            if verdict.entity_type in self._entity_types:
                owner = self.experiment.arm_of(verdict.entity_id)
            else:
                owner = "champion"
            if owner == arm:
                kept.append(verdict)
            else:
                self.verdicts_dropped += 1
        return kept

    def apply_label(self, label: Label) -> None:
        self.champion.apply_label(label)
        self.challenger.apply_label(label)

    def state(self) -> Any:
        raise ValueError("experiment runs are not checkpointed; run them without --checkpoint")

    def load_state(self, state: Any) -> None:
        raise ValueError("experiment runs are not checkpointed; run them without --checkpoint")
