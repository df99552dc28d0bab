"""Where the records live: a SQLite file by default, PostgreSQL when configured.

The target is a SQLAlchemy URL or a file path. ``RAMPART_RECORDS_URL`` sets it when the caller
does not; a ``postgresql://`` URL uses psycopg 3. A schema other than ``public`` is chosen the
PostgreSQL way, in the URL: ``?options=-csearch_path%3Dmy_schema``.

>>> records_url("records.sqlite")
'sqlite+pysqlite:///records.sqlite'
>>> records_url(None, env={"RAMPART_RECORDS_URL": "postgresql://rampart@db:5432/risk"})
'postgresql+psycopg://rampart@db:5432/risk'
>>> records_url(None, env={})
'sqlite+pysqlite:///rampart-records.sqlite'
>>> records_url("mysql://x/y")
Traceback (most recent call last):
...
rampart.records.base.RecordsError: records need SQLite or PostgreSQL, not mysql (from mysql://x/y)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rampart.records.base import RecordsError

RECORDS_URL_ENV: Final = "RAMPART_RECORDS_URL"
DEFAULT_PATH: Final = Path("rampart-records.sqlite")
# Waiting this long for another writer's lock beats failing at once (SQLite has one writer).
SQLITE_BUSY_MS: Final = 30_000

# "postgres" is the scheme many hosting providers hand out.
_DRIVERS: Final = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def records_url(
    target: str | os.PathLike[str] | None, *, env: Mapping[str, str] | None = None
) -> str:
    """The SQLAlchemy URL of ``target`` (a URL or a path), else of the environment, else default."""
    environ = os.environ if env is None else env
    if target is None:
        target = environ.get(RECORDS_URL_ENV) or DEFAULT_PATH
    text = os.fspath(target)
    if "://" not in text:
        return f"sqlite+pysqlite:///{text}"
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise RecordsError(f"not a database URL: {_hide_password(text)}") from exc
    backend = url.get_backend_name()
    if backend not in _DRIVERS:
        raise RecordsError(
            f"records need SQLite or PostgreSQL, not {backend} (from {_hide_password(text)})"
        )
    return url.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


def _hide_password(text: str) -> str:
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def shown_url(target: str | os.PathLike[str] | None) -> str:
    """Where the records are, fit to print: the URL with its password hidden.

    >>> shown_url("postgresql://rampart:s3cret@db/risk")
    'postgresql+psycopg://rampart:***@db/risk'
    """
    try:
        return _hide_password(records_url(target))
    except RecordsError:
        return _hide_password(os.fspath(target)) if target is not None else "<default>"


def create_records_engine(url: str) -> Engine:
    """An engine for ``url`` (see :func:`records_url`), set up for safe concurrent use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite defers BEGIN until the first write, so a read-then-write transaction could
        # lose a race; begin every transaction explicitly and immediately instead.
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # pool_pre_ping: a PostgreSQL restart must not fail the next store operation.
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: transactions are begun by _sqlite_begin_immediate.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
    # WAL lets readers go on while a label batch is written; in-memory databases have no WAL.
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL: a stored label survives a power cut too, not just a killed process.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
