"""Instants round-trip as aware UTC on both engines, whatever offset they were written with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from rampart.records.columns import UtcDateTime, json_document

stamps = MetaData()
stamp = Table(
    "stamp",
    stamps,
    Column("n", Integer, primary_key=True),
    Column("at", UtcDateTime),
    Column("doc", json_document()),
)


@pytest.fixture
def stamp_engine(engine: Engine) -> Engine:
    stamps.create_all(engine)
    return engine


def test_offsets_are_normalised_to_utc_and_microseconds_kept(stamp_engine: Engine) -> None:
    at = datetime(2026, 3, 1, 20, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    with stamp_engine.begin() as connection:
        connection.execute(insert(stamp).values(n=1, at=at, doc={"a": [1, "x"]}))
    with stamp_engine.connect() as connection:
        row = connection.execute(select(stamp)).one()
    assert row.at == at
    assert row.at.tzinfo is UTC
    assert row.at.hour == 12
    assert row.at.microsecond == 123456
    assert row.doc == {"a": [1, "x"]}


def test_comparisons_use_the_instant_not_the_written_offset(stamp_engine: Engine) -> None:
    earlier = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    later_in_jakarta = datetime(2026, 3, 1, 19, 0, tzinfo=timezone(timedelta(hours=7)))  # 12:00Z
    with stamp_engine.begin() as connection:
        connection.execute(
            insert(stamp), [{"n": 1, "at": earlier}, {"n": 2, "at": later_in_jakarta}]
        )
    cutoff = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    with stamp_engine.connect() as connection:
        found = connection.execute(select(stamp.c.n).where(stamp.c.at > cutoff)).scalars().all()
    assert found == [2]


def test_a_naive_datetime_is_refused(stamp_engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), stamp_engine.begin() as c:
        c.execute(insert(stamp).values(n=1, at=datetime(2026, 3, 1)))
