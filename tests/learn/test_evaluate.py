"""Hand-computed cases, one or more per rule of contract/SCORING.md."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.console import Console

from rampart.contract.outputs import Decision
from rampart.learn.evaluate import evaluate, evaluate_files, score_stream
from rampart.learn.report import render
from rampart.learn.scorecard import Scorecard

AI, BR, SC = "account_integrity", "brushing", "scalper"

# Builders for small, hand-readable inputs: contract dicts, times in minutes after T0.
T0 = datetime(2026, 3, 1, tzinfo=UTC)
Doc = dict[str, Any]


def at(minute: float) -> str:
    """RFC 3339 time ``minute`` minutes after T0."""
    return (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def ev(
    event_id: str,
    minute: float,
    user: str | None = None,
    *,
    device: str | None = None,
    ip: str | None = None,
    type: str = "account.login",
    **props: Any,
) -> Doc:
    doc: Doc = {"event_id": event_id, "type": type, "ts": at(minute)}
    if user is not None:
        doc["user_id"] = user
    if device is not None:
        doc["device"] = {"id": device, "platform": "android"}
    if ip is not None:
        doc["ip"] = ip
    doc["props"] = props or {"success": True}
    return doc


def dec(event_id: str, action: str, **areas: float) -> Doc:
    return {"event_id": event_id, "action": action, "score": 0.5, "areas": areas, "reasons": []}


def verdict(entity_type: str, entity_id: str, area: str, minute: float) -> Doc:
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "area": area,
        "score": 0.9,
        "action": "block",
        "found_at": at(minute),
        "evidence": ["test"],
    }


def label(
    entity_type: str,
    entity_id: str,
    area: str,
    value: int = 1,
    *,
    campaign: str | None = None,
    minute: float | None = None,
) -> Doc:
    doc: Doc = {"entity_type": entity_type, "entity_id": entity_id, "area": area, "label": value}
    if campaign is not None:
        doc["campaign"] = campaign
    if minute is not None:
        doc["ts"] = at(minute)
    return doc


def lines(docs: Iterable[Doc]) -> list[bytes]:
    """JSON Lines, so tests go through the same decoding as files do."""
    return [msgspec.json.encode(doc) + b"\n" for doc in docs]


def score(
    events: Iterable[Doc],
    decisions: Iterable[Doc] = (),
    verdicts: Iterable[Doc] = (),
    labels: Iterable[Doc] = (),
) -> Scorecard:
    return score_stream(lines(events), lines(decisions), lines(verdicts), lines(labels))


# --- what counts as flagged -------------------------------------------------------------------


def test_verdict_flags_its_entity_in_its_area_only() -> None:
    card = score(
        [ev("e1", 0, "u1")],
        verdicts=[verdict("user", "u1", AI, 5)],
        labels=[label("user", "u1", AI), label("user", "u1", BR)],
    )
    assert card.area(AI).true_positives == 1
    assert card.area(AI).entity_recall == 1.0
    assert card.area(BR).flagged_entities == 0
    assert card.area(BR).entity_recall == 0.0


@pytest.mark.parametrize(("area_score", "flagged"), [(0.49, 0), (0.5, 3), (0.9, 3)])
def test_actioned_event_flags_its_user_device_and_ip_from_half_score(
    area_score: float, flagged: int
) -> None:
    card = score(
        [ev("e1", 0, "u1", device="d1", ip="10.0.0.1")],
        [dec("e1", "challenge", account_integrity=area_score)],
        labels=[label("user", "u1", AI), label("device", "d1", AI), label("ip", "10.0.0.1", AI)],
    )
    ai = card.area(AI)
    assert (ai.flagged_entities, ai.true_positives) == (flagged, flagged)
    assert ai.entity_recall == flagged / 3


def test_allow_never_flags_whatever_the_area_scores() -> None:
    card = score(
        [ev("e1", 0, "u1", device="d1", ip="10.0.0.1")],
        [dec("e1", "allow", account_integrity=1.0)],
        labels=[label("user", "u1", AI)],
    )
    assert card.area(AI).flagged_entities == 0
    assert card.inputs.actioned_events == 0


def test_event_flags_only_in_the_areas_scored_half_or_more() -> None:
    card = score(
        [ev("e1", 0, "u1")],
        [dec("e1", "block", account_integrity=0.2, scalper=0.7)],
        labels=[label("user", "u1", AI)],
    )
    assert card.area(AI).flagged_entities == 0
    assert card.area(SC).flagged_entities == 1
    assert card.area(SC).entity_precision == 0.0  # u1 is not labelled in scalper


def test_items_and_instruments_are_flagged_by_verdicts_alone() -> None:
    order = ev(
        "e1",
        0,
        "u1",
        type="order.created",
        seller_id="s7",
        items=[{"item_id": "i1", "quantity": 1, "unit_price": 1.0}],
        payment={"method": "card", "instrument_id": "pm1"},
    )
    labels = [label("item", "i1", SC), label("instrument", "pm1", SC), label("item", "i2", SC)]
    blocked = score([order], [dec("e1", "block", scalper=1.0)], labels=labels)
    assert blocked.area(SC).true_positives == 0
    assert blocked.area(SC).by_entity_type["user"].flagged == 1
    by_verdict = score([order], verdicts=[verdict("item", "i1", SC, 3)], labels=labels)
    assert by_verdict.area(SC).by_entity_type["item"].true_positives == 1
    assert by_verdict.area(SC).entity_recall == pytest.approx(1 / 3)


def test_blocked_order_does_not_flag_its_counterparty_seller() -> None:
    order = ev("e1", 0, "u1", type="order.created", seller_id="s7", items=[], total=1.0)
    card = score([order], [dec("e1", "block", brushing=1.0)], labels=[label("seller", "s7", BR)])
    assert card.area(BR).entity_recall == 0.0
    assert card.area(BR).flagged_entities == 1  # the buyer u1 only


def test_seller_acting_as_user_is_flagged_by_its_own_actioned_event() -> None:
    message = ev("e1", 0, "s7", type="message.sent", recipient_id="u1", text="hi")
    card = score([message], [dec("e1", "review", brushing=0.8)], labels=[label("seller", "s7", BR)])
    assert card.area(BR).entity_recall == 1.0
    assert card.area(BR).by_entity_type["seller"].true_positives == 1
    assert "user" not in card.area(BR).by_entity_type


def test_user_and_seller_name_one_account_counted_once() -> None:
    card = score(
        [ev("e1", 0, "s7")],
        verdicts=[verdict("user", "s7", BR, 1), verdict("seller", "s7", BR, 2)],
        labels=[label("seller", "s7", BR)],
    )
    br = card.area(BR)
    assert (br.flagged_entities, br.true_positives, br.entity_precision) == (1, 1, 1.0)


def test_precision_counts_unlabelled_and_legitimate_flags_against() -> None:
    card = score(
        [ev("e1", 0, "u1", device="d1", ip="10.0.0.1")],
        [dec("e1", "block", account_integrity=0.9)],
        [verdict("user", "u9", AI, 0)],
        [label("user", "u1", AI), label("device", "d1", AI, 0)],
    )
    ai = card.area(AI)
    assert (ai.flagged_entities, ai.true_positives) == (4, 1)
    assert ai.entity_precision == 0.25
    assert ai.flagged_labelled_legitimate == 1
    assert (ai.labelled_entities, ai.labelled_legitimate_entities) == (1, 1)


def test_multi_area_entity_counts_in_each_area_separately() -> None:
    card = score(
        [ev("e1", 0, "u1")],
        verdicts=[verdict("user", "u1", AI, 1), verdict("user", "u1", SC, 1)],
        labels=[label("user", "u1", AI), label("user", "u1", BR)],
    )
    assert card.area(AI).entity_recall == 1.0
    assert card.area(BR).entity_recall == 0.0
    assert card.area(SC).entity_precision == 0.0
    assert card.macro.areas == 2
    assert card.macro.entity_recall == 0.5
    # Brushing flagged nothing: no precision of its own, 0 in the macro.
    assert card.area(BR).entity_precision is None
    assert card.macro.entity_precision == 0.5


def test_latest_label_stands() -> None:
    labels = [
        label("user", "u1", AI, 1, minute=10),
        label("user", "u1", AI, 0, minute=20),  # appeal overturns the earlier finding
        label("user", "u2", AI, 0, minute=30),
        label("user", "u2", AI, 1, minute=5),  # older, arrives later: does not win
    ]
    card = score([ev("e1", 0, "u1"), ev("e2", 0, "u2")], labels=labels)
    assert card.area(AI).labelled_entities == 0
    assert card.area(AI).labelled_legitimate_entities == 2
    assert card.inputs.superseded_labels == 2
    assert card.friction.legitimate_users == 2


# --- event recall -----------------------------------------------------------------------------


def test_event_recall_counts_any_non_allow_action() -> None:
    card = score(
        [ev("e1", 0, "u1"), ev("e2", 1, "u1"), ev("e3", 2, "u1"), ev("e4", 3, "u1")],
        [dec("e1", "challenge"), dec("e2", "review"), dec("e3", "allow", account_integrity=1.0)],
        labels=[label("event", e, AI) for e in ("e1", "e2", "e3", "e4", "gone")]
        + [label("event", "e1", SC, 0)],
    )
    ai = card.area(AI)
    assert (ai.labelled_events, ai.actioned_labelled_events) == (5, 2)
    assert ai.event_recall == 0.4
    assert card.inputs.labelled_events_not_in_stream == 1
    assert card.area(SC).labelled_events == 0


# --- time to detect ---------------------------------------------------------------------------


def test_time_to_detect_median_per_campaign_then_over_campaigns() -> None:
    events = [ev("a1", 0, "u1"), ev("a2", 0, "u2"), ev("a3", 0, "u3"), ev("b1", 10, "u4")]
    decisions = [dec("a2", "block", account_integrity=0.6)]
    verdicts = [
        verdict("user", "u1", AI, 1),  # 60 s
        verdict("user", "u2", AI, 7),  # event at 0 flagged first: 0 s
        verdict("user", "u3", AI, 3),  # 180 s
        verdict("user", "u4", AI, 20),  # 600 s
    ]
    labels = [label("user", u, AI, campaign="c1") for u in ("u1", "u2", "u3", "u5")]
    labels.append(label("user", "u4", AI, campaign="c2"))
    ttd = score(events, decisions, verdicts, labels).area(AI).time_to_detect
    assert [c.median_seconds for c in ttd.per_campaign] == [60.0, 600.0]
    assert ttd.median_seconds == 330.0
    assert (ttd.campaigns, ttd.campaigns_measured) == (2, 2)
    assert (ttd.entities, ttd.entities_detected, ttd.entities_undetected) == (5, 4, 1)


def test_time_to_detect_takes_the_earlier_of_verdict_and_actioned_event() -> None:
    events = [ev("e1", 0, "u1"), ev("e2", 4, "u1"), ev("e3", 0, "u2"), ev("e4", 9, "u2")]
    decisions = [dec("e2", "block", scalper=0.9), dec("e4", "block", scalper=0.9)]
    verdicts = [verdict("user", "u1", SC, 6), verdict("user", "u2", SC, 2)]
    labels = [label("user", "u1", SC, campaign="c"), label("user", "u2", SC, campaign="c")]
    ttd = score(events, decisions, verdicts, labels).area(SC).time_to_detect
    assert ttd.median_seconds == 180.0  # median of 240 s (event) and 120 s (verdict)


def test_time_to_detect_starts_at_first_labelled_abusive_event_and_clips_at_zero() -> None:
    # u1 is a taken-over account: its own first event long predates the attack.
    events = [ev("e1", 0, "u1"), ev("e2", 100, "u1", device="d9"), ev("e3", 200, "u2")]
    verdicts = [verdict("user", "u1", AI, 105), verdict("user", "u2", AI, 150)]
    labels = [
        label("user", "u1", AI, campaign="ato"),
        label("event", "e2", AI),
        label("user", "u2", AI, campaign="early"),  # flagged before its first event
    ]
    ttd = score(events, (), verdicts, labels).area(AI).time_to_detect
    assert {c.campaign: c.median_seconds for c in ttd.per_campaign} == {"ato": 300.0, "early": 0.0}


def test_time_to_detect_of_a_counterparty_starts_at_the_first_event_naming_it() -> None:
    orders = [
        ev("o1", 10, "u1", type="order.created", seller_id="s7", items=[{"item_id": "i1"}]),
        ev("o2", 20, "u2", type="order.created", seller_id="s7"),
    ]
    verdicts = [
        verdict("seller", "s7", BR, 30),
        verdict("item", "i1", BR, 40),
        verdict("item", "i2", BR, 1),
    ]
    labels = [
        label("seller", "s7", BR, campaign="c"),
        label("item", "i1", BR, campaign="c"),
        label("item", "i2", BR, campaign="c"),  # in no event: no start
    ]
    ttd = score(orders, (), verdicts, labels).area(BR).time_to_detect
    assert ttd.median_seconds == 1500.0  # median of 20 min and 30 min
    assert ttd.entities_without_start == 1


def test_time_to_detect_counts_a_page_target_as_an_item_only_when_it_is_one() -> None:
    views = [
        ev("v1", 0, type="page.view", path="/shop/i1", target_type="shop", target_id="i1"),
        ev("v2", 5, type="page.view", path="/item/i1", target_type="item", target_id="i1"),
    ]
    card = score(
        views, (), [verdict("item", "i1", SC, 15)], [label("item", "i1", SC, campaign="c")]
    )
    assert card.area(SC).time_to_detect.median_seconds == 600.0


# --- friction ---------------------------------------------------------------------------------


def test_friction_counts_legitimate_users_with_an_actioned_legitimate_event() -> None:
    events = [ev("e1", 0, "u1"), ev("e2", 0, "u2"), ev("e3", 0, "bad"), ev("e4", 0, "s7")]
    decisions = [dec("e1", "challenge"), dec("e3", "block"), dec("e4", "review")]
    labels = [label("user", "bad", AI), label("user", "u2", AI, 0)]
    friction = score(events, decisions, labels=labels).friction
    assert (friction.legitimate_users, friction.users_with_friction) == (3, 2)
    assert friction.rate == pytest.approx(2 / 3)


def test_friction_ignores_abusive_events_on_a_victims_account() -> None:
    events = [ev("e1", 0, "victim"), ev("e2", 5, "victim"), ev("e3", 5, "only_attacked")]
    decisions = [dec("e2", "block"), dec("e3", "block")]
    labels = [label("event", "e2", AI), label("event", "e3", AI)]
    friction = score(events, decisions, labels=labels).friction
    assert (friction.legitimate_users, friction.users_with_friction) == (1, 0)


def test_abusive_seller_is_not_a_legitimate_user() -> None:
    card = score([ev("e1", 0, "s7")], [dec("e1", "block")], labels=[label("seller", "s7", BR)])
    assert card.friction.legitimate_users == 0


def test_friction_by_action_counts_a_user_under_each_action() -> None:
    events = [ev("e1", 0, "u1"), ev("e2", 1, "u1"), ev("e3", 0, "u2"), ev("e4", 0, "u3")]
    decisions = [dec("e1", "challenge"), dec("e2", "block"), dec("e3", "block")]
    friction = score(events, decisions).friction
    counts = {action: f.users for action, f in friction.by_action.items()}
    assert counts == {"challenge": 1, "review": 0, "block": 2}
    assert friction.by_action["block"].rate == pytest.approx(2 / 3)
    assert friction.users_with_friction == 2


def test_order_block_rate_counts_legitimate_orders_only() -> None:
    def order(event_id: str, user: str) -> dict[str, object]:
        return ev(event_id, 0, user, type="order.created", seller_id="s1", total=1.0)

    events = [order("o1", "u1"), order("o2", "u1"), order("o3", "u2"), order("o4", "u2")]
    events += [order("o5", "bad"), ev("l1", 0, "u1")]
    decisions = [dec(e, "block") for e in ("o1", "o4", "o5", "l1")] + [dec("o3", "review")]
    labels = [label("event", "o4", SC), label("user", "bad", SC)]
    friction = score(events, decisions, labels=labels).friction
    assert (friction.orders_blocked, friction.orders_created) == (1, 3)
    assert friction.order_block_rate == pytest.approx(1 / 3)


# --- input accounting -------------------------------------------------------------------------


def test_missing_unknown_and_duplicate_inputs_are_counted() -> None:
    events = lines([ev("e1", 0, "u1"), ev("e2", 0, "u1"), ev("e1", 1, "u1"), ev("e3", 2, "u1")])
    events += [b"{broken\n", b"\n", b'{"event_id":"x","type":"account.login","ts":"yesterday"}']
    decisions = lines([dec("e1", "allow"), dec("e1", "block"), dec("zz", "block")])
    decisions.append(b'{"event_id":"e2","action":"maybe"}')
    labels = [b'{"entity_type":"planet","entity_id":"p","area":"brushing","label":1}']
    card = evaluate(events, decisions, [b"[]"], labels)
    inputs = card.inputs
    assert (inputs.events, inputs.duplicate_events, inputs.undecodable_events) == (3, 1, 2)
    assert inputs.events_without_decision == 2
    assert (inputs.decisions, inputs.duplicate_decisions) == (3, 1)
    assert (inputs.undecodable_decisions, inputs.decisions_for_unknown_events) == (1, 1)
    assert (inputs.undecodable_verdicts, inputs.undecodable_labels) == (1, 1)
    assert card.friction.users_with_friction == 0  # the first decision for e1 (allow) stands


def test_mappings_and_decoded_objects_score_like_lines() -> None:
    events = [ev("e1", 0, "u1", ip="10.0.0.1")]
    decisions = [dec("e1", "block", scalper=0.7)]
    labels = [label("ip", "10.0.0.1", SC)]
    objects = [msgspec.convert(d, Decision) for d in decisions]
    assert score_stream(events, objects, [], labels) == score(events, decisions, (), labels)


def test_files_plain_and_gzip_give_the_same_scorecard(tmp_path: Path) -> None:
    inputs = {
        "events": lines([ev("e1", 0, "u1", device="d1"), ev("e2", 1, "u2")]),
        "decisions": lines([dec("e1", "block", scalper=0.9)]),
        "verdicts": lines([verdict("device", "d1", SC, 3)]),
        "labels": lines([label("user", "u1", SC, campaign="c")]),
    }
    for name, data in inputs.items():
        (tmp_path / f"{name}.jsonl").write_bytes(b"".join(data))
        with gzip.open(tmp_path / f"{name}.jsonl.gz", "wb") as stream:
            stream.write(b"".join(data))
    plain = evaluate_files(*(tmp_path / f"{n}.jsonl" for n in inputs))
    zipped = evaluate(*(str(tmp_path / f"{n}.jsonl.gz") for n in inputs))
    assert plain == zipped == evaluate(*inputs.values())
    assert plain.area(SC).entity_recall == 1.0
    assert Scorecard.from_json(plain.to_json()) == plain


def test_render_shows_every_area_and_the_friction() -> None:
    card = score([ev("e1", 0, "u1")], [dec("e1", "block")], labels=[label("user", "u2", AI)])
    console = Console(record=True, width=160)
    console.print(render(card))
    text = console.export_text()
    assert "account_integrity" in text
    assert "information_leakage" in text
    assert "users with friction" in text
    assert "macro (1 areas)" in text
