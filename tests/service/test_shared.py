"""Replicas sharing one Redis: the same decisions as one process, through restarts and faults.

These talk to the real Redis of the machine (127.0.0.1:6379, each test in a namespace of its
own) or to a Redis server a test starts itself when it must restart it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
import redis
from litestar.testing import TestClient
from tests.service.serving import free_port, key, ready, serve, stop
from tests.service.streams import answers, feed, stream, uninterrupted

from rampart.service.http import create_app
from rampart.service.keys import KEYS_FILE, KeyStore
from rampart.service.scorer import (
    Answer,
    EventResult,
    Rejection,
    Scorer,
    ScorerUnavailableError,
)

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(REDIS)
    for stored in client.scan_iter(f"rampart:{{{name}}}:*"):
        client.delete(stored)
    client.close()


def _replica(
    folder: Path, namespace: str, url: str = REDIS, *, snapshot_every: int = 250_000
) -> Scorer:
    return Scorer.open(
        folder,
        demo=True,
        redis_url=url,
        namespace=namespace,
        snapshot_every=snapshot_every,
        snapshot_gap=0,  # the tests are seconds long: every due snapshot is kept
    )


def test_replicas_taking_turns_answer_as_one_embedded_process(
    tiny_world_of: Callable[[int], Path], tmp_path: Path, namespace: str
) -> None:
    world = tiny_world_of(3)
    expected = uninterrupted(world, tmp_path / "embedded")
    first = _replica(tmp_path / "a", namespace)
    second = _replica(tmp_path / "b", namespace)
    with first, second:
        replicas = (first, second)
        given = [
            feed(replicas[turn % 2], labels, events)
            for turn, (labels, events) in enumerate(stream(world))
        ]
        assert given == expected
        # A re-sent event is answered the same by either replica.
        _, events = next(stream(world))
        assert answers(second.score_many(events)) == expected[0]


def test_concurrent_replicas_agree_with_the_log_order_and_a_late_replica(
    tiny_world_of: Callable[[int], Path], tmp_path: Path, namespace: str
) -> None:
    events = (tiny_world_of(5) / "events.jsonl").read_bytes().splitlines()[:3000]
    replicas = [_replica(tmp_path / name, namespace) for name in ("a", "b", "c")]
    given: dict[str, bytes] = {}

    def take(replica: Scorer, share: list[bytes]) -> None:
        for start in range(0, len(share), 50):
            for raw, result in zip(
                share[start : start + 50],
                replica.score_many(share[start : start + 50]),
                strict=True,
            ):
                if isinstance(result, EventResult) and not result.duplicate:
                    given[result.answer.event_id] = answers([result])[0]
                else:
                    assert isinstance(result, Rejection | EventResult), raw

    # Three replicas take interleaved shares of one stream at the same time.
    threads = [
        threading.Thread(target=take, args=(replica, events[offset::3]))
        for offset, replica in enumerate(replicas)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(given) > 2000

    # A replica started afterwards applies the log from the start: every answer given by any
    # replica is the one it computes, and the replicas now hold the same state.
    with _replica(tmp_path / "late", namespace) as late:
        for event_id, answer in given.items():
            stored = late.decision(event_id)
            assert stored is not None
            assert answers([EventResult(Answer(**msgspec.structs.asdict(stored)))]) == [answer]
        states = {replica.read(lambda scorer: scorer.state()) for replica in replicas}
        states.add(late.read(lambda scorer: scorer.state()))
    for replica in replicas:
        replica.close()
    assert len(states) == 1


def test_a_new_replica_starts_from_the_snapshot_and_the_log_is_trimmed(
    tiny_world_of: Callable[[int], Path], tmp_path: Path, namespace: str
) -> None:
    world = tiny_world_of(3)
    expected = uninterrupted(world, tmp_path / "embedded")
    batches = list(stream(world))
    half = len(batches) // 2
    with _replica(tmp_path / "a", namespace, snapshot_every=500) as first:
        given = [feed(first, labels, events) for labels, events in batches[:half]]
    client = redis.Redis.from_url(REDIS)
    kept = client.xlen(f"rampart:{{{namespace}}}:log")
    client.close()
    assert kept < sum(len(labels) + len(events) for labels, events in batches[:half])
    with _replica(tmp_path / "b", namespace, snapshot_every=500) as second:
        assert second.restored
        given += [feed(second, labels, events) for labels, events in batches[half:]]
    assert given == expected


class _RedisServer:
    """A Redis server of the test's own, on a free port, optionally keeping an append-only file."""

    def __init__(self, folder: Path, *, persistent: bool) -> None:
        self.folder = folder
        self.port = free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None, "redis-server is needed (Debian package redis-server)"
        persistence = ["--appendonly", "yes", "--appendfsync", "always"]
        command = [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += persistence if self.persistent else ["--appendonly", "no"]
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the test's Redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[[bool], _RedisServer]]:
    servers: list[_RedisServer] = []

    def start(persistent: bool) -> _RedisServer:
        server = _RedisServer(tmp_path / f"redis-{len(servers)}", persistent=persistent)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


def test_redis_restarted_mid_stream_loses_nothing_it_acknowledged(
    tiny_world_of: Callable[[int], Path],
    tmp_path: Path,
    own_redis: Callable[[bool], _RedisServer],
) -> None:
    world = tiny_world_of(3)
    expected = uninterrupted(world, tmp_path / "embedded")
    batches = list(stream(world))
    half = len(batches) // 2
    server = own_redis(True)
    with _replica(tmp_path / "a", "faults", url=server.url) as replica:
        given = [feed(replica, labels, events) for labels, events in batches[:half]]
        server.stop()
        _, events = batches[half]
        with pytest.raises(ScorerUnavailableError, match=r"Redis\) is unreachable"):
            replica.score_many(events)
        assert replica.failure is None  # passing: it answers again once Redis is back
        assert "unreachable" in (replica.unready() or "")
        # Over HTTP: a 503 that says why, and a replica that is not ready.
        keys = KeyStore(tmp_path / "keys")
        ingest = {"Authorization": f"Bearer {keys.create('ingest')}"}
        with TestClient(create_app(replica, keys)) as client:
            refused = client.post("/v1/events", content=events[0], headers=ingest)
            assert refused.status_code == 503
            assert "Redis) is unreachable" in refused.json()["detail"]
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unavailable"
            server.start()
            assert client.get("/readyz").status_code == 200
        assert replica.unready() is None
        given += [feed(replica, labels, events) for labels, events in batches[half:]]
    assert given == expected
    # A replica started now finds everything in the restarted Redis.
    with _replica(tmp_path / "b", "faults", url=server.url) as late:
        assert answers(late.score_many(batches[0][1])) == expected[0]


def test_a_redis_that_comes_back_empty_stops_the_replicas_clearly(
    tiny_world_of: Callable[[int], Path],
    tmp_path: Path,
    own_redis: Callable[[bool], _RedisServer],
) -> None:
    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()[:200]
    server = own_redis(False)
    with _replica(tmp_path / "a", "lost", url=server.url) as replica:
        replica.score_many(events[:100])
        server.stop()
        server.start()
        with pytest.raises(ScorerUnavailableError, match="is gone from Redis"):
            replica.score_many(events[100:])
        assert replica.failure is not None
        assert "is gone from Redis" in (replica.unready() or "")


def test_two_served_replicas_answer_as_one_process(
    tiny_world_of: Callable[[int], Path], tmp_path: Path, namespace: str
) -> None:
    """Two `rampart serve --redis` processes taking turns on one ordered stream."""
    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()[:1500]
    batches = [events[start : start + 250] for start in range(0, len(events), 250)]
    with Scorer.open(tmp_path / "embedded", demo=True) as scorer:
        expected = [
            msgspec.json.decode(answer)
            for batch in batches
            for answer in answers(scorer.score_many(batch))
        ]
    folders = [tmp_path / "a", tmp_path / "b"]
    admin = {"Authorization": f"Bearer {key(folders[0], 'admin')}"}
    folders[1].mkdir()
    shutil.copy(folders[0] / KEYS_FILE, folders[1] / KEYS_FILE)  # replicas share their keys
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    log = tmp_path / "servers.log"
    extra = ("--redis", REDIS, "--namespace", namespace)
    servers = [
        serve(folder, port, log, *extra) for folder, port in zip(folders, ports, strict=True)
    ]
    try:
        for url, server in zip(urls, servers, strict=True):
            ready(url, server, log)
        given = []
        for turn, batch in enumerate(batches):
            reply = httpx.post(
                f"{urls[turn % 2]}/v1/events:batch",
                content=b"[" + b",".join(batch) + b"]",
                headers=admin,
                timeout=60,
            )
            assert reply.status_code == 200, reply.text
            for item in reply.json()["results"]:
                shown = item.get("decision") or item["error"]
                given.append({k: v for k, v in shown.items() if k != "verdicts"})
        # An event taken by one replica is known to the other.
        first = json.loads(batches[0][0])["event_id"]
        other = httpx.get(f"{urls[1]}/v1/decisions/{first}", headers=admin, timeout=10)
        assert other.status_code == 200, other.text
        assert other.json() == given[0]
    finally:
        for server in servers:
            stop(server)
    rejected = [shown for shown in given if "reason" in shown]
    assert not rejected
    assert given == expected


def test_replicas_keep_one_snapshot_per_gap_so_a_lagging_replica_keeps_its_place(
    tiny_world_of: Callable[[int], Path], tmp_path: Path, namespace: str
) -> None:
    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()[:2000]
    busy = Scorer.open(
        tmp_path / "busy", demo=True, redis_url=REDIS, namespace=namespace, snapshot_every=100
    )
    lagging = _replica(tmp_path / "lagging", namespace)
    with busy, lagging:
        for start in range(0, len(events), 100):
            busy.score_many(events[start : start + 100])
        # One snapshot (the default gap is a minute): the log was not trimmed under the
        # replica that applied nothing yet, which catches up with every record.
        client = redis.Redis.from_url(REDIS)
        assert client.get(f"rampart:{{{namespace}}}:trimmed") is None
        client.close()
        assert lagging.unready() is None
        assert lagging.read(lambda scorer: scorer.state()) == busy.read(
            lambda scorer: scorer.state()
        )
