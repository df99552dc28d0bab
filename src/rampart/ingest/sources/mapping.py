"""A field mapping: how a risk team's own columns become contract events.

A mapping file (YAML, or TOML when it ends in ``.toml``) maps contract paths to columns::

    event_id: txn_id                          # a plain name is a column
    type: {const: order.created}              # or {column: evt, values: {LOGIN: account.login}}
    ts: {column: created_at, format: "%Y-%m-%d %H:%M:%S", timezone: "+08:00"}
    user_id: customer_id
    device.id: device_fp                      # dotted paths build nested objects ...
    props:                                    # ... and so do nested tables
      total: amount                           # type comes from the contract (float here)
      items: {column: items_json, type: json}
      payment.instrument_id: card_token
    keep_unmapped: false                      # true: other columns go to top-level x_<column>
    null_values: ["NULL", "\\N"]              # besides empty cells, which are always left out
    csv: {delimiter: ";", encoding: cp1252}   # CSV dialect of the files this mapping reads

Rules, decided for a risk team's exports:

* ``type`` (one of string, int, float, bool, json, timestamp) defaults to the contract field's
  type, so ``props.total: amount`` yields a number; an explicit type must suit the field.
* ``values`` translates cell values (keys match the cell's text) before the type conversion;
  values not in the map pass through (the contract check names bad ones); ``null`` drops the field.
  Quote keys like ``yes``/``no``/``on``, which YAML would otherwise read as booleans.
* Timestamps: ``format`` is a ``strptime`` pattern, ``epoch_s`` or ``epoch_ms``; without it
  ISO 8601 is read. ``timezone`` (``+08:00``, ``UTC``, ``Asia/Singapore``) is the zone of values
  that carry no offset; a pattern without ``%z`` needs one, so no time is silently taken as UTC.
* Targets are checked against ``rampart.contract.events``; a field of one's own must start with
  ``x_`` (e.g. ``props.x_ab_bucket``), so a typo such as ``props.totl`` is an error, not data lost.
* Unmapped columns are dropped by default: they may hold PII that pseudonymisation at ingest does
  not know about. ``keep_unmapped: true`` keeps them, unconverted, under top-level ``x_<column>``.
* Cells are stripped of surrounding whitespace; empty and ``null_values`` cells are left out.

Every problem of a mapping file is reported at once, each with the file's name and the key.

>>> m = FieldMapping.from_dict({"event_id": "id", "type": {"const": "cart.add"},
...     "ts": {"column": "at", "format": "epoch_ms"}, "props": {"quantity": "qty"}})
>>> m.columns, [(r.target, r.type) for r in m.rules][-1]
(('id', 'at', 'qty'), ('props.quantity', 'int'))
>>> FieldMapping.from_dict({"event_id": "id", "type": "evt", "props.totl": "amount"})
Traceback (most recent call last):
...
rampart.ingest.sources.mapping.MappingError: 2 problems with mapping <mapping>:
- <mapping>: `props.totl`: is not a field of the contract (did you mean `props.total`?)
- <mapping>: `ts`: is required: map a column to it or give a {const: ...}
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import yaml

from rampart.contract.events import EVENT_CLASSES, EVENT_TYPES

FieldType = Literal["string", "int", "float", "bool", "json", "timestamp"]
FIELD_TYPES: Final[tuple[str, ...]] = get_args(FieldType)
_SPEC_KEYS: Final = frozenset({"column", "const", "type", "values", "format", "timezone"})
_OPTION_KEYS: Final = frozenset({"keep_unmapped", "null_values", "csv"})
_REQUIRED: Final = ("event_id", "type", "ts")
EPOCH_FORMATS: Final = {"epoch_s": 1.0, "epoch_ms": 1e-3}
# Path segments whose values are PII: a conversion error there never quotes the cell (DESIGN.md).
_PII_FIELDS: Final = "email phone name ip new_value text shipping_address line1 line2 postcode"
_PII_SEGMENTS: Final = frozenset(_PII_FIELDS.split(" "))
_OFFSET: Final = re.compile(r"([+-])(\d{2}):?(\d{2})?")
_CONST_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "timestamp": (str,)
}  # fmt: skip


class MappingError(ValueError):
    """A mapping file, or a file read with it, is unusable; ``problems`` lists every reason."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        super().__init__(
            f"{count} with mapping {origin}:\n" + "\n".join(f"- {p}" for p in problems)
        )


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one contract path gets its value: from a column (optionally through ``values``) or a
    constant, converted to ``type``; ``ts_format`` and ``timezone`` serve timestamps only."""

    target: str
    column: str | None
    const: Any = None
    type: FieldType = "string"
    values: Mapping[str, Any] | None = None
    ts_format: str | None = None
    timezone: dt.tzinfo | None = None
    parts: tuple[str, ...] = ()

    @property
    def is_pii(self) -> bool:
        """Whether the target holds PII, whose values never appear in error messages."""
        return not _PII_SEGMENTS.isdisjoint(self.parts)


@dataclass(frozen=True, slots=True)
class CsvOptions:
    """The CSV dialect; the encoding must be ASCII-compatible (the file is read line by line)."""

    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"


@dataclass(frozen=True)
class FieldMapping:
    """A validated mapping; build it with :func:`load_mapping` or :meth:`from_dict`."""

    rules: tuple[FieldRule, ...]
    keep_unmapped: bool = False
    null_values: frozenset[str] = frozenset({""})
    csv: CsvOptions = field(default_factory=CsvOptions)
    origin: str = "<mapping>"

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the rules read, in mapping order."""
        return tuple(dict.fromkeys(r.column for r in self.rules if r.column is not None))

    def check_columns(self, available: list[str], file_name: str) -> None:
        """Raise :class:`MappingError` naming every mapped column the file lacks (or repeats)."""
        problems = []
        for column in self.columns:
            if (count := available.count(column)) != 1:
                target = next(r.target for r in self.rules if r.column == column)
                where = (
                    f"in it {count} times" if count else "not in it" + _suggest(column, available)
                )
                problems.append(f"{file_name}: column `{column}` (for `{target}`) is {where}")
        if problems:
            problems.append(f"{file_name}: its columns are {', '.join(available) or '(none)'}")
            raise MappingError(self.origin, problems)

    def is_null(self, value: object) -> bool:
        """Whether a cell counts as empty: None, NaN, blank or one of ``null_values``."""
        if value is None:
            return True
        if isinstance(value, float):
            return math.isnan(value)
        return isinstance(value, str) and value.strip() in self.null_values

    @classmethod
    def from_dict(cls, data: object, origin: str = "<mapping>") -> FieldMapping:
        """Validate a parsed mapping file; raise :class:`MappingError` listing every problem."""
        report = _Problems(origin)
        if not isinstance(data, dict):
            raise MappingError(origin, [f"{origin}: must be a table of contract paths to columns"])
        specs: dict[str, object] = {}
        options: dict[str, object] = {}
        _flatten(data, "", specs, options, report)
        type_spec = specs.get("type")
        event_type = type_spec.get("const") if isinstance(type_spec, dict) else None
        rules = [
            rule
            for path, spec in specs.items()
            if (rule := _parse_rule(path, spec, event_type, report)) is not None
        ]
        for key in _REQUIRED:
            if key not in specs:
                report(key, "is required: map a column to it or give a {const: ...}")
        for path in specs:
            for i in range(path.count(".")):
                if (outer := path.rsplit(".", i + 1)[0]) in specs:
                    report(path, f"lies inside `{outer}`, which is mapped whole")
        keep, nulls, csv_options = _parse_options(options, report)
        if report.problems:
            raise MappingError(origin, report.problems)
        rules.sort(key=lambda r: r.target != "event_id")
        return cls(tuple(rules), keep, nulls, csv_options, origin)


def load_mapping(path: Path) -> FieldMapping:
    """Read and validate a YAML or TOML mapping file."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(path.name, [f"{path.name}: cannot be parsed: {exc}"]) from None
    return FieldMapping.from_dict(data, origin=path.name)


class _Problems:
    """Collects every problem of one mapping file, each prefixed with the file and the key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []

    def __call__(self, key: str, text: str) -> None:
        self.problems.append(f"{self.origin}: `{key}`: {text}")


# --- the contract's paths, read off the typed events ---------------------------------------


@dataclass(frozen=True)
class _Slot:
    kind: str  # string, int, float, bool, timestamp, object, list or any
    event_types: frozenset[str]


def _kind(annotation: Any) -> tuple[str, type | None]:
    origin = get_origin(annotation)
    # Optional fields are `X | None` or `X | UnsetType`: the field's kind is X's.
    args = [a for a in get_args(annotation) if a not in (type(None), msgspec.UnsetType)]
    if origin is Literal:
        return "string", None
    if origin is Union or origin is types.UnionType:
        return _kind(args[0]) if len(args) == 1 else ("any", None)
    if origin is list:
        return "list", None
    if isinstance(annotation, type):
        if issubclass(annotation, msgspec.Struct):
            return "object", annotation
        names = {bool: "bool", int: "int", float: "float", str: "string", dt.datetime: "timestamp"}
        return names.get(annotation, "any"), None
    return "any", None


def _walk(cls: type, prefix: str, event_type: str, out: dict[str, _Slot]) -> None:
    for name, annotation in get_type_hints(cls).items():
        path = prefix + name
        kind, struct = _kind(annotation)
        if (old := out.get(path)) is not None:
            kind = kind if kind == old.kind else "any"
            out[path] = _Slot(kind, old.event_types | {event_type})
        else:
            out[path] = _Slot(kind, frozenset({event_type}))
        if struct is not None:
            _walk(struct, path + ".", event_type, out)


def _contract_slots() -> dict[str, _Slot]:
    slots = {"type": _Slot("string", frozenset(EVENT_TYPES))}
    for cls in EVENT_CLASSES:
        _walk(cls, "", str(cls.__struct_config__.tag), slots)
    return slots


_SLOTS: Final = _contract_slots()
_DEFAULT_TYPE: Final[dict[str, FieldType]] = {
    "string": "string", "int": "int", "float": "float", "bool": "bool",
    "timestamp": "timestamp", "object": "json", "list": "json", "any": "string",
}  # fmt: skip
_KIND_WORDS: Final = {
    "string": "text", "int": "an integer", "float": "a number", "bool": "a boolean",
    "timestamp": "a timestamp", "object": "an object", "list": "a list", "any": "free-form",
}  # fmt: skip
# Which contract kinds each declared type can fill without failing every row.
_FITS: Final[dict[str, frozenset[str]]] = {
    "string": frozenset({"string", "any"}),
    "int": frozenset({"int", "float", "any"}),
    "float": frozenset({"float", "any"}),
    "bool": frozenset({"bool", "any"}),
    "timestamp": frozenset({"timestamp", "string", "any"}),
    "json": frozenset(_DEFAULT_TYPE),
}


def _slot(path: str, event_type: object, report: _Problems) -> _Slot | None:
    """The contract slot at ``path``; a custom ``x_`` field is an ``any`` slot."""
    if (slot := _SLOTS.get(path)) is not None:
        if (
            path.startswith("props.")
            and event_type in EVENT_TYPES
            and event_type not in slot.event_types
        ):
            report(path, f"is not a field of `{event_type}`")
            return None
        return slot
    parent, _, last = path.rpartition(".")
    if parent in _SLOTS and _SLOTS[parent].kind != "object":
        report(path, f"`{parent}` is {_KIND_WORDS[_SLOTS[parent].kind]}: map it whole (type: json)")
    elif last.startswith("x_") and (not parent or parent in _SLOTS):
        return _Slot("any", frozenset(EVENT_TYPES))
    else:
        hint = _suggest(path, list(_SLOTS)) or "; fields of your own must start with `x_`"
        report(path, "is not a field of the contract" + hint)
    return None


# --- parsing the file ----------------------------------------------------------------------


def _flatten(
    data: dict[Any, Any],
    prefix: str,
    specs: dict[str, object],
    options: dict[str, object],
    report: _Problems,
) -> None:
    for key, value in data.items():
        if not isinstance(key, str):
            report(f"{prefix}{key}", "keys must be text (quote it)")
        elif not prefix and key in _OPTION_KEYS:
            options[key] = value
        elif isinstance(value, dict) and value and not value.keys() & _SPEC_KEYS:
            _flatten(value, f"{prefix}{key}.", specs, options, report)  # a nested group
        else:
            specs[prefix + key] = value


def _parse_rule(path: str, spec: object, event_type: object, report: _Problems) -> FieldRule | None:
    before = len(report.problems)
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        report(path, "expected a column name, {column: ...} or {const: ...}")
        return None
    if unknown := sorted(str(k) for k in spec.keys() - _SPEC_KEYS):
        report(path, f"unknown keys {', '.join(unknown)} (known: {', '.join(sorted(_SPEC_KEYS))})")
    column, has_const = spec.get("column"), "const" in spec
    if has_const == (column is not None):
        report(path, "give exactly one of `column` and `const`")
    elif column is not None and (not isinstance(column, str) or not column):
        report(path, "`column` must be a column name")
    elif path == "type" and column in EVENT_TYPES:
        report(path, f"`{column}` is an event type: write {{const: {column}}} (a name is a column)")
    slot = _slot(path, event_type, report)
    declared = spec.get("type")
    if declared is not None and declared not in FIELD_TYPES:
        report(path, f"unknown type `{declared}` (known: {', '.join(FIELD_TYPES)})")
        declared = None
    kind = slot.kind if slot else "any"
    # A constant for a field of one's own keeps the type YAML gave it.
    inferred: FieldType = "json" if has_const and kind == "any" else _DEFAULT_TYPE[kind]
    ftype: FieldType = declared or inferred
    if slot is not None and kind not in _FITS[ftype]:
        fix = "a JSON column (type: json)" if kind in ("object", "list") else _DEFAULT_TYPE[kind]
        report(
            path,
            f"is {_KIND_WORDS[kind]} in the contract: type `{ftype}` cannot fill it, use {fix}",
        )
    ts_format, timezone = spec.get("format"), spec.get("timezone")
    if (ts_format is not None or timezone is not None) and ftype != "timestamp":
        report(path, "`format` and `timezone` apply to timestamps only")
    if ts_format is not None and not (
        isinstance(ts_format, str) and ("%" in ts_format or ts_format in EPOCH_FORMATS)
    ):
        report(
            path, "`format` must be a strptime pattern (e.g. %Y-%m-%d %H:%M), epoch_s or epoch_ms"
        )
        ts_format = None
    tz = _parse_timezone(path, timezone, report) if timezone is not None else None
    if (
        timezone is None
        and ftype == "timestamp"
        and isinstance(ts_format, str)
        and "%" in ts_format
        and "%z" not in ts_format
    ):
        report(path, "the format has no %z: give `timezone` (e.g. UTC or +08:00)")
    rule = FieldRule(
        target=path,
        column=column if isinstance(column, str) else None,
        type=ftype,
        values=_parse_values(path, spec.get("values"), report),
        ts_format=ts_format,
        timezone=tz,
        parts=tuple(path.split(".")),
    )
    if has_const and len(report.problems) == before:
        rule = _const_rule(rule, spec["const"], report)
    return rule if len(report.problems) == before else None


def _parse_values(path: str, values: object, report: _Problems) -> dict[str, Any] | None:
    if values is None:
        return None
    if not isinstance(values, dict) or not values:
        report(path, "`values` must be a table of cell values to contract values")
        return None
    table = {cell_key(k): v for k, v in values.items()}
    if path == "type" and (bad := [str(v) for v in table.values() if v not in EVENT_TYPES]):
        report(path, f"`values` maps to unknown event types {', '.join(bad)}")
    return table


def _const_rule(rule: FieldRule, const: object, report: _Problems) -> FieldRule:
    # YAML and TOML already type a constant, so it is checked, not converted.
    if rule.type == "json":
        fits = const is not None
    elif isinstance(const, bool):
        fits = rule.type == "bool"
    else:
        fits = isinstance(const, _CONST_TYPES[rule.type])
    if not fits:
        report(rule.target, f"`const` {const!r} is not of type {rule.type} (quote text)")
    elif rule.target == "type" and const not in EVENT_TYPES:
        report("type", f"`{const}` is not an event type (known: {', '.join(EVENT_TYPES)})")
    return FieldRule(rule.target, None, const, rule.type, parts=rule.parts)


def _parse_timezone(path: str, text: object, report: _Problems) -> dt.tzinfo | None:
    if not isinstance(text, str):
        report(path, 'write `timezone` as text, quoted: e.g. "+08:00" or "Asia/Singapore"')
        return None
    if text.upper() in ("UTC", "Z"):
        return dt.UTC
    if offset := _OFFSET.fullmatch(text):
        sign = -1 if offset.group(1) == "-" else 1
        delta = dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        if delta < dt.timedelta(hours=24):
            return dt.timezone(sign * delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        report(path, f"unknown timezone `{text}` (use an offset such as +08:00, or a zone name)")
        return None


def _parse_options(
    options: dict[str, object], report: _Problems
) -> tuple[bool, frozenset[str], CsvOptions]:
    keep = options.get("keep_unmapped", False)
    if not isinstance(keep, bool):
        report("keep_unmapped", "must be true or false")
        keep = False
    nulls = options.get("null_values", [])
    if not isinstance(nulls, list) or not all(isinstance(n, str) for n in nulls):
        report("null_values", 'must be a list of texts, e.g. ["NULL", "N/A"]')
        nulls = []
    raw = options.get("csv", {})
    if not isinstance(raw, dict):
        report("csv", "must be a table, e.g. {delimiter: ';', encoding: cp1252}")
        raw = {}
    if unknown := sorted(str(k) for k in raw.keys() - {"delimiter", "quotechar", "encoding"}):
        report("csv", f"unknown keys {', '.join(unknown)} (known: delimiter, quotechar, encoding)")
    csv = CsvOptions(**{k: v for k, v in raw.items() if k in CsvOptions.__dataclass_fields__})
    for key in ("delimiter", "quotechar"):
        if not (isinstance(getattr(csv, key), str) and len(getattr(csv, key)) == 1):
            report(f"csv.{key}", "must be one character")
    try:
        # Read line by line: the encoding must keep newlines and delimiters single bytes.
        probe = "\n,;|\t".encode(str(csv.encoding)).removeprefix(b"\xef\xbb\xbf")  # utf-8-sig
        ascii_safe = probe == b"\n,;|\t"
    except LookupError:
        ascii_safe = False
    if not ascii_safe:
        report("csv.encoding", f"`{csv.encoding}` is unknown or not ASCII-compatible")
    return keep, frozenset({"", *nulls}), csv


# --- small helpers -----------------------------------------------------------------------------


def cell_key(value: object) -> str:
    """The text a ``values`` key or a cell is matched by: ``1``, ``1.0`` and ``"1"`` all match."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""
