"""What the records store is made of: its error, the clock, and the repository protocols.

Repositories are small and typed: each one is a :class:`typing.Protocol` here, with one SQL
implementation over a SQLAlchemy engine (the edge). Every mutating operation writes its audit
row in the same transaction as the change, and takes the ``actor`` who made it; operations that
change nothing (a label sent again, a version recorded twice) write nothing.

Times that records stamp themselves (``received_at``, audit ``at``) come from an injected
clock; times that belong to events (a label's ``ts``, a list entry's expiry) are event time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from rampart.contract.outputs import Label

Clock = Callable[[], datetime]
Mode = Literal["live", "shadow", "off"]
CaseStatus = Literal["open", "closed"]
ListKind = Literal["allow", "deny"]


class RecordsError(Exception):
    """A records operation that cannot be done as asked (the message says why)."""


def utc_now() -> datetime:
    """The wall clock, in UTC: the default clock for what records stamp themselves."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StoredLabel:
    """A label as kept: its content key, the contract label (PII-like ids pseudonymised)."""

    label_id: str
    label: Label
    received_at: datetime
    origin: str | None


@dataclass(frozen=True, slots=True)
class LabelWrite:
    """What one batch of labels did: stored ``added`` new ones, skipped ``duplicates``."""

    added: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Case:
    case_id: int
    entity_type: str
    entity_id: str
    area: str
    status: CaseStatus
    opened_at: datetime
    closed_at: datetime | None
    assignee: str | None
    verdict_ref: str | None


@dataclass(frozen=True, slots=True)
class RuleVersion:
    version_id: int
    pack: str
    rule: str
    version_hash: str
    expression: str
    mode: Mode
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class ModelVersion:
    version_id: int
    model_hash: str
    area: str
    report: Mapping[str, Any]
    mode: Mode
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class ListEntry:
    entry_id: int
    list_name: str
    kind: ListKind
    value: str
    expires_at: datetime | None
    added_at: datetime
    added_by: str
    note: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the append-only audit trail: who changed what, when, from what to what."""

    audit_id: int
    at: datetime
    actor: str
    action: str
    target: str
    target_key: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


class LabelRepository(Protocol):
    def add(self, labels: Iterable[Label], *, actor: str, origin: str | None = None) -> LabelWrite:
        """Store labels (ids already kept-form); a label already stored is skipped."""
        ...

    def read(self, *, known_by: datetime | None = None) -> Iterator[StoredLabel]:
        """Labels in ``ts`` order (undated first); with ``known_by``, only those dated by then."""
        ...

    def count(self) -> int: ...


class CaseRepository(Protocol):
    def open(self, entity_type: str, entity_id: str, area: str, *, actor: str) -> Case: ...

    def assign(self, case_id: int, assignee: str | None, *, actor: str) -> Case: ...

    def close(self, case_id: int, verdict_ref: str | None, *, actor: str) -> Case: ...

    def get(self, case_id: int) -> Case: ...

    def queue(self, *, area: str | None = None) -> Sequence[Case]: ...


class RuleVersionRepository(Protocol):
    def record(
        self, pack: str, rule: str, expression: str, mode: Mode, *, actor: str
    ) -> RuleVersion: ...

    def set_mode(self, version_id: int, mode: Mode, *, actor: str) -> RuleVersion: ...

    def history(self, pack: str, rule: str) -> Sequence[RuleVersion]: ...


class ModelVersionRepository(Protocol):
    def record(
        self, model_hash: str, area: str, report: Mapping[str, Any], mode: Mode, *, actor: str
    ) -> ModelVersion: ...

    def set_mode(self, version_id: int, mode: Mode, *, actor: str) -> ModelVersion: ...

    def history(self, area: str) -> Sequence[ModelVersion]: ...


class ListRepository(Protocol):
    def add(
        self,
        list_name: str,
        kind: ListKind,
        value: str,
        *,
        actor: str,
        expires_at: datetime | None = None,
        note: str | None = None,
    ) -> ListEntry: ...

    def remove(self, list_name: str, value: str, *, actor: str) -> bool: ...

    def entries(self, list_name: str, *, at: datetime | None = None) -> Sequence[ListEntry]: ...


class AuditTrail(Protocol):
    def entries(
        self, *, target: str | None = None, target_key: str | None = None
    ) -> Sequence[AuditEntry]: ...
