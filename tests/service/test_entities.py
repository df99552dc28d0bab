"""GET /v1/entities/{type}/{id} over a real scorer: features, links, verdicts, recent decisions."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from rampart.contract.events import decode_event
from rampart.contract.outputs import Verdict
from rampart.ingest.privacy import EventPrivacy
from rampart.service.entities import (
    ENTITY_TYPES,
    RECENT_PER_ENTITY,
    EntityIndex,
    RecentDecision,
    view_entity,
)
from rampart.service.http import create_app
from rampart.service.keys import ROLES, KeyStore, Role
from rampart.service.scorer import Answer, Scorer

Client = TestClient[Litestar]
Served = tuple[Client, dict[Role, dict[str, str]]]
ADDRESS = "203.0.113.9"
EMAIL = "ann.lee1988@example.com"
DEMO = EventPrivacy.for_demo().pseudonymizer  # the scorers here run with the demo key


def failed_login(event_id: str, user: str, second: int) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": "account.login",
        "ts": f"2026-03-01T10:00:{second:02d}Z",
        "user_id": user,
        "ip": ADDRESS,
        "device": {"id": "d1"},
        "props": {"success": False},
    }


def signup(event_id: str, user: str, second: int) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": "account.created",
        "ts": f"2026-03-01T10:00:{second:02d}Z",
        "user_id": user,
        "ip": ADDRESS,
        "device": {"id": "d1"},
        "props": {"email": EMAIL},
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    keys = KeyStore(tmp_path)
    headers = {role: {"Authorization": f"Bearer {keys.create(role)}"} for role in ROLES}
    index = EntityIndex()
    with (
        Scorer.open(tmp_path, demo=True, observers=[index]) as scorer,
        TestClient(create_app(scorer, keys, entities=index)) as client,
    ):
        yield client, headers


def test_an_entity_answers_features_links_verdicts_and_recent_decisions(served: Served) -> None:
    client, keys = served
    events = [signup("s1", "u1", 0), failed_login("f1", "u1", 1), failed_login("f2", "u2", 2)]
    for event in events:
        assert client.post("/v1/events", json=event, headers=keys["ingest"]).status_code == 200

    device = client.get("/v1/entities/device/d1", headers=keys["analyst"]).json()
    assert device["entity_type"] == "device"
    assert device["known"] is True
    assert device["as_of"] == "2026-03-01T10:00:02Z"
    # Features keyed by the device alone, named without their prefix.
    assert device["features"]["device_failed_login_users_1h"] == 2
    assert not any("+" in name for name in device["features"])
    assert device["links"]["accounts"] == ["u1", "u2"]
    assert [d["event_id"] for d in device["recent_decisions"]] == ["f2", "f1", "s1"]
    # Two accounts failing on one device: failed_login_spray names the device and the address.
    assert device["flagged_areas"] == ["account_integrity"]
    (verdict,) = device["verdicts"]
    assert verdict["area"] == "account_integrity"
    assert verdict["action"] == "block"
    assert verdict["found_at"] == "2026-03-01T10:00:02Z"
    assert "rule:failed_login_spray" in verdict["evidence"]

    user = client.get("/v1/entities/user/u1", headers=keys["investigator"]).json()
    assert user["links"]["devices"] == ["d1"]
    assert user["links"]["ring"]["members"] == ["u1", "u2"]
    assert [d["event_id"] for d in user["recent_decisions"]] == ["f1", "s1"]
    assert user["recent_decisions"][0]["action"] in {"allow", "challenge", "review", "block"}


def test_an_address_is_looked_up_by_its_pseudonym_and_answered_as_sent(served: Served) -> None:
    client, keys = served
    for event in (signup("s1", "u1", 0), failed_login("f1", "u1", 1), failed_login("f2", "u2", 2)):
        client.post("/v1/events", json=event, headers=keys["ingest"])
    answer = client.get(f"/v1/entities/ip/{ADDRESS}", headers=keys["analyst"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["entity_id"] == ADDRESS
    assert [d["event_id"] for d in body["recent_decisions"]] == ["f2", "f1", "s1"]
    assert body["flagged_areas"] == ["account_integrity"]
    assert [v["area"] for v in body["verdicts"]] == ["account_integrity"]
    # Neither the address's pseudonym nor another entity's PII (u1's e-mail) is in any answer.
    for path in (f"/v1/entities/ip/{ADDRESS}", "/v1/entities/user/u1", "/v1/entities/device/d1"):
        text = client.get(path, headers=keys["analyst"]).text
        assert DEMO.token("ip", ADDRESS) not in text
        assert DEMO.token("email", EMAIL) not in text
        assert EMAIL not in text
        assert "ann.lee" not in text
    # The address written another way is the same entity (normalised as intake does), answered
    # as this caller wrote it.
    other = client.get("/v1/entities/ip/203.0.113.9%20", headers=keys["analyst"]).json()
    assert other["entity_id"] == "203.0.113.9 "
    assert other["recent_decisions"] == body["recent_decisions"]


def test_unknown_types_are_404_and_unknown_entities_are_empty(served: Served) -> None:
    client, keys = served
    wrong = client.get("/v1/entities/planet/p1", headers=keys["analyst"])
    assert wrong.status_code == 404
    assert wrong.json()["detail"] == (
        f"unknown entity type; the types are {', '.join(ENTITY_TYPES)}"
    )
    long = client.get(f"/v1/entities/user/{'x' * 129}", headers=keys["analyst"])
    assert long.status_code == 404
    assert "1 to 128 characters" in long.json()["detail"]
    empty = client.get("/v1/entities/user/nobody", headers=keys["analyst"])
    assert empty.status_code == 200
    assert empty.json() == {
        "entity_type": "user",
        "entity_id": "nobody",
        "known": False,
        "as_of": None,
        "features": {},
        "flagged_areas": [],
        "verdicts": [],
        "links": {},
        "recent_decisions": [],
    }


def test_roles(served: Served) -> None:
    client, keys = served
    expected: dict[Role, int] = {"analyst": 200, "investigator": 200, "admin": 200, "ingest": 403}
    for role, status in expected.items():
        assert client.get("/v1/entities/user/u1", headers=keys[role]).status_code == status
    assert client.get("/v1/entities/user/u1").status_code == 401


def test_the_index_is_fed_by_the_replay(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    headers = {"Authorization": f"Bearer {keys.create('analyst')}"}
    ingest = {"Authorization": f"Bearer {keys.create('ingest')}"}
    with Scorer.open(tmp_path, demo=True) as scorer, TestClient(create_app(scorer, keys)) as c:
        for event in (signup("s1", "u1", 0), failed_login("f1", "u1", 1)):
            c.post("/v1/events", json=event, headers=ingest)
        before = c.get("/v1/entities/user/u1", headers=headers).json()
    index = EntityIndex()
    with (
        Scorer.open(tmp_path, demo=True, observers=[index]) as scorer,
        TestClient(create_app(scorer, keys, entities=index)) as client,
    ):
        after = client.get("/v1/entities/user/u1", headers=headers).json()
    assert after == before
    assert [d["event_id"] for d in after["recent_decisions"]] == ["f1", "s1"]


def test_reads_change_nothing_the_engine_decides(tmp_path: Path) -> None:
    """A read must not move the graphs' state: the decisions and the engine's state are those of
    a run without reads (else a restart, which replays no reads, would answer otherwise)."""
    events = [
        json.dumps(e).encode()
        for second in range(0, 50, 5)
        for e in (
            signup(f"s{second}", f"u{second}", second),
            failed_login(f"f{second}", f"u{second}", second + 1),
        )
    ]
    outcomes = []
    for reading in (False, True):
        folder = tmp_path / str(reading)
        with Scorer.open(folder, demo=True) as scorer:
            answers = []
            for raw in events:
                answers.append(scorer.score(raw))
                if reading:
                    for kind, name in (("user", "u0"), ("device", "d1"), ("ip", ADDRESS)):
                        scorer.read(
                            partial(view_entity, index=None, entity_type=kind, entity_id=name)
                        )
            state = msgspec.json.encode(scorer.engine.state())
            outcomes.append((answers, state, scorer.engine.features.snapshot()))
    assert outcomes[0] == outcomes[1]


def test_memory_is_bounded() -> None:
    index = EntityIndex(max_entities=1_000)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for entity in range(3_000):
        for event in range(RECENT_PER_ENTITY + 5):
            record = RecentDecision(
                event_id=f"event-{entity:08d}-{event:04d}",
                ts=datetime(2026, 3, 1, 10, minute=event % 60, tzinfo=UTC),
                action="allow",
                score=event / 100,
            )
            index.note("user", f"user-{entity:08d}", record)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(index) == 1_000
    assert len(index.recent("user", "user-00002999")) == RECENT_PER_ENTITY
    assert index.recent("user", "user-00000000") == []
    # Every record unshared here (the worst case): ~4.7 KB an entity with 20 decisions.
    assert held / 1_000 < 5_500, held


def test_the_index_never_keeps_an_address_in_clear() -> None:
    privacy = EventPrivacy.for_demo()
    accepted = privacy.protect(decode_event(json.dumps(failed_login("f1", "u1", 0)).encode()))
    found_at = datetime(2026, 3, 1, 10, tzinfo=UTC)

    def verdict(address: str) -> Verdict:
        return Verdict(
            entity_type="ip",
            entity_id=address,
            area="account_integrity",
            score=0.8,
            action="block",
            found_at=found_at,
        )

    answer = Answer(
        event_id="f1",
        action="block",
        score=0.8,
        reasons=[],
        verdicts=[verdict(ADDRESS), verdict("198.51.100.1")],
    )
    blind = EntityIndex()
    blind.add(accepted, answer)
    # The event's own address is keyed by the event's pseudonym; another one is dropped.
    assert [v.area for v in blind.verdicts("ip", DEMO.token("ip", ADDRESS))] == [
        "account_integrity"
    ]
    assert blind.verdicts("ip", DEMO.token("ip", "198.51.100.1")) == []
    seeing = EntityIndex(pseudonymize_ip=lambda ip: DEMO.token("ip", ip))
    seeing.add(accepted, answer)
    assert len(seeing.verdicts("ip", DEMO.token("ip", "198.51.100.1"))) == 1
    assert seeing.verdicts("ip", "198.51.100.1") == []
    assert [d.event_id for d in seeing.recent("ip", DEMO.token("ip", ADDRESS))] == ["f1"]
    assert seeing.recent("ip", ADDRESS) == []
