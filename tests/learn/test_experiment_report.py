"""The experiment readout: per-arm figures from the decisions' arm entries, hand-checked
intervals, late labels counted, a seeded bootstrap."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from rampart.learn.experiment_report import (
    ExperimentReport,
    experiment_report,
    markdown,
    wilson,
)


def _event(event_id: str, user: str | None, minute: int, **extra: Any) -> bytes:
    event: dict[str, Any] = {
        "event_id": event_id,
        "type": "account.login",
        "ts": f"2026-03-01T10:{minute:02d}:00Z",
        "props": {"success": True},
    }
    if user is not None:
        event["user_id"] = user
    event.update(extra)
    return msgspec.json.encode(event)


def _order(event_id: str, user: str, minute: int, total: float) -> bytes:
    return _event(
        event_id,
        user,
        minute,
        type="order.created",
        props={"order_id": event_id, "seller_id": "s", "total": total, "currency": "SGD",
               "items": []},
    )  # fmt: skip


def _decision(event_id: str, action: str, arm: str) -> bytes:
    other = "challenger" if arm == "champion" else "champion"
    entry = {"name": f"experiment:t:{other}", "action": "allow", "areas": [], "weight": 0.0,
             "reasons": [], "unit": "user"}  # fmt: skip
    return msgspec.json.encode(
        {"event_id": event_id, "action": action, "score": 0.5, "reasons": [], "shadow": [entry]}
    )


def _label(kind: str, entity: str, label: int, ts: str | None = "2026-03-01T09:00:00Z") -> bytes:
    out: dict[str, Any] = {"entity_type": kind, "entity_id": entity, "area": "scalper"}
    out["label"] = label
    if ts is not None:
        out["ts"] = ts
    return msgspec.json.encode(out)


# (event, user, action, arm); c* are the champion's users, h* the challenger's.
PLAN = [
    ("e1", "c1", "block", "champion"),  # abusive order 100, blocked: prevented
    ("e2", "c2", "allow", "champion"),  # abusive order 50, let through
    ("e3", "c3", "challenge", "champion"),  # a legitimate user challenged: friction
    ("e4", "c4", "allow", "champion"),
    ("e5", "h1", "review", "challenger"),  # abusive order 30, held for review: prevented
    ("e6", "h2", "challenge", "challenger"),  # abusive order 20, challenged: not prevented
    ("e7", "h3", "allow", "challenger"),
    ("e8", None, "allow", "champion"),  # no user: not in the readout
]
ORDERS = {"e1": 100.0, "e2": 50.0, "e5": 30.0, "e6": 20.0}


def _report(**options: Any) -> ExperimentReport:
    events = [
        _order(e, u, i, ORDERS[e]) if e in ORDERS and u else _event(e, u, i)
        for i, (e, u, _, _) in enumerate(PLAN)
    ]
    decisions = [_decision(e, action, arm) for e, _, action, arm in PLAN]
    labels = [
        *(_label("user", u, 1) for u in ("c1", "c2", "h1", "h2")),
        _label("user", "c4", 0),
        *(_label("event", e, 1) for e in ORDERS),
        _label("user", "c2", 1, ts="2026-04-01T00:00:00Z"),  # arrived after the experiment
        _label("user", "h2", 1, ts=None),
    ]
    return experiment_report(events, decisions, labels, **options)


def test_wilson_matches_hand_computed_intervals() -> None:
    # p = 8/10: centre (0.8 + z²/20) / (1 + z²/10), half-width z/(1 + z²/10) · √(p(1-p)/10 + z²/400)
    for (x, n), (low, high) in {
        (8, 10): (0.4902, 0.9433),
        (0, 10): (0.0, 0.2775),
        (10, 10): (0.7225, 1.0),
        (1, 2): (0.0945, 0.9055),
    }.items():
        e = wilson(x, n)
        assert e.value == x / n
        assert e.low == pytest.approx(low, abs=1e-4)
        assert e.high == pytest.approx(high, abs=1e-4)
    assert wilson(0, 0).value is None


def test_per_arm_figures_by_hand() -> None:
    report = _report(bootstrap=500)
    assert report.experiment == "t"
    assert report.unit == "user"
    champion, challenger = report.arms
    assert (champion.units, champion.abusive_units, champion.abusive_units_actioned) == (4, 2, 1)
    assert (champion.actioned_units, champion.legitimate_units) == (2, 2)
    assert champion.legitimate_units_with_friction == 1
    assert champion.catch_rate.value == 0.5
    assert champion.catch_rate.low == pytest.approx(0.0945, abs=1e-4)
    assert champion.precision.value == 0.5
    assert champion.friction.value == 0.5
    assert champion.prevented_loss.value == 100.0
    assert champion.abusive_order_amount == 150.0
    assert champion.prevented_share.value == pytest.approx(2 / 3)
    assert champion.prevented_loss_per_1k_units.value == pytest.approx(25_000.0)
    assert (challenger.units, challenger.abusive_units, challenger.abusive_units_actioned) == (
        3,
        2,
        2,
    )
    assert challenger.catch_rate.value == 1.0
    assert challenger.precision.value == 1.0
    assert challenger.friction.value == 0.0
    assert challenger.prevented_loss.value == 30.0  # the challenged order is not prevented
    assert (challenger.abusive_orders, challenger.prevented_orders) == (2, 1)
    assert challenger.prevented_share.value == pytest.approx(0.6)
    diff = {d.metric: d.value for d in report.differences}
    assert diff["catch_rate"] == pytest.approx(0.5)
    assert diff["precision"] == pytest.approx(0.5)
    assert diff["friction"] == pytest.approx(-0.5)
    assert diff["prevented_loss_per_1k_units"] == pytest.approx(10_000.0 - 25_000.0)
    assert diff["prevented_share"] == pytest.approx(0.6 - 2 / 3)
    # Late labels count (every label is read) and are reported.
    assert report.labels == 11
    assert report.labels_after_last_event == 1
    assert report.labels_without_ts == 1
    assert report.events_without_unit == 1
    assert report.currencies == ["SGD"]
    assert "| catch rate | 0.500" in markdown(report)


def test_the_bootstrap_is_seeded_and_matches_small_cases_by_hand() -> None:
    first, again = _report(seed=3), _report(seed=3)
    assert first == again
    champion, challenger = first.arms
    # The challenger's prevented loss per unit is (30, 0, 0): a resampled sum is 30·k with
    # k ~ Binomial(3, 1/3), so P(0) = 8/27 and P(k = 3) = 1/27 > 2.5%: the interval is [0, 90].
    assert (challenger.prevented_loss.low, challenger.prevented_loss.high) == (0.0, 90.0)
    # The champion's (100, 0, 0, 0): P(0) = 81/256, P(k ≥ 3) = 13/256 > 2.5%, P(4) < 2.5%.
    assert (champion.prevented_loss.low, champion.prevented_loss.high) == (0.0, 300.0)
    # The challenger catches every abusive unit in every resample: its catch rate minus the
    # champion's (0 to 1 in resamples) spans [0, 1], centred on the point value 0.5.
    (catch,) = [d for d in first.differences if d.metric == "catch_rate"]
    assert (catch.low, catch.value, catch.high) == (0.0, 0.5, 1.0)


def test_mixed_currencies_without_rates_give_no_money_figures() -> None:
    events = [
        _order("o1", "u1", 1, 10.0),
        msgspec.json.encode(
            {**msgspec.json.decode(_order("o2", "u2", 2, 5000.0)), "props": {
                "order_id": "o2", "seller_id": "s", "total": 5000.0, "currency": "IDR",
                "items": []}}
        ),
    ]  # fmt: skip
    decisions = [_decision("o1", "block", "champion"), _decision("o2", "block", "challenger")]
    labels = [_label("event", "o1", 1), _label("event", "o2", 1)]
    mixed = experiment_report(events, decisions, labels, bootstrap=100)
    assert mixed.mixed_currencies
    assert mixed.arms[0].prevented_loss.value is None
    converted = experiment_report(
        events, decisions, labels, bootstrap=100, rates={"SGD": 1.0, "IDR": 1000.0}
    )
    assert converted.arms[0].prevented_loss.value == 10.0
    assert converted.arms[1].prevented_loss.value == 5.0


def test_several_experiments_need_a_choice() -> None:
    events = [_event("a", "u1", 1), _event("b", "u2", 2)]
    other = msgspec.json.decode(_decision("b", "allow", "champion"))
    other["shadow"][0]["name"] = "experiment:z:challenger"
    decisions = [_decision("a", "block", "champion"), msgspec.json.encode(other)]
    with pytest.raises(ValueError, match="several experiments"):
        experiment_report(events, decisions, [], bootstrap=100)
    chosen = experiment_report(events, decisions, [], experiment="z", bootstrap=100)
    assert chosen.experiment == "z"
    assert chosen.arms[0].units == 1
    assert chosen.events_without_arm == 1
