"""The journal of scorer replicas sharing one Redis: one ordered log, one snapshot.

Scaled out, several scorer processes (replicas) serve the same marketplace. They share their
state through Redis: a Redis Stream is the ordered log of every record any replica took (events,
labels, changes), and one key holds the latest snapshot of the state. A replica appends its
records and reads back, in one MULTI/EXEC transaction, every record since its position up to its
own last one; it applies them in the log's order and answers. Every replica applies every
record in the same order through the same deterministic engine, so a decision does not depend on
which replica took the event, and any number of replicas give the decisions one process gives
on the log's order (tests/service/test_shared.py runs them).

What this buys and what it costs:
- any replica can take any event, die, or be replaced: a new one starts from the snapshot and
  the log after it; nothing is lost that Redis acknowledged;
- Redis is the write-ahead log: run it with ``appendonly yes`` and ``appendfsync always`` for
  the guarantee the embedded log gives (a warning says so otherwise); a Redis that comes back
  empty is detected (the namespace's epoch is gone) and the replicas stop with a clear error
  rather than silently start over;
- every replica applies every record, so replicas add availability and read capacity, not write
  throughput: one namespace takes what one replica can apply (about 20k events/s on a core).
  Shard write throughput by namespace (per region or marketplace), each its own log; on a Redis
  Cluster a namespace's keys share one hash slot (``{namespace}``).

Records are sealed (AES-GCM, a key derived from the pseudonymisation secret), like the embedded
log: raw PII never rests in Redis in clear.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, cast

import msgspec
import redis
import redis.exceptions

from rampart.service.journal import DEFAULT_SNAPSHOT_GAP, Applied, JournalUnavailableError
from rampart.service.snapshot import SnapshotPoint, seal, unseal
from rampart.service.wal import RecordKind

_KIND_TAGS: Final[dict[RecordKind, bytes]] = {"event": b"e", "label": b"l", "change": b"c"}
_TAG_KINDS: Final[dict[bytes, RecordKind]] = {tag: kind for kind, tag in _KIND_TAGS.items()}
_RECORD_PURPOSE: Final = b"rampart-shared record"
_SNAPSHOT_PURPOSE: Final = b"rampart-shared snapshot"
_READ_CHUNK: Final = 10_000

_START: Final = "0-0"
_Entries = list[tuple[bytes, dict[bytes, bytes]]]
_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

# Keep a snapshot only if it is at least the gap newer than the one held, and trim the log to
# the one before it: the log always holds the gap's worth of records before the latest
# snapshot, so a replica less than that behind still finds its next record.
_SAVE_SNAPSHOT: Final = """
local function milliseconds(position)
  return tonumber(string.match(position, "(%d+)-"))
end
local old = redis.call('GET', KEYS[2])
if old and milliseconds(ARGV[1]) < milliseconds(old) + tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
if old then
  redis.call('XTRIM', KEYS[3], 'MINID', old)
  redis.call('SET', KEYS[4], old)
end
return 1
"""


def stream_id(position: str) -> tuple[int, int]:
    """A Redis Stream id as numbers, to compare.

    >>> stream_id("1700000000000-3") < stream_id("1700000000001-0")
    True
    """
    milliseconds, _, sequence = position.partition("-")
    return int(milliseconds), int(sequence or 0)


class SharedJournal:
    """The journal of one replica in a group sharing ``namespace`` on one Redis."""

    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        *,
        key: bytes,
        snapshot_key: bytes,
        snapshot_gap: float = DEFAULT_SNAPSHOT_GAP,
    ) -> None:
        """``snapshot_gap``: seconds at least between two snapshots of the namespace."""
        self.client = client
        self.namespace = namespace
        # One hash slot for the namespace: the transaction and the script touch several keys.
        prefix = f"rampart:{{{namespace}}}:"
        self._log = prefix + "log"
        self._snapshot = prefix + "snapshot"
        self._snapshot_position = prefix + "snapshot-position"
        self._trimmed = prefix + "trimmed"
        self._epoch_key = prefix + "epoch"
        self._key = key
        self._snapshot_key = snapshot_key
        self._gap_ms = int(snapshot_gap * 1000)
        self.position = _START
        self._save = client.register_script(_SAVE_SNAPSHOT)
        try:
            client.set(self._epoch_key, os.urandom(16).hex(), nx=True)
            epoch = client.get(self._epoch_key)
        except _UNREACHABLE as exc:
            raise _unreachable(exc) from exc
        assert isinstance(epoch, bytes)
        self.epoch = epoch

    @classmethod
    def connect(
        cls,
        url: str,
        namespace: str,
        *,
        key: bytes,
        snapshot_key: bytes,
        snapshot_gap: float = DEFAULT_SNAPSHOT_GAP,
        warn: Callable[[str], None] = lambda message: None,
    ) -> SharedJournal:
        """A journal on the Redis at ``url``; warns when Redis does not keep its data on disk."""
        client = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=2.0)
        try:
            settings: Any = client.config_get("appendonly")
            if settings.get("appendonly") == "no":
                warn(
                    "Redis keeps the shared log in memory only (appendonly no): a Redis restart "
                    "loses the state; run it with appendonly yes and appendfsync always"
                )
        except redis.exceptions.ResponseError:
            pass  # CONFIG is often disabled on managed Redis: nothing to check then
        except _UNREACHABLE as exc:
            raise _unreachable(exc) from exc
        return cls(client, namespace, key=key, snapshot_key=snapshot_key, snapshot_gap=snapshot_gap)

    # --- the journal ---------------------------------------------------------------------------

    def start(self) -> tuple[bytes | None, Iterator[tuple[RecordKind, bytes]]]:
        try:
            stored = self.client.get(self._snapshot)
        except _UNREACHABLE as exc:
            raise _unreachable(exc) from exc
        state = None
        if isinstance(stored, bytes):
            point = msgspec.msgpack.decode(stored, type=SnapshotPoint)
            state = unseal(self._snapshot_key, point.sealed, purpose=_SNAPSHOT_PURPOSE)
            self.position = point.position
        return state, self._replay()

    def _replay(self) -> Iterator[tuple[RecordKind, bytes]]:
        while True:
            try:
                entries: _Entries = cast(
                    _Entries, self.client.xrange(self._log, f"({self.position}", "+", _READ_CHUNK)
                )
            except _UNREACHABLE as exc:
                raise _unreachable(exc) from exc
            for entry_id, fields in entries:
                self.position = entry_id.decode()
                yield self._open(fields)
            if len(entries) < _READ_CHUNK:
                return

    def exchange(self, records: Sequence[tuple[RecordKind, bytes]]) -> tuple[list[Applied], int]:
        # One transaction: nothing lands between this replica's records and the read that
        # ends with them, so the read gives exactly what comes before them, and them.
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self._epoch_key)
        pipe.get(self._trimmed)
        for kind, payload in records:
            sealed = seal(self._key, _KIND_TAGS[kind] + payload, purpose=_RECORD_PURPOSE)
            pipe.xadd(self._log, {"r": sealed})
        pipe.xrange(self._log, f"({self.position}", "+")
        try:
            replies = pipe.execute()
        except _UNREACHABLE as exc:
            raise _unreachable(exc) from exc
        epoch, trimmed, *added, entries = replies
        if epoch != self.epoch:
            raise JournalUnavailableError(
                f"the shared log of namespace {self.namespace!r} is gone from Redis (restarted "
                "without persistence, or flushed): this replica's state no longer matches it; "
                "restore Redis from its append-only file, or start every replica afresh",
                lasting=True,
            )
        if trimmed is not None and stream_id(trimmed.decode()) > stream_id(self.position):
            raise JournalUnavailableError(
                "this replica fell more than a snapshot interval behind the shared log, whose "
                "older records are trimmed: restart it to start from the latest snapshot",
                lasting=True,
            )
        mine = {entry_id: index for index, entry_id in enumerate(added)}
        applied = []
        for entry_id, fields in entries:
            kind, payload = self._open(fields)
            applied.append(Applied(kind, payload, mine.get(entry_id)))
        if entries:
            self.position = entries[-1][0].decode()
        return applied, 0

    def wait_durable(self, ticket: int) -> None:
        """Nothing to wait for: Redis acknowledged the transaction (fsynced with ``always``)."""

    def mark(self) -> str | None:
        # Every replica applies every record and would snapshot at about the same moment:
        # only one snapshot per gap is kept, so the others skip the work.
        try:
            held = self.client.get(self._snapshot_position)
        except _UNREACHABLE:
            return None
        if isinstance(held, bytes) and (
            stream_id(self.position)[0] < stream_id(held.decode())[0] + self._gap_ms
        ):
            return None
        return self.position

    def save_snapshot(self, position: str, state: bytes) -> None:
        point = SnapshotPoint(position, seal(self._snapshot_key, state, purpose=_SNAPSHOT_PURPOSE))
        keys = [self._snapshot, self._snapshot_position, self._log, self._trimmed]
        try:
            self._save(keys=keys, args=[position, msgspec.msgpack.encode(point), self._gap_ms])
        except _UNREACHABLE as exc:
            raise _unreachable(exc) from exc

    def close(self) -> None:
        self.client.close()

    def _open(self, fields: dict[bytes, bytes]) -> tuple[RecordKind, bytes]:
        record = unseal(self._key, fields[b"r"], purpose=_RECORD_PURPOSE)
        return _TAG_KINDS[record[:1]], record[1:]


def _unreachable(exc: Exception) -> JournalUnavailableError:
    # redis-py's message names the host and port, never a password.
    return JournalUnavailableError(
        f"the shared state store (Redis) is unreachable: {exc}", lasting=False
    )
