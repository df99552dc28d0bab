"""Read a log folder as a Polars LazyFrame, only the days asked for.

The frame has the folder's current schema (``_schema.json``): parts written before a column
existed read it as null. ``day`` (the partition, a date) comes from the folder names; days
outside ``since``/``until`` are never opened, and rows are then cut at the exact instants.

>>> import tempfile
>>> read_logs(Path(tempfile.mkdtemp())).collect().shape
(0, 0)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final, Literal

import polars as pl

from rampart.logs.layout import day_folders, part_number
from rampart.logs.schema import read_schema

Table = Literal["decisions", "verdicts"]
TIME_COLUMN: Final[dict[str, str]] = {"decisions": "ts", "verdicts": "found_at"}
Instant = datetime | date | str


def _instant(value: Instant) -> datetime | date:
    """A datetime (naive read as UTC) or a whole day."""
    if isinstance(value, str):
        value = (
            datetime.fromisoformat(value)
            if "T" in value or " " in value
            else date.fromisoformat(value)
        )
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value


def _bounds(
    since: Instant | None, until: Instant | None
) -> tuple[datetime | None, datetime | None, date | None, date | None]:
    """Inclusive start and exclusive end instants, and the first and last day to open.

    >>> start, end, first, last = _bounds("2026-03-01", date(2026, 3, 2))
    >>> start.isoformat(), end.isoformat(), first.isoformat(), last.isoformat()
    ('2026-03-01T00:00:00+00:00', '2026-03-03T00:00:00+00:00', '2026-03-01', '2026-03-02')
    """
    start = end = None
    first = last = None
    if since is not None:
        value = _instant(since)
        if isinstance(value, datetime):
            start = value.astimezone(UTC)
        else:
            start = datetime.combine(value, time(), UTC)
        first = start.date()
    if until is not None:
        value = _instant(until)
        if isinstance(value, datetime):
            # Inclusive: ``until`` itself is in.
            end = value.astimezone(UTC) + timedelta(microseconds=1)
        else:
            end = datetime.combine(value + timedelta(days=1), time(), UTC)
        last = (end - timedelta(microseconds=1)).date()
    return start, end, first, last


def read_logs(
    root: Path,
    *,
    since: Instant | None = None,
    until: Instant | None = None,
    table: Table = "decisions",
) -> pl.LazyFrame:
    """The ``decisions`` (or ``verdicts``) logged in ``root`` with event time in the window.

    ``since`` is inclusive, ``until`` inclusive too (a date means its whole day; a naive time is
    UTC); both optional. Columns: the table's (see :mod:`rampart.logs.schema`) and ``day``.
    """
    schema = read_schema(root)
    if schema is None:
        return pl.LazyFrame()
    columns = schema.polars(table)
    start, end, first, last = _bounds(since, until)
    files = [
        str(path)
        for day, folder in day_folders(root, table)
        if (first is None or day >= first) and (last is None or day <= last)
        for path in sorted(folder.iterdir(), key=lambda p: part_number(p) or -1)
        if part_number(path) is not None
    ]
    if not files:
        return pl.LazyFrame(schema={**columns, "day": pl.Date()})
    frame = pl.scan_parquet(
        files,
        schema=columns,
        hive_partitioning=True,
        hive_schema={"day": pl.Date()},
        missing_columns="insert",
        extra_columns="ignore",
    )
    moment = pl.col(TIME_COLUMN[table])
    if start is not None:
        frame = frame.filter(moment >= start)
    if end is not None:
        frame = frame.filter(moment < end)
    return frame


def read_decisions(
    root: Path, *, since: Instant | None = None, until: Instant | None = None
) -> pl.LazyFrame:
    return read_logs(root, since=since, until=until, table="decisions")


def read_verdicts(
    root: Path, *, since: Instant | None = None, until: Instant | None = None
) -> pl.LazyFrame:
    return read_logs(root, since=since, until=until, table="verdicts")
