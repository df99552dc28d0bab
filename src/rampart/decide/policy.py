"""The policy: detector signals in, one decision out (action, per-area scores, reasons, shadow).

Signals are combined per area as independent evidence (noisy-or: ``1 - Π(1 - weight)``), so two
weak signals in one area add up while one strong signal dominates. The action is the strongest
of what the hitting live signals ask for and what the area scores reach under the policy's
thresholds; ``block`` > ``review`` > ``challenge`` > ``allow`` (``ACTION_PRIORITY``). An
allow-list hit wins over everything: the event is allowed and the allow-list is the reason.
Signals in shadow mode never act: they are reported in ``shadow`` only.

>>> policy = Policy()
>>> hit = Signal(name="rule:new_device_big_order", areas=("account_integrity",),
...              action="review", weight=0.7)
>>> d = policy.decide("e1", [hit])
>>> d.action, d.score, d.areas, d.reasons
('review', 0.7, {'account_integrity': 0.7}, ['rule:new_device_big_order'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Literal

import msgspec

from rampart.contract.outputs import ACTION_PRIORITY, Action, Area, Decision

# What a signal may ask for: a contract action, or ``score`` (contribute weight, ask nothing).
SignalAction = Literal["allow", "challenge", "review", "block", "score"]
SignalMode = Literal["live", "shadow"]


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """One detector's finding on one event: a rule hit, a model score, a graph membership."""

    name: str  # the reason code, e.g. ``rule:card_testing_burst`` or ``model:brushing``
    areas: tuple[Area, ...]
    action: SignalAction
    weight: float
    mode: SignalMode = "live"


class Thresholds(msgspec.Struct, frozen=True, kw_only=True):
    """Area score at which combined evidence alone asks for each action (None: never)."""

    challenge: float | None = None
    review: float | None = None
    block: float | None = None

    def action_for(self, score: float) -> Action:
        """The strongest action whose threshold ``score`` reaches.

        >>> Thresholds(challenge=0.5, block=0.9).action_for(0.6)
        'challenge'
        """
        ladder: tuple[tuple[Action, float | None], ...] = (
            ("block", self.block),
            ("review", self.review),
            ("challenge", self.challenge),
        )
        for action, bound in ladder:
            if bound is not None and score >= bound:
                return action
        return "allow"


_NO_THRESHOLDS: Final = Thresholds()


class Policy:
    """Turns the signals of one event into its decision. Pure: no state, no clock."""

    def __init__(self, thresholds: Thresholds = _NO_THRESHOLDS, *, precision: int = 4) -> None:
        self.thresholds = thresholds
        self.precision = precision

    def decide(self, event_id: str, signals: Sequence[Signal]) -> Decision:
        """The decision for one event from its signals (an empty list allows it)."""
        if not signals:
            return Decision(event_id=event_id, action="allow", score=0.0, reasons=[])
        live = [s for s in signals if s.mode == "live"]
        shadow = [_shadow_entry(s) for s in signals if s.mode == "shadow"]
        allow_listed = [s for s in live if s.action == "allow"]
        acting = [s for s in live if s.action != "allow"]
        areas = self._area_scores(acting)
        score = max(areas.values(), default=0.0)
        if allow_listed:
            return Decision(
                event_id=event_id,
                action="allow",
                score=score,
                areas=areas,
                reasons=[s.name for s in allow_listed],
                shadow=shadow,
            )
        action: Action = self.thresholds.action_for(score)
        for signal in acting:
            if signal.action != "score" and (
                ACTION_PRIORITY[signal.action] > ACTION_PRIORITY[action]
            ):
                action = signal.action
        ordered = sorted(acting, key=lambda s: (-s.weight, s.name))
        return Decision(
            event_id=event_id,
            action=action,
            score=score,
            areas=areas,
            reasons=[s.name for s in ordered],
            shadow=shadow,
        )

    def _area_scores(self, signals: Iterable[Signal]) -> dict[Area, float]:
        keep: dict[Area, float] = {}
        for signal in signals:
            weight = min(max(signal.weight, 0.0), 1.0)
            for area in signal.areas:
                keep[area] = keep.get(area, 1.0) * (1.0 - weight)
        return {
            area: round(1.0 - keep_probability, self.precision)
            for area, keep_probability in keep.items()
            if keep_probability < 1.0
        }


def _shadow_entry(signal: Signal) -> dict[str, object]:
    return {
        "name": signal.name,
        "action": signal.action,
        "areas": list(signal.areas),
        "weight": signal.weight,
    }
