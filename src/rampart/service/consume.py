"""Stream intake: events from a NATS JetStream durable pull consumer, decisions back to subjects.

For a subject ``S`` the stream ``RAMPART_<S>`` (subjects ``[S]``) is made if missing, with a
durable pull consumer (explicit acks, a bounded number in flight). Each fetched batch is scored
by a :class:`~rampart.service.scorer.Scorer` (durable in its write-ahead log first), then:

- the decision (without verdicts) goes to ``S.decisions`` with ``Nats-Msg-Id: <event_id>``,
- each verdict it made Rampart find to ``S.verdicts``,
- a rejected message to ``S.rejects`` as ``{"seq", "event_id", "path", "reason"}`` (the contract
  error, never the message itself), so a poison message is answered once and acked;

and the messages are acked only after those publishes were flushed. Delivery is at least once:
a message redelivered after a crash or a nak is answered with its stored decision (the scorer
knows the ``event_id``), so it never changes the online state twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from rampart.service.scorer import EventResult, Rejection, Scorer

DEFAULT_BATCH: Final = 64
DEFAULT_MAX_ACK_PENDING: Final = 1024


class ConsumeError(RuntimeError):
    """The stream intake cannot start or go on (bad subject, NATS unreachable)."""


class _Reject(msgspec.Struct):
    seq: int | None
    event_id: str | None
    path: str | None
    reason: str


def stream_name(subject: str) -> str:
    """``events`` → ``RAMPART_EVENTS``; ``shop.events`` → ``RAMPART_SHOP_EVENTS``."""
    return "RAMPART_" + re.sub(r"[^A-Za-z0-9]+", "_", subject).strip("_").upper()


@dataclass(frozen=True)
class ConsumeOptions:
    """Where to read from and how much to hold at once."""

    subject: str
    batch: int = DEFAULT_BATCH
    max_ack_pending: int = DEFAULT_MAX_ACK_PENDING
    ack_wait: float = 30.0
    fetch_timeout: float = 1.0
    stream: str = ""
    durable: str = ""

    def __post_init__(self) -> None:
        if not self.subject or any(c in self.subject for c in "*> \t") or ".." in self.subject:
            raise ConsumeError(f"subject {self.subject!r}: give one literal subject (no wildcards)")
        if self.batch < 1 or self.max_ack_pending < self.batch:
            raise ConsumeError("batch must be at least 1 and at most max_ack_pending")
        if not self.stream:
            object.__setattr__(self, "stream", stream_name(self.subject))
        if not self.durable:
            object.__setattr__(self, "durable", f"{self.stream}_SCORER")

    @property
    def decisions(self) -> str:
        return f"{self.subject}.decisions"

    @property
    def verdicts(self) -> str:
        return f"{self.subject}.verdicts"

    @property
    def rejects(self) -> str:
        return f"{self.subject}.rejects"


@dataclass
class ConsumeStats:
    """What one run did."""

    messages: int = 0
    decisions: int = 0
    duplicates: int = 0
    verdicts: int = 0
    rejects: int = 0
    redelivered: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


async def ensure_consumer(js: JetStreamContext, options: ConsumeOptions) -> None:
    """Make the stream and the durable pull consumer if they are missing."""
    try:
        await js.stream_info(options.stream)
    except nats.js.errors.NotFoundError:
        await js.add_stream(StreamConfig(name=options.stream, subjects=[options.subject]))
    try:
        await js.consumer_info(options.stream, options.durable)
    except nats.js.errors.NotFoundError:
        await js.add_consumer(
            options.stream,
            ConsumerConfig(
                durable_name=options.durable,
                ack_policy=AckPolicy.EXPLICIT,
                max_ack_pending=options.max_ack_pending,
                ack_wait=options.ack_wait,
                filter_subject=options.subject,
            ),
        )


async def consume(
    nc: Client,
    scorer: Scorer,
    options: ConsumeOptions,
    stop: asyncio.Event,
) -> ConsumeStats:
    """Score what the durable consumer delivers until ``stop`` is set (the batch in hand ends)."""
    js = nc.jetstream()
    await ensure_consumer(js, options)
    sub = await js.pull_subscribe_bind(durable=options.durable, stream=options.stream)
    stats = ConsumeStats()
    try:
        while not stop.is_set():
            try:
                msgs = await sub.fetch(options.batch, timeout=options.fetch_timeout)
            except TimeoutError:
                # nats.errors.TimeoutError, and the bare asyncio one nats-py raises on some paths
                # of a fetch (seen with two consumers on one durable): no message yet, not an error.
                continue
            if msgs:
                await _handle(nc, scorer, options, msgs, stats)
    finally:
        with contextlib.suppress(nats.errors.Error):
            await sub.unsubscribe()
    return stats


async def _handle(
    nc: Client, scorer: Scorer, options: ConsumeOptions, msgs: Sequence[Msg], stats: ConsumeStats
) -> None:
    # The scorer fsyncs its log: off the event loop, one sync for the whole batch.
    results = await asyncio.to_thread(scorer.score_many, [msg.data for msg in msgs])
    encode = msgspec.json.encode
    for msg, result in zip(msgs, results, strict=True):
        stats.messages += 1
        seq = _stream_seq(msg)
        if _delivered(msg) > 1:
            stats.redelivered += 1
        if isinstance(result, Rejection):
            error = result.error
            reject = _Reject(seq, error.event_id, error.path, error.reason)
            headers = {"Nats-Msg-Id": f"reject:{options.stream}:{seq}"} if seq else None
            await nc.publish(options.rejects, encode(reject), headers=headers)
            stats.rejects += 1
            continue
        assert isinstance(result, EventResult)
        answer = result.answer
        decision = msgspec.structs.replace(answer, verdicts=[])
        headers = {"Nats-Msg-Id": answer.event_id}
        if result.duplicate:
            headers["Rampart-Duplicate"] = "true"
            stats.duplicates += 1
        await nc.publish(options.decisions, encode(decision), headers=headers)
        stats.decisions += 1
        for index, verdict in enumerate(answer.verdicts):
            verdict_id = {"Nats-Msg-Id": f"{answer.event_id}:verdict:{index}"}
            await nc.publish(options.verdicts, encode(verdict), headers=verdict_id)
            stats.verdicts += 1
    await nc.flush()
    for msg in msgs:
        await msg.ack()
    await nc.flush()
    stats.batches += 1


def _stream_seq(msg: Msg) -> int | None:
    try:
        return msg.metadata.sequence.stream
    except (ValueError, IndexError, AttributeError, nats.errors.Error):
        return None


def _delivered(msg: Msg) -> int:
    try:
        return msg.metadata.num_delivered or 1
    except (ValueError, IndexError, AttributeError, nats.errors.Error):
        return 1


async def run(url: str, scorer: Scorer, options: ConsumeOptions) -> ConsumeStats:
    """Connect, consume until SIGTERM or SIGINT, then finish the batch and drain."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=-1)
    except (OSError, nats.errors.Error) as exc:
        raise ConsumeError(f"cannot connect to NATS at {url}: {exc}") from exc
    try:
        return await consume(nc, scorer, options, stop)
    finally:
        with contextlib.suppress(nats.errors.Error):
            await nc.drain()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
