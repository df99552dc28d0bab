"""Campaigns: all eight areas, two or more tactics each, labelled entities and events."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import pytest

from rampart.contract.outputs import AREAS

if TYPE_CHECKING:
    from tests.simulate.conftest import Worlds


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_every_area_has_two_tactics_with_labels(difficulty: str, worlds: Worlds) -> None:
    world = worlds(difficulty)
    tactics: dict[str, set[str]] = defaultdict(set)
    for camp in world.summary.campaigns:
        tactics[camp.area].add(camp.tactic)
    assert set(tactics) == set(AREAS)
    assert all(len(t) >= 2 for t in tactics.values()), tactics
    labelled: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rec in world.labels:
        if rec["label"] == 1:
            labelled[(rec["campaign"], rec["area"])].add(rec["entity_type"])
    for camp in world.summary.campaigns:
        kinds = labelled[(camp.id, camp.area)]
        assert "event" in kinds, camp.id
        assert kinds - {"event"}, f"{camp.id} labels no entity"
        assert camp.events > 0
        assert sum(camp.entities.values()) > 0


def test_takeover_victims_are_not_labelled_abusive(worlds: Worlds) -> None:
    world = worlds()
    by_id = {ev["event_id"]: ev for ev in world.events}
    ato = [
        by_id[rec["entity_id"]]
        for rec in world.labels
        if rec["entity_type"] == "event" and "credential_stuffing" in rec["campaign"]
    ]
    victims = {ev["user_id"] for ev in ato}
    assert len(victims) >= 10
    assert not victims & world.labelled("user")
    # the attacker's devices are labelled, and the victims keep their own legitimate events
    assert world.labelled("device", "account_integrity")
    own = [ev for ev in world.events if ev.get("user_id") in victims and ev["event_id"] not in
           {r["entity_id"] for r in world.labels if r["entity_type"] == "event"}]  # fmt: skip
    assert own


def test_fake_accounts_are_reused_across_areas(worlds: Worlds) -> None:
    world = worlds()
    areas_of: dict[str, set[str]] = defaultdict(set)
    for rec in world.labels:
        if rec["entity_type"] == "user" and rec["label"] == 1:
            areas_of[rec["entity_id"]].add(rec["area"])
    assert sum(1 for a in areas_of.values() if len(a) >= 2) >= 5


def test_brushing_labels_the_seller_and_its_items(worlds: Worlds) -> None:
    world = worlds()
    assert world.labelled("seller", "brushing")
    assert world.labelled("item", "brushing")
    assert world.labelled("item", "deal_hunter")  # the mispriced item


def test_legitimate_traps_carry_label_zero(worlds: Worlds) -> None:
    world = worlds()
    zeros = {(r["entity_type"], r["area"]) for r in world.labels if r["label"] == 0}
    assert ("ip", "account_integrity") in zeros  # carrier NAT
    assert ("ip", "information_leakage") in zeros  # crawlers
    assert ("user", "scalper") in zeros  # heavy buyers
    assert all(r["source"] in ("review", "appeal") for r in world.labels if r["label"] == 0)


def test_abuse_is_a_minority(worlds: Worlds) -> None:
    for difficulty in ("easy", "hard"):
        world = worlds(difficulty)
        s = world.summary
        assert s.n_abusive_events < 0.4 * s.n_events  # tiny worlds have floors; demo is ~5%
        assert s.n_abusive_users < 0.25 * s.n_users


def test_easy_is_blatant_and_hard_hides(worlds: Worlds) -> None:
    easy, hard = worlds("easy"), worlds("hard")

    def share(world_name: str, pred_key: str) -> float:
        world = easy if world_name == "easy" else hard
        bad = world.labelled("device")
        devs = {
            ev["device"]["id"]: ev["device"] for ev in world.events if "id" in ev.get("device", {})
        }
        flagged = [devs[d] for d in bad if d in devs]
        return sum(1 for d in flagged if d.get(pred_key)) / max(1, len(flagged))

    assert share("easy", "emulator") + share("easy", "headless") > 2 * (
        share("hard", "emulator") + share("hard", "headless")
    )
    emails = {
        name: [
            ev["props"]["email"]
            for ev in w.events
            if ev["type"] == "account.created"
            and ev["user_id"] in w.labelled("user", "account_integrity")
        ]
        for name, w in (("easy", easy), ("hard", hard))
    }
    disposable = (
        "mailinator",
        "yopmail",
        "guerrilla",
        "sharklasers",
        "maildrop",
        "getnada",
        "tmpmail",
        "moakt",
        "dropmail",
    )
    frac = {
        k: sum(any(d in e for d in disposable) for e in v) / max(1, len(v))
        for k, v in emails.items()
    }
    assert frac["easy"] > frac["hard"] + 0.3
