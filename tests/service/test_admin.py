"""Admin endpoints over a real records database (SQLite and PostgreSQL): rules, lists, models.

Every change is checked, recorded with its audit rows (actor: the key's id), applied to the
running engine and replayed after a restart. PostgreSQL is the one `.ci/run` starts; each test
gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from rampart.records.store import Records
from rampart.service.admin import reconcile_lists
from rampart.service.changes import served_rules
from rampart.service.http import create_app
from rampart.service.keys import ROLES, KeyStore, Role
from rampart.service.scorer import Scorer

Client = TestClient[Litestar]
Headers = dict[Role, dict[str, str]]
RULE = "/v1/admin/packs/default/rules/quick_relogin"
FUZZ_EXAMPLES = 15  # per operation (11 operations, ~30 s)
QUICK = 'event.type == "account.login" and features.user_since_login < 60'


@pytest.fixture
def records_url(database_url: str) -> str:
    """An empty records database on SQLite and on PostgreSQL (tests/conftest.py)."""
    return database_url


class Served:
    def __init__(self, data_dir: Path, records_url: str) -> None:
        self.data_dir = data_dir
        self.records_url = records_url
        self.keys = KeyStore(data_dir)
        self.raw: dict[Role, str] = {role: self.keys.create(role) for role in ROLES}
        self.headers: Headers = {
            role: {"Authorization": f"Bearer {key}"} for role, key in self.raw.items()
        }

    def actor(self, role: Role) -> str:
        return "key:" + self.raw[role].split("_")[1]

    def open(self) -> Iterator[tuple[Client, Scorer, Records]]:
        with (
            Records.open(self.records_url) as records,
            Scorer.open(self.data_dir, demo=True) as scorer,
            TestClient(create_app(scorer, self.keys, records=records)) as client,
        ):
            yield client, scorer, records


@pytest.fixture
def served(tmp_path: Path, records_url: str) -> Served:
    return Served(tmp_path / "data", records_url)


def login(event_id: str, second: int, *, ip: str = "203.0.113.9") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "account.login",
        "ts": f"2026-03-01T10:00:{second:02d}Z",
        "user_id": "u1",
        "ip": ip,
        # A device per event: a blocked event's device would carry a challenge to later ones.
        "device": {"id": f"d-{event_id}"},
        "props": {"success": True},
    }


def score(client: Client, headers: Headers, event: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/v1/events", json=event, headers=headers["ingest"])
    assert answer.status_code == 200, answer.text
    decision: dict[str, Any] = answer.json()
    return decision


def rule_body(expression: str = QUICK, **extra: Any) -> dict[str, Any]:
    return {
        "expression": expression,
        "areas": ["account_integrity"],
        "action": "block",
        "weight": 0.9,
        "mode": "live",
        **extra,
    }


def test_roles_decide_who_reads_and_who_changes(served: Served) -> None:
    for client, _, _ in served.open():
        keys = served.headers
        assert client.get("/v1/admin/packs").status_code == 401
        for role in ROLES:
            assert client.get("/v1/admin/packs", headers=keys[role]).status_code == (
                403 if role in ("ingest", "investigator") else 200
            )
            assert client.get("/v1/admin/lists", headers=keys[role]).status_code == (
                403 if role == "ingest" else 200
            )
            put = client.put(RULE, json=rule_body(), headers=keys[role])
            assert put.status_code == (200 if role == "admin" else 403), put.text
            entry = {"value": f"u-{role}", "kind": "deny", "reason": "case 17"}
            added = client.post("/v1/admin/lists/bad_users/entries", json=entry, headers=keys[role])
            assert added.status_code == (200 if role in ("investigator", "admin") else 403)
        assert client.get("/v1/admin/models", headers=keys["analyst"]).status_code == 200


def test_a_rule_put_is_checked_recorded_audited_applied_and_replayed(served: Served) -> None:
    keys = served.headers
    for client, _, records in served.open():
        typo = client.put(
            RULE, json=rule_body("features.user_since_logins < 60"), headers=keys["admin"]
        )
        assert typo.status_code == 422
        assert typo.json()["error"]["rule"] == "quick_relogin"
        assert typo.json()["error"]["problems"] == [
            {
                "line": 1,
                "column": 1,
                "message": "unknown name 'features.user_since_logins'",
                "suggestion": "features.user_since_login",
            }
        ]
        assert records.rules.history("default", "quick_relogin") == []
        assert score(client, keys, login("e1", 0))["action"] == "allow"
        assert score(client, keys, login("e2", 10))["action"] == "allow"
        put = client.put(RULE, json=rule_body(reason="relogin storm"), headers=keys["admin"])
        assert put.status_code == 200, put.text
        assert put.json()["rule"]["definition"]["expression"] == QUICK
        assert put.json()["version"]["created_by"] == served.actor("admin")
        assert score(client, keys, login("e3", 20))["action"] == "block"
        read = client.get(RULE, headers=keys["analyst"])
        assert read.json() == put.json()["rule"]
        packs = client.get("/v1/admin/packs", headers=keys["analyst"]).json()
        assert [p["name"] for p in packs] == ["default"]
        assert "quick_relogin" in {rule["name"] for rule in packs[0]["rules"]}
        history = client.get(f"{RULE}/history", headers=keys["analyst"]).json()
        assert [v["mode"] for v in history["versions"]] == ["live"]
        actions = [row["action"] for row in history["audit"]]
        assert "rule_version.add" in actions
        defined = next(row for row in history["audit"] if row["action"] == "rule_version.define")
        assert defined["actor"] == served.actor("admin")
        assert defined["before"] is None
        assert defined["after"]["reason"] == "relogin storm"
        assert defined["after"]["areas"] == ["account_integrity"]
        # Only the key's id is kept: its secret appears nowhere in the audit trail.
        trail = json.dumps([str(entry) for entry in records.audit.entries()])
        assert all(key.split("_", 2)[2] not in trail for key in served.raw.values())
        off = client.post(
            f"{RULE}/mode", json={"mode": "off", "reason": "too noisy"}, headers=keys["admin"]
        )
        assert off.status_code == 200, off.text
        assert off.json() | {"turned_off": []} == {
            "before": "live",
            "after": "off",
            "changed": True,
            "turned_off": [],
            "applied": True,
            "note": "",
        }
        assert score(client, keys, login("e4", 30))["action"] == "allow"
        promotion = [e for e in records.audit.entries() if e.action == "promotion"]
        assert promotion[-1].after == {"mode": "off", "reason": "too noisy"}
        assert promotion[-1].actor == served.actor("admin")
        decisions = {
            e: client.get(f"/v1/decisions/{e}", headers=keys["analyst"]).json()
            for e in ("e1", "e2", "e3", "e4")
        }
    for client, scorer, _ in served.open():
        assert scorer.replayed == 4
        again = {
            e: client.get(f"/v1/decisions/{e}", headers=keys["analyst"]).json() for e in decisions
        }
        assert again == decisions
        assert client.get(RULE, headers=keys["analyst"]).json()["definition"]["mode"] == "off"


def test_a_new_version_turns_the_live_one_off_and_a_pack_rule_is_recorded_first(
    served: Served,
) -> None:
    keys = served.headers
    for client, _, records in served.open():
        packs = client.get("/v1/admin/packs", headers=keys["analyst"]).json()
        live = next(r for r in packs[0]["rules"] if r["definition"]["mode"] == "live")
        path = f"/v1/admin/packs/default/rules/{live['name']}"
        changed = {**live["definition"], "weight": 0.11, "reason": "calibrated"}
        answer = client.put(path, json=changed, headers=keys["admin"])
        assert answer.status_code == 200, answer.text
        versions = records.rules.history("default", live["name"])
        # The pack's version is recorded as it ran, then turned off by the new live one.
        assert [(v.version_hash, v.mode) for v in versions] == [
            (live["version_hash"], "off"),
            (answer.json()["rule"]["version_hash"], "live"),
        ]
        defined = [e for e in records.audit.entries() if e.action == "rule_version.define"]
        assert defined[-1].before is not None
        assert defined[-1].before["weight"] == live["definition"]["weight"]
        assert defined[-1].after is not None
        assert defined[-1].after["weight"] == 0.11


def test_list_entries_are_pseudonymised_audited_and_read_by_rules(served: Served) -> None:
    keys = served.headers
    for client, _, records in served.open():
        rule = rule_body('in_list(event.ip, "bad_ips")')
        path = "/v1/admin/packs/default/rules/bad_ip"
        assert client.put(path, json=rule, headers=keys["admin"]).status_code == 200
        assert score(client, keys, login("l1", 0, ip="198.51.100.7"))["action"] == "allow"
        entry = {"value": "198.51.100.7", "kind": "deny", "reason": "card testing, case 4"}
        added = client.post(
            "/v1/admin/lists/bad_ips/entries", json=entry, headers=keys["investigator"]
        )
        assert added.status_code == 200, added.text
        assert added.json()["value"].startswith("ip_")
        assert added.json()["added_by"] == served.actor("investigator")
        assert score(client, keys, login("l2", 1, ip="198.51.100.7"))["action"] == "block"
        assert score(client, keys, login("l3", 2, ip="198.51.100.8"))["action"] == "allow"
        listed = client.get("/v1/admin/lists/bad_ips", headers=keys["analyst"]).json()
        assert listed["kind"] == "deny"
        assert [e["note"] for e in listed["entries"]] == ["card testing, case 4"]
        allow = {"value": "x", "kind": "allow", "reason": "r"}
        clash = client.post("/v1/admin/lists/bad_ips/entries", json=allow, headers=keys["admin"])
        assert clash.status_code == 409
        removal = {"value": "198.51.100.7", "reason": "cleared on appeal"}
        removed = client.post(
            "/v1/admin/lists/bad_ips/entries:remove", json=removal, headers=keys["investigator"]
        )
        assert removed.json() == {"removed": True}
        assert score(client, keys, login("l4", 3, ip="198.51.100.7"))["action"] == "allow"
        trail = [e for e in records.audit.entries() if e.target == "lists"]
        assert [e.action for e in trail] == ["list.add", "list.remove", "list.remove.reason"]
        assert trail[-1].after == {"reason": "cleared on appeal"}
        assert "198.51.100.7" not in json.dumps([str(e) for e in records.audit.entries()])
    for client, _, _ in served.open():
        assert score(client, keys, login("l5", 4, ip="198.51.100.7"))["action"] == "allow"


def test_list_entries_in_the_records_reach_an_engine_started_on_a_new_journal(
    served: Served, tmp_path: Path
) -> None:
    keys = served.headers
    entry = {"value": "198.51.100.7", "kind": "deny", "reason": "card testing, case 4"}
    for client, scorer, records in served.open():
        path = "/v1/admin/lists/bad_ips/entries"
        assert client.post(path, json=entry, headers=keys["investigator"]).status_code == 200
        assert reconcile_lists(scorer, records) == 0  # the engine has it already
        pseudonym = next(iter(served_rules(scorer.engine).lists.entries("bad_ips")))
    # Same records, a new data folder (a new journal): the entry is missing, then applied.
    with (
        Records.open(served.records_url) as records,
        Scorer.open(tmp_path / "fresh", demo=True) as fresh,
    ):
        assert "bad_ips" not in served_rules(fresh.engine).lists.names()
        assert reconcile_lists(fresh, records) == 1
        assert pseudonym in served_rules(fresh.engine).lists.entries("bad_ips")
    with Scorer.open(tmp_path / "fresh", demo=True) as replayed:  # logged: replayed in place
        assert pseudonym in served_rules(replayed.engine).lists.entries("bad_ips")


def test_model_modes_are_recorded_and_said_not_applied(served: Served) -> None:
    keys = served.headers
    for client, _, records in served.open():
        records.models.record("m" * 64, "scalper", {"auc": 0.9}, "shadow", actor="train")
        listed = client.get("/v1/admin/models", headers=keys["analyst"]).json()
        assert [(m["area"], m["mode"], m["report"]) for m in listed] == [
            ("scalper", "shadow", {"auc": 0.9})
        ]
        path = f"/v1/admin/models/scalper/{'m' * 64}/mode"
        body = {"mode": "live", "reason": "beats rules on February"}
        assert client.post(path, json=body, headers=keys["analyst"]).status_code == 403
        answer = client.post(path, json=body, headers=keys["admin"])
        assert answer.status_code == 200, answer.text
        assert answer.json()["after"] == "live"
        assert answer.json()["applied"] is False
        assert "recorded only" in answer.json()["note"]
        assert records.models.find("m" * 64, "scalper").mode == "live"  # type: ignore[union-attr]
        missing = client.post(
            f"/v1/admin/models/scalper/{'n' * 64}/mode", json=body, headers=keys["admin"]
        )
        assert missing.status_code == 404
        unknown_area = client.post(
            f"/v1/admin/models/nowhere/{'m' * 64}/mode", json=body, headers=keys["admin"]
        )
        assert unknown_area.status_code == 404


def test_bad_input_is_a_4xx_never_a_500(served: Served) -> None:
    keys = served.headers["admin"]
    for client, _, _ in served.open():
        cases: list[tuple[str, str, Any, int]] = [
            ("PUT", RULE, b"{oops", 400),
            ("PUT", RULE, {"expression": "1 +", "areas": ["scalper"]}, 400),
            ("PUT", RULE, rule_body(mode="sometimes"), 400),
            ("PUT", RULE, rule_body(weight=2), 400),
            ("PUT", RULE, rule_body("event.props.total > 'big'"), 422),
            ("PUT", RULE, rule_body("(" * 5000), 400),
            ("PUT", RULE, rule_body("(" * 1000 + "1" + ")" * 1000), 422),
            ("PUT", "/v1/admin/packs/other/rules/x", rule_body(), 404),
            ("PUT", "/v1/admin/packs/default/rules/bad%20name", rule_body(), 422),
            ("POST", f"{RULE}/mode", {"mode": "live", "reason": "x"}, 404),
            ("POST", f"{RULE}/mode", {"mode": "live"}, 400),
            ("GET", "/v1/admin/packs/default/rules/nope", None, 404),
            ("GET", "/v1/admin/lists/no%20such", None, 422),
            (
                "POST",
                "/v1/admin/lists/l/entries",
                {"value": "", "kind": "deny", "reason": "r"},
                400,
            ),
            (
                "POST",
                "/v1/admin/lists/l/entries",
                {"value": "v", "kind": "maybe", "reason": "r"},
                400,
            ),
            (
                "POST",
                "/v1/admin/lists/l/entries",
                {"value": "v", "kind": "deny", "reason": "r", "expires_at": "2026-03-01T10:00:00"},
                400,
            ),
        ]
        for method, path, body, status in cases:
            if isinstance(body, bytes):
                answer = client.request(method, path, content=body, headers=keys)
            else:
                answer = client.request(method, path, json=body, headers=keys)
            assert answer.status_code == status, (method, path, answer.text)
            assert "Traceback" not in answer.text


def test_without_records_the_admin_writes_answer_503(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    admin = {"Authorization": f"Bearer {keys.create('admin')}"}
    with Scorer.open(tmp_path, demo=True) as scorer, TestClient(create_app(scorer, keys)) as client:
        answer = client.put(RULE, json=rule_body(), headers=admin)
        assert answer.status_code == 503
        assert "no records database" in answer.json()["detail"]
        # Nothing was applied: the rule is not served.
        assert client.get(RULE, headers=admin).status_code == 404
        assert client.get("/v1/admin/packs", headers=admin).status_code == 200


def test_fuzzed_admin_calls_never_answer_a_server_error(tmp_path: Path) -> None:
    """Schemathesis over the admin part of the OpenAPI document, with records behind it:
    valid and broken requests, no 500, and every documented answer as documented."""
    keys = KeyStore(tmp_path)
    admin = {"Authorization": f"Bearer {keys.create('admin')}"}
    with (
        Records.open(tmp_path / "records.sqlite") as records,
        Scorer.open(tmp_path / "data", demo=True) as scorer,
    ):
        app = create_app(scorer, keys, records=records)
        loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
        loaded.config.generation.update(
            modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True
        )
        operations = []
        for result in loaded.get_all_operations():
            assert isinstance(result, Ok), result
            if result.ok().path.startswith("/v1/admin"):
                operations.append(result.ok())
        assert len(operations) == 11
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=FUZZ_EXAMPLES,
                derandomize=True,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(
                    headers=admin, checks=[not_a_server_error, response_schema_conformance]
                )

            call()
