"""The audit trail: one append-only row per change, written in the change's transaction.

A row says who (``actor``), when (the store's clock), what (``action`` on ``target`` row
``target_key``), and the row before and after the change as JSON (times as RFC 3339 strings).
The database refuses to update or delete audit rows (a trigger installed by the migration).

>>> from datetime import UTC
>>> document({"at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "n": 1})
{'at': '2026-03-01T12:00:00+00:00', 'n': 1}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, RowMapping, Table, delete, insert, select, update

from rampart.records.base import AuditEntry
from rampart.records.schema import audit


def document(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as a JSON document: datetimes become RFC 3339 strings, the rest is kept."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def write_audit(
    connection: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    target_key: str | int,
    before: Mapping[Any, Any] | None,
    after: Mapping[Any, Any] | None,
) -> None:
    """Append one audit row (call inside the transaction that makes the change)."""
    write_audits(
        connection,
        [
            {
                "at": at,
                "actor": actor,
                "action": action,
                "target": target,
                "target_key": str(target_key),
                "before": document(before) if before is not None else None,
                "after": document(after) if after is not None else None,
            }
        ],
    )


def write_audits(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append many audit rows at once (``before``/``after`` already JSON documents)."""
    if rows:
        connection.execute(insert(audit), list(rows))


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        audit_id=row["audit_id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        target_key=row["target_key"],
        before=row["before"],
        after=row["after"],
    )


class SqlAuditTrail:
    """Reads the audit trail (it is written only by the repositories' own operations)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def entries(
        self, *, target: str | None = None, target_key: str | None = None
    ) -> Sequence[AuditEntry]:
        """Audit rows in the order they were written, optionally of one table or one row."""
        query = select(audit).order_by(audit.c.audit_id)
        if target is not None:
            query = query.where(audit.c.target == target)
        if target_key is not None:
            query = query.where(audit.c.target_key == target_key)
        with self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query).mappings()]


def insert_audited(
    connection: Connection,
    table: Table,
    values: Mapping[str, Any],
    *,
    at: datetime,
    actor: str,
    action: str,
) -> RowMapping:
    """Insert one row and its audit row; the row as stored (with its generated key)."""
    row = connection.execute(insert(table).values(**values).returning(*table.c)).mappings().one()
    key_column = _key_column(table)
    write_audit(
        connection,
        at=at,
        actor=actor,
        action=action,
        target=table.name,
        target_key=row[key_column.name],
        before=None,
        after=row,
    )
    return row


def update_audited(
    connection: Connection,
    table: Table,
    key: int,
    values: Mapping[str, Any],
    *,
    at: datetime,
    actor: str,
    action: str,
) -> RowMapping | None:
    """Change one row (locked while changed) and audit it; None when there is no such row.

    A change that changes nothing writes nothing, audit row included.
    """
    key_column = _key_column(table)
    before = (
        connection.execute(select(table).where(key_column == key).with_for_update())
        .mappings()
        .one_or_none()
    )
    if before is None:
        return None
    if all(before[name] == value for name, value in values.items()):
        return before
    after = (
        connection.execute(
            update(table).where(key_column == key).values(**values).returning(*table.c)
        )
        .mappings()
        .one()
    )
    write_audit(
        connection,
        at=at,
        actor=actor,
        action=action,
        target=table.name,
        target_key=key,
        before=before,
        after=after,
    )
    return after


def delete_audited(
    connection: Connection, table: Table, key: int, *, at: datetime, actor: str, action: str
) -> bool:
    """Delete one row and audit it; False when there was no such row."""
    key_column = _key_column(table)
    before = (
        connection.execute(delete(table).where(key_column == key).returning(*table.c))
        .mappings()
        .one_or_none()
    )
    if before is None:
        return False
    write_audit(
        connection,
        at=at,
        actor=actor,
        action=action,
        target=table.name,
        target_key=key,
        before=before,
        after=None,
    )
    return True


def _key_column(table: Table) -> Column[Any]:
    (column,) = table.primary_key.columns
    return column
