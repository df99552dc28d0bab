"""Labels as records keep them: once each, with their source, their time and when they came.

A label's id is a key over its content (:func:`label_key`), so sending the same label again —
a retried upload, an overlapping export — stores nothing new; a label that differs in anything
(another ``ts``, another source, a flipped value) is a new fact and is kept beside the old one.
Which of several labels for one entity stands is the reader's rule (the latest ``ts``, then the
latest arrival: :class:`rampart.learn.labelbook.LabelBook`); the store keeps the history.

>>> from datetime import datetime, UTC
>>> a = Label(entity_type="user", entity_id="u1", area="scalper", label=1,
...           ts=datetime(2026, 3, 1, 12, tzinfo=UTC), source="chargeback")
>>> label_key(a) == label_key(msgspec.structs.replace(a, ts=datetime.fromisoformat(
...     "2026-03-01T20:00:00+08:00")))
True
>>> label_key(a) == label_key(msgspec.structs.replace(a, label=0)), len(label_key(a))
(False, 32)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from rampart.contract.outputs import Label
from rampart.records.audit import document, write_audits
from rampart.records.base import Clock, LabelWrite, StoredLabel, utc_now
from rampart.records.entities import EntityKeeper
from rampart.records.schema import labels

KEY_HEX: Final = 32  # 128 bits of SHA-256: collisions need ~2**64 labels
_ENCODER: Final = msgspec.json.Encoder()


def label_key(label: Label) -> str:
    """The content key of a (kept-form) label: equal labels, equal keys, whatever the offset."""
    ts = label.ts.astimezone(UTC).isoformat() if label.ts is not None else None
    content = [
        label.entity_type,
        label.entity_id,
        label.area,
        label.label,
        ts,
        label.source,
        label.campaign,
    ]
    return hashlib.sha256(_ENCODER.encode(content)).hexdigest()[:KEY_HEX]


def keep_label(keeper: EntityKeeper, label: Label) -> Label:
    """The label with its entity id as records keep it (PII-like ids pseudonymised)."""
    kept = keeper.keep(label.entity_type, label.entity_id)
    return label if kept == label.entity_id else msgspec.structs.replace(label, entity_id=kept)


def _row(label: Label, received_at: datetime, origin: str | None) -> dict[str, Any]:
    return {
        "label_id": label_key(label),
        "entity_type": label.entity_type,
        "entity_id": label.entity_id,
        "area": label.area,
        "label": label.label,
        "source": label.source,
        "campaign": label.campaign,
        "ts": label.ts,
        "received_at": received_at,
        "origin": origin,
    }


def insert_labels(
    connection: Connection,
    batch: Iterable[Label],
    *,
    actor: str,
    at: datetime,
    origin: str | None,
) -> LabelWrite:
    """Insert the labels not stored yet, with one audit row each, in the caller's transaction."""
    rows: dict[str, dict[str, Any]] = {}
    total = 0
    for label in batch:
        total += 1
        row = _row(label, at, origin)
        rows.setdefault(row["label_id"], row)
    if not rows:
        return LabelWrite(added=0, duplicates=total)
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    # ON CONFLICT DO NOTHING, not a look-up first: two writers sending one label race safely.
    statement = (
        dialect_insert(labels)
        .on_conflict_do_nothing(index_elements=[labels.c.label_id])
        .returning(labels.c.label_id)
    )
    added = set(connection.execute(statement, list(rows.values())).scalars())
    write_audits(
        connection,
        [
            {
                "at": at,
                "actor": actor,
                "action": "label.add",
                "target": "labels",
                "target_key": key,
                "before": None,
                "after": document(rows[key]),
            }
            for key in rows
            if key in added
        ],
    )
    return LabelWrite(added=len(added), duplicates=total - len(added))


class SqlLabels:
    """The label repository over an engine (see :class:`rampart.records.base.LabelRepository`)."""

    def __init__(
        self, engine: Engine, *, keeper: EntityKeeper | None = None, clock: Clock = utc_now
    ) -> None:
        self.engine = engine
        # Without a keeper (no secret), PII-like ids are refused rather than stored raw.
        self.keeper = keeper or EntityKeeper(None)
        self.clock = clock

    def add(self, batch: Iterable[Label], *, actor: str, origin: str | None = None) -> LabelWrite:
        """Store one batch in one transaction; PII-like ids are kept as pseudonyms."""
        kept = [keep_label(self.keeper, label) for label in batch]
        with self.engine.begin() as connection:
            return insert_labels(connection, kept, actor=actor, at=self.clock(), origin=origin)

    def read(self, *, known_by: datetime | None = None) -> Iterator[StoredLabel]:
        """Labels by ``ts`` (undated first), then arrival; ``known_by``: dated by then only."""
        query = select(labels).order_by(labels.c.ts.asc().nulls_first(), labels.c.seq)
        if known_by is not None:
            query = query.where(labels.c.ts <= known_by)
        with self.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                label = Label(
                    entity_type=row["entity_type"],
                    entity_id=row["entity_id"],
                    area=row["area"],
                    label=row["label"],
                    ts=row["ts"],
                    source=row["source"],
                    campaign=row["campaign"],
                )
                yield StoredLabel(row["label_id"], label, row["received_at"], row["origin"])

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(labels)).scalar_one())
