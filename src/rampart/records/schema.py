"""The records schema, in SQLAlchemy Core: one definition for SQLite and PostgreSQL.

This is the schema the code reads and writes. The database gets it only through the Alembic
migrations in ``migrations/versions`` (never ``metadata.create_all``), and a test compares the
migrated database with these tables, so the two cannot drift apart.

Nothing here holds raw PII: entity ids and list values that are PII-like (an ``ip``, an e-mail,
a phone) are stored as the same keyed pseudonyms the ingest path gives them
(:mod:`rampart.records.entities`).

>>> sorted(metadata.tables)
['audit', 'cases', 'labels', 'lists', 'model_versions', 'rule_versions']
>>> [c.name for c in labels.primary_key]
['seq']
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from rampart.records.columns import UtcDateTime, json_document

# Explicit constraint names: migrations name the same constraints, and PostgreSQL and SQLite
# then report identical names (a downgrade can drop them by name).
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MODES: Final = ("live", "shadow", "off")
CASE_STATUSES: Final = ("open", "closed")
LIST_KINDS: Final = ("allow", "deny")

# Lengths: contract ids are at most 128 characters; pseudonyms are 23.
ID: Final = 256
NAME: Final = 128
HASH: Final = 64

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({listed})"


labels = Table(
    "labels",
    metadata,
    # Arrival order: of two labels for one entity with the same ``ts``, the later one stands.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    # A content key (see rampart.records.labels.label_key): a label sent twice is one row.
    Column("label_id", String(HASH), nullable=False),
    Column("entity_type", String(16), nullable=False),
    Column("entity_id", String(ID), nullable=False),
    Column("area", String(32), nullable=False),
    Column("label", SmallInteger, nullable=False),
    Column("source", String(16)),
    Column("campaign", String(ID)),
    Column("ts", UtcDateTime),  # when it became known (the contract's ``ts``; optional there)
    Column("received_at", UtcDateTime, nullable=False),  # when Rampart stored it
    Column("origin", String(512)),  # what fed it (a file name, "api")
    CheckConstraint("label IN (0, 1)", name="label"),
    UniqueConstraint("label_id"),
    Index(None, "entity_type", "entity_id", "area"),
    Index(None, "ts"),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", Integer, primary_key=True, autoincrement=True),
    Column("entity_type", String(16), nullable=False),
    Column("entity_id", String(ID), nullable=False),
    Column("area", String(32), nullable=False),
    Column("status", String(8), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("assignee", String(NAME)),  # the investigator's pseudonymous handle
    Column("verdict_ref", String(ID)),  # what settled it: a label id, a verdict's evidence
    CheckConstraint(_one_of("status", CASE_STATUSES), name="status"),
    Index(None, "status", "opened_at"),
    # One open case per (entity, area): a second report joins the case already open.
    Index(
        "uq_cases_open_entity",
        "entity_type",
        "entity_id",
        "area",
        unique=True,
        sqlite_where=Column("status") == "open",
        postgresql_where=Column("status") == "open",
    ),
)

rule_versions = Table(
    "rule_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("pack", String(NAME), nullable=False),
    Column("rule", String(NAME), nullable=False),
    Column("version_hash", String(HASH), nullable=False),
    Column("expression", Text, nullable=False),
    Column("mode", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(NAME), nullable=False),
    CheckConstraint(_one_of("mode", MODES), name="mode"),
    UniqueConstraint("pack", "rule", "version_hash"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("model_hash", String(HASH), nullable=False),  # the model directory's version
    Column("area", String(32), nullable=False),
    Column("report", json_document(), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(NAME), nullable=False),
    CheckConstraint(_one_of("mode", MODES), name="mode"),
    UniqueConstraint("model_hash", "area"),
)

lists = Table(
    "lists",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("list_name", String(NAME), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("value", String(ID), nullable=False),
    Column("expires_at", UtcDateTime),  # event time at which it stops applying; NULL: never
    Column("added_at", UtcDateTime, nullable=False),
    Column("added_by", String(NAME), nullable=False),
    Column("note", Text),
    CheckConstraint(_one_of("kind", LIST_KINDS), name="kind"),
    UniqueConstraint("list_name", "value"),
)

audit = Table(
    "audit",
    metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(NAME), nullable=False),
    Column("action", String(64), nullable=False),  # e.g. "label.add", "rule_version.mode"
    Column("target", String(32), nullable=False),  # the table changed
    Column("target_key", String(ID), nullable=False),  # the changed row's key
    Column("before", json_document()),  # NULL for an insert
    Column("after", json_document()),  # NULL for a delete
    Index(None, "target", "target_key"),
    Index(None, "at"),
)
