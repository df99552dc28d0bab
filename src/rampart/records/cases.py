"""Cases: an entity in an area that an investigator works, from open to a closing verdict.

One case is open per (entity, area) at a time: opening one that is already open returns it and
changes nothing. Closing names what settled it (``verdict_ref``: a label id, a verdict). The
case's entity id is kept like a label's (PII-like ids as pseudonyms, by the caller's keeper).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, RowMapping, select
from sqlalchemy.exc import IntegrityError

from rampart.records.audit import insert_audited, update_audited
from rampart.records.base import Case, Clock, RecordsError, utc_now
from rampart.records.entities import EntityKeeper
from rampart.records.schema import cases


def _case(row: RowMapping) -> Case:
    return Case(
        case_id=row["case_id"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        area=row["area"],
        status=row["status"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        assignee=row["assignee"],
        verdict_ref=row["verdict_ref"],
    )


def _open_case(connection: Connection, entity_type: str, entity_id: str, area: str) -> Case | None:
    query = select(cases).where(
        cases.c.entity_type == entity_type,
        cases.c.entity_id == entity_id,
        cases.c.area == area,
        cases.c.status == "open",
    )
    row = connection.execute(query).mappings().one_or_none()
    return _case(row) if row is not None else None


class SqlCases:
    """The case repository (see :class:`rampart.records.base.CaseRepository`)."""

    def __init__(
        self, engine: Engine, *, keeper: EntityKeeper | None = None, clock: Clock = utc_now
    ) -> None:
        self.engine = engine
        self.keeper = keeper or EntityKeeper(None)
        self.clock = clock

    def open(self, entity_type: str, entity_id: str, area: str, *, actor: str) -> Case:
        """Open a case on the entity in ``area``, or return the one already open."""
        entity_id = self.keeper.keep(entity_type, entity_id)
        try:
            return self._open(entity_type, entity_id, area, actor)
        except IntegrityError:
            # Another investigator opened it between our look and our insert: it is theirs.
            return self._open(entity_type, entity_id, area, actor)

    def _open(self, entity_type: str, entity_id: str, area: str, actor: str) -> Case:
        with self.engine.begin() as connection:
            existing = _open_case(connection, entity_type, entity_id, area)
            if existing is not None:
                return existing
            opened_at = self.clock()
            values = {
                "entity_type": entity_type,
                "entity_id": entity_id,
                "area": area,
                "status": "open",
                "opened_at": opened_at,
            }
            row = insert_audited(
                connection, cases, values, at=opened_at, actor=actor, action="case.open"
            )
            return _case(row)

    def assign(self, case_id: int, assignee: str | None, *, actor: str) -> Case:
        """Give the case to an investigator (their pseudonymous handle); None unassigns it."""
        if assignee is not None:
            assignee = self.keeper.keep("assignee", assignee)
        return self._change(case_id, {"assignee": assignee}, actor=actor, action="case.assign")

    def close(self, case_id: int, verdict_ref: str | None, *, actor: str) -> Case:
        """Close the case with what settled it; closing a closed case is an error."""
        with self.engine.begin() as connection:
            current = self._get(connection, case_id)
            if current.status == "closed":
                raise RecordsError(f"case {case_id} is already closed")
            at = self.clock()
            values = {"status": "closed", "closed_at": at, "verdict_ref": verdict_ref}
            row = update_audited(
                connection, cases, case_id, values, at=at, actor=actor, action="case.close"
            )
            assert row is not None  # it was read in this transaction
            return _case(row)

    def get(self, case_id: int) -> Case:
        with self.engine.connect() as connection:
            return self._get(connection, case_id)

    def queue(self, *, area: str | None = None) -> Sequence[Case]:
        """Open cases, oldest first (optionally of one area)."""
        query = select(cases).where(cases.c.status == "open")
        if area is not None:
            query = query.where(cases.c.area == area)
        query = query.order_by(cases.c.opened_at, cases.c.case_id)
        with self.engine.connect() as connection:
            return [_case(row) for row in connection.execute(query).mappings()]

    def _change(self, case_id: int, values: dict[str, object], *, actor: str, action: str) -> Case:
        with self.engine.begin() as connection:
            row = update_audited(
                connection, cases, case_id, values, at=self.clock(), actor=actor, action=action
            )
            if row is None:
                raise RecordsError(f"no case {case_id}")
            return _case(row)

    @staticmethod
    def _get(connection: Connection, case_id: int) -> Case:
        row = connection.execute(select(cases).where(cases.c.case_id == case_id)).mappings()
        found = row.one_or_none()
        if found is None:
            raise RecordsError(f"no case {case_id}")
        return _case(found)
