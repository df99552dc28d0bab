"""Turn msgspec's validation failures into errors a person can act on.

Every error names the line number, the ``event_id`` where the line has one, the field's path and
the reason. The hot path pays nothing for this: the raw line is only looked at again when it has
already failed.

>>> result = parse_line(b'{"event_id":"x4","type":"cart.add","ts":"2026-03-01T10:07:00Z",'
...     b'"user_id":"u1","props":{"item_id":"i1","seller_id":"s1","quantity":"two",'
...     b'"unit_price":3}}', line_no=4)
>>> print(result)
line 4, event x4: props.quantity: must be an integer, got a string
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal, get_args, get_origin, get_type_hints

import msgspec
from msgspec import UnsetType

from rampart.contract.events import EVENT_CLASSES, EVENT_TYPES, Event, decode_event

_PATH_SUFFIX: Final = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_MISSING: Final = re.compile(r"Object missing required field `(?P<field>[^`]+)`")
_GOT: Final = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`")
_LENGTH: Final = re.compile(
    r"Expected `(?P<kind>str|array|object)` of length (?P<op>>=|<=) (?P<n>\d+)"
)
_BOUND: Final = re.compile(r"Expected `(?P<kind>int|float)` (?P<op>>=|<=|>|<) (?P<n>[-\d.e+]+)")
_PATTERN: Final = re.compile(r"Expected `str` matching regex '(?P<regex>.*)'")
_ENUM: Final = re.compile(r"Invalid (?:enum )?value (?P<value>.+)")

# How a JSON type is named to a person.
_TYPE_WORDS: Final[dict[str, str]] = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "a list",
    "null": "null",
    "datetime": "an RFC 3339 timestamp",
}
_PATTERN_WORDS: Final[dict[str, str]] = {
    "^[A-Z]{2}$": "an ISO 3166-1 alpha-2 country code in capitals (e.g. SG)",
    "^[A-Z]{3}$": "an ISO 4217 currency code in capitals (e.g. SGD)",
    "^[0-9]{6,8}$": "6 to 8 digits (a card BIN)",
}


class ContractError(msgspec.Struct, frozen=True, kw_only=True):
    """One rejected line: where it is, which event, which field, and why."""

    line: int
    event_id: str | None
    path: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.event_id is not None:
            where += f", event {self.event_id}"
        if self.path:
            return f"{where}: {self.path}: {self.reason}"
        return f"{where}: {self.reason}"


def parse_line(raw: bytes | str, line_no: int) -> Event | ContractError:
    """Decode one JSON line into a typed event, or say precisely why it is not one."""
    try:
        return decode_event(raw)
    except msgspec.ValidationError as exc:
        return _explain(str(exc), raw, line_no)
    except msgspec.DecodeError as exc:
        detail = str(exc).removeprefix("JSON is malformed: ")
        return ContractError(
            line=line_no, event_id=None, path=None, reason=f"the line is not valid JSON ({detail})"
        )
    except UnicodeDecodeError:
        # msgspec checks UTF-8 in the strings it decodes, and raises this rather than its own.
        return ContractError(
            line=line_no,
            event_id=None,
            path=None,
            reason="the line is not valid UTF-8 (a string holds other bytes)",
        )


def _explain(message: str, raw: bytes | str, line_no: int) -> ContractError:
    document = _loose_document(raw)
    event_id = document.get("event_id") if document is not None else None
    event_id = event_id if isinstance(event_id, str) and event_id else None
    event_type = document.get("type") if document is not None else None

    path = ""
    suffix = _PATH_SUFFIX.search(message)
    if suffix:
        path = suffix.group("path")
        message = message[: suffix.start()]
    path, reason = _reason(message, path, event_type)
    return ContractError(line=line_no, event_id=event_id, path=path or None, reason=reason)


def _loose_document(raw: bytes | str) -> dict[str, Any] | None:
    try:
        document = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _reason(message: str, path: str, event_type: object) -> tuple[str, str]:
    """Map one msgspec message to (path, reason in plain words)."""
    if missing := _MISSING.fullmatch(message):
        field = missing.group("field")
        full_path = f"{path}.{field}" if path else field
        if field == "user_id" and isinstance(event_type, str):
            return full_path, f"is required for `{event_type}`"
        if path.startswith("props") and isinstance(event_type, str):
            return full_path, f"is required for `{event_type}`"
        return full_path, "is required"
    if path == "type" and (enum := _ENUM.fullmatch(message)):
        value = enum.group("value").strip("'")
        known = ", ".join(EVENT_TYPES)
        return path, f"`{value}` is not a known event type (known types: {known})"
    if enum := _ENUM.fullmatch(message):
        allowed = _allowed_values(event_type, path)
        listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return path, f"{enum.group('value')} is not an allowed value{listed}"
    if message == "Invalid RFC3339 encoded datetime":
        return path, "is not an RFC 3339 timestamp with an offset (e.g. 2026-03-01T12:00:00Z)"
    if message == "Expected `datetime` with a timezone component":
        return path, "is an RFC 3339 timestamp without an offset (add Z or e.g. +08:00)"
    if got := _GOT.fullmatch(message):
        if not path and got.group("want") == "object":
            return path, f"an event must be a JSON object, got {_word(got.group('got'))}"
        return path, f"must be {_word(got.group('want'))}, got {_word(got.group('got'))}"
    if length := _LENGTH.fullmatch(message):
        return path, _length_reason(
            length.group("kind"), length.group("op"), int(length.group("n"))
        )
    if bound := _BOUND.fullmatch(message):
        op = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
        return path, f"must be {op[bound.group('op')]} {bound.group('n')}"
    if pattern := _PATTERN.fullmatch(message):
        regex = pattern.group("regex")
        return path, f"must be {_PATTERN_WORDS.get(regex, f'a string matching {regex}')}"
    if message == "Expected an IPv4 or IPv6 address":
        return path, "is not an IPv4 or IPv6 address"
    return path, message


def _word(json_type: str) -> str:
    return _TYPE_WORDS.get(json_type, f"`{json_type}`")


def _length_reason(kind: str, op: str, n: int) -> str:
    bound = "at least" if op == ">=" else "at most"
    if kind == "array":
        if op == ">=" and n == 1:
            return "must hold at least one item"
        return f"must hold {bound} {n} items"
    if kind == "str":
        if op == ">=" and n == 1:
            return "must not be empty"
        return f"must be {bound} {n} characters long"
    return f"must have {bound} {n} fields"


def _allowed_values(event_type: object, path: str) -> list[str]:
    """The literal values allowed at ``path`` for this event type, found from the typed model."""
    cls = next((c for c in EVENT_CLASSES if c.__struct_config__.tag == event_type), None)
    if cls is None:
        return []
    annotation: Any = cls
    for part in re.sub(r"\[\d+\]", "", path).split("."):
        annotation = _strip(annotation)
        if not (isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)):
            return []
        annotation = get_type_hints(annotation).get(part)
        if annotation is None:
            return []
    annotation = _strip(annotation)
    if get_origin(annotation) is Literal:
        return [str(v) for v in get_args(annotation)]
    return []


def _strip(annotation: Any) -> Any:
    """Unwrap Optional, Annotated and list[...] to the type that holds the next field."""
    while True:
        origin = get_origin(annotation)
        if origin is Literal:
            return annotation
        args = [a for a in get_args(annotation) if a not in (type(None), UnsetType)]
        if origin is None or not args:
            return annotation
        if origin is list or len(args) == 1 or str(origin) == "typing.Annotated":
            annotation = args[0]
        else:
            structs = [a for a in args if get_origin(a) is Literal or isinstance(a, type)]
            annotation = structs[0] if structs else args[0]
