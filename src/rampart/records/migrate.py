"""Run the records migrations in process: open a store and it is at the head revision.

The migration scripts ship inside the package (``rampart.records:migrations``); there is no
``alembic.ini``. Upgrading is idempotent and safe to run on every open: at head it does nothing.

>>> from sqlalchemy import create_engine
>>> engine = create_engine("sqlite://")
>>> current_revision(engine) is None
True
>>> upgrade(engine); current_revision(engine) == head_revision()
True
>>> downgrade(engine, "base"); current_revision(engine) is None
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

SCRIPT_LOCATION = "rampart.records:migrations"
# Alembic keeps its running context in module globals: one migration per process at a time.
_IN_PROCESS: Final = threading.Lock()
# Between processes, PostgreSQL serialises migrations with this transaction-scoped advisory lock
# (SQLite does it with the write lock every records transaction takes first).
_ADVISORY_LOCK: Final = 0x7261_6D70_6172_74  # "rampart"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # No prepend_sys_path to split; saying so keeps Alembic from warning about the legacy split.
    config.set_main_option("path_separator", "os")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of ``engine`` up to ``revision`` (default: the newest)."""
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate down to ``revision`` (``"base"``: no records tables at all)."""
    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    config = _config()
    with _IN_PROCESS, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        config.attributes["connection"] = connection
        step(config)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the records package ships no migrations"
    return head
