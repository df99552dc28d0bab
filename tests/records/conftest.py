"""Every records test runs twice: on a SQLite file and on the real PostgreSQL.

PostgreSQL is the one `.ci/run` starts (``RAMPART_TEST_POSTGRES_URL`` points elsewhere). Each
test gets a schema of its own, named at random and dropped afterwards, so parallel workers and
repeated runs never see each other's rows. Nothing here is mocked: a backend is done when this
suite passes on it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from rampart.ingest.pii import Pseudonymizer
from rampart.records.connect import create_records_engine
from rampart.records.entities import EntityKeeper
from rampart.records.store import Records

POSTGRES_URL = os.environ.get(
    "RAMPART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECRET = b"records-tests-secret-0123456789"


class StepClock:
    """A clock that moves one second per reading: stamps are distinct and predictable."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} (.ci/run starts it): {exc}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each engine (PostgreSQL: a fresh schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path / 'records.sqlite'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"records_test_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


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
