"""The conformance suite: one script of API calls on each backend, and identical answers.

The script scores a simulated stream with its labels through the HTTP API, changes a rule and a
list half-way (admin endpoints: records and the audit trail), reads decisions, entities and the
rule's history, restarts the server on the same state and re-sends what it had answered. It runs
on the embedded backends (the local write-ahead log, SQLite records) and on the scaled-out ones
(a log shared in the real Redis, PostgreSQL records); each run must hold the suite's properties,
and the two runs must give the same answers, call by call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from tests.conftest import POSTGRES_URL
from tests.service.streams import stream

from rampart.records.store import Records
from rampart.service.entities import EntityIndex
from rampart.service.http import create_app
from rampart.service.keys import ROLES, KeyStore
from rampart.service.scorer import Scorer

REDIS = "redis://127.0.0.1:6379/0"
BACKENDS = ("embedded", "scaled")
# Fields that name a moment or a row of the run rather than what was decided.
_RUN_FIELDS = frozenset(
    {"at", "added_at", "created_at", "changed_at", "version_id", "audit_id", "actor"}
    | {"created_by", "added_by"}
)


@dataclass
class Backend:
    name: str
    folder: Path
    records_url: str
    namespace: str | None = None

    def open_scorer(self, observers: list[EntityIndex]) -> Scorer:
        redis_url = REDIS if self.namespace is not None else None
        return Scorer.open(
            self.folder,
            demo=True,
            observers=observers,
            redis_url=redis_url,
            namespace=self.namespace or "default",
        )


@dataclass
class Transcript:
    """Every answer the script got, in order, as (call, status, body)."""

    calls: list[tuple[str, int, Any]] = field(default_factory=list)

    def add(self, call: str, status: int, body: Any) -> Any:
        self.calls.append((call, status, _without_run_fields(body)))
        return body


def _without_run_fields(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _without_run_fields(v) for k, v in body.items() if k not in _RUN_FIELDS}
    if isinstance(body, list):
        return [_without_run_fields(item) for item in body]
    return body


class _Server:
    """The API over a backend, opened and closed like a server process."""

    def __init__(self, backend: Backend, keys: KeyStore) -> None:
        index = EntityIndex()
        self.scorer = backend.open_scorer([index])
        self.records = Records.open(backend.records_url)
        self.client = TestClient(
            create_app(self.scorer, keys, entities=index, records=self.records, rate_limit=0)
        )
        self.client.__enter__()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.records.close()
        self.scorer.close()


RULE = {
    "expression": 'event.type == "account.login" and features.user_since_login < 300',
    "areas": ["account_integrity"],
    "action": "challenge",
    "weight": 0.7,
    "mode": "live",
    "reason": "quick re-logins seen in the takeover ring",
}


def run_script(backend: Backend, world: Path) -> Transcript:
    keys = KeyStore(backend.folder / "keys")
    headers = {role: {"Authorization": f"Bearer {keys.create(role)}"} for role in ROLES}
    transcript = Transcript()
    batches = list(stream(world))[:6]
    events = [json.loads(raw) for _, batch in batches for raw in batch]
    server = _Server(backend, keys)
    try:
        client = server.client
        for turn, (labels, batch) in enumerate(batches):
            if turn == 3:
                reply = client.put(
                    "/v1/admin/packs/default/rules/quick_relogin",
                    json=RULE,
                    headers=headers["admin"],
                )
                transcript.add("put rule", reply.status_code, reply.json())
                device = next(e["device"]["id"] for e in events if "id" in e.get("device", {}))
                entry = {"value": device, "kind": "deny", "reason": "case 17: confirmed farm"}
                reply = client.post(
                    "/v1/admin/lists/deny_devices/entries",
                    json=entry,
                    headers=headers["investigator"],
                )
                transcript.add("add list entry", reply.status_code, reply.json())
            for label in labels:
                reply = client.post("/v1/labels", content=label, headers=headers["ingest"])
                transcript.add("label", reply.status_code, reply.json())
            body = b"[" + b",".join(batch) + b"]"
            reply = client.post("/v1/events:batch", content=body, headers=headers["ingest"])
            transcript.add("batch", reply.status_code, reply.json())
        for event in events[::97]:
            reply = client.get(f"/v1/decisions/{event['event_id']}", headers=headers["analyst"])
            transcript.add("decision", reply.status_code, reply.json())
        for kind, value in _entities(events):
            reply = client.get(f"/v1/entities/{kind}/{value}", headers=headers["analyst"])
            transcript.add(f"entity {kind}", reply.status_code, reply.json())
        reply = client.get(
            "/v1/admin/packs/default/rules/quick_relogin/history", headers=headers["analyst"]
        )
        transcript.add("history", reply.status_code, reply.json())
    finally:
        server.close()

    restarted = _Server(backend, keys)
    try:
        client = restarted.client
        for event in events[::97]:
            reply = client.get(f"/v1/decisions/{event['event_id']}", headers=headers["analyst"])
            transcript.add("decision after restart", reply.status_code, reply.json())
        body = b"[" + b",".join(batches[0][1]) + b"]"
        reply = client.post("/v1/events:batch", content=body, headers=headers["ingest"])
        transcript.add("re-sent batch", reply.status_code, reply.json())
        reply = client.get(
            "/v1/admin/packs/default/rules/quick_relogin", headers=headers["analyst"]
        )
        transcript.add("rule after restart", reply.status_code, reply.json())
    finally:
        restarted.close()
    return transcript


def _entities(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    chosen = []
    for event in events[::250]:
        if event.get("user_id"):
            chosen.append(("user", event["user_id"]))
        if "id" in event.get("device", {}):
            chosen.append(("device", event["device"]["id"]))
    return chosen


@pytest.fixture(scope="module")
def transcripts(
    tiny_world_of: Callable[[int], Path],
    tmp_path_factory: pytest.TempPathFactory,
    postgres_admin: Engine,
) -> Iterator[dict[str, Transcript]]:
    world = tiny_world_of(3)
    schema = f"conformance_{uuid.uuid4().hex[:16]}"
    namespace = f"conformance-{uuid.uuid4().hex}"
    with postgres_admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    embedded_folder = tmp_path_factory.mktemp("embedded")
    backends = {
        "embedded": Backend(
            "embedded", embedded_folder, f"sqlite+pysqlite:///{embedded_folder / 'records.db'}"
        ),
        "scaled": Backend(
            "scaled",
            tmp_path_factory.mktemp("scaled"),
            f"{POSTGRES_URL}?options=-csearch_path%3D{schema}",
            namespace=namespace,
        ),
    }
    try:
        yield {name: run_script(backend, world) for name, backend in backends.items()}
    finally:
        with postgres_admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        client = redis.Redis.from_url(REDIS)
        for stored in client.scan_iter(f"rampart:{{{namespace}}}:*"):
            client.delete(stored)
        client.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_suite_holds_on_each_backend(backend: str, transcripts: dict[str, Transcript]) -> None:
    calls = transcripts[backend].calls
    assert all(status == 200 for _, status, _ in calls), [c for c in calls if c[1] != 200][:3]
    batches = [body for call, _, body in calls if call == "batch"]
    assert sum(body["accepted"] for body in batches) > 2000
    decided = [body for call, _, body in calls if call == "decision"]
    assert decided == [body for call, _, body in calls if call == "decision after restart"]
    first = next(body for call, _, body in calls if call == "batch")
    resent = next(body for call, _, body in calls if call == "re-sent batch")
    assert [item.get("decision") for item in resent["results"]] == [
        item.get("decision") for item in first["results"]
    ]
    history = next(body for call, _, body in calls if call == "history")
    assert history["versions"], history
    rule = next(body for call, _, body in calls if call == "rule after restart")
    assert rule["definition"]["mode"] == "live"
    entities = [body for call, _, body in calls if call.startswith("entity")]
    assert any(body["recent_decisions"] for body in entities)


def test_embedded_and_scaled_out_give_identical_answers(
    transcripts: dict[str, Transcript],
) -> None:
    embedded, scaled = transcripts["embedded"].calls, transcripts["scaled"].calls
    assert len(embedded) == len(scaled)
    for mine, theirs in zip(embedded, scaled, strict=True):
        assert mine == theirs
