"""Alembic migrations of the records schema, shipped with the package and run in process."""
