"""`rampart serve` SIGKILLed under concurrent load, then restarted on the same data folder.

Several client threads post distinct events at once (each thread its own time-ordered slice of
a simulated stream, all close in event time), recording every 200 answer. The server is killed
while they are still sending. After a restart, every event answered 200 before the kill must be
known with the identical decision (action, scores, reasons, everything the decision holds), and
the stream goes on from where each thread stopped.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.service.serving import free_port, key, ready, serve, stop

THREADS = 4
# Answers to have before the kill: enough load that requests are in flight when it comes.
ANSWERED_BEFORE_KILL = 300


def _decision(answer: dict[str, Any]) -> dict[str, Any]:
    """The decision part of an answer to `POST /v1/events` (verdicts are the moment's finds)."""
    return {k: v for k, v in answer.items() if k != "verdicts"}


class _Sender(threading.Thread):
    """Posts its events one by one, in order, until told to stop or the server goes away."""

    def __init__(self, url: str, headers: dict[str, str], events: list[bytes]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers, self.events = url, headers, events
        self.answered: dict[str, dict[str, Any]] = {}
        self.statuses: dict[int, int] = {}
        self.sent = 0  # events handed to the socket (the last may be in flight at the kill)
        self.stopping = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as client:
                for raw in self.events:
                    if self.stopping.is_set():
                        return
                    self.sent += 1
                    reply = client.post("/v1/events", content=raw)
                    self.statuses[reply.status_code] = self.statuses.get(reply.status_code, 0) + 1
                    if reply.status_code == 200:
                        answer = reply.json()
                        assert reply.headers.get("rampart-duplicate") != "true", answer
                        self.answered[answer["event_id"]] = _decision(answer)
        except httpx.TransportError:
            return  # the server was killed: what was not answered is not counted
        except BaseException as exc:  # surfaced by the test
            self.failure = exc


def test_sigkill_under_concurrent_load_loses_no_answered_event(
    tiny_world_of: Callable[[int], Path], tmp_path: Path
) -> None:
    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()[:4000]
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    ingest = {"Authorization": f"Bearer {key(data_dir, 'ingest')}"}
    analyst = {"Authorization": f"Bearer {key(data_dir, 'analyst')}"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Thread k posts events k, k + THREADS, ...: each slice in time order, the threads in step.
    slices = [events[k::THREADS] for k in range(THREADS)]
    server = serve(data_dir, port, log)
    senders = [_Sender(url, ingest, part) for part in slices]
    try:
        ready(url, server, log)
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 20
        while sum(len(s.answered) for s in senders) < ANSWERED_BEFORE_KILL:
            assert time.monotonic() < deadline, [s.statuses for s in senders]
            assert all(s.is_alive() for s in senders), [s.failure for s in senders]
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        for sender in senders:
            sender.stopping.set()
            sender.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    for sender in senders:
        assert sender.failure is None, sender.failure
        # Each thread was still sending when the server died (the kill came under load).
        assert sender.sent < len(sender.events)
        # The slices are in time order and the threads in step: (nearly) nothing is refused as
        # late (a thread held back over an hour of event time, 90 of its events, would be).
        assert set(sender.statuses) <= {200, 422}, sender.statuses
        assert sender.statuses.get(200, 0) >= 0.9 * sum(sender.statuses.values())
    answered = {k: v for s in senders for k, v in s.answered.items()}
    assert len(answered) >= ANSWERED_BEFORE_KILL

    restarted = serve(data_dir, port, log)
    try:
        ready(url, restarted, log)
        with (
            httpx.Client(base_url=url, headers=analyst, timeout=30) as reader,
            httpx.Client(base_url=url, headers=ingest, timeout=30) as client,
        ):
            changed = {}
            for event_id, decision in answered.items():
                reply = reader.get(f"/v1/decisions/{event_id}")
                assert reply.status_code == 200, (event_id, reply.text)
                if reply.json() != decision:
                    changed[event_id] = (decision, reply.json())
            assert not changed, f"{len(changed)} of {len(answered)} decisions changed"
            # Re-sending an answered event gives the stored answer, marked as a duplicate.
            for sender in senders:
                for raw in sender.events[: sender.sent][-5:]:
                    event_id = json.loads(raw)["event_id"]
                    if event_id not in sender.answered:
                        continue  # in flight at the kill: it may or may not have been logged
                    reply = client.post("/v1/events", content=raw)
                    assert reply.status_code == 200, reply.text
                    assert reply.headers["rampart-duplicate"] == "true"
                    assert _decision(reply.json()) == sender.answered[event_id]
            # The stream goes on where each thread stopped: the event in flight at the kill
            # (scored before or now), then fresh ones, all accepted.
            for sender in senders:
                for raw in sender.events[sender.sent - 1 : sender.sent + 20]:
                    reply = client.post("/v1/events", content=raw)
                    assert reply.status_code == 200, reply.text
                fresh = client.post("/v1/events", content=sender.events[sender.sent + 20])
                assert fresh.status_code == 200, fresh.text
                assert "rampart-duplicate" not in fresh.headers
    finally:
        stop(restarted)
