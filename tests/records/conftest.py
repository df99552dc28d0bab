"""Every records test runs twice: on a SQLite file and on the real PostgreSQL.

The ``database_url`` fixture (tests/conftest.py) gives each test an empty database on each
engine. Nothing here is mocked: a backend is done when this suite passes on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from rampart.ingest.pii import Pseudonymizer
from rampart.records.connect import create_records_engine
from rampart.records.entities import EntityKeeper
from rampart.records.store import Records

SECRET = b"records-tests-secret-0123456789"


class StepClock:
    """A clock that moves one second per reading: stamps are distinct and predictable."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the empty database, not migrated."""
    engine = create_records_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def keeper() -> EntityKeeper:
    return EntityKeeper(Pseudonymizer(SECRET))


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def records(database_url: str, keeper: EntityKeeper, clock: StepClock) -> Iterator[Records]:
    with Records.open(database_url, keeper=keeper, clock=clock) as opened:
        yield opened
