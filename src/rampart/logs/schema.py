"""The logs' columns and their types, kept in ``_schema.json`` at the root of a log folder.

Columns are typed from the pack's catalogue (the rule language's types), never inferred from a
batch, so every part file of one schema version has exactly the same columns and types. A row
column is named as the rule language names it (``features.device_users_24h``, ``event.type``,
``graph.ring_size``), so a pack's rules compiled by
:func:`~rampart.detect.rules.compile_polars.compile_polars` run directly on the decisions table.

A new column (a new feature, a rule reading a new event field) bumps the schema version; older
parts lack it and readers fill it with nulls. A column never changes type: a pack that types a
logged name differently is refused (log it to another folder).

>>> schema = LogSchema.new({"features.n": "int"}, pack_fingerprint="abc")
>>> schema.version, schema.decisions["features.n"], schema.decisions["ts"]
(1, 'int', 'timestamp')
>>> grown, changed = schema.merged({"features.n": "int", "features.m": "float"}, "def")
>>> changed, grown.version, list(grown.decisions)[-1], grown.history[-1].added
(True, 2, 'features.m', ['features.m'])
>>> schema.merged({"features.n": "int"}, "def")[1]  # same columns: same version
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

import msgspec
import polars as pl

from rampart.contract.outputs import AREAS
from rampart.detect.rules import valuetypes as t

SCHEMA_FILE: Final = "_schema.json"
FORMAT: Final = "rampart-logs/1"

# Types beyond the rule language's: an instant (UTC, microseconds) and the per-area scores.
TIMESTAMP: Final = "timestamp"
AREA_SCORES: Final = "areas"

AREAS_DTYPE: Final = pl.Struct({area: pl.Float64() for area in AREAS})
DTYPES: Final[dict[str, pl.DataType]] = {
    **t.POLARS_DTYPES,
    TIMESTAMP: pl.Datetime("us", "UTC"),
    AREA_SCORES: AREAS_DTYPE,
}
"""The Polars type of every column type a log may hold."""

# The event's entities logged with each decision: column -> entity kind (pseudonyms where PII).
ENTITY_COLUMNS: Final[dict[str, str]] = {
    "user_id": "user",
    "device_id": "device",
    "ip": "ip",
    "session_id": "session",
    "seller_id": "seller",
    "item_id": "item",
    "instrument_id": "instrument",
}

# Columns of every decisions table, before the row the detectors saw.
DECISION_COLUMNS: Final[dict[str, str]] = {
    "event_id": t.STR,
    "ts": TIMESTAMP,
    "event_type": t.STR,
    **dict.fromkeys(ENTITY_COLUMNS, t.STR),
    "action": t.STR,
    "score": t.FLOAT,
    "areas": AREA_SCORES,
    "reasons": t.LIST_STR,
    "shadow": t.STR,  # the decision's shadow results as JSON text (null when none)
}

VERDICT_COLUMNS: Final[dict[str, str]] = {
    "event_id": t.STR,  # the event whose scoring found it
    "found_at": TIMESTAMP,
    "entity_type": t.STR,
    "entity_id": t.STR,  # an ip as its pseudonym, never the address
    "area": t.STR,
    "score": t.FLOAT,
    "action": t.STR,
    "evidence": t.LIST_STR,
}

# The column every rule may read about the event's type, filled from the event itself.
EVENT_TYPE_PATH: Final = "event.type"
# Row names the pack's catalogue types and every event's row holds (the stages' fields only on
# the events they concern: null elsewhere).
_ROW_PREFIXES: Final = ("features.", "graph.", "content.")


class SchemaVersion(msgspec.Struct, frozen=True):
    version: int
    pack_fingerprint: str
    added: list[str]


class LogSchema(msgspec.Struct, frozen=True, kw_only=True):
    """What ``_schema.json`` holds: the version, the tables' columns and types, the pack."""

    format: str = FORMAT
    version: int
    pack_fingerprint: str
    decisions: dict[str, str]
    verdicts: dict[str, str]
    history: list[SchemaVersion]
    # Event fields every run writing here filled on every event (not only where a rule read
    # them): a training set may use them as the scorer sees them. Older folders: none known.
    every_event: list[str] = []

    @classmethod
    def new(
        cls,
        row_columns: Mapping[str, str],
        *,
        pack_fingerprint: str,
        every_event: Iterable[str] = (),
    ) -> LogSchema:
        decisions = {**DECISION_COLUMNS, **_row(row_columns)}
        return cls(
            version=1,
            pack_fingerprint=pack_fingerprint,
            decisions=decisions,
            verdicts=dict(VERDICT_COLUMNS),
            history=[SchemaVersion(1, pack_fingerprint, list(decisions))],
            every_event=sorted(set(every_event) & set(decisions)),
        )

    def merged(
        self, row_columns: Mapping[str, str], pack_fingerprint: str, every_event: Iterable[str] = ()
    ) -> tuple[LogSchema, bool]:
        """This schema grown by the new columns, and whether it changed (new columns make a new
        version; a run filling fewer fields on every event narrows ``every_event``)."""
        narrowed = sorted(set(self.every_event) & set(every_event))
        wanted = _row(row_columns)
        clashes = [
            f"{name} ({self.decisions[name]} logged, {kind} now)"
            for name, kind in wanted.items()
            if name in self.decisions and self.decisions[name] != kind
        ]
        if clashes:
            raise ValueError(
                "the pack types logged columns differently: "
                + ", ".join(clashes)
                + "; write these logs to another folder"
            )
        added = [name for name in wanted if name not in self.decisions]
        if not added:
            if narrowed == self.every_event:
                return self, False
            return msgspec.structs.replace(self, every_event=narrowed), True
        version = self.version + 1
        return (
            msgspec.structs.replace(
                self,
                version=version,
                pack_fingerprint=pack_fingerprint,
                decisions={**self.decisions, **{name: wanted[name] for name in added}},
                history=[*self.history, SchemaVersion(version, pack_fingerprint, added)],
                every_event=narrowed,
            ),
            True,
        )

    def polars(self, table: str) -> dict[str, pl.DataType]:
        """The Polars schema of ``decisions`` or ``verdicts`` (without the ``day`` partition)."""
        columns = self.decisions if table == "decisions" else self.verdicts
        return {name: DTYPES[kind] for name, kind in columns.items()}


def _row(row_columns: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(n for n, kind in row_columns.items() if kind not in DTYPES)
    if unknown:
        raise ValueError(f"columns without a loggable type: {', '.join(unknown)}")
    clash = sorted(set(row_columns) & DECISION_COLUMNS.keys())
    if clash:
        raise ValueError(f"row columns named like decision columns: {', '.join(clash)}")
    return dict(sorted(row_columns.items()))


def row_columns(
    catalogue: Mapping[str, str],
    rule_paths: Iterable[frozenset[str]],
    extra_paths: Iterable[str] = (),
) -> dict[str, str]:
    """The names a scored event's row can hold, typed from the catalogue.

    The features and the stages' fields, every path an active rule reads (``rule_paths``, one set
    per rule) and ``extra_paths`` (what a model view reads), and always ``event.type``.

    >>> catalogue = {"features.n": "int", "event.props.total": "float", "event.type": "str",
    ...              "event.ip": "str", "features.bad": "<error>"}
    >>> row_columns(catalogue, [frozenset({"event.props.total"})])
    {'event.props.total': 'float', 'event.type': 'str', 'features.n': 'int'}
    """
    names = {n for n in catalogue if n.startswith(_ROW_PREFIXES)}
    for paths in rule_paths:
        names.update(paths)
    names.update(extra_paths)
    names.add(EVENT_TYPE_PATH)
    return {n: catalogue[n] for n in sorted(names) if catalogue.get(n) in t.POLARS_DTYPES}


def read_schema(root: Path) -> LogSchema | None:
    """The schema of the log folder ``root`` (None when nothing was logged there yet)."""
    path = root / SCHEMA_FILE
    if not path.exists():
        return None
    return msgspec.json.decode(path.read_bytes(), type=LogSchema)


def encode_schema(schema: LogSchema) -> bytes:
    return msgspec.json.format(msgspec.json.encode(schema), indent=2) + b"\n"
