"""Where a log's files live, and how one is written so that no reader ever sees half of it.

``<root>/<table>/day=YYYY-MM-DD/part-NNNNNN.parquet``: Hive partitions by the event-time day
(UTC); part numbers grow over the whole folder (all tables, all days), so "every part from
number n on" names exactly what was written after a point, which is how a resumed run drops what
a killed one wrote past its checkpoint. A part is written under a hidden temporary name, fsynced
and renamed into place.

>>> part_path(Path("logs"), "decisions", date(2026, 3, 1), 12).as_posix()
'logs/decisions/day=2026-03-01/part-000012.parquet'
>>> part_number(Path("part-000012.parquet")), part_number(Path(".part-000012.parquet.tmp"))
(12, None)
>>> day_of(Path("logs/decisions/day=2026-03-01"))
datetime.date(2026, 3, 1)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO, Final

from rampart.durable import fsync_folder, sync_file

TABLES: Final = ("decisions", "verdicts")
_PART: Final = re.compile(r"part-(\d+)\.parquet")
_DAY: Final = re.compile(r"day=(\d{4}-\d{2}-\d{2})")
TEMPORARY_SUFFIX: Final = ".tmp"


def part_path(root: Path, table: str, day: date, number: int) -> Path:
    return root / table / f"day={day.isoformat()}" / f"part-{number:06d}.parquet"


def part_number(path: Path) -> int | None:
    """The number of a part file (None for any other file, temporaries included)."""
    match = _PART.fullmatch(path.name)
    return int(match.group(1)) if match else None


def day_of(folder: Path) -> date | None:
    """The day of a ``day=YYYY-MM-DD`` partition folder (None for any other name)."""
    match = _DAY.fullmatch(folder.name)
    return date.fromisoformat(match.group(1)) if match else None


def day_folders(root: Path, table: str) -> list[tuple[date, Path]]:
    """The table's partitions, by day."""
    folder = root / table
    if not folder.is_dir():
        return []
    found = [(day, path) for path in folder.iterdir() if (day := day_of(path)) is not None]
    return sorted(found)


def parts(root: Path, table: str) -> Iterator[tuple[date, int, Path]]:
    """Every part of the table: day, number, path, in day then number order."""
    for day, folder in day_folders(root, table):
        numbered = [(n, p) for p in folder.iterdir() if (n := part_number(p)) is not None]
        for number, path in sorted(numbered):
            yield day, number, path


def next_part_number(root: Path) -> int:
    """One more than the highest part number in the folder (0 when it has none)."""
    numbers = [number for table in TABLES for _, number, _ in parts(root, table)]
    return max(numbers, default=-1) + 1


def drop_parts_from(root: Path, first: int) -> list[Path]:
    """Delete every part numbered ``first`` or more, and stray temporaries; what was deleted."""
    dropped = []
    for table in TABLES:
        for _, folder in day_folders(root, table):
            for path in folder.iterdir():
                number = part_number(path)
                stray = path.name.endswith(TEMPORARY_SUFFIX)
                if stray or (number is not None and number >= first):
                    path.unlink()
                    dropped.append(path)
            fsync_folder(folder)
    return dropped


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write a file whole or not at all: a hidden temporary, fsynced, renamed over ``path``."""
    new_folder = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    if new_folder:
        fsync_folder(path.parent.parent)
    temporary = path.with_name(f".{path.name}{TEMPORARY_SUFFIX}")
    try:
        with temporary.open("wb") as handle:
            write(handle)
            sync_file(handle)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    fsync_folder(path.parent)
