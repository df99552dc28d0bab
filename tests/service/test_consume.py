"""Stream intake against the real NATS JetStream server: decisions, redelivery, poison messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import msgspec
import nats
import nats.errors
import pytest
import redis
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext

from rampart.service.consume import ConsumeOptions, ConsumeStats, consume, ensure_consumer
from rampart.service.scorer import EventResult, Scorer

NATS_URL = os.environ.get("RAMPART_NATS_URL", "nats://127.0.0.1:4222")
WAIT = 10.0


def _events(count: int) -> list[bytes]:
    """Accounts made one after another on one device and address: the counts grow each time."""
    return [
        (
            b'{"event_id":"e%d","type":"account.created","ts":"2026-03-01T10:00:%02dZ",'
            b'"user_id":"u%d","ip":"203.0.113.7","device":{"id":"d1"},'
            b'"props":{"email":"u%d@example.com"}}'
        )
        % (i, i, i, i)
        for i in range(count)
    ]


def _expected(raws: list[bytes], data_dir: Path) -> tuple[dict[str, bytes], bytes]:
    """What one uninterrupted scorer answers, as ``S.decisions`` carries it (no verdicts),
    and its online feature state at the end."""
    with Scorer.open(data_dir, demo=True) as scorer:
        results = scorer.score_many(raws)
        state = scorer.engine.features.snapshot()
    shown = {}
    for result in results:
        assert isinstance(result, EventResult), result
        answer = msgspec.structs.replace(result.answer, verdicts=[])
        shown[answer.event_id] = msgspec.json.encode(answer)
    return shown, state


def _options() -> ConsumeOptions:
    subject = f"rt{uuid.uuid4().hex[:12]}.events"
    return ConsumeOptions(subject=subject, batch=4, max_ack_pending=16, fetch_timeout=0.2)


async def _connect() -> Client:
    try:
        return await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except (OSError, nats.errors.Error) as exc:  # pragma: no cover - the server is part of CI
        pytest.fail(f"NATS is not running at {NATS_URL}: {exc}")


class _Outputs:
    """Everything published to the answer subjects, in arrival order."""

    def __init__(self) -> None:
        self.decisions: list[Msg] = []
        self.verdicts: list[Msg] = []
        self.rejects: list[Msg] = []

    async def listen(self, nc: Client, options: ConsumeOptions) -> None:
        for subject, into in (
            (options.decisions, self.decisions),
            (options.verdicts, self.verdicts),
            (options.rejects, self.rejects),
        ):
            await nc.subscribe(subject, cb=_append(into))
        await nc.flush()


def _append(into: list[Msg]) -> Callable[[Msg], Awaitable[None]]:
    async def callback(msg: Msg) -> None:
        into.append(msg)

    return callback


async def _consume_until(
    nc: Client, scorer: Scorer, options: ConsumeOptions, done: Callable[[], bool]
) -> ConsumeStats:
    stop = asyncio.Event()
    task = asyncio.create_task(consume(nc, scorer, options, stop))
    deadline = asyncio.get_running_loop().time() + WAIT
    while not done() and not task.done():
        assert asyncio.get_running_loop().time() < deadline, "answers did not arrive in time"
        await asyncio.sleep(0.02)
    stop.set()
    return await asyncio.wait_for(task, WAIT)


@contextlib.asynccontextmanager
async def _jetstream(options: ConsumeOptions) -> AsyncIterator[tuple[Client, JetStreamContext]]:
    """A connection with the test's stream and durable consumer, both gone afterwards."""
    nc = await _connect()
    js = nc.jetstream()
    try:
        await ensure_consumer(js, options)
        yield nc, js
    finally:
        await js.delete_stream(options.stream)
        await nc.close()


def _by_id(msgs: list[Msg]) -> dict[str, bytes]:
    """Published answers by their ``Nats-Msg-Id``."""
    return {msg.headers["Nats-Msg-Id"]: msg.data for msg in msgs if msg.headers}


async def _pending(nc: Client, options: ConsumeOptions) -> tuple[int, int]:
    info = await nc.jetstream().consumer_info(options.stream, options.durable)
    return info.num_pending or 0, info.num_ack_pending or 0


def test_events_become_decisions_and_a_poison_message_one_reject(tmp_path: Path) -> None:
    raws = _events(6)
    poison = b"not json {"
    expected, _ = _expected(raws, tmp_path / "reference")
    options = _options()

    async def scenario() -> tuple[ConsumeStats, _Outputs, tuple[int, int]]:
        async with _jetstream(options) as (nc, js):
            outputs = _Outputs()
            await outputs.listen(nc, options)
            for raw in [*raws[:3], poison, *raws[3:]]:
                await js.publish(options.subject, raw)
            with Scorer.open(tmp_path / "consumer", demo=True) as scorer:
                stats = await _consume_until(
                    nc,
                    scorer,
                    options,
                    lambda: len(outputs.decisions) >= len(raws) and len(outputs.rejects) >= 1,
                )
            await nc.flush()
            return stats, outputs, await _pending(nc, options)

    stats, outputs, pending = asyncio.run(scenario())
    got = _by_id(outputs.decisions)
    assert len(outputs.decisions) == len(raws)
    assert got == expected
    # The growing device count moves the decisions: a fair check of the order and the state.
    assert len({json.loads(d)["score"] for d in expected.values()}) > 1
    assert len(outputs.rejects) == 1
    reject = msgspec.json.decode(outputs.rejects[0].data)
    assert reject["seq"] == 4
    assert "not valid JSON" in reject["reason"]
    assert poison not in outputs.rejects[0].data
    assert stats.messages == len(raws) + 1
    assert stats.rejects == 1
    assert stats.duplicates == 0
    assert pending == (0, 0)  # everything acked, the poison message too


def test_a_redelivery_is_answered_the_same_and_counted_once(tmp_path: Path) -> None:
    raws = _events(8)
    expected, reference_state = _expected(raws, tmp_path / "reference")
    options = _options()
    data_dir = tmp_path / "consumer"
    states: list[bytes] = []

    async def scenario() -> tuple[ConsumeStats, _Outputs, tuple[int, int]]:
        async with _jetstream(options) as (nc, js):
            for raw in raws:
                await js.publish(options.subject, raw)
            # A consumer scores a first batch (durable in its log), then dies before it
            # publishes or acks: the messages come back to the next one.
            sub = await js.pull_subscribe_bind(durable=options.durable, stream=options.stream)
            first = await sub.fetch(options.batch, timeout=WAIT)
            with Scorer.open(data_dir, demo=True) as crashed:
                crashed.score_many([msg.data for msg in first])
            for msg in first:
                await msg.nak()
            await sub.unsubscribe()
            outputs = _Outputs()
            await outputs.listen(nc, options)
            with Scorer.open(data_dir, demo=True) as scorer:
                assert scorer.replayed == options.batch
                stats = await _consume_until(
                    nc, scorer, options, lambda: len(outputs.decisions) >= len(raws)
                )
                states.append(scorer.engine.features.snapshot())
            await nc.flush()
            return stats, outputs, await _pending(nc, options)

    stats, outputs, pending = asyncio.run(scenario())
    got = _by_id(outputs.decisions)
    assert len(outputs.decisions) == len(raws)
    # Identical to a run that never stopped: the redelivered events were not counted twice,
    # so every later decision (which reads the counts) is unchanged.
    assert got == expected
    # The online state (the device counts among it) is that of the uninterrupted run.
    assert states == [reference_state]
    resent = {
        msg.headers["Nats-Msg-Id"]
        for msg in outputs.decisions
        if msg.headers and msg.headers.get("Rampart-Duplicate") == "true"
    }
    assert resent == {f"e{i}" for i in range(options.batch)}
    assert stats.redelivered == options.batch
    assert stats.duplicates == options.batch
    assert pending == (0, 0)


def test_two_consumers_sharing_redis_split_the_stream_and_agree(tmp_path: Path) -> None:
    """Replicas consuming one durable consumer, their state shared through Redis: every event
    is decided once, as a replica applying the shared log afterwards decides it."""
    raws = _events(40)
    options = _options()
    namespace = f"consume-{uuid.uuid4().hex}"
    redis_url = os.environ.get("RAMPART_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

    def replica(name: str) -> Scorer:
        return Scorer.open(tmp_path / name, demo=True, redis_url=redis_url, namespace=namespace)

    async def scenario() -> tuple[list[ConsumeStats], _Outputs]:
        async with _jetstream(options) as (nc, js):
            outputs = _Outputs()
            await outputs.listen(nc, options)
            for raw in raws:
                await js.publish(options.subject, raw)
            with replica("a") as first, replica("b") as second:
                stop = asyncio.Event()
                tasks = [
                    asyncio.create_task(consume(nc, scorer, options, stop))
                    for scorer in (first, second)
                ]
                deadline = asyncio.get_running_loop().time() + WAIT
                while len(outputs.decisions) < len(raws):
                    assert asyncio.get_running_loop().time() < deadline, "answers are missing"
                    await asyncio.sleep(0.02)
                stop.set()
                stats = list(await asyncio.wait_for(asyncio.gather(*tasks), WAIT))
            await nc.flush()
            return stats, outputs

    try:
        stats, outputs = asyncio.run(scenario())
        assert sum(stat.decisions for stat in stats) == len(raws)
        published = _by_id(outputs.decisions)
        assert len(published) == len(raws)
        with replica("late") as late:
            for event_id, data in published.items():
                decision = late.decision(event_id)
                assert decision is not None
                assert msgspec.json.encode(decision) == data
    finally:
        client = redis.Redis.from_url(redis_url)
        for stored in client.scan_iter(f"rampart:{{{namespace}}}:*"):
            client.delete(stored)
        client.close()
