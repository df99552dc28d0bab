"""The graph stage on the event path: rings as features, farm blocks as findings, snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from rampart.contract.events import decode_event
from rampart.detect.graph.online import GraphStage
from rampart.ingest.privacy import Accepted, EventPrivacy

START = datetime(2026, 3, 1, tzinfo=UTC)
PRIVACY = EventPrivacy.for_demo()


def _event(n: int, kind: str, seconds: float, user: str, device: str, **props: object) -> Accepted:
    raw = msgspec.json.encode({
        "event_id": f"e{n}", "type": kind, "ts": (START + timedelta(seconds=seconds)).isoformat(),
        "user_id": user, "device": {"id": device}, "ip": "203.0.113.9", "props": props,
    })  # fmt: skip
    return PRIVACY.protect(decode_event(raw))


def _engage(n: int, seconds: float, device: str, target: str, owner: str) -> Accepted:
    kind, target_id = target.split(":")
    return _event(
        n, "engagement", seconds, f"u-{device}", device,
        action="like", target_type=kind, target_id=target_id, owner_id=owner,
    )  # fmt: skip


def _stream() -> list[Accepted]:
    events = []
    n = 0
    # Background: 300 people each liking one of 60 items of 60 shops over a day.
    for i in range(300):
        events.append(_engage(n, i * 280.0, f"d{i}", f"item:{i % 60}", f"shop{i % 60}"))
        n += 1
    # A farm of 12 phones hits the client's shop and two of its items, plus one stranger's item
    # per wave to look ordinary, within minutes, in three waves.
    for wave in range(3):
        for phone in range(12):
            t = 30_000.0 + wave * 20_000.0 + phone * 20.0
            plan = ["shop:client", "item:c1", "item:c2", f"item:{wave * 7}"]
            for k, target in enumerate(plan):
                owner = "client" if target != f"item:{wave * 7}" else f"shop{wave * 7}"
                events.append(_engage(n, t + k, f"farm{phone}", target, owner))
                n += 1
    return sorted(events, key=lambda a: a.event.ts)


def test_a_click_farm_names_its_phones_and_its_client_not_the_decoys() -> None:
    stage = GraphStage()
    found = [f for accepted in _stream() for f in stage.update(accepted)[1]]
    named = {(f.entity_type, f.entity_id) for f in found}
    assert {("device", f"farm{p}") for p in range(12)} <= named
    assert ("seller", "client") in named
    assert {("item", "c1"), ("item", "c2")} <= named
    assert not any(t == "device" and i.startswith("d") for t, i in named)
    assert not any(t == "seller" and i.startswith("shop") for t, i in named)
    assert all(f.area == "click_farm" and f.evidence[0] == "graph:farm_block" for f in found)


def test_a_restored_stage_answers_exactly_as_the_original() -> None:
    stream = _stream()
    cut = len(stream) // 2
    whole = GraphStage()
    answers = [whole.update(accepted) for accepted in stream]
    first = GraphStage()
    for accepted in stream[:cut]:
        first.update(accepted)
    resumed = GraphStage()
    resumed.load_state(first.state())
    assert [resumed.update(accepted) for accepted in stream[cut:]] == answers[cut:]


def test_accounts_sharing_a_device_form_a_ring() -> None:
    stage = GraphStage()
    rows = [
        stage.update(
            _event(i, "account.login", i * 60.0, f"acct{i}", "shared-phone", success=True)
        )[0]
        for i in range(4)
    ]
    assert [row["graph.ring_size"] for row in rows] == [1, 2, 3, 4]
    alone = stage.update(_event(9, "account.login", 500.0, "loner", "own-phone", success=True))[0]
    assert alone["graph.ring_size"] == 1
