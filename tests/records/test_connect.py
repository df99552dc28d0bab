"""Where records live: paths, URLs, the environment, and a SQLite file made on first open."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.records.base import RecordsError
from rampart.records.connect import RECORDS_URL_ENV, records_url, shown_url
from rampart.records.store import Records


def test_paths_and_urls() -> None:
    assert records_url("/var/lib/rampart/records.sqlite") == (
        "sqlite+pysqlite:////var/lib/rampart/records.sqlite"
    )
    assert records_url(Path("rel/records.db")) == "sqlite+pysqlite:///rel/records.db"
    assert records_url("sqlite:///x.db") == "sqlite+pysqlite:///x.db"
    assert records_url("postgresql+psycopg2://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert records_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


def test_an_explicit_target_wins_over_the_environment() -> None:
    env = {RECORDS_URL_ENV: "postgresql://u@h/db"}
    assert records_url("local.sqlite", env=env) == "sqlite+pysqlite:///local.sqlite"
    assert records_url(None, env=env) == "postgresql+psycopg://u@h/db"


def test_other_databases_are_refused_without_showing_the_password() -> None:
    with pytest.raises(RecordsError, match="not mysql") as refused:
        records_url("mysql://root:hunter2@db/x")
    assert "hunter2" not in str(refused.value)
    assert "hunter2" not in shown_url("postgresql://root:hunter2@db/x")
    assert "hunter2" not in shown_url("mysql://root:hunter2@db/x")


def test_the_sqlite_file_and_its_folder_are_made_and_data_persists(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "records.sqlite"
    with Records.open(path) as records:
        records.lists.add("vip", "allow", "u1", actor="ana")
    assert path.is_file()
    with Records.open(path) as again:
        assert [e.value for e in again.lists.entries("vip")] == ["u1"]


def test_the_environment_chooses_the_database(database_url: str) -> None:
    with Records.open(None, env={RECORDS_URL_ENV: database_url}) as records:
        records.rules.record("p", "r", "x > 1", "off", actor="ana")
    with Records.open(database_url) as records:
        assert len(records.rules.history("p", "r")) == 1
