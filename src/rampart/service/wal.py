"""The write-ahead log of a served scorer: every accepted event and label, durable before answered.

A record is a header line ``<tag> <length> <crc32>`` then its payload and a newline. The
payload is the bytes as the caller sent them (an event may span lines: the length, not the
newline, delimits it), encrypted with AES-GCM when the log has a key (a served scorer always
gives one, derived from its pseudonymisation secret): replay needs the raw text and addresses
for the content detectors and verdicts, and raw PII is never kept on disk in clear. A crash can
only tear the last record, which was never answered; on opening, the log is read up to the
first record that is short or fails its checksum and cut there, so appends continue after the
last whole record.

The log is a series of numbered segments. The scorer takes a snapshot of its whole state from
time to time (:mod:`rampart.service.snapshot`): it :meth:`~WriteAheadLog.rotate`\\s to a new
segment at that point, writes the snapshot, then drops the segments it covers, so the log (and
the replay on a restart) stays as long as the records since the last snapshot.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> log = WriteAheadLog(folder, key=bytes(32))
>>> log.append("event", b'{"event_id": "e1",\\n "email": "ana@example.com"}')
1
>>> log.append("label", b'{"label": 1}')
2
>>> log.sync()
>>> log.close()
>>> b"ana@example.com" in (folder / SEGMENT).read_bytes()
False
>>> with (folder / SEGMENT).open("ab") as handle:  # a torn write
...     _ = handle.write(b"e 99 0")
>>> again = WriteAheadLog(folder, key=bytes(32))
>>> [(kind, payload[-9:]) for kind, payload in again.records()]
[('event', b'ple.com"}'), ('label', b'abel": 1}')]
>>> again.close()
>>> try:
...     WriteAheadLog(folder, key=bytes([1] * 32))
... except WalKeyError as error:
...     print(str(error).split(" (")[0].split(" was ")[1])
written with another key
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rampart.durable import fsync_folder, sync_file

RecordKind = Literal["event", "label", "change"]

SEGMENT: Final = "00000001.wal"  # the first segment
# Upper case: the payload in clear (a log without a key); lower case: nonce + AES-GCM sealed.
_TAGS: Final[dict[RecordKind, bytes]] = {"event": b"E", "label": b"L", "change": b"C"}
_SEALED_TAGS: Final[dict[RecordKind, bytes]] = {"event": b"e", "label": b"l", "change": b"c"}
_KINDS: Final[dict[bytes, RecordKind]] = {
    tag: kind for tags in (_TAGS, _SEALED_TAGS) for kind, tag in tags.items()
}
_NONCE_BYTES: Final = 12


class WalKeyError(ValueError):
    """The log's records do not open with this key."""


# A header is a tag, a length and a checksum: far below this.
_MAX_HEADER: Final = 64


class WriteAheadLog:
    """Appends records to numbered segments in ``folder`` and reads back every whole one.

    With a ``key`` (32 bytes) every record is sealed (AES-GCM, a random nonce each, the tag as
    associated data); without one the payloads are kept in clear (tests and tools only). Files
    are owner-only.

    Appending and syncing are safe from many threads. :meth:`append` returns the log's position
    after the record; :meth:`wait_durable` returns once an fsync has covered that position. Only
    one fsync runs at a time and each covers everything appended before it started, so the
    threads queued behind it share the next one (group commit): under load the log pays one
    fsync per group of requests, not one per request.
    """

    def __init__(self, folder: Path, *, key: bytes | None = None, after: int = 0) -> None:
        """Open the log; ``after``: segments numbered up to it are covered by a snapshot."""
        self.folder = folder
        self._sealer = AESGCM(key) if key is not None else None
        folder.mkdir(parents=True, exist_ok=True)
        numbers = segment_numbers(folder)
        self._records: list[tuple[RecordKind, bytes]] = []
        for number in numbers[:-1]:
            if number > after:
                self._records.extend(self._read_segment(folder / segment_name(number)))
        self.segment = max([*numbers, after + 1])
        self.path = folder / segment_name(self.segment)
        created = not self.path.exists()
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self._handle: BinaryIO = os.fdopen(descriptor, "r+b")
        if created:
            fsync_folder(folder)
        records, whole = _read(self._handle)
        try:
            self._records.extend(self._open(tag, payload) for tag, payload in records)
        except WalKeyError:
            self._handle.close()
            raise
        # A crash can only tear the last record of the newest segment: cut it off.
        self._handle.truncate(whole)
        self._handle.seek(whole)
        sync_file(self._handle)
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._appended = 0
        self._durable = 0

    def _read_segment(self, path: Path) -> list[tuple[RecordKind, bytes]]:
        with path.open("rb") as handle:
            records, _ = _read(handle)
        return [self._open(tag, payload) for tag, payload in records]

    def records(self) -> Iterator[tuple[RecordKind, bytes]]:
        """The whole records found on opening, oldest first (read once, then dropped)."""
        records, self._records = self._records, []
        yield from records

    def append(self, kind: RecordKind, payload: bytes) -> int:
        """Buffer one record; returns the position to :meth:`wait_durable` on."""
        tag = _TAGS[kind]
        if self._sealer is not None:
            tag = _SEALED_TAGS[kind]
            nonce = os.urandom(_NONCE_BYTES)
            payload = nonce + self._sealer.encrypt(nonce, payload, tag)
        header = b"%s %d %08x\n" % (tag, len(payload), zlib.crc32(payload))
        with self._write_lock:
            self._handle.write(header + payload + b"\n")
            self._appended += 1
            return self._appended

    def _open(self, tag: bytes, payload: bytes) -> tuple[RecordKind, bytes]:
        kind = _KINDS[tag]
        if tag == _TAGS[kind]:
            return kind, payload  # written in clear
        if self._sealer is None:
            raise WalKeyError(f"the write-ahead log in {self.folder} is encrypted: give its key")
        try:
            return kind, self._sealer.decrypt(payload[:_NONCE_BYTES], payload[_NONCE_BYTES:], tag)
        except InvalidTag:
            raise WalKeyError(
                f"the write-ahead log in {self.folder} was written with another key (another "
                "pseudonymisation secret); use the secret it was written with"
            ) from None

    def wait_durable(self, position: int) -> None:
        """Return once everything up to ``position`` is fsynced (raises ``OSError`` if not)."""
        with self._sync_lock:
            if self._durable >= position:
                return  # the fsync this thread queued behind covered it
            with self._write_lock:
                self._handle.flush()
                covered = self._appended
                descriptor = self._handle.fileno()
            os.fsync(descriptor)
            self._durable = covered

    def sync(self) -> None:
        """Flush and fsync everything appended so far."""
        self.wait_durable(self._appended)

    def rotate(self) -> int:
        """Seal the current segment (fsynced) and append to a new one; the sealed one's number.

        Records appended before the call are in segments numbered up to the returned one.
        """
        with self._sync_lock, self._write_lock:
            sync_file(self._handle)
            self._durable = self._appended
            self._handle.close()
            sealed = self.segment
            self.segment += 1
            self.path = self.folder / segment_name(self.segment)
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            self._handle = os.fdopen(descriptor, "r+b")
            fsync_folder(self.folder)
            return sealed

    def drop_through(self, number: int) -> None:
        """Delete the segments numbered up to ``number`` (a durable snapshot covers them)."""
        for old in segment_numbers(self.folder):
            if old <= number:
                (self.folder / segment_name(old)).unlink()
        fsync_folder(self.folder)

    def close(self) -> None:
        with self._write_lock:
            self._handle.close()


def segment_name(number: int) -> str:
    return f"{number:08d}.wal"


def segment_numbers(folder: Path) -> list[int]:
    """The numbers of the segments in ``folder``, in order."""
    return sorted(int(path.stem) for path in folder.glob("*.wal") if path.stem.isdigit())


def _read(handle: BinaryIO) -> tuple[list[tuple[bytes, bytes]], int]:
    """Every whole record (tag, payload) from the start, and the offset just after the last."""
    handle.seek(0)
    data = handle.read()
    records: list[tuple[bytes, bytes]] = []
    offset = 0
    while offset < len(data):
        end = data.find(b"\n", offset, offset + _MAX_HEADER)
        if end < 0:
            break
        parts = data[offset:end].split(b" ")
        if len(parts) != 3 or parts[0] not in _KINDS or not parts[1].isdigit():
            break
        start = end + 1
        stop = start + int(parts[1])
        payload = data[start:stop]
        if (
            stop + 1 > len(data)
            or data[stop : stop + 1] != b"\n"
            or b"%08x" % zlib.crc32(payload) != parts[2]
        ):
            break
        records.append((parts[0], payload))
        offset = stop + 1
    return records, offset
