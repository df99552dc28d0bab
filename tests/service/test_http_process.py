"""`rampart serve` for real: SIGKILL it once it answered, restart it: nothing answered is lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "rampart.cli", "serve", "--demo",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    with log.open("ab") as stderr:
        return subprocess.Popen(command, stdout=stderr, stderr=stderr)


def _ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not get ready:\n{log.read_text()}")


def _key(data_dir: Path, role: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "rampart.cli", "keys", "create", "--role", role,
         "--data-dir", str(data_dir)],
        check=True, capture_output=True,
    )  # fmt: skip
    return created.stdout.decode().strip()


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
                        decision = {k: v for k, v in item["decision"].items() if k != "verdicts"}
                        answered[decision["event_id"]] = json.dumps(decision).encode()
            for raw in events[1000:1010]:
                reply = client.post("/v1/events", content=raw)
                assert reply.status_code == 200, reply.text
                decision = {k: v for k, v in reply.json().items() if k != "verdicts"}
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
                assert json.dumps(reply.json()).encode() == answered[event_id]
            assert client.post("/v1/events", content=events[1010]).status_code == 200
    finally:
        restarted.send_signal(signal.SIGTERM)
        try:
            restarted.wait(timeout=30)
        except subprocess.TimeoutExpired:
            restarted.kill()
            restarted.wait()
