"""CSV and Parquet files whose columns a :mod:`~rampart.ingest.sources.mapping` turns into events.

Both read with bounded memory: CSV row by row over a text stream (``.csv.gz`` too), Parquet
batch by batch, only the columns the mapping reads. A row whose cells cannot be converted yields
a :class:`~rampart.contract.validate.ContractError` naming the row, the event, the contract path
and the column, and the stream goes on. A file the mapping does not fit (a mapped column missing
from the header) raises :class:`~rampart.ingest.sources.mapping.MappingError` when iteration
starts: that is a problem with the whole file, not with a record.

Line numbers: CSV gives the physical line a row starts on (the header is line 1, so rows with
quoted newlines keep the numbers an editor shows); Parquet gives the 1-based row number.

>>> import tempfile, pathlib
>>> from rampart.ingest.sources.mapping import FieldMapping
>>> p = pathlib.Path(tempfile.mkdtemp()) / "logins.csv"
>>> _ = p.write_text("id,when,who,ok\\n1,2026-03-01 10:00:00,u1,yes\\n2,2026-03-01 10:01:00,u2,maybe\\n")
>>> m = FieldMapping.from_dict({"event_id": "id", "type": {"const": "account.login"},
...     "ts": {"column": "when", "timezone": "+08:00"}, "user_id": "who", "props.success": "ok"})
>>> for item in CsvSource(p, m):
...     print(item)
SourceRecord(line=2, raw=b'{"event_id":"1","type":"account.login","ts":"2026-03-01T10:00:00+08:00","user_id":"u1","props":{"success":true}}')
line 3, event 2: props.success: column `ok`: 'maybe' is not a boolean (true/false, yes/no, 1/0)
"""  # noqa: E501

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from rampart.contract.validate import ContractError
from rampart.ingest.sources.base import SourceItem, SourceRecord, bounded_lines, open_binary
from rampart.ingest.sources.mapping import EPOCH_FORMATS, FieldMapping, FieldRule, cell_key

_TRUE: Final = frozenset({"true", "t", "yes", "y", "1"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0"})
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_UTF8_BOM: Final = b"\xef\xbb\xbf"


class CsvSource:
    """Rows of a CSV file (``.gz`` too) through a field mapping, one at a time.

    The dialect and encoding come from the mapping's ``csv`` options. A physical line longer
    than ``max_line_bytes`` is cut there (and its row reported), so one runaway line cannot
    exhaust memory; the csv module bounds a single field the same way.
    """

    def __init__(self, path: Path, mapping: FieldMapping, *, max_line_bytes: int = 1 << 20) -> None:
        self.path = path
        self.mapping = mapping
        self.max_line_bytes = max_line_bytes

    def __iter__(self) -> Iterator[SourceItem]:
        options = self.mapping.csv
        bad_lines: dict[int, str] = {}  # physical line -> why it is unusable; pruned as rows pass
        with open_binary(self.path) as handle:
            lines = _decoded_lines(handle, options.encoding, self.max_line_bytes, bad_lines)
            reader = csv.reader(
                lines, delimiter=options.delimiter, quotechar=options.quotechar, strict=True
            )
            try:
                header = [name.strip() for name in next(reader)]
            except StopIteration:
                return
            except csv.Error as exc:
                raise ValueError(f"{self.path.name}: the header is not valid CSV ({exc})") from None
            self.mapping.check_columns(header, self.path.name)
            unmapped = _unmapped(header, self.mapping)
            end = reader.line_num
            while True:
                start = end + 1
                problem: str | None = None
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    cells, problem = [], f"not a valid CSV row ({exc})"
                end = reader.line_num
                if bad_lines:
                    spanned = sorted(n for n in bad_lines if n <= end)
                    if problem is None and spanned:
                        problem = f"line {spanned[0]} {bad_lines[spanned[0]]}"
                    for n in spanned:
                        del bad_lines[n]
                if problem is None and not cells:
                    continue  # a blank line
                if problem is None and len(cells) != len(header):
                    problem = f"the row has {len(cells)} fields, the header has {len(header)}"
                if problem is not None:
                    yield ContractError(line=start, event_id=None, path=None, reason=problem)
                    continue
                yield _to_item(self.mapping, dict(zip(header, cells, strict=True)), start, unmapped)


class ParquetSource:
    """Rows of a Parquet file through a field mapping, read ``batch_size`` rows at a time."""

    def __init__(self, path: Path, mapping: FieldMapping, *, batch_size: int = 8192) -> None:
        self.path = path
        self.mapping = mapping
        self.batch_size = batch_size

    def __iter__(self) -> Iterator[SourceItem]:
        with pq.ParquetFile(self.path) as parquet:
            schema = parquet.schema_arrow
            names = [str(name) for name in schema.names]
            self.mapping.check_columns(names, self.path.name)
            unmapped = _unmapped(names, self.mapping)
            wanted = [n for n in names if n in self.mapping.columns or n in unmapped]
            # Python's datetime stops at microseconds and pyarrow refuses to drop nanoseconds
            # silently: read such columns as microseconds (no event needs finer).
            fields = [schema.field(n) for n in wanted]
            micro = pa.schema([_microseconds(f) for f in fields])
            recast = micro != pa.schema(fields)
            row = 0
            for batch in parquet.iter_batches(batch_size=self.batch_size, columns=wanted):
                if recast:
                    batch = batch.cast(micro, safe=False)
                for values in batch.to_pylist():
                    row += 1
                    yield _to_item(self.mapping, values, row, unmapped)


class ConversionError(ValueError):
    """One cell of a row could not be converted; ``reason`` names the column."""

    def __init__(self, path: str, reason: str, event_id: str | None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.event_id = path, reason, event_id


def apply_mapping(mapping: FieldMapping, row: Mapping[str, object]) -> dict[str, Any]:
    """One row as a contract-shaped dict; raises :class:`ConversionError` on the first bad cell.

    >>> from rampart.ingest.sources.mapping import FieldMapping
    >>> m = FieldMapping.from_dict({"event_id": "id", "type": {"const": "cart.add"},
    ...     "ts": {"column": "at", "format": "epoch_ms"}, "props.quantity": "qty"})
    >>> apply_mapping(m, {"id": "e1", "at": "1772366400000", "qty": "2"})
    {'event_id': 'e1', 'type': 'cart.add', 'ts': '2026-03-01T12:00:00Z', 'props': {'quantity': 2}}
    """
    event: dict[str, Any] = {}
    event_id: str | None = None
    for rule in mapping.rules:  # event_id comes first, so later errors can name the event
        if rule.column is None:
            value = rule.const
        else:
            cell = row.get(rule.column)
            if mapping.is_null(cell):
                continue
            try:
                value = convert(cell, rule)
            except (ValueError, OverflowError) as exc:
                shown = "the value" if rule.is_pii else _quote(cell)
                reason = f"column `{rule.column}`: {shown} {exc}"
                raise ConversionError(rule.target, reason, event_id) from None
            if value is None:
                continue
        if rule.target == "event_id":
            event_id = value
        target = event
        for part in rule.parts[:-1]:
            target = target.setdefault(part, {})
        target[rule.parts[-1]] = value
    return event


def convert(value: object, rule: FieldRule) -> Any:
    """Convert one non-empty cell by ``rule``; raises ``ValueError`` with a predicate as message
    ("is not a number") that the caller prefixes with the column and the value.

    >>> convert(" 12.50 ", FieldRule("props.total", "amount", type="float"))
    12.5
    >>> convert("31/12/2025 23:59", FieldRule("ts", "t", type="timestamp",
    ...     ts_format="%d/%m/%Y %H:%M", timezone=dt.timezone(dt.timedelta(hours=8))))
    '2025-12-31T23:59:00+08:00'
    """
    if isinstance(value, str):
        value = value.strip()
    if rule.values is not None:
        value = rule.values.get(cell_key(value), value)
        if value is None:
            return None
    if rule.type == "string":
        return _to_string(value)
    if rule.type == "int":
        return _to_int(value)
    if rule.type == "float":
        return _to_float(value)
    if rule.type == "bool":
        return _to_bool(value)
    if rule.type == "json":
        return _to_json(value)
    return _to_timestamp(value, rule.ts_format, rule.timezone)


def _to_string(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, bool | int | float | Decimal):
        return cell_key(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise ValueError("is a list or object, not text")


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("is a boolean, not an integer")
    if isinstance(value, int):
        return value
    try:
        number = Decimal(value) if isinstance(value, str) else value
        if isinstance(number, float | Decimal) and math.isfinite(number) and number == int(number):
            return int(number)
    except ArithmeticError:
        pass
    raise ValueError("is not an integer")


def _to_float(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("is a boolean, not a number")
    try:
        number = float(value) if isinstance(value, str | int | float | Decimal) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError("is not a number")
    return number


def _to_bool(value: object) -> bool:
    word = cell_key(value).lower() if isinstance(value, str | bool | int) else ""
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError("is not a boolean (true/false, yes/no, 1/0)")


def _to_json(value: object) -> Any:
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc})") from None


def _to_timestamp(value: object, ts_format: str | None, tz: dt.tzinfo | None) -> str:
    if ts_format in EPOCH_FORMATS and not isinstance(value, dt.date):
        seconds = _to_float(value) * EPOCH_FORMATS[ts_format]
        moment = _EPOCH + dt.timedelta(seconds=seconds)
        return rfc3339(moment.astimezone(tz) if tz else moment)
    if isinstance(value, str):
        try:
            if ts_format is None or ts_format in EPOCH_FORMATS:
                moment = dt.datetime.fromisoformat(value)
            else:
                moment = dt.datetime.strptime(value, ts_format)
        except ValueError:
            expected = f"`{ts_format}`" if ts_format else "ISO 8601"
            raise ValueError(f"is not a timestamp in {expected}") from None
    elif isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        raise ValueError("is a number: set `format: epoch_s` or `epoch_ms`")
    if moment.tzinfo is None:
        if tz is None:
            raise ValueError("has no offset and the mapping gives no `timezone`")
        moment = moment.replace(tzinfo=tz)
    return rfc3339(moment)


def rfc3339(moment: dt.datetime) -> str:
    """An aware datetime as RFC 3339, ``Z`` for UTC.

    >>> rfc3339(dt.datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=dt.UTC))
    '2026-03-01T12:00:00.123000Z'
    """
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --- reading -----------------------------------------------------------------------------------


def _to_item(
    mapping: FieldMapping, row: Mapping[str, object], line: int, unmapped: list[str]
) -> SourceItem:
    try:
        event = apply_mapping(mapping, row)
    except ConversionError as exc:
        return ContractError(line=line, event_id=exc.event_id, path=exc.path, reason=exc.reason)
    for column in unmapped:
        cell = row.get(column)
        if not mapping.is_null(cell):
            event.setdefault(f"x_{column}", cell.strip() if isinstance(cell, str) else cell)
    try:
        return SourceRecord(line, orjson.dumps(event, default=_json_default))
    except orjson.JSONEncodeError as exc:
        event_id = event.get("event_id")
        return ContractError(
            line=line,
            event_id=event_id if isinstance(event_id, str) else None,
            path=None,
            reason=f"cannot be written as JSON ({exc})",
        )


def _json_default(value: object) -> object:
    # Parquet decimals and binary columns, which orjson does not know.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _unmapped(columns: list[str], mapping: FieldMapping) -> list[str]:
    if not mapping.keep_unmapped:
        return []
    mapped = set(mapping.columns)
    return [c for c in columns if c not in mapped]


def _microseconds(column: pa.Field) -> pa.Field:
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.unit == "ns":
        return column.with_type(pa.timestamp("us", tz=kind.tz))
    return column


def _decoded_lines(
    handle: BinaryIO, encoding: str, limit: int, bad_lines: dict[int, str]
) -> Iterator[str]:
    """Text lines for the csv module; a line that cannot be decoded is noted in ``bad_lines``
    and passed on with replacement characters, so only its own row is lost."""
    for number, (line, too_long) in enumerate(bounded_lines(handle, limit), start=1):
        if number == 1:
            # Spreadsheet exports start with a UTF-8 byte order mark, whatever encoding the
            # mapping names; left in, it would become part of the first column's name.
            line = line.removeprefix(_UTF8_BOM)
        if too_long:
            bad_lines[number] = f"is longer than {limit} bytes"
            line += b"\n"
        try:
            yield line.decode(encoding)
        except UnicodeDecodeError as exc:
            bad_lines[number] = f"is not valid {encoding} (byte {exc.start + 1})"
            yield line.decode(encoding, "replace")


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "...'"
