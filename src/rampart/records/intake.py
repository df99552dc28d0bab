"""Taking in a contract label stream: every good label stored once, every bad one reported.

A bad line never stops the stream: it becomes a :class:`LabelProblem`, handed to the caller
(a rejects file, the terminal) with its raw record scrubbed of PII, and the labels around it
are stored. Labels are written in batches, one transaction each, so a crash loses at most the
batch in flight, and running the same file again stores only what is missing (labels are
idempotent by content).

>>> import tempfile
>>> from pathlib import Path
>>> from sqlalchemy import create_engine
>>> from rampart.records.migrate import upgrade
>>> engine = create_engine("sqlite://"); upgrade(engine)
>>> lines = [b'{"entity_type":"user","entity_id":"u1","area":"scalper","label":1,'
...          b'"ts":"2026-03-01T10:00:00Z","source":"chargeback"}',
...          b'{"entity_type":"user","entity_id":"u2","area":"scalper","label":3}',
...          b'{"entity_type":"user","entity_id":"u1","area":"scalper","label":1,'
...          b'"ts":"2026-03-01T18:00:00+08:00","source":"chargeback"}']
>>> problems = []
>>> stats = take_labels(lines, SqlLabels(engine), EntityKeeper(None), actor="doctest",
...                     on_problem=lambda problem, raw: problems.append(str(problem)))
>>> stats
LabelIntakeStats(read=3, stored=1, duplicates=1, invalid=1)
>>> problems
['line 2, label user u2 in scalper: label: 3 is not an allowed value (allowed: 0, 1)']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Final

import msgspec

from rampart.contract.outputs import Label
from rampart.ingest import pii
from rampart.records.entities import EntityKeeper
from rampart.records.labels import SqlLabels
from rampart.records.validation import LabelProblem, loose_document, parse_label, shown_id

BATCH: Final = 1_000

ProblemHandler = Callable[[LabelProblem, bytes], None]


@dataclass(slots=True)
class LabelIntakeStats:
    read: int = 0  # label lines (blank lines are not counted)
    stored: int = 0  # new labels stored
    duplicates: int = 0  # labels stored before, or twice in this stream
    invalid: int = 0


def take_labels(
    lines: Iterable[bytes | str],
    store: SqlLabels,
    keeper: EntityKeeper,
    *,
    actor: str,
    origin: str | None = None,
    on_problem: ProblemHandler,
    batch_size: int = BATCH,
) -> LabelIntakeStats:
    """Validate each line, store the labels in batches, hand each problem to ``on_problem``."""
    stats = LabelIntakeStats()
    batch: list[Label] = []

    def flush() -> None:
        written = store.add(batch, actor=actor, origin=origin)
        stats.stored += written.added
        stats.duplicates += written.duplicates
        batch.clear()

    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        stats.read += 1
        parsed = parse_label(raw, line_no, keeper)
        if isinstance(parsed, LabelProblem):
            stats.invalid += 1
            on_problem(parsed, raw if isinstance(raw, bytes) else raw.encode())
            continue
        batch.append(parsed)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return stats


def scrub_label_line(raw: bytes, keeper: EntityKeeper) -> str:
    """A rejected line safe to keep: the entity id as kept, every other string redacted of PII.

    >>> scrub_label_line(b'{"entity_type":"ip","entity_id":"203.0.113.7","note":"mail a@b.io"}',
    ...                  EntityKeeper(None))
    '{"entity_type":"ip","entity_id":"<ip withheld>","note":"mail <email>"}'
    """
    raw = raw.rstrip(b"\r\n")
    document = loose_document(raw)
    if document is None:
        return pii.redact_text(raw.decode("utf-8", "replace"))
    entity_type = document.get("entity_type")
    scrubbed: dict[str, Any] = {}
    for key, value in document.items():
        if key == "entity_id" and isinstance(value, str):
            kind = entity_type if isinstance(entity_type, str) else ""
            scrubbed[key] = shown_id(kind, value, keeper)
        else:
            scrubbed[key] = _redact(value)
    return msgspec.json.encode(scrubbed).decode()


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return pii.redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


class LabelReject(msgspec.Struct, kw_only=True):
    """One line of a label rejects file."""

    source: str
    line: int
    label: str | None
    path: str | None
    reason: str
    error: str
    raw: str


class LabelRejects:
    """Writes rejected label lines as JSON Lines (raw records scrubbed of PII)."""

    def __init__(self, path: Path, keeper: EntityKeeper, *, source: str) -> None:
        self.path = path
        self.keeper = keeper
        self.source = source
        self.count = 0
        self._encoder = msgspec.json.Encoder()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: BinaryIO = path.open("wb")

    def add(self, problem: LabelProblem, raw: bytes) -> None:
        self.count += 1
        reject = LabelReject(
            source=self.source,
            line=problem.line,
            label=problem.label,
            path=problem.path,
            reason=problem.reason,
            error=str(problem),
            raw=scrub_label_line(raw, self.keeper),
        )
        self._handle.write(self._encoder.encode(reject) + b"\n")

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> LabelRejects:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
