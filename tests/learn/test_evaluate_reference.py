"""The streaming evaluator agrees with a naive, literal reading of SCORING.md on random streams.

The reference below holds everything in lists and recomputes each figure from scratch, the way
one would check it by hand; it shares no code with `rampart.learn.evaluate` beyond the output
structs, so a bookkeeping slip in the streaming version (bit masks, dedupe, first-seen times)
shows up as a difference.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rampart.contract.outputs import AREAS
from rampart.learn.evaluate import score_stream
from rampart.learn.scorecard import (
    ActionFriction,
    AreaScore,
    CampaignTTD,
    Friction,
    InputCounts,
    Macro,
    Scorecard,
    TimeToDetect,
    TypeCounts,
)

Doc = dict[str, Any]
T0 = datetime(2026, 3, 1, tzinfo=UTC)
USED_AREAS = ("account_integrity", "scalper")  # few areas, so entities collide
POOLS = {
    "account": ["u0", "u1", "s0", "s1"],
    "device": ["d0", "d1"],
    "ip": ["10.0.0.1", "10.0.0.2"],
    "item": ["i0", "i1"],
    "instrument": ["p0", "p1"],
}
EVENT_IDS = [f"e{i}" for i in range(8)]
MINUS_MIN = datetime.min.replace(tzinfo=UTC)
T = TypeVar("T")


def kind(entity_type: str) -> str:
    return "account" if entity_type in ("user", "seller") else entity_type


def stamp(minute: int, offset_hours: int) -> str:
    zone = timezone(timedelta(hours=offset_hours))
    return (T0 + timedelta(minutes=minute)).astimezone(zone).isoformat()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- strategies -------------------------------------------------------------------------------

minutes = st.integers(0, 60)
offsets = st.sampled_from([0, 8, -5])
accounts = st.sampled_from(POOLS["account"])


def maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


@st.composite
def events(draw: st.DrawFn) -> Doc:
    doc: Doc = {
        "event_id": draw(st.sampled_from(EVENT_IDS)),
        "ts": stamp(draw(minutes), draw(offsets)),
    }
    kind_ = draw(st.sampled_from(["account.login", "order.created", "message.sent", "page.view"]))
    doc["type"] = kind_
    if kind_ != "page.view":
        doc["user_id"] = draw(accounts)
    device = draw(maybe(st.sampled_from(POOLS["device"])))
    if device is not None:
        doc["device"] = {"id": device}
    ip = draw(maybe(st.sampled_from(POOLS["ip"])))
    if ip is not None:
        doc["ip"] = ip
    items = st.sampled_from(POOLS["item"])
    if kind_ == "order.created":
        doc["props"] = {
            "order_id": "o",
            "seller_id": draw(st.sampled_from(["s0", "s1"])),
            "items": [{"item_id": i} for i in draw(st.lists(items, max_size=2))],
            "payment": {"instrument_id": draw(st.sampled_from(POOLS["instrument"]))},
        }
    elif kind_ == "message.sent":
        doc["props"] = {"recipient_id": draw(accounts), "text": "hi"}
    elif kind_ == "page.view":
        doc["props"] = {
            "path": "/",
            "target_type": draw(st.sampled_from(["item", "shop"])),
            "target_id": draw(items),
        }
    else:
        doc["props"] = {"success": True}
    return doc


scores = st.sampled_from([0.0, 0.3, 0.49, 0.5, 0.51, 1.0])
decisions = st.fixed_dictionaries(
    {
        "event_id": st.sampled_from([*EVENT_IDS, "zz"]),
        "action": st.sampled_from(["allow", "challenge", "review", "block"]),
        "score": st.just(0.5),
        "areas": st.dictionaries(st.sampled_from(USED_AREAS), scores, max_size=3),
        "reasons": st.just([]),
    }
)


@st.composite
def verdicts(draw: st.DrawFn) -> Doc:
    entity_type = draw(st.sampled_from(["user", "seller", "device", "ip", "item", "instrument"]))
    return {
        "entity_type": entity_type,
        "entity_id": draw(st.sampled_from(POOLS[kind(entity_type)])),
        "area": draw(st.sampled_from(USED_AREAS)),
        "score": 1.0,
        "action": "block",
        "found_at": stamp(draw(minutes), draw(offsets)),
    }


@st.composite
def labels(draw: st.DrawFn) -> Doc:
    entity_type = draw(
        st.sampled_from(["user", "seller", "device", "ip", "item", "instrument", "event"])
    )
    ids = [*EVENT_IDS, "ghost"] if entity_type == "event" else POOLS[kind(entity_type)]
    doc: Doc = {
        "entity_type": entity_type,
        "entity_id": draw(st.sampled_from(ids)),
        "area": draw(st.sampled_from(USED_AREAS)),
        "label": draw(st.sampled_from([1, 1, 1, 0])),
    }
    ts = draw(maybe(minutes))
    if ts is not None:
        doc["ts"] = stamp(ts, 0)
    campaign = draw(st.sampled_from([None, "c0", "c0", "c1"]))
    if campaign is not None:
        doc["campaign"] = campaign
    return doc


# --- the naive reference ----------------------------------------------------------------------


def own_entities(event: Doc) -> set[tuple[str, str]]:
    """The user, device and ip an event belongs to: what rule (b) flags."""
    found = set()
    if "user_id" in event:
        found.add(("account", event["user_id"]))
    if "device" in event:
        found.add(("device", event["device"]["id"]))
    if "ip" in event:
        found.add(("ip", event["ip"]))
    return found


def involved(event: Doc) -> set[tuple[str, str]]:
    """Own entities and every counterparty, item and instrument named in props."""
    found = own_entities(event)
    props = event.get("props", {})
    for field in ("seller_id", "owner_id", "recipient_id", "referrer_id"):
        if field in props:
            found.add(("account", props[field]))
    if "item_id" in props:
        found.add(("item", props["item_id"]))
    if props.get("target_type") == "item":
        found.add(("item", props["target_id"]))
    found.update(("item", line["item_id"]) for line in props.get("items", []))
    if "instrument_id" in props.get("payment", {}):
        found.add(("instrument", props["payment"]["instrument_id"]))
    return found


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def reference(
    raw_events: list[Doc], decisions: list[Doc], verdicts: list[Doc], labels: list[Doc]
) -> Scorecard:
    stream: list[Doc] = []
    for event in raw_events:
        if all(event["event_id"] != kept["event_id"] for kept in stream):
            stream.append(event)
    stream_ids = {e["event_id"] for e in stream}
    decision_of: dict[str, Doc] = {}
    for decision in decisions:
        decision_of.setdefault(decision["event_id"], decision)

    def action(event: Doc) -> str:
        return str(decision_of.get(event["event_id"], {"action": "allow"})["action"])

    ranked: dict[tuple[str, str, str], list[tuple[datetime, int, Doc]]] = defaultdict(list)
    for index, doc in enumerate(labels):
        key = (kind(doc["entity_type"]), doc["entity_id"], doc["area"])
        ts = when(doc["ts"]) if "ts" in doc else MINUS_MIN
        ranked[key].append((ts, index, doc))
    winner = {key: max(docs, key=lambda r: (r[0], r[1]))[2] for key, docs in ranked.items()}

    def entities_labelled(area: str, value: int) -> set[tuple[str, str]]:
        return {
            (k, i)
            for (k, i, a), d in winner.items()
            if a == area and k != "event" and d["label"] == value
        }

    def abusive_events(area: str | None) -> set[str]:
        return {
            i
            for (k, i, a), d in winner.items()
            if k == "event" and d["label"] == 1 and area in (None, a)
        }

    flag_times: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
    for v in verdicts:
        flag_times[(v["area"], kind(v["entity_type"]), v["entity_id"])].append(when(v["found_at"]))
    for event in stream:
        if action(event) == "allow":
            continue
        for area, value in decision_of[event["event_id"]]["areas"].items():
            if value < 0.5:
                continue
            for entity in own_entities(event):
                flag_times[(area, *entity)].append(when(event["ts"]))

    sellers = {d["entity_id"] for d in labels if d["entity_type"] == "seller"}
    users = {d["entity_id"] for d in labels if d["entity_type"] == "user"}
    sellers |= {v["entity_id"] for v in verdicts if v["entity_type"] == "seller"} - users

    def type_name(entity: tuple[str, str]) -> str:
        if entity[0] != "account":
            return entity[0]
        return "seller" if entity[1] in sellers else "user"

    areas = []
    for area in AREAS:
        abusive, legit = entities_labelled(area, 1), entities_labelled(area, 0)
        flagged = {(k, i) for (a, k, i) in flag_times if a == area}
        hits = abusive & flagged
        by_type = {}
        for name in sorted({type_name(e) for e in abusive | flagged}):
            by_type[name] = TypeCounts(
                labelled=sum(type_name(e) == name for e in abusive),
                flagged=sum(type_name(e) == name for e in flagged),
                true_positives=sum(type_name(e) == name for e in hits),
            )
        bad_events = abusive_events(area)
        caught = [e for e in stream if e["event_id"] in bad_events and action(e) != "allow"]

        campaigns: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for (k, i, a), d in winner.items():
            if a == area and k != "event" and d["label"] == 1 and "campaign" in d:
                campaigns[d["campaign"]].add((k, i))
        per_campaign = []
        for name, members in sorted(campaigns.items()):
            delays, detected, no_start = [], 0, 0
            for entity in members:
                times = flag_times.get((area, *entity))
                if not times:
                    continue
                detected += 1
                mine = [e for e in stream if entity in involved(e)]
                marked = [e for e in mine if e["event_id"] in bad_events] or mine
                if not marked:
                    no_start += 1
                    continue
                start = min(when(e["ts"]) for e in marked)
                delays.append(max(0.0, (min(times) - start).total_seconds()))
            per_campaign.append(
                CampaignTTD(
                    campaign=name,
                    entities=len(members),
                    detected=detected,
                    without_start=no_start,
                    median_seconds=median(delays),
                )
            )
        measured = [c.median_seconds for c in per_campaign if c.median_seconds is not None]
        n_entities = sum(c.entities for c in per_campaign)
        n_detected = sum(c.detected for c in per_campaign)
        ttd = TimeToDetect(
            median_seconds=median(measured),
            campaigns=len(per_campaign),
            campaigns_measured=len(measured),
            entities=n_entities,
            entities_detected=n_detected,
            entities_undetected=n_entities - n_detected,
            entities_without_start=sum(c.without_start for c in per_campaign),
            per_campaign=per_campaign,
        )
        areas.append(
            AreaScore(
                area=area,
                labelled_entities=len(abusive),
                labelled_legitimate_entities=len(legit),
                flagged_entities=len(flagged),
                true_positives=len(hits),
                flagged_labelled_legitimate=len(legit & flagged),
                entity_recall=share(len(hits), len(abusive)),
                entity_precision=share(len(hits), len(flagged)),
                labelled_events=len(bad_events),
                actioned_labelled_events=len(caught),
                event_recall=share(len(caught), len(bad_events)),
                time_to_detect=ttd,
                by_entity_type=by_type,
            )
        )

    scored = [a for a in areas if a.labelled_entities]
    macro = Macro(
        areas=len(scored),
        entity_recall=statistics.fmean(a.entity_recall or 0 for a in scored) if scored else None,
        entity_precision=(
            statistics.fmean(a.entity_precision or 0 for a in scored) if scored else None
        ),
    )

    bad_accounts = {i for (k, i, _), d in winner.items() if k == "account" and d["label"] == 1}
    legit_events = [
        e
        for e in stream
        if "user_id" in e
        and e["event_id"] not in abusive_events(None)
        and e["user_id"] not in bad_accounts
    ]
    legit_users = {e["user_id"] for e in legit_events}
    got: dict[str, set[str]] = {u: set() for u in legit_users}
    for e in legit_events:
        if action(e) != "allow":
            got[e["user_id"]].add(action(e))
    orders = [e for e in legit_events if e["type"] == "order.created"]
    blocked = [e for e in orders if action(e) == "block"]
    with_friction = sum(1 for actions in got.values() if actions)
    friction = Friction(
        legitimate_users=len(legit_users),
        users_with_friction=with_friction,
        rate=share(with_friction, len(legit_users)),
        by_action={
            a: ActionFriction(
                users=sum(a in s for s in got.values()),
                rate=share(sum(a in s for s in got.values()), len(legit_users)),
            )
            for a in ("challenge", "review", "block")
        },
        orders_created=len(orders),
        orders_blocked=len(blocked),
        order_block_rate=share(len(blocked), len(orders)),
    )
    inputs = InputCounts(
        events=len(stream),
        duplicate_events=len(raw_events) - len(stream),
        events_without_decision=sum(e["event_id"] not in decision_of for e in stream),
        actioned_events=sum(action(e) != "allow" for e in stream),
        decisions=len(decisions),
        duplicate_decisions=len(decisions) - len(decision_of),
        decisions_for_unknown_events=len(decision_of.keys() - stream_ids),
        verdicts=len(verdicts),
        labels=len(labels),
        superseded_labels=len(labels) - len(winner),
        labelled_events_not_in_stream=len(abusive_events(None) - stream_ids),
    )
    return Scorecard(areas=areas, macro=macro, friction=friction, inputs=inputs)


def encoded(docs: list[Doc]) -> list[bytes]:
    return [msgspec.json.encode(doc) for doc in docs]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(events(), min_size=3, max_size=14),
    st.lists(decisions, min_size=2, max_size=12),
    st.lists(verdicts(), max_size=8),
    st.lists(labels(), min_size=2, max_size=14),
)
def test_streaming_matches_the_naive_reference(
    raw_events: list[Doc], decisions: list[Doc], verdicts: list[Doc], labels: list[Doc]
) -> None:
    streamed = score_stream(
        encoded(raw_events), encoded(decisions), encoded(verdicts), encoded(labels)
    )
    assert streamed == reference(raw_events, decisions, verdicts, labels)


def test_reference_agrees_on_a_hand_case() -> None:
    # Guards the reference itself against drifting into agreeing with a broken evaluator.
    events = [{"event_id": "e1", "type": "account.login", "ts": stamp(0, 0), "user_id": "u1"}]
    decision = {"event_id": "e1", "action": "block", "score": 1.0, "areas": {"scalper": 0.5}}
    label = {"entity_type": "user", "entity_id": "u1", "area": "scalper", "label": 1}
    card = reference(events, [decision], [], [label])
    assert card.areas[AREAS.index("scalper")].entity_recall == 1.0
    assert card.friction.legitimate_users == 0
