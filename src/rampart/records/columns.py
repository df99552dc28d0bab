"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time zones: :class:`UtcDateTime` stores every instant as naive UTC there and as
``timestamptz`` on PostgreSQL, and always hands back an aware UTC datetime, so code above never
sees which engine it talks to. A naive datetime is refused: it names no instant.

>>> from datetime import datetime, timedelta, timezone
>>> from sqlalchemy.dialects import postgresql, sqlite
>>> column = UtcDateTime()
>>> at = datetime(2026, 3, 1, 20, 0, tzinfo=timezone(timedelta(hours=8)))
>>> column.process_bind_param(at, sqlite.dialect())
datetime.datetime(2026, 3, 1, 12, 0)
>>> column.process_result_value(datetime(2026, 3, 1, 12, 0), sqlite.dialect())
datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
>>> column.process_bind_param(datetime(2026, 3, 1), postgresql.dialect())
Traceback (most recent call last):
...
ValueError: naive datetime 2026-03-01 00:00:00: records keep instants (add a time zone)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: aware UTC in Python, ``timestamptz`` on PostgreSQL, naive UTC on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value}: records keep instants (add a time zone)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_document() -> TypeEngine[Any]:
    """JSON, stored as ``jsonb`` on PostgreSQL (indexable, compact) and as text on SQLite."""
    return JSON().with_variant(JSONB(), "postgresql")
