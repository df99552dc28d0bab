"""Append-only logs of what scoring saw and decided: decisions with their feature rows, verdicts.

Parquet part files under ``<logs>/decisions/day=YYYY-MM-DD/`` and ``<logs>/verdicts/day=.../``
(event-time days, UTC), typed by ``_schema.json``; read back with :func:`read_logs` as a Polars
LazyFrame on which a pack's rules, compiled to Polars, run directly.
"""

from rampart.logs.reader import read_decisions, read_logs, read_verdicts
from rampart.logs.schema import LogSchema, read_schema, row_columns
from rampart.logs.writer import DEFAULT_FLUSH_ROWS, LogState, LogWriter

__all__ = [
    "DEFAULT_FLUSH_ROWS",
    "LogSchema",
    "LogState",
    "LogWriter",
    "read_decisions",
    "read_logs",
    "read_schema",
    "read_verdicts",
    "row_columns",
]
