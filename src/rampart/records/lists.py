"""Allow and deny lists: named sets of values, each entry expiring at an event time (or never).

Values are kept like entity ids: an IP, an e-mail or a phone as its keyed pseudonym, which is
what the rules compare them with (events carry pseudonyms past ingest). A list is allow or deny
throughout; adding a value that is there already updates its expiry and note (audited).
:func:`list_store` hands the lists to the rule language (:class:`ListStore`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, RowMapping, or_, select

from rampart.detect.rules.lists import ListStore
from rampart.records.audit import delete_audited, insert_audited, update_audited
from rampart.records.base import Clock, ListEntry, ListKind, RecordsError, utc_now
from rampart.records.entities import EntityKeeper
from rampart.records.schema import LIST_KINDS, lists


def _entry(row: RowMapping) -> ListEntry:
    return ListEntry(
        entry_id=row["entry_id"],
        list_name=row["list_name"],
        kind=row["kind"],
        value=row["value"],
        expires_at=row["expires_at"],
        added_at=row["added_at"],
        added_by=row["added_by"],
        note=row["note"],
    )


class SqlLists:
    """The list repository (see :class:`rampart.records.base.ListRepository`)."""

    def __init__(
        self, engine: Engine, *, keeper: EntityKeeper | None = None, clock: Clock = utc_now
    ) -> None:
        self.engine = engine
        self.keeper = keeper or EntityKeeper(None)
        self.clock = clock

    def add(
        self,
        list_name: str,
        kind: ListKind,
        value: str,
        *,
        actor: str,
        expires_at: datetime | None = None,
        note: str | None = None,
    ) -> ListEntry:
        """Put ``value`` on the list (or update its expiry and note when it is there)."""
        if kind not in LIST_KINDS:
            raise RecordsError(f"list kind {kind!r} is not one of {', '.join(LIST_KINDS)}")
        kept = self.keeper.keep("list value", value)
        with self.engine.begin() as connection:
            other_kind = connection.execute(
                select(lists.c.kind).where(lists.c.list_name == list_name, lists.c.kind != kind)
            ).first()
            if other_kind is not None:
                raise RecordsError(
                    f"list {list_name!r} is of kind {other_kind[0]}: it cannot take {kind} entries"
                )
            at = self.clock()
            existing = _find(connection, list_name, kept)
            if existing is None:
                values = {
                    "list_name": list_name,
                    "kind": kind,
                    "value": kept,
                    "expires_at": expires_at,
                    "added_at": at,
                    "added_by": actor,
                    "note": note,
                }
                row = insert_audited(
                    connection, lists, values, at=at, actor=actor, action="list.add"
                )
                return _entry(row)
            changes = {"expires_at": expires_at, "note": note}
            updated = update_audited(
                connection,
                lists,
                existing["entry_id"],
                changes,
                at=at,
                actor=actor,
                action="list.update",
            )
            assert updated is not None  # found in this transaction
            return _entry(updated)

    def remove(self, list_name: str, value: str, *, actor: str) -> bool:
        """Take ``value`` off the list; False when it was not on it."""
        kept = self.keeper.keep("list value", value)
        with self.engine.begin() as connection:
            existing = _find(connection, list_name, kept)
            if existing is None:
                return False
            return delete_audited(
                connection,
                lists,
                existing["entry_id"],
                at=self.clock(),
                actor=actor,
                action="list.remove",
            )

    def entries(self, list_name: str, *, at: datetime | None = None) -> Sequence[ListEntry]:
        """The list's entries; with ``at`` (an event time), only those that apply then."""
        query = select(lists).where(lists.c.list_name == list_name)
        if at is not None:
            query = query.where(or_(lists.c.expires_at.is_(None), lists.c.expires_at > at))
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(lists.c.entry_id)).mappings()
            return [_entry(row) for row in rows]

    def names(self) -> Sequence[str]:
        query = select(lists.c.list_name).distinct().order_by(lists.c.list_name)
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())


def _find(connection: Connection, list_name: str, value: str) -> RowMapping | None:
    query = select(lists).where(lists.c.list_name == list_name, lists.c.value == value)
    return connection.execute(query.with_for_update()).mappings().one_or_none()


def list_store(repository: SqlLists, names: Iterable[str] | None = None) -> ListStore:
    """The lists (all, or those named) as the rule language reads them (expiry: epoch s)."""
    chosen = repository.names() if names is None else list(names)
    return ListStore(
        {
            name: {
                entry.value: entry.expires_at.timestamp() if entry.expires_at else None
                for entry in repository.entries(name)
            }
            for name in chosen
        }
    )
