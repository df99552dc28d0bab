"""`rampart serve` for real: SIGKILL it once it answered, restart it: nothing answered is lost."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
from tests.service.serving import free_port as _free_port
from tests.service.serving import key as _key
from tests.service.serving import ready as _ready
from tests.service.serving import serve as _serve
from tests.service.serving import stop as _stop


def test_sigkill_then_restart_keeps_every_answered_event(
    tiny_world_of: Callable[[int], Path], tmp_path: Path
) -> None:
    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()[:1200]
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    ingest = {"Authorization": f"Bearer {_key(data_dir, 'ingest')}"}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(data_dir, port, log)
    try:
        _ready(url, server, log)
        answered: dict[str, bytes] = {}
        with httpx.Client(base_url=url, headers=ingest, timeout=30) as client:
            for start in range(0, 1000, 250):
                batch = b"[" + b",".join(events[start : start + 250]) + b"]"
                reply = client.post("/v1/events:batch", content=batch)
                assert reply.status_code == 200, reply.text
                for item in reply.json()["results"]:
                    if item["status"] == 200:
                        decision = item["decision"]
                        answered[decision["event_id"]] = json.dumps(decision).encode()
            for raw in events[1000:1010]:
                reply = client.post("/v1/events", content=raw)
                assert reply.status_code == 200, reply.text
                decision = reply.json()
                answered[decision["event_id"]] = json.dumps(decision).encode()
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert len(answered) > 900

    restarted = _serve(data_dir, port, log)
    try:
        _ready(url, restarted, log)
        assert httpx.get(f"{url}/readyz").json()["replayed"] == len(answered)
        with httpx.Client(base_url=url, headers=ingest, timeout=30) as client:
            for raw in events[:1010]:
                event_id = json.loads(raw)["event_id"]
                if event_id not in answered:
                    continue
                reply = client.post("/v1/events", content=raw)
                assert reply.status_code == 200, reply.text
                assert reply.headers["rampart-duplicate"] == "true"
                # The whole answer, verdicts included: a re-send is answered as the first time.
                assert json.dumps(reply.json()).encode() == answered[event_id]
            assert client.post("/v1/events", content=events[1010]).status_code == 200
    finally:
        _stop(restarted)
