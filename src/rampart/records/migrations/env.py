"""Alembic's entry point, run by :func:`rampart.records.migrate.upgrade` and friends.

Migrations run on the connection the caller hands over (``config.attributes["connection"]``):
records open their own engine and migrate it in process, so there is no ``alembic.ini`` and no
URL to keep in two places. Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("records migrations run through rampart.records.migrate, on a connection")
context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
