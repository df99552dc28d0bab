"""Scored events and verdicts held in memory until the next part file.

Adding an event costs three list appends: the engine's row (a fresh dict per event, never
changed after scoring) is kept as it is, and every few thousand events the held rows are turned
into a typed Polars frame at once (the per-value work then runs in Polars, not in Python), so
the memory held stays small and the scoring loop barely notices the log.

Only pseudonymised values are kept: the event after ingest (its PII already replaced), and
verdicts naming an address by its pseudonym, never as the caller sent it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec
import polars as pl

from rampart.contract.outputs import Decision, Verdict
from rampart.features.fields import entity_getter
from rampart.ingest.privacy import Accepted
from rampart.logs.schema import DECISION_COLUMNS, ENTITY_COLUMNS, EVENT_TYPE_PATH, VERDICT_COLUMNS

# Rows converted to a frame at once: large enough for Polars to be quick, small enough to hold.
CHUNK_ROWS: Final = 4096

IP_PSEUDONYM_PREFIX: Final = "ip_"


class DecisionBuffer:
    """Scored events waiting for the next part, typed by ``schema`` (a table's Polars schema).

    >>> from rampart.logs.schema import LogSchema
    >>> schema = LogSchema.new({"features.n": "int", "event.type": "str"}, pack_fingerprint="")
    >>> buffer = DecisionBuffer(schema.polars("decisions"))
    >>> len(buffer), buffer.take().shape
    (0, (0, 17))
    """

    def __init__(self, schema: Mapping[str, pl.DataType], chunk_rows: int = CHUNK_ROWS) -> None:
        self._schema = dict(schema)
        self._fixed = {name: self._schema[name] for name in DECISION_COLUMNS}
        self._row_schema = {
            name: dtype
            for name, dtype in self._schema.items()
            if name not in DECISION_COLUMNS and name != EVENT_TYPE_PATH
        }
        self._fills_event_type = EVENT_TYPE_PATH in self._schema
        self._chunk_rows = chunk_rows
        self._entities = [(name, entity_getter(kind)) for name, kind in ENTITY_COLUMNS.items()]
        self._shadow = msgspec.json.Encoder()
        self._accepted: list[Accepted] = []
        self._decisions: list[Decision] = []
        self._rows: list[Mapping[str, Any]] = []
        self._chunks: list[pl.DataFrame] = []
        self._held = 0

    def add(self, accepted: Accepted, decision: Decision, row: Mapping[str, Any]) -> None:
        self._accepted.append(accepted)
        self._decisions.append(decision)
        self._rows.append(row)
        self._held += 1
        if len(self._rows) >= self._chunk_rows:
            self._convert()

    def __len__(self) -> int:
        return self._held

    def take(self) -> pl.DataFrame:
        """Everything held, as one frame with the table's columns in order; the buffer empties."""
        self._convert()
        chunks, self._chunks, self._held = self._chunks, [], 0
        if not chunks:
            return pl.DataFrame(schema=self._schema)
        return pl.concat(chunks, rechunk=True)

    def _convert(self) -> None:
        if not self._rows:
            return
        accepted, decisions, rows = self._accepted, self._decisions, self._rows
        self._accepted, self._decisions, self._rows = [], [], []
        events = [a.event for a in accepted]
        shadow = self._shadow.encode
        fixed = self._fixed
        frame = pl.DataFrame(
            [
                pl.Series("event_id", [e.event_id for e in events], pl.String()),
                _instants("ts", [e.ts.timestamp() for e in events]),
                pl.Series("event_type", [e.type for e in events], pl.String()),
                *(
                    pl.Series(name, [get(a) for a in accepted], pl.String(), strict=False)
                    for name, get in self._entities
                ),
                pl.Series("action", [d.action for d in decisions], pl.String()),
                pl.Series("score", [d.score for d in decisions], pl.Float64(), strict=False),
                pl.Series("areas", [d.areas for d in decisions], fixed["areas"], strict=False),
                _string_lists("reasons", [d.reasons for d in decisions]),
                pl.Series(
                    "shadow",
                    [shadow(d.shadow).decode() if d.shadow else None for d in decisions],
                    pl.String(),
                ),
            ]
        )
        if self._row_schema:
            frame = frame.hstack(pl.from_dicts(rows, schema=self._row_schema, strict=False))
        if self._fills_event_type:
            frame = frame.with_columns(pl.col("event_type").alias(EVENT_TYPE_PATH))
        self._chunks.append(frame.select(list(self._schema)))


def _instants(name: str, seconds: list[float]) -> pl.Series:
    """Epoch seconds as UTC microseconds (Polars converts aware datetimes ten times slower)."""
    micros = (pl.Series(name, seconds, pl.Float64()) * 1e6).round().cast(pl.Int64())
    return micros.cast(pl.Datetime("us", "UTC"))


_SEPARATOR: Final = "\x1f"


def _string_lists(name: str, lists: list[list[str]]) -> pl.Series:
    r"""Lists of strings, split in Polars from one joined string each (building nested Series
    from Python lists costs ~25x more); exact even if a string held the separator.

    >>> _string_lists("r", [["a", "b"], [], ["c"]]).to_list()
    [['a', 'b'], [], ['c']]
    >>> _string_lists("r", [[], []]).to_list()
    [[], []]
    >>> _string_lists("r", [["a\x1fb"], []]).to_list()
    [['a\x1fb'], []]
    """
    joined = pl.Series(
        name, [_SEPARATOR.join(items) if items else None for items in lists], pl.String()
    )
    split = joined.str.split(_SEPARATOR).fill_null(pl.lit([], pl.List(pl.String())))
    lengths = pl.Series([len(items) for items in lists], dtype=pl.UInt32())
    if not (split.list.len() == lengths).all():
        return pl.Series(name, lists, pl.List(pl.String()))
    return split


def logged_entity_id(
    verdict: Verdict, accepted: Accepted, pseudonymize_ip: Callable[[str], str]
) -> str:
    """How the log names a verdict's entity: an address by its pseudonym, the rest as they are.

    The engine names an ``ip`` as the caller sent it (the marketplace enforces it); the log is
    Rampart's own store, which keeps only the pseudonym.

    >>> from datetime import datetime, timezone
    >>> from rampart.ingest.privacy import EventPrivacy
    >>> from rampart.contract.events import decode_event
    >>> privacy = EventPrivacy.for_demo()
    >>> accepted = privacy.protect(decode_event(
    ...     b'{"event_id":"e1","type":"page.view","ts":"2026-03-01T10:00:00Z",'
    ...     b'"ip":"203.0.113.7","props":{"path":"/"}}'))
    >>> verdict = Verdict(entity_type="ip", entity_id="203.0.113.7", area="scalper", score=0.9,
    ...                   action="block", found_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    >>> token = lambda ip: privacy.pseudonymizer.token("ip", ip)
    >>> logged_entity_id(verdict, accepted, token) == accepted.event.ip
    True
    """
    entity_id = verdict.entity_id
    if verdict.entity_type != "ip":
        return entity_id
    if entity_id == accepted.raw_ip and isinstance(accepted.event.ip, str):
        return accepted.event.ip
    if entity_id.startswith(IP_PSEUDONYM_PREFIX):
        return entity_id  # already a pseudonym (the graph detectors read pseudonymised events)
    return pseudonymize_ip(entity_id)


class VerdictBuffer:
    """Verdicts waiting for the next part (few: a list of tuples is enough)."""

    def __init__(self, schema: Mapping[str, pl.DataType], pseudonymize_ip: Callable[[str], str]):
        self._schema = dict(schema)
        self._pseudonymize_ip = pseudonymize_ip
        self._held: list[tuple[Any, ...]] = []

    def add(self, accepted: Accepted, verdicts: list[Verdict]) -> None:
        raw_ip = accepted.raw_ip
        for verdict in verdicts:
            evidence = verdict.evidence
            if raw_ip and any(raw_ip in item for item in evidence):
                evidence = [item.replace(raw_ip, str(accepted.event.ip)) for item in evidence]
            self._held.append(
                (
                    accepted.event.event_id,
                    verdict.found_at,
                    verdict.entity_type,
                    logged_entity_id(verdict, accepted, self._pseudonymize_ip),
                    verdict.area,
                    verdict.score,
                    verdict.action,
                    evidence,
                )
            )

    def __len__(self) -> int:
        return len(self._held)

    def take(self) -> pl.DataFrame:
        held, self._held = self._held, []
        columns = list(VERDICT_COLUMNS)
        data = {name: [item[i] for item in held] for i, name in enumerate(columns)}
        return pl.DataFrame(data, schema=self._schema, strict=False)
