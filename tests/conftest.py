"""Shared test fixtures: the contract, tiny simulated worlds, empty records databases.

PostgreSQL is the one `.ci/run` starts (``RAMPART_TEST_POSTGRES_URL`` points elsewhere). Each
test that asks for a database gets a schema of its own, named at random and dropped afterwards,
so parallel workers and repeated runs never see each other's rows.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from rampart.simulate import world_config, write_world

REPO_ROOT = Path(__file__).resolve().parents[1]
# The contract is shared with other systems and sits beside the repository (CI lays it there too).
CONTRACT_DIR = REPO_ROOT.parent / "shared" / "contract"


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    assert CONTRACT_DIR.is_dir(), f"the shared contract is missing at {CONTRACT_DIR}"
    return CONTRACT_DIR


@pytest.fixture(scope="session")
def event_schema(contract_dir: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((contract_dir / "events.schema.json").read_text())
    return schema


@pytest.fixture(scope="session")
def outputs_schema(contract_dir: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((contract_dir / "decision.schema.json").read_text())
    return schema


@pytest.fixture(scope="session")
def tiny_world_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """The folder of the tiny hard simulated world of a seed, written once a session (read only)."""
    written: dict[int, Path] = {}

    def world(seed: int) -> Path:
        if seed not in written:
            out = tmp_path_factory.mktemp(f"tiny-world-{seed}")
            write_world(world_config(preset="tiny", difficulty="hard", seed=seed), out)
            written[seed] = out
        return written[seed]

    return world


POSTGRES_URL = os.environ.get(
    "RAMPART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


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
