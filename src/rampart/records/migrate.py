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

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

SCRIPT_LOCATION = "rampart.records:migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # No prepend_sys_path to split; saying so keeps Alembic from warning about the legacy split.
    config.set_main_option("path_separator", "os")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of ``engine`` up to ``revision`` (default: the newest)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate down to ``revision`` (``"base"``: no records tables at all)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the records package ships no migrations"
    return head
