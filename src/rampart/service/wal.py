"""The write-ahead log of a served scorer: every accepted event and label, durable before answered.

A record is a header line ``<kind> <length> <crc32>`` then its payload and a newline. The
payload is the bytes exactly as the caller sent them (an event may span lines: the length, not
the newline, delimits it). A crash can only tear the last record, which was never answered; on
opening, the log is read up to the first record that is short or fails its checksum and cut
there, so appends continue after the last whole record.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> log = WriteAheadLog(folder)
>>> log.append("event", b'{"event_id": "e1",\\n "type": "x"}')
>>> log.append("label", b'{"label": 1}')
>>> log.sync()
>>> log.close()
>>> with (folder / SEGMENT).open("ab") as handle:  # a torn write
...     _ = handle.write(b"E 99 0")
>>> again = WriteAheadLog(folder)
>>> [(kind, len(payload)) for kind, payload in again.records()]
[('event', 32), ('label', 12)]
>>> again.close()
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, Literal

from rampart.durable import fsync_folder, sync_file

RecordKind = Literal["event", "label"]

SEGMENT: Final = "00000001.wal"
_TAGS: Final[dict[RecordKind, bytes]] = {"event": b"E", "label": b"L"}
_KINDS: Final[dict[bytes, RecordKind]] = {tag: kind for kind, tag in _TAGS.items()}
# A header is a tag, a length and a checksum: far below this.
_MAX_HEADER: Final = 64


class WriteAheadLog:
    """Appends records to ``folder`` and reads back every whole one (the file is owner-only).

    The log holds events as the caller sent them, PII included, as the caller's own input
    files do: a restart must score exactly what was answered.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / SEGMENT
        created = not self.path.exists()
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self._handle: BinaryIO = os.fdopen(descriptor, "r+b")
        if created:
            fsync_folder(folder)
        self._records, whole = _read(self._handle)
        self._handle.truncate(whole)
        self._handle.seek(whole)
        sync_file(self._handle)

    def records(self) -> Iterator[tuple[RecordKind, bytes]]:
        """The whole records found on opening, oldest first (read once, then dropped)."""
        records, self._records = self._records, []
        yield from records

    def append(self, kind: RecordKind, payload: bytes) -> None:
        """Buffer one record; it is durable after :meth:`sync`."""
        header = b"%s %d %08x\n" % (_TAGS[kind], len(payload), zlib.crc32(payload))
        self._handle.write(header + payload + b"\n")

    def sync(self) -> None:
        """Flush and fsync everything appended so far."""
        sync_file(self._handle)

    def close(self) -> None:
        self._handle.close()


def _read(handle: BinaryIO) -> tuple[list[tuple[RecordKind, bytes]], int]:
    """Every whole record from the start, and the offset just after the last one."""
    handle.seek(0)
    data = handle.read()
    records: list[tuple[RecordKind, bytes]] = []
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
        records.append((_KINDS[parts[0]], payload))
        offset = stop + 1
    return records, offset
