"""The policy: noisy-or area scores, action priority, allow-lists, shadow signals, thresholds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.contract.outputs import AREAS, Area
from rampart.decide.policy import Policy, Signal, SignalAction, SignalMode, Thresholds


def _signal(
    name: str,
    action: SignalAction = "review",
    weight: float = 0.6,
    *,
    areas: tuple[Area, ...] = ("brushing",),
    mode: SignalMode = "live",
) -> Signal:
    return Signal(name=name, areas=areas, action=action, weight=weight, mode=mode)


def test_no_signal_allows() -> None:
    decision = Policy().decide("e", [])
    assert (decision.action, decision.score, decision.reasons, decision.areas) == (
        "allow",
        0.0,
        [],
        {},
    )


def test_strongest_action_wins_and_reasons_are_ordered_by_weight() -> None:
    decision = Policy().decide(
        "e", [_signal("rule:a", "challenge", 0.5), _signal("rule:b", "block", 0.9)]
    )
    assert decision.action == "block"
    assert decision.reasons == ["rule:b", "rule:a"]
    assert decision.areas["brushing"] == pytest.approx(1 - 0.5 * 0.1)


def test_allow_list_wins_over_block() -> None:
    decision = Policy().decide(
        "e", [_signal("rule:blocker", "block", 0.99), _signal("rule:vip", "allow", 0.0)]
    )
    assert decision.action == "allow"
    assert decision.reasons == ["rule:vip"]


def test_shadow_signals_never_act() -> None:
    decision = Policy().decide("e", [_signal("rule:try", "block", 0.9, mode="shadow")])
    assert decision.action == "allow"
    assert decision.areas == {}
    assert decision.shadow == [
        {"name": "rule:try", "action": "block", "areas": ["brushing"], "weight": 0.9}
    ]


def test_score_only_signals_add_up_to_a_threshold() -> None:
    policy = Policy(Thresholds(challenge=0.5, review=0.8))
    weak = [_signal(f"rule:w{n}", "score", 0.4) for n in range(4)]
    assert policy.decide("e", weak[:1]).action == "allow"  # 0.4
    assert policy.decide("e", weak[:2]).action == "challenge"  # 1 - 0.6² = 0.64
    assert policy.decide("e", weak[:3]).action == "challenge"  # 1 - 0.6³ = 0.784
    assert policy.decide("e", weak).action == "review"  # 1 - 0.6⁴ = 0.8704
    assert policy.decide("e", weak).areas["brushing"] == pytest.approx(0.8704)


@given(
    st.lists(
        st.tuples(st.sampled_from(AREAS), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=8
    )
)
def test_area_scores_match_noisy_or(signals: list[tuple[Area, float]]) -> None:
    decision = Policy(precision=12).decide(
        "e", [_signal(f"rule:{n}", "score", w, areas=(a,)) for n, (a, w) in enumerate(signals)]
    )
    for area in {a for a, _ in signals}:
        expected = 1 - math.prod(1 - w for a, w in signals if a == area)
        assert decision.areas.get(area, 0.0) == pytest.approx(expected, abs=1e-9)
    assert decision.score == pytest.approx(max([*decision.areas.values(), 0.0]))
