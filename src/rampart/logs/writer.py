"""Append every scored event's decision and row, and every verdict, to a Parquet log folder.

Held in memory and written as new part files every ``flush_rows`` events, at each checkpoint of
the scoring run and at close; a part is complete or absent. The log folder is append-only:
a new run adds parts after the existing ones. A run that checkpoints records
:class:`LogState` (the next part number) in its checkpoint; resuming from it drops the parts a
killed run wrote after that point, and the resumed run writes the same events again, so the log
holds each event exactly once.

One writer per folder at a time.

>>> import tempfile
>>> from rampart.logs.reader import read_logs
>>> root = Path(tempfile.mkdtemp())
>>> with LogWriter(root, {"event.type": "str"}, pack_fingerprint="p") as writer:
...     writer.state()
LogState(next_part=0)
>>> read_logs(root).collect().height, read_schema(root).version
(0, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final

import msgspec
import polars as pl

from rampart.engine import Scored
from rampart.ingest.privacy import Accepted
from rampart.logs.buffer import DecisionBuffer, VerdictBuffer
from rampart.logs.layout import drop_parts_from, next_part_number, part_path, write_atomically
from rampart.logs.schema import (
    SCHEMA_FILE,
    LogSchema,
    encode_schema,
    read_schema,
)

DEFAULT_FLUSH_ROWS: Final = 50_000


class LogState(msgspec.Struct, frozen=True):
    """Where a log stands at a checkpoint: every part below ``next_part`` is written and kept."""

    next_part: int


def open_schema(
    root: Path,
    row_columns: Mapping[str, str],
    pack_fingerprint: str,
    every_event: Iterable[str] = (),
) -> LogSchema:
    """The folder's schema, grown (a new version) when the pack logs new columns; saved."""
    existing = read_schema(root)
    if existing is None:
        schema = LogSchema.new(
            row_columns, pack_fingerprint=pack_fingerprint, every_event=every_event
        )
        changed = True
    else:
        schema, changed = existing.merged(row_columns, pack_fingerprint, every_event)
    if changed:
        data = encode_schema(schema)

        def write(handle: BinaryIO) -> None:
            handle.write(data)

        write_atomically(root / SCHEMA_FILE, write)
    return schema


def _no_ip(ip: str) -> str:
    raise ValueError("an address named in clear needs the run's pseudonymiser to be logged")


class LogWriter:
    """The decisions and verdicts log of one scoring run, in the folder ``root``."""

    def __init__(
        self,
        root: Path,
        row_columns: Mapping[str, str],
        *,
        pack_fingerprint: str,
        pseudonymize_ip: Callable[[str], str] = _no_ip,
        flush_rows: int = DEFAULT_FLUSH_ROWS,
        every_event: Iterable[str] = (),
    ) -> None:
        """``every_event``: the event fields this run fills on every event (see LogSchema)."""
        if flush_rows < 1:
            raise ValueError("flush_rows must be at least 1")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.schema = open_schema(root, row_columns, pack_fingerprint, every_event)
        self._metadata = {
            "rampart.schema_version": str(self.schema.version),
            "rampart.pack_fingerprint": self.schema.pack_fingerprint,
        }
        self._flush_rows = flush_rows
        self._decisions = DecisionBuffer(self.schema.polars("decisions"))
        self._verdicts = VerdictBuffer(self.schema.polars("verdicts"), pseudonymize_ip)
        # Temporaries a killed writer left behind go; every complete part stays.
        self._next_part = next_part_number(root)
        drop_parts_from(root, self._next_part)

    def append(self, accepted: Accepted, scored: Scored) -> None:
        """Log one scored event (a re-sent one, with no row, is not logged again)."""
        if scored.row is None:
            return
        self._decisions.add(accepted, scored.decision, scored.row)
        if scored.verdicts:
            self._verdicts.add(accepted, scored.verdicts)
        if len(self._decisions) >= self._flush_rows:
            self.flush()

    def flush(self) -> None:
        """Write what is held as new part files, one per table and day; durable on return."""
        if len(self._decisions):
            self._write("decisions", self._decisions.take(), "ts")
        if len(self._verdicts):
            self._write("verdicts", self._verdicts.take(), "found_at")

    def _write(self, table: str, frame: pl.DataFrame, time_column: str) -> None:
        with_day = frame.with_columns(pl.col(time_column).dt.date().alias("_day"))
        by_day = with_day.partition_by("_day", maintain_order=True, include_key=False, as_dict=True)
        for (day,), part in by_day.items():
            path = part_path(self.root, table, day, self._next_part)
            self._next_part += 1
            write_atomically(path, self._parquet(part))

    def _parquet(self, frame: pl.DataFrame) -> Callable[[BinaryIO], None]:
        def write(handle: BinaryIO) -> None:
            frame.write_parquet(handle, metadata=self._metadata)

        return write

    def state(self) -> LogState:
        """The log's point, for a checkpoint: call :meth:`flush` first."""
        return LogState(next_part=self._next_part)

    def rollback(self, state: LogState) -> None:
        """Back to a checkpoint's point: the parts written after it (by a killed run) go."""
        self._decisions.take()
        self._verdicts.take()
        drop_parts_from(self.root, state.next_part)
        self._next_part = state.next_part

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
