"""Alembic on both engines: empty → head, head → base → head, and head matches the schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, UniqueConstraint, inspect, text
from sqlalchemy.exc import DBAPIError

from rampart.records.migrate import current_revision, downgrade, head_revision, upgrade
from rampart.records.schema import metadata

TABLES = {"audit", "cases", "labels", "lists", "model_versions", "rule_versions"}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_to_head(engine: Engine) -> None:
    assert _tables(engine) == set()
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _tables(engine) == TABLES


def test_upgrade_at_head_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rule_versions (pack, rule, version_hash, expression, mode, "
                "created_at, created_by) VALUES ('p', 'r', 'h', 'x > 1', 'off', "
                "'2026-03-01 12:00:00', 'test')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM rule_versions")).scalar_one() == 1


def test_downgrade_then_upgrade_round_trip(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert _tables(engine) == set()
    upgrade(engine)
    assert _tables(engine) == TABLES
    assert current_revision(engine) == head_revision()


def test_migrated_database_matches_the_schema_module(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_migrated_constraints_and_indexes_are_named_like_the_schema(engine: Engine) -> None:
    upgrade(engine)
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        expected = {index.name for index in table.indexes}
        # PostgreSQL lists the index behind each unique constraint too.
        indexes = inspector.get_indexes(table.name)
        found_indexes = {i["name"] for i in indexes if not i.get("duplicates_constraint")}
        assert found_indexes == expected, table.name
        unique = {c.name for c in table.constraints if isinstance(c, UniqueConstraint)}
        found = {u["name"] for u in inspector.get_unique_constraints(table.name)}
        assert found == unique, table.name


@pytest.mark.parametrize("statement", ["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"])
def test_the_database_refuses_to_rewrite_the_audit_trail(engine: Engine, statement: str) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit (at, actor, action, target, target_key) "
                "VALUES ('2026-03-01 12:00:00', 'ana', 'label.add', 'labels', 'k')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM audit")).scalars().all() == ["ana"]
