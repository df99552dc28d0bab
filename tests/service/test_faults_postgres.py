"""PostgreSQL unreachable: the admin endpoints answer 503, scoring goes on, and both recover.

The records reach the real PostgreSQL through a TCP proxy in this test; stopping the proxy
refuses new connections and cuts the open ones (what a database restart or a network cut does
to the pool). Nothing is mocked: the app, SQLAlchemy, psycopg and the server are real.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rampart.records.store import Records
from rampart.service.http import create_app
from rampart.service.keys import KeyStore
from rampart.service.scorer import Scorer

POSTGRES_URL = os.environ.get(
    "RAMPART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# PostgreSQL trusts local connections here, so any password goes: it must never be shown.
PASSWORD = "s3cret-pw-never-shown"
RULE = "/v1/admin/packs/default/rules/quick_relogin"


class Proxy:
    """A TCP proxy to ``upstream`` on a fixed local port that can be stopped and started."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # Closing alone leaves it listening while a thread waits in accept(): shut it.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            cut, self._open = self._open, set()
        for sock in cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def schema() -> Iterator[str]:
    admin = create_engine(POSTGRES_URL)
    name = f"faults_test_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield name
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    url = make_url(POSTGRES_URL)
    running = Proxy((url.host or "127.0.0.1", url.port or 5432))
    running.start()
    yield running
    running.stop()


def login(event_id: str, second: int) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": "account.login",
        "ts": f"2026-03-01T10:00:{second:02d}Z",
        "user_id": "u1",
        "device": {"id": f"d-{event_id}"},
        "props": {"success": True},
    }


def rule(weight: float) -> dict[str, object]:
    return {
        "expression": 'event.type == "account.login" and features.user_since_login < 60',
        "areas": ["account_integrity"],
        "action": "block",
        "weight": weight,
        "mode": "live",
    }


def test_records_outage_is_a_clear_503_scoring_goes_on_and_it_recovers(
    tmp_path: Path, schema: str, proxy: Proxy, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_url(POSTGRES_URL).set(
        password=PASSWORD,
        host="127.0.0.1",
        port=proxy.port,
        query={"options": f"-csearch_path={schema}"},
    )
    keys = KeyStore(tmp_path)
    admin = {"Authorization": f"Bearer {keys.create('admin')}"}
    ingest = {"Authorization": f"Bearer {keys.create('ingest')}"}
    entry = {"value": "u9", "kind": "deny", "reason": "case 3"}
    with (
        Records.open(url.render_as_string(hide_password=False)) as records,
        Scorer.open(tmp_path / "data", demo=True) as scorer,
        TestClient(create_app(scorer, keys, records=records)) as client,
    ):
        assert client.put(RULE, json=rule(0.9), headers=admin).status_code == 200
        assert (
            client.post("/v1/admin/lists/bad/entries", json=entry, headers=admin).status_code == 200
        )

        proxy.stop()
        caplog.clear()
        answers = [
            client.get("/v1/admin/lists", headers=admin),
            client.get(f"{RULE}/history", headers=admin),
            client.get("/v1/admin/models", headers=admin),
            client.put(RULE, json=rule(0.5), headers=admin),
            client.post(f"{RULE}/mode", json={"mode": "off", "reason": "r"}, headers=admin),
            client.post("/v1/admin/lists/bad/entries", json=entry, headers=admin),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            detail = answer.json()["detail"]
            assert detail.startswith("the records database cannot be reached (")
            assert "nothing was changed" in detail
            for secret in (PASSWORD, "postgres", str(proxy.port), "Traceback"):
                assert secret not in answer.text
        assert PASSWORD not in caplog.text
        # Nothing reached the engine: the rule runs as it was, live at 0.9.
        served = client.get(RULE, headers=admin).json()
        assert served["definition"]["weight"] == 0.9
        assert served["definition"]["mode"] == "live"
        # Scoring does not use the records.
        for second in (0, 10):
            scored = client.post("/v1/events", json=login(f"e{second}", second), headers=ingest)
            assert scored.status_code == 200
        assert scored.json()["action"] == "block"
        assert client.get("/readyz").status_code == 200

        proxy.start()
        # The pool's stale connections were cut: each is tested before use and replaced.
        lists = client.get("/v1/admin/lists", headers=admin)
        assert lists.status_code == 200, lists.text
        assert [e["note"] for e in lists.json()[0]["entries"]] == ["case 3"]
        assert client.put(RULE, json=rule(0.5), headers=admin).status_code == 200
        assert client.get(RULE, headers=admin).json()["definition"]["weight"] == 0.5
        history = client.get(f"{RULE}/history", headers=admin).json()
        assert [v["mode"] for v in history["versions"]] == ["off", "live"]


def test_a_records_database_down_at_the_first_call_recovers_too(
    tmp_path: Path, schema: str, proxy: Proxy
) -> None:
    url = make_url(POSTGRES_URL).set(
        host="127.0.0.1", port=proxy.port, query={"options": f"-csearch_path={schema}"}
    )
    keys = KeyStore(tmp_path)
    analyst = {"Authorization": f"Bearer {keys.create('analyst')}"}
    with Records.open(url.render_as_string(hide_password=False)) as records:
        # Opened (migrated) while up, then down before the server's first records call.
        records.engine.dispose()
        proxy.stop()
        with (
            Scorer.open(tmp_path / "data", demo=True) as scorer,
            TestClient(create_app(scorer, keys, records=records)) as client,
        ):
            assert client.get("/v1/admin/models", headers=analyst).status_code == 503
            assert client.get("/v1/admin/packs", headers=analyst).status_code == 200
            proxy.start()
            assert client.get("/v1/admin/models", headers=analyst).json() == []
