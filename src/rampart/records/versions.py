"""Rule and model versions, and the mode each one runs in (``live``, ``shadow``, ``off``).

A version is recorded once: recording the same rule expression (by its hash) or the same model
directory version for an area again returns the stored row and changes nothing. At most one
version of a rule (per pack) and one model version per area is ``live``: making one live turns
the live one before it ``off``, audited, in the same transaction.

>>> rule_version_hash("amount > 100")[:12]
'f04372e11a64'
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, Table, and_, select
from sqlalchemy.exc import IntegrityError

from rampart.records.audit import insert_audited, update_audited
from rampart.records.base import Clock, Mode, ModelVersion, RecordsError, RuleVersion, utc_now
from rampart.records.schema import MODES, model_versions, rule_versions

V = TypeVar("V", RuleVersion, ModelVersion)


def rule_version_hash(expression: str) -> str:
    """The version of a rule: SHA-256 of its expression text as written."""
    return hashlib.sha256(expression.encode()).hexdigest()


def _rule(row: RowMapping) -> RuleVersion:
    return RuleVersion(
        version_id=row["version_id"],
        pack=row["pack"],
        rule=row["rule"],
        version_hash=row["version_hash"],
        expression=row["expression"],
        mode=row["mode"],
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


def _model(row: RowMapping) -> ModelVersion:
    return ModelVersion(
        version_id=row["version_id"],
        model_hash=row["model_hash"],
        area=row["area"],
        report=row["report"],
        mode=row["mode"],
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise RecordsError(f"mode {mode!r} is not one of {', '.join(MODES)}")


def _scope(table: Table, row: Mapping[Any, Any]) -> ColumnElement[bool]:
    """The versions that compete for ``live`` with ``row``: the same rule, or the same area."""
    if table is rule_versions:
        return and_(table.c.pack == row["pack"], table.c.rule == row["rule"])
    same_area: ColumnElement[bool] = table.c.area == row["area"]
    return same_area


def set_mode(
    connection: Connection,
    table: Table,
    version_id: int,
    mode: Mode,
    *,
    at: datetime,
    actor: str,
) -> tuple[RowMapping, list[RowMapping]]:
    """Put one version in ``mode``, audited; (its row, the rows turned off to make it live)."""
    _check_mode(mode)
    action = f"{table.name.removesuffix('s')}.mode"
    row = update_audited(
        connection, table, version_id, {"mode": mode}, at=at, actor=actor, action=action
    )
    if row is None:
        raise RecordsError(f"no {table.name.replace('_', ' ').removesuffix('s')} {version_id}")
    demoted: list[RowMapping] = []
    if mode == "live":
        others = select(table.c.version_id).where(
            _scope(table, row), table.c.mode == "live", table.c.version_id != version_id
        )
        for other in connection.execute(others).scalars().all():
            off = update_audited(
                connection, table, other, {"mode": "off"}, at=at, actor=actor, action=action
            )
            if off is not None:
                demoted.append(off)
    return row, demoted


class _Versions(ABC, Generic[V]):
    """Shared by the rule and model version repositories: record once, change modes audited."""

    table: ClassVar[Table]

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    @abstractmethod
    def _convert(self, row: RowMapping) -> V:
        """The repository's record of a stored row."""

    def _record(self, identity: Mapping[str, Any], values: Mapping[str, Any], actor: str) -> V:
        _check_mode(values["mode"])
        where = [self.table.c[name] == value for name, value in identity.items()]
        for attempt in (1, 2):
            try:
                with self.engine.begin() as connection:
                    found = connection.execute(select(self.table).where(*where)).mappings()
                    existing = found.one_or_none()
                    if existing is not None:
                        return self._convert(existing)
                    at = self.clock()
                    row = insert_audited(
                        connection,
                        self.table,
                        {**identity, **values, "created_at": at, "created_by": actor},
                        at=at,
                        actor=actor,
                        action=f"{self.table.name.removesuffix('s')}.add",
                    )
                    if row["mode"] == "live":
                        row, _ = set_mode(
                            connection, self.table, row["version_id"], "live", at=at, actor=actor
                        )
                    return self._convert(row)
            except IntegrityError:
                # Another writer recorded the same version first: read theirs.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def set_mode(self, version_id: int, mode: Mode, *, actor: str) -> V:
        """Put one version in ``mode`` (making it live turns the live one before it off)."""
        with self.engine.begin() as connection:
            row, _ = set_mode(
                connection, self.table, version_id, mode, at=self.clock(), actor=actor
            )
            return self._convert(row)


class SqlRuleVersions(_Versions[RuleVersion]):
    """Rule versions (see :class:`rampart.records.base.RuleVersionRepository`)."""

    table = rule_versions

    def _convert(self, row: RowMapping) -> RuleVersion:
        return _rule(row)

    def record(
        self,
        pack: str,
        rule: str,
        expression: str,
        mode: Mode,
        *,
        actor: str,
        version_hash: str | None = None,
    ) -> RuleVersion:
        """Record a rule's expression as a version (its hash unless one is given)."""
        digest = version_hash or rule_version_hash(expression)
        identity = {"pack": pack, "rule": rule, "version_hash": digest}
        return self._record(identity, {"expression": expression, "mode": mode}, actor)

    def find(self, pack: str, rule: str, version_hash: str) -> RuleVersion | None:
        query = select(rule_versions).where(
            rule_versions.c.pack == pack,
            rule_versions.c.rule == rule,
            rule_versions.c.version_hash == version_hash,
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().one_or_none()
        return _rule(row) if row is not None else None

    def history(self, pack: str, rule: str) -> Sequence[RuleVersion]:
        """The versions of one rule, oldest first."""
        query = (
            select(rule_versions)
            .where(rule_versions.c.pack == pack, rule_versions.c.rule == rule)
            .order_by(rule_versions.c.version_id)
        )
        with self.engine.connect() as connection:
            return [_rule(row) for row in connection.execute(query).mappings()]


class SqlModelVersions(_Versions[ModelVersion]):
    """Model versions (see :class:`rampart.records.base.ModelVersionRepository`)."""

    table = model_versions

    def _convert(self, row: RowMapping) -> ModelVersion:
        return _model(row)

    def record(
        self, model_hash: str, area: str, report: Mapping[str, Any], mode: Mode, *, actor: str
    ) -> ModelVersion:
        """Record the model of ``area`` in a model directory (its version) with its report."""
        identity = {"model_hash": model_hash, "area": area}
        return self._record(identity, {"report": dict(report), "mode": mode}, actor)

    def find(self, model_hash: str, area: str) -> ModelVersion | None:
        query = select(model_versions).where(
            model_versions.c.model_hash == model_hash, model_versions.c.area == area
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().one_or_none()
        return _model(row) if row is not None else None

    def history(self, area: str) -> Sequence[ModelVersion]:
        """The model versions of one area, oldest first."""
        query = (
            select(model_versions)
            .where(model_versions.c.area == area)
            .order_by(model_versions.c.version_id)
        )
        with self.engine.connect() as connection:
            return [_model(row) for row in connection.execute(query).mappings()]
