"""The scorecard `rampart evaluate` produces: plain msgspec Structs that serialise to JSON.

Ratios are ``None`` when their denominator is zero (an area with no labels has no recall),
so a reader never mistakes "nothing to measure" for a perfect or a failed score. Times are
seconds of event time.

>>> card = Scorecard(areas=[], macro=Macro(areas=0), friction=Friction(), inputs=InputCounts())
>>> card.to_json(indent=0)[:44]
'{"areas":[],"macro":{"areas":0,"entity_recal'
>>> Scorecard.from_json(card.to_json()) == card
True
"""

from __future__ import annotations

import msgspec


class TypeCounts(msgspec.Struct, kw_only=True, frozen=True):
    """Entity counts of one entity type within one area."""

    labelled: int = 0
    flagged: int = 0
    true_positives: int = 0


class CampaignTTD(msgspec.Struct, kw_only=True, frozen=True):
    """Time to detect one campaign's entities in one area."""

    campaign: str
    entities: int
    detected: int
    # Detected entities whose start could not be placed (no event involves them).
    without_start: int = 0
    median_seconds: float | None = None


class TimeToDetect(msgspec.Struct, kw_only=True, frozen=True):
    """Median over campaigns of the per-campaign median time from first abusive event to flag."""

    median_seconds: float | None = None
    campaigns: int = 0
    campaigns_measured: int = 0
    entities: int = 0
    entities_detected: int = 0
    entities_undetected: int = 0
    entities_without_start: int = 0
    per_campaign: list[CampaignTTD] = []


class AreaScore(msgspec.Struct, kw_only=True, frozen=True):
    """Every figure SCORING.md defines for one risk area, with the counts behind it."""

    area: str
    labelled_entities: int = 0
    labelled_legitimate_entities: int = 0
    flagged_entities: int = 0
    true_positives: int = 0
    # Flagged entities a label explicitly calls legitimate: known false positives.
    flagged_labelled_legitimate: int = 0
    entity_recall: float | None = None
    entity_precision: float | None = None
    labelled_events: int = 0
    actioned_labelled_events: int = 0
    event_recall: float | None = None
    time_to_detect: TimeToDetect = TimeToDetect()
    by_entity_type: dict[str, TypeCounts] = {}


class Macro(msgspec.Struct, kw_only=True, frozen=True):
    """Unweighted means over the areas that have at least one labelled-abusive entity."""

    areas: int
    entity_recall: float | None = None
    entity_precision: float | None = None


class ActionFriction(msgspec.Struct, kw_only=True, frozen=True):
    users: int = 0
    rate: float | None = None


class Friction(msgspec.Struct, kw_only=True, frozen=True):
    """What detection costs legitimate users."""

    legitimate_users: int = 0
    users_with_friction: int = 0
    rate: float | None = None
    by_action: dict[str, ActionFriction] = {}
    orders_created: int = 0
    orders_blocked: int = 0
    order_block_rate: float | None = None


class InputCounts(msgspec.Struct, kw_only=True, frozen=True):
    """What was read, and every line or id that did not line up."""

    events: int = 0
    undecodable_events: int = 0
    duplicate_events: int = 0
    events_without_decision: int = 0
    actioned_events: int = 0
    decisions: int = 0
    undecodable_decisions: int = 0
    duplicate_decisions: int = 0
    decisions_for_unknown_events: int = 0
    verdicts: int = 0
    undecodable_verdicts: int = 0
    labels: int = 0
    undecodable_labels: int = 0
    # Later labels for the same (entity, area) replace earlier ones; this counts replacements.
    superseded_labels: int = 0
    labelled_events_not_in_stream: int = 0


class Scorecard(msgspec.Struct, kw_only=True, frozen=True):
    """The whole evaluation: per area, macro, friction and input accounting."""

    areas: list[AreaScore]
    macro: Macro
    friction: Friction
    inputs: InputCounts

    def area(self, name: str) -> AreaScore:
        """The score of one area by name (KeyError when unknown)."""
        for score in self.areas:
            if score.area == name:
                return score
        raise KeyError(name)

    def to_json(self, indent: int = 2) -> str:
        """JSON text of the whole scorecard (``indent=0`` for one line)."""
        raw = msgspec.json.encode(self)
        return (msgspec.json.format(raw, indent=indent) if indent else raw).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Scorecard:
        return msgspec.json.decode(text, type=cls)


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by.

    >>> ratio(1, 4), ratio(0, 0)
    (0.25, None)
    """
    return numerator / denominator if denominator else None
