"""The HTTP API in process (Litestar's TestClient): scoring, errors, limits, roles, metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from rampart.service.http import (
    MAX_BATCH_EVENTS,
    MAX_DEPTH,
    MAX_EVENT_BYTES,
    _too_deep,
    create_app,
    nesting_depth,
)
from rampart.service.keys import ROLES, KeyStore, Role
from rampart.service.scorer import Scorer

Client = TestClient[Litestar]
Served = tuple[Client, dict[Role, dict[str, str]]]


def login(event_id: str, second: int = 0, **extra: object) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": "account.login",
        "ts": f"2026-03-01T10:00:{second:02d}Z",
        "user_id": "u1",
        "ip": "203.0.113.9",
        "props": {"success": True},
        **extra,
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    keys = KeyStore(tmp_path)
    headers = {role: {"Authorization": f"Bearer {keys.create(role)}"} for role in ROLES}
    with Scorer.open(tmp_path, demo=True) as scorer, TestClient(create_app(scorer, keys)) as client:
        yield client, headers


def test_an_event_is_scored_and_its_decision_read_back(
    served: Served,
) -> None:
    client, keys = served
    answer = client.post("/v1/events", json=login("e1"), headers=keys["ingest"])
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert decision["event_id"] == "e1"
    assert decision["action"] in {"allow", "challenge", "review", "block"}
    again = client.post("/v1/events", json=login("e1", 9), headers=keys["ingest"])
    assert again.status_code == 200
    assert again.headers["rampart-duplicate"] == "true"
    assert again.json() == {k: v for k, v in decision.items() if k != "verdicts"}
    for role in ("analyst", "investigator", "admin"):
        read = client.get("/v1/decisions/e1", headers=keys[role])
        assert read.status_code == 200
        assert read.json() == again.json()
    missing = client.get("/v1/decisions/nope", headers=keys["analyst"])
    assert missing.status_code == 404


def test_a_bad_event_is_a_422_with_the_precise_error(
    served: Served,
) -> None:
    client, keys = served
    bad = login("e2")
    bad["props"] = {"success": "yes"}
    answer = client.post("/v1/events", json=bad, headers=keys["ingest"])
    assert answer.status_code == 422
    assert answer.json() == {
        "error": {
            "line": 1,
            "event_id": "e2",
            "path": "props.success",
            "reason": "must be a boolean, got a string",
        }
    }
    broken = client.post("/v1/events", content=b"{oops", headers=keys["ingest"])
    assert broken.status_code == 422
    assert broken.json()["error"]["path"] == ""
    assert "not valid JSON" in broken.json()["error"]["reason"]


def test_pii_is_not_repeated_beyond_what_was_sent(
    served: Served,
) -> None:
    client, keys = served
    event = {
        "event_id": "a1",
        "type": "account.created",
        "ts": "2026-03-01T10:00:00Z",
        "user_id": "u9",
        "props": {"email": 12345, "phone": "+6591234567"},
    }
    answer = client.post("/v1/events", json=event, headers=keys["ingest"])
    assert answer.status_code == 422
    assert answer.json()["error"]["path"] == "props.email"
    assert "+6591234567" not in answer.text


def test_limits_on_size_and_nesting(
    served: Served,
) -> None:
    client, keys = served
    big = login("big", extra="x" * MAX_EVENT_BYTES)
    assert client.post("/v1/events", json=big, headers=keys["ingest"]).status_code == 413
    deep: object = 1
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    nested = client.post("/v1/events", json=login("deep", extra=deep), headers=keys["ingest"])
    assert nested.status_code == 422
    assert "nested deeper" in nested.json()["error"]["reason"]
    # Depth inside strings does not count.
    shallow = login("shallow", extra="[" * 1000)
    assert client.post("/v1/events", json=shallow, headers=keys["ingest"]).status_code == 200
    # In a batch: one event too deep, or a body nested far past msgspec's own limit.
    batch = [login("fine"), login("deep-in-batch", extra=deep)]
    refused = client.post("/v1/events:batch", json=batch, headers=keys["ingest"])
    assert refused.status_code == 422
    assert "nested deeper" in refused.json()["error"]["reason"]
    abyss = b"[" * 100_000 + b"]" * 100_000
    refused = client.post("/v1/events:batch", content=abyss, headers=keys["ingest"])
    assert refused.status_code == 422
    assert "nested deeper" in refused.json()["error"]["reason"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.text(alphabet='[]{}"\\ab', max_size=64).map(str.encode))
def test_the_bracket_count_shortcut_agrees_with_the_exact_depth(body: bytes) -> None:
    for limit in (0, 1, 3):
        assert (_too_deep(body, limit) is None) == (nesting_depth(body) <= limit)


def test_a_batch_scores_the_good_items_and_keeps_errors_in_place(
    served: Served,
) -> None:
    client, keys = served
    body = [login("b1"), {"event_id": "b2", "type": "nope"}, login("b3", 1), "text"]
    answer = client.post("/v1/events:batch", json=body, headers=keys["ingest"])
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["accepted"], result["rejected"]) == (2, 2)
    statuses = [(item["index"], item["status"]) for item in result["results"]]
    assert statuses == [(0, 200), (1, 422), (2, 200), (3, 422)]
    assert result["results"][1]["error"]["line"] == 2
    assert result["results"][1]["error"]["path"] == "type"
    assert result["results"][2]["decision"]["event_id"] == "b3"
    too_many = [login(f"m{i}") for i in range(MAX_BATCH_EVENTS + 1)]
    over = client.post("/v1/events:batch", json=too_many, headers=keys["ingest"])
    assert over.status_code == 413
    assert str(MAX_BATCH_EVENTS) in over.json()["detail"]
    not_list = client.post("/v1/events:batch", json=login("x"), headers=keys["ingest"])
    assert not_list.status_code == 422


def test_labels_are_applied(served: Served) -> None:
    client, keys = served
    label = {"entity_type": "user", "entity_id": "u1", "area": "account_integrity", "label": 1}
    assert client.post("/v1/labels", json=label, headers=keys["ingest"]).status_code == 422
    client.post("/v1/events", json=login("l1", 3), headers=keys["ingest"])
    taken = client.post("/v1/labels", json=label, headers=keys["ingest"])
    assert taken.status_code == 200, taken.text
    assert taken.json()["label"]["ts"].startswith("2026-03-01T10:00:03")
    bad = client.post("/v1/labels", json={**label, "area": "x"}, headers=keys["ingest"])
    assert bad.status_code == 422
    assert bad.json()["error"]["path"] == "area"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/v1/events", {"ingest", "admin"}),
        ("POST", "/v1/events:batch", {"ingest", "admin"}),
        ("POST", "/v1/events:noop", {"ingest", "admin"}),
        ("POST", "/v1/labels", {"ingest", "admin"}),
        ("GET", "/v1/decisions/e1", {"analyst", "investigator", "admin"}),
        ("GET", "/v1/entities/user/u1", {"analyst", "investigator", "admin"}),
        ("GET", "/metrics", {"admin"}),
    ],
)
def test_every_endpoint_checks_the_key_and_its_role(
    served: Served, method: str, path: str, allowed: set[str]
) -> None:
    client, keys = served
    body = json.dumps([login("e1")] if path.endswith("batch") else login("e1"))
    assert client.request(method, path, content=body).status_code == 401
    wrong = client.request(method, path, content=body, headers={"X-API-Key": "rk_00_bad"})
    assert wrong.status_code == 401
    for role in ROLES:
        status = client.request(method, path, content=body, headers=keys[role]).status_code
        assert (status == 403) == (role not in allowed), (role, status)
    api_key = keys["admin"]["Authorization"].removeprefix("Bearer ")
    via_header = client.request(method, path, content=body, headers={"X-API-Key": api_key})
    assert via_header.status_code not in {401, 403}


def test_health_readiness_openapi_and_metrics(
    served: Served,
) -> None:
    client, keys = served
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "replayed": 0}
    schema = client.get("/schema/openapi.json").json()
    assert {"/v1/events", "/v1/events:batch", "/v1/labels"} <= set(schema["paths"])
    # The raw bodies are documented with the contract's event schema.
    body = schema["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    (login_schema,) = [s for s in body["schema"]["anyOf"] if s["title"] == "AccountLogin"]
    assert {"event_id", "type", "ts", "user_id", "props"} <= set(login_schema["required"])
    assert login_schema["properties"]["props"]["required"] == ["success"]
    batch = schema["paths"]["/v1/events:batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"]["maxItems"] == MAX_BATCH_EVENTS
    client.post("/v1/events", json=login("m1"), headers=keys["ingest"])
    client.post("/v1/events", content=b"[]", headers=keys["ingest"])
    metrics = client.get("/metrics", headers=keys["admin"])
    assert metrics.status_code == 200
    text = metrics.text
    assert 'rampart_http_requests_total{method="POST",route="/v1/events",status="200"} 1.0' in text
    assert 'rampart_decisions_total{action="allow"} 1.0' in text
    assert 'rampart_rejects_total{kind="invalid"} 1.0' in text
    assert "rampart_http_request_seconds_bucket" in text


def test_the_noop_endpoint_checks_like_events_and_scores_nothing(served: Served) -> None:
    client, keys = served
    answer = client.post("/v1/events:noop", json=login("n1"), headers=keys["ingest"])
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "scored": False}
    # Any body is read and nothing is scored or validated beyond size and nesting.
    assert client.post("/v1/events:noop", content=b"{oops", headers=keys["ingest"]).is_success
    assert client.get("/v1/decisions/n1", headers=keys["analyst"]).status_code == 404
    big = login("big", extra="x" * MAX_EVENT_BYTES)
    assert client.post("/v1/events:noop", json=big, headers=keys["ingest"]).status_code == 413
    deep: object = 1
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    nested = client.post("/v1/events:noop", json=login("d", extra=deep), headers=keys["ingest"])
    assert nested.status_code == 422
    assert "nested deeper" in nested.json()["error"]["reason"]
