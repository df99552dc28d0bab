"""Records: labels, cases, rule and model versions, lists and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-03-01

The tables are spelled out here rather than taken from ``rampart.records.schema``: a migration
is a fixed step in history, and the schema module moves on. A test checks that upgrading to the
head revision yields exactly the tables the schema module describes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from rampart.records.columns import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")

# The audit trail is append-only: the database itself refuses to change or remove a row.
_PG_AUDIT_GUARD = """
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""
_SQLITE_AUDIT_GUARDS = [
    f"""CREATE TRIGGER audit_append_only_{event} BEFORE {event.upper()} ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END"""
    for event in ("update", "delete")
]


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("seq", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("label_id", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("label", sa.SmallInteger, nullable=False),
        sa.Column("source", sa.String(16)),
        sa.Column("campaign", sa.String(256)),
        sa.Column("ts", UtcDateTime()),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("origin", sa.String(512)),
        sa.PrimaryKeyConstraint("seq", name="pk_labels"),
        sa.CheckConstraint("label IN (0, 1)", name="ck_labels_label"),
        sa.UniqueConstraint("label_id", name="uq_labels_label_id"),
    )
    op.create_index(
        "ix_labels_entity_type_entity_id_area", "labels", ["entity_type", "entity_id", "area"]
    )
    op.create_index("ix_labels_ts", "labels", ["ts"])

    op.create_table(
        "cases",
        sa.Column("case_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("entity_type", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("assignee", sa.String(128)),
        sa.Column("verdict_ref", sa.String(256)),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_cases_status"),
    )
    op.create_index("ix_cases_status_opened_at", "cases", ["status", "opened_at"])
    op.create_index(
        "uq_cases_open_entity",
        "cases",
        ["entity_type", "entity_id", "area"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "rule_versions",
        sa.Column("version_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("pack", sa.String(128), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("version_hash", sa.String(64), nullable=False),
        sa.Column("expression", sa.Text, nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("version_id", name="pk_rule_versions"),
        sa.CheckConstraint("mode IN ('live', 'shadow', 'off')", name="ck_rule_versions_mode"),
        sa.UniqueConstraint(
            "pack", "rule", "version_hash", name="uq_rule_versions_pack_rule_version_hash"
        ),
    )

    op.create_table(
        "model_versions",
        sa.Column("version_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("model_hash", sa.String(64), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("report", _JSON, nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("version_id", name="pk_model_versions"),
        sa.CheckConstraint("mode IN ('live', 'shadow', 'off')", name="ck_model_versions_mode"),
        sa.UniqueConstraint("model_hash", "area", name="uq_model_versions_model_hash_area"),
    )

    op.create_table(
        "lists",
        sa.Column("entry_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("list_name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("expires_at", UtcDateTime()),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("entry_id", name="pk_lists"),
        sa.CheckConstraint("kind IN ('allow', 'deny')", name="ck_lists_kind"),
        sa.UniqueConstraint("list_name", "value", name="uq_lists_list_name_value"),
    )

    op.create_table(
        "audit",
        sa.Column("audit_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("target_key", sa.String(256), nullable=False),
        sa.Column("before", _JSON),
        sa.Column("after", _JSON),
        sa.PrimaryKeyConstraint("audit_id", name="pk_audit"),
    )
    op.create_index("ix_audit_target_target_key", "audit", ["target", "target_key"])
    op.create_index("ix_audit_at", "audit", ["at"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_AUDIT_GUARD)
    elif dialect == "sqlite":
        for statement in _SQLITE_AUDIT_GUARDS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    # SQLite drops a table's triggers with the table.
    for table in ("audit", "lists", "model_versions", "rule_versions", "cases", "labels"):
        op.drop_table(table)
