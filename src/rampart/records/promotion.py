"""Promotion: putting a rule or model version in another mode is a recorded, audited change.

Shipping a rule goes shadow → live (or back, or off). :func:`promote_rule` and
:func:`promote_model` find the version by what people know it by (pack, rule and version hash;
model version and area), change its mode and write the audit rows, in one transaction: the
mode change of this version (the row before and after), one for each version that was live
before and is now off, and a ``promotion`` row with the actor's reason. Nothing changes, and
nothing is written, when the version already runs in that mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, RowMapping, Table, select

from rampart.records.audit import write_audit
from rampart.records.base import Clock, Mode, RecordsError, utc_now
from rampart.records.schema import model_versions, rule_versions
from rampart.records.versions import set_mode


@dataclass(frozen=True, slots=True)
class Promotion:
    """What a promotion changed: the version's mode, and the versions it turned off."""

    version_id: int
    before: Mode
    after: Mode
    turned_off: tuple[int, ...]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def promote_rule(
    engine: Engine,
    pack: str,
    rule: str,
    version_hash: str,
    *,
    to: Mode = "live",
    actor: str,
    reason: str | None = None,
    clock: Clock = utc_now,
) -> Promotion:
    """Put one recorded version of a rule in mode ``to`` (default: promote it to live)."""
    where = (
        rule_versions.c.pack == pack,
        rule_versions.c.rule == rule,
        rule_versions.c.version_hash == version_hash,
    )
    name = f"rule {pack}/{rule} version {version_hash[:12]}"
    return _promote(engine, rule_versions, where, name, to, actor, reason, clock())


def promote_model(
    engine: Engine,
    model_hash: str,
    area: str,
    *,
    to: Mode = "live",
    actor: str,
    reason: str | None = None,
    clock: Clock = utc_now,
) -> Promotion:
    """Put the recorded model of ``area`` from model directory version ``model_hash`` in ``to``."""
    where = (model_versions.c.model_hash == model_hash, model_versions.c.area == area)
    name = f"model {model_hash[:12]} for {area}"
    return _promote(engine, model_versions, where, name, to, actor, reason, clock())


def _promote(
    engine: Engine,
    table: Table,
    where: tuple[ColumnElement[bool], ...],
    name: str,
    to: Mode,
    actor: str,
    reason: str | None,
    at: datetime,
) -> Promotion:
    with engine.begin() as connection:
        found: RowMapping | None = (
            connection.execute(select(table).where(*where).with_for_update())
            .mappings()
            .one_or_none()
        )
        if found is None:
            raise RecordsError(f"{name} is not recorded (record it before promoting it)")
        before: Mode = found["mode"]
        if before == to:
            return Promotion(found["version_id"], before, to, ())
        row, demoted = set_mode(connection, table, found["version_id"], to, at=at, actor=actor)
        # The reason is part of the record: why a rule went live matters as much as that it did.
        write_audit(
            connection,
            at=at,
            actor=actor,
            action="promotion",
            target=table.name,
            target_key=row["version_id"],
            before={"mode": before},
            after={"mode": to, "reason": reason},
        )
        return Promotion(row["version_id"], before, to, tuple(d["version_id"] for d in demoted))
