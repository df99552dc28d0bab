"""The rejects file: every record that was not accepted, with its error, as JSON Lines.

A rejected record is never lost: its line keeps the position, the event id, the field path, the
reason and the raw record. Raw records carry PII, so by default the raw record is written with
its PII scrubbed (see :mod:`rampart.ingest.privacy`); an operator who needs the verbatim line to
reprocess it configures ``keep_raw_pii=True`` knowingly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal

import msgspec

from rampart.contract.validate import ContractError
from rampart.durable import sync_file

RejectKind = Literal["invalid", "late"]


class Reject(msgspec.Struct, kw_only=True):
    """One line of the rejects file."""

    source: str
    line: int
    kind: RejectKind
    event_id: str | None = None
    path: str | None = None
    reason: str
    error: str
    raw: str


class RejectSink:
    """Appends rejects to a JSON Lines file (or only counts them when no path is given)."""

    def __init__(
        self,
        path: Path | None,
        scrub: Callable[[bytes], str],
        *,
        keep_raw_pii: bool = False,
        append: bool = False,
    ) -> None:
        self.path = path
        self.count = 0
        self._scrub = scrub
        self._keep_raw_pii = keep_raw_pii
        self._encoder = msgspec.json.Encoder()
        self._handle: BinaryIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Append only when resuming a run (the caller rolled the file back first).
            self._handle = path.open("ab" if append else "wb")

    def add(self, source: str, error: ContractError, raw: bytes, kind: RejectKind) -> None:
        self.count += 1
        if self._handle is None:
            return
        shown = raw.decode("utf-8", "replace") if self._keep_raw_pii else self._scrub(raw)
        reject = Reject(
            source=source,
            line=error.line,
            kind=kind,
            event_id=error.event_id,
            path=error.path,
            reason=error.reason,
            error=str(error),
            raw=shown,
        )
        self._handle.write(self._encoder.encode(reject) + b"\n")

    def durable_size(self) -> int:
        """Flush and fsync; the length of the file now on disk (0 without a file)."""
        if self._handle is None:
            return 0
        return sync_file(self._handle)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RejectSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
