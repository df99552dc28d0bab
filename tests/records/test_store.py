"""Opening the records: migrated to head on open, and a failed open leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from rampart.records.migrate import current_revision, head_revision
from rampart.records.store import Records


def test_open_migrates_to_head(database_url: str) -> None:
    with Records.open(database_url) as records:
        assert current_revision(records.engine) == head_revision()


def test_opening_twice_is_harmless(database_url: str) -> None:
    with Records.open(database_url) as first, Records.open(database_url) as second:
        first.lists.add("vip", "allow", "u1", actor="ana")
        assert [e.value for e in second.lists.entries("vip")] == ["u1"]


def test_an_unreachable_database_fails_on_open() -> None:
    with pytest.raises(OperationalError):
        Records.open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
