"""The records store: one engine, migrated to the head revision, and its repositories.

>>> records = Records.open("sqlite://")
>>> records.labels.count(), [e.action for e in records.audit.entries()]
(0, [])
>>> version = records.rules.record("default", "big_order", "order.total > 900", "shadow",
...                                actor="ana")
>>> records.promote_rule("default", "big_order", version.version_hash, actor="ana",
...                      reason="precision 0.93 on February").after
'live'
>>> [e.action for e in records.audit.entries()]
['rule_version.add', 'rule_version.mode', 'promotion']
>>> records.close()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType

from sqlalchemy import Engine

from rampart.records.audit import SqlAuditTrail
from rampart.records.base import Clock, Mode, utc_now
from rampart.records.cases import SqlCases
from rampart.records.connect import create_records_engine, records_url
from rampart.records.entities import EntityKeeper
from rampart.records.labels import SqlLabels
from rampart.records.lists import SqlLists
from rampart.records.migrate import upgrade
from rampart.records.promotion import Promotion, promote_model, promote_rule
from rampart.records.versions import SqlModelVersions, SqlRuleVersions


class Records:
    """Labels, cases, rule and model versions, lists and the audit trail, in one database."""

    def __init__(
        self, engine: Engine, *, keeper: EntityKeeper | None = None, clock: Clock = utc_now
    ) -> None:
        self.engine = engine
        self.keeper = keeper or EntityKeeper(None)
        self.clock = clock
        self.labels = SqlLabels(engine, keeper=self.keeper, clock=clock)
        self.cases = SqlCases(engine, keeper=self.keeper, clock=clock)
        self.rules = SqlRuleVersions(engine, clock=clock)
        self.models = SqlModelVersions(engine, clock=clock)
        self.lists = SqlLists(engine, keeper=self.keeper, clock=clock)
        self.audit = SqlAuditTrail(engine)

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str] | None = None,
        *,
        keeper: EntityKeeper | None = None,
        clock: Clock = utc_now,
        env: Mapping[str, str] | None = None,
    ) -> Records:
        """Open (creating or migrating as needed) the records at ``target``: a SQLite path or a
        URL; None reads ``RAMPART_RECORDS_URL``, else ``rampart-records.sqlite`` here."""
        engine = create_records_engine(records_url(target, env=env))
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, keeper=keeper, clock=clock)

    def promote_rule(
        self,
        pack: str,
        rule: str,
        version_hash: str,
        *,
        to: Mode = "live",
        actor: str,
        reason: str | None = None,
    ) -> Promotion:
        """Audited mode change of a rule version (see :mod:`rampart.records.promotion`)."""
        return promote_rule(
            self.engine,
            pack,
            rule,
            version_hash,
            to=to,
            actor=actor,
            reason=reason,
            clock=self.clock,
        )

    def promote_model(
        self,
        model_hash: str,
        area: str,
        *,
        to: Mode = "live",
        actor: str,
        reason: str | None = None,
    ) -> Promotion:
        """Audited mode change of a model version (see :mod:`rampart.records.promotion`)."""
        return promote_model(
            self.engine, model_hash, area, to=to, actor=actor, reason=reason, clock=self.clock
        )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Records:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
