"""What Rampart hands out (decisions, entity verdicts) and what it takes back (labels).

These mirror ``decision.schema.json`` of contract v1 exactly. Output structs omit unset
optional fields so that what we write is the smallest valid document.

>>> import msgspec
>>> d = Decision(event_id="e1", action="review", score=0.7, reasons=["rule:x"])
>>> msgspec.json.encode(d)
b'{"event_id":"e1","action":"review","score":0.7,"reasons":["rule:x"]}'
>>> msgspec.json.decode(b'{"entity_type":"user","entity_id":"u1","area":"brushing","label":1}',
...                     type=Label).label
1
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal, get_args

import msgspec
from msgspec import Meta

Area = Literal[
    "account_integrity",
    "incentive_abuse",
    "scalper",
    "deal_hunter",
    "malicious_activity",
    "brushing",
    "click_farm",
    "information_leakage",
]
AREAS: Final[tuple[Area, ...]] = get_args(Area)

Action = Literal["allow", "challenge", "review", "block"]
# Explicit priority: a larger number wins when signals disagree.
ACTION_PRIORITY: Final[dict[Action, int]] = {"allow": 0, "challenge": 1, "review": 2, "block": 3}

EntityType = Literal["user", "seller", "device", "ip", "item", "instrument"]
ENTITY_TYPES: Final[tuple[EntityType, ...]] = get_args(EntityType)
LabelEntityType = Literal["user", "seller", "device", "ip", "item", "instrument", "event"]
VerdictAction = Literal["review", "block", "limit"]
LabelSource = Literal["review", "chargeback", "appeal", "report", "simulation"]

UnitScore = Annotated[float, Meta(ge=0.0, le=1.0)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]


class Decision(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The answer for one scored event."""

    event_id: str
    action: Action
    score: UnitScore
    areas: dict[Area, UnitScore] = {}
    reasons: list[str]
    shadow: list[dict[str, Any]] = []


class Verdict(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An entity flagged for coordinated abuse, at the event time Rampart knew."""

    entity_type: EntityType
    entity_id: str
    area: Area
    score: UnitScore
    action: VerdictAction
    found_at: AwareDatetime
    evidence: list[str] = []


class Label(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Ground truth fed back by a risk team (reviews, chargebacks, appeals, reports)."""

    entity_type: LabelEntityType
    entity_id: str
    area: Area
    label: Literal[0, 1]
    ts: AwareDatetime | None = None
    source: LabelSource | None = None
    campaign: str | None = None
