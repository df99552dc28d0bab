"""Reading the four evaluation inputs: a minimal event view, tolerant decoding, files.

Evaluation reads millions of events but needs only a handful of fields per event, so events
are decoded into `EventView`, which names just those fields (msgspec skips the rest without
building objects for them). Full validation is the ingest layer's job; here a line that does
not decode is skipped and counted, never fatal.

>>> counter = Undecodable()
>>> lines = [b'{"event_id":"e1","type":"page.view","ts":"2026-03-01T10:00:00Z","ip":"1.2.3.4"}',
...          b'not json', b'', b'{"event_id":"e2"}']
>>> [e.event_id for e in decode_events(lines, counter)], counter.count
(['e1'], 2)
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import msgspec

from rampart.contract.outputs import AwareDatetime, Decision, Label, Verdict


class DeviceView(msgspec.Struct):
    id: str | None = None


class PaymentView(msgspec.Struct):
    instrument_id: str | None = None


class LineItemView(msgspec.Struct):
    item_id: str | None = None


class PropsView(msgspec.Struct):
    """The props that tie an event to a counterparty, item or instrument (time to detect)."""

    seller_id: str | None = None
    owner_id: str | None = None
    recipient_id: str | None = None
    referrer_id: str | None = None
    item_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    items: list[LineItemView] | None = None
    payment: PaymentView | None = None


class EventView(msgspec.Struct):
    """The fields of a contract event that scoring uses; all others are skipped on decode."""

    event_id: str
    type: str
    ts: AwareDatetime
    user_id: str | None = None
    device: DeviceView | None = None
    ip: str | None = None
    props: PropsView | None = None


class Undecodable:
    """Counts the items of one input that could not be decoded."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


T = TypeVar("T")

# Per-type decoders are built once: building one per line would dominate the cost.
_EVENT_DECODER = msgspec.json.Decoder(EventView)
_DECISION_DECODER = msgspec.json.Decoder(Decision)
_VERDICT_DECODER = msgspec.json.Decoder(Verdict)
_LABEL_DECODER = msgspec.json.Decoder(Label)


def _decode(
    items: Iterable[Any], kind: type[T], decoder: msgspec.json.Decoder[T], bad: Undecodable
) -> Iterator[T]:
    """Yield ``kind`` objects from JSON lines, mappings or ready objects, counting failures.

    Blank lines are skipped silently (a trailing newline is not an error).
    """
    for item in items:
        try:
            if isinstance(item, bytes | bytearray | str):
                if not item.strip():
                    continue
                yield decoder.decode(item)
            elif isinstance(item, kind):
                yield item
            else:
                yield msgspec.convert(item, kind)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError):
            bad.count += 1


def decode_events(items: Iterable[Any], bad: Undecodable) -> Iterator[EventView]:
    """Events from JSON lines (bytes or str), mappings or `EventView` objects."""
    return _decode(items, EventView, _EVENT_DECODER, bad)


def decode_decisions(items: Iterable[Any], bad: Undecodable) -> Iterator[Decision]:
    return _decode(items, Decision, _DECISION_DECODER, bad)


def decode_verdicts(items: Iterable[Any], bad: Undecodable) -> Iterator[Verdict]:
    return _decode(items, Verdict, _VERDICT_DECODER, bad)


def decode_labels(items: Iterable[Any], bad: Undecodable) -> Iterator[Label]:
    return _decode(items, Label, _LABEL_DECODER, bad)


def read_lines(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """Lines of a JSON Lines file, plain or gzip, streamed (the file is closed at the end).

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "x.jsonl.gz"
    ...     with gzip.open(p, "wb") as f:
    ...         _ = f.write(b'{"a":1}\\n{"a":2}\\n')
    ...     list(read_lines(p))
    [b'{"a":1}\\n', b'{"a":2}\\n']
    """
    with io.BufferedReader(io.FileIO(os.fspath(path)), buffer_size=1 << 20) as raw:
        # Gzip is recognised by its magic bytes, not the name: `.jsonl` files get compressed.
        if raw.peek(2)[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield from unzipped
        else:
            yield from raw
