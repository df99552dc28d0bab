"""Where a served scorer's records go before they count: its own log, or one shared in Redis.

A scorer never changes its state on its own: it appends records (events, labels, changes) to a
:class:`Journal` and applies, in the journal's order, every record the journal hands back. The
engine is deterministic, so any two scorers that apply the same records in the same order hold
the same state and give the same decisions, whether they are one process restarted (the local
write-ahead log, :class:`LocalJournal`) or several replicas sharing one log in Redis
(:class:`rampart.service.shared.SharedJournal`).

A journal also keeps the latest snapshot of the state (:mod:`rampart.service.snapshot`) and
forgets the records it covers, so a restart or a new replica starts from the snapshot and
applies only what came after.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, NamedTuple, Protocol

from rampart.service.snapshot import SnapshotFile, SnapshotPoint, seal, unseal
from rampart.service.wal import RecordKind, WriteAheadLog

# Seconds at least between two snapshots of replicas sharing a log: it keeps that much before
# the latest snapshot, which a replica must lag by to lose its place (idle ones catch up every
# second).
DEFAULT_SNAPSHOT_GAP: Final = 60.0


class JournalUnavailableError(RuntimeError):
    """The journal could not take or give records; ``lasting``: until the scorer restarts."""

    def __init__(self, message: str, *, lasting: bool) -> None:
        super().__init__(message)
        self.lasting = lasting


class Applied(NamedTuple):
    """A record to apply, in the journal's order; ``mine``: its index in the call's records."""

    kind: RecordKind
    payload: bytes
    mine: int | None


class Journal(Protocol):
    """The ordered, durable record of what a scorer (or a group of replicas) was given."""

    def start(self) -> tuple[bytes | None, Iterator[tuple[RecordKind, bytes]]]:
        """The state of the latest snapshot (or None) and the records after it, in order."""
        ...

    def exchange(self, records: Sequence[tuple[RecordKind, bytes]]) -> tuple[list[Applied], int]:
        """Append ``records``; every record to apply now, in order, and a durability ticket.

        Called under the scorer's lock. The records to apply are this call's own and any that
        other replicas appended before them.
        """
        ...

    def wait_durable(self, ticket: int) -> None:
        """Return once the records of ``ticket`` survive a crash (called outside the lock)."""
        ...

    def mark(self) -> str | None:
        """The position of the state as of now for a snapshot, or None to skip this one."""
        ...

    def save_snapshot(self, position: str, state: bytes) -> None:
        """Keep ``state`` as of ``position`` and forget the records it covers."""
        ...

    def close(self) -> None: ...


class LocalJournal:
    """An embedded scorer's own write-ahead log and snapshot file, in its data folder."""

    def __init__(self, folder: Path, *, wal_key: bytes, snapshot_key: bytes) -> None:
        self._snapshot_key = snapshot_key
        self.snapshots = SnapshotFile(folder / "snapshot")
        point = self.snapshots.load()
        self._start = unseal(snapshot_key, point.sealed) if point is not None else None
        after = int(point.position) if point is not None else 0
        try:
            self.wal = WriteAheadLog(folder / "wal", key=wal_key, after=after)
        except OSError as exc:
            raise JournalUnavailableError(_wal_failure(exc), lasting=True) from exc

    def start(self) -> tuple[bytes | None, Iterator[tuple[RecordKind, bytes]]]:
        return self._start, self.wal.records()

    def exchange(self, records: Sequence[tuple[RecordKind, bytes]]) -> tuple[list[Applied], int]:
        ticket = 0
        try:
            for kind, payload in records:
                ticket = self.wal.append(kind, payload)
        except OSError as exc:
            raise JournalUnavailableError(_wal_failure(exc), lasting=True) from exc
        return [Applied(kind, payload, i) for i, (kind, payload) in enumerate(records)], ticket

    def wait_durable(self, ticket: int) -> None:
        if not ticket:
            return
        try:
            self.wal.wait_durable(ticket)
        except OSError as exc:
            raise JournalUnavailableError(_wal_failure(exc), lasting=True) from exc

    def mark(self) -> str:
        return str(self.wal.rotate())

    def save_snapshot(self, position: str, state: bytes) -> None:
        self.snapshots.save(SnapshotPoint(position, seal(self._snapshot_key, state)))
        self.wal.drop_through(int(position))

    def close(self) -> None:
        self.wal.close()


def _wal_failure(exc: OSError) -> str:
    # The intake has taken what the log could not keep: answering more would drift from
    # what a restart replays, so the failure lasts until the scorer is restarted.
    return f"the write-ahead log could not be written ({exc.strerror or exc})"
