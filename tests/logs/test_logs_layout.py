"""Part files appear whole or not at all, and parts past a point can be dropped."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.logs.layout import (
    day_of,
    drop_parts_from,
    next_part_number,
    part_number,
    part_path,
    parts,
    write_atomically,
)


@given(
    st.sampled_from(["decisions", "verdicts"]),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(min_value=0, max_value=10**9),
)
def test_a_part_path_gives_back_its_day_and_number(table: str, day: date, number: int) -> None:
    path = part_path(Path("logs"), table, day, number)
    assert (day_of(path.parent), part_number(path)) == (day, number)
    assert path.parent.parent == Path("logs") / table


def test_a_failed_write_leaves_neither_the_part_nor_a_temporary(tmp_path: Path) -> None:
    path = part_path(tmp_path, "decisions", date(2026, 3, 1), 0)

    def half(handle: BinaryIO) -> None:
        handle.write(b"PAR1 half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, half)
    assert list(path.parent.iterdir()) == []
    write_atomically(path, lambda handle: None)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_killed_writers_temporary_is_never_a_part(tmp_path: Path) -> None:
    folder = part_path(tmp_path, "decisions", date(2026, 3, 1), 0).parent
    folder.mkdir(parents=True)
    (folder / ".part-000003.parquet.tmp").write_bytes(b"half")
    assert list(parts(tmp_path, "decisions")) == []
    assert next_part_number(tmp_path) == 0


@settings(deadline=None, max_examples=40)  # each part is fsynced: slow on a busy disk
@given(st.lists(st.integers(min_value=0, max_value=40), unique=True), st.integers(0, 45))
def test_dropping_from_a_number_keeps_exactly_the_parts_below_it(
    numbers: list[int], first: int
) -> None:
    import tempfile

    root = Path(tempfile.mkdtemp())
    for number in numbers:
        table = ("decisions", "verdicts")[number % 2]
        path = part_path(root, table, date(2026, 3, 1 + number % 3), number)
        write_atomically(path, lambda handle: None)
    assert next_part_number(root) == max(numbers, default=-1) + 1
    drop_parts_from(root, first)
    kept = sorted(n for table in ("decisions", "verdicts") for _, n, _ in parts(root, table))
    assert kept == sorted(n for n in numbers if n < first)
