"""One line of a contract label stream: a typed label, or precisely why it is not one.

A problem names the line, the label (its entity and area, as far as the line says them; a
PII-like id only as its pseudonym), the field's path and the reason in plain words, using the
same wording as event validation (:mod:`rampart.contract.validate`). Nothing in a problem is
raw PII, so problems can go to a terminal or a rejects file.

>>> from rampart.records.entities import EntityKeeper
>>> keeper = EntityKeeper(None)
>>> print(parse_label(b'{"entity_type":"user","entity_id":"u1","area":"scalper","label":2}',
...                   7, keeper))
line 7, label user u1 in scalper: label: 2 is not an allowed value (allowed: 0, 1)
>>> print(parse_label(b'{"entity_type":"ip","entity_id":"203.0.113.7","area":"scalper",'
...                   b'"label":1}', 8, keeper))  # doctest: +ELLIPSIS
line 8, label ip <ip withheld> in scalper: entity_id: ip id is PII (ip): keeping it needs ...
>>> parse_label(b'{"entity_type":"event","entity_id":"e9","area":"brushing","label":0}', 9,
...             keeper).entity_id
'e9'
"""

from __future__ import annotations

import re
from typing import Any, Final, get_args

import msgspec

from rampart.contract.outputs import AREAS, Label, LabelEntityType, LabelSource
from rampart.contract.validate import _reason as explain_message
from rampart.contract.validate import _word as json_type_word
from rampart.records.entities import EntityKeeper, NeedsSecretError, pii_kind
from rampart.records.labels import keep_label

_DECODER: Final = msgspec.json.Decoder(Label)
_PATH_SUFFIX: Final = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_OPTIONAL: Final = re.compile(r"`([^`|]+) \| null`")
_ALLOWED: Final[dict[str, tuple[object, ...]]] = {
    "entity_type": get_args(LabelEntityType),
    "area": AREAS,
    "label": (0, 1),
    "source": get_args(LabelSource),
}


class LabelProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One rejected label line: where, which label, which field, and why."""

    line: int
    label: str | None
    path: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.label is not None:
            where += f", label {self.label}"
        if self.path:
            return f"{where}: {self.path}: {self.reason}"
        return f"{where}: {self.reason}"


def parse_label(raw: bytes | str, line_no: int, keeper: EntityKeeper) -> Label | LabelProblem:
    """Decode and check one label line; its entity id comes back in kept form."""
    try:
        label = _DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        return _explain(str(exc), raw, line_no, keeper)
    except msgspec.DecodeError as exc:
        detail = str(exc).removeprefix("JSON is malformed: ")
        return LabelProblem(
            line=line_no, label=None, path=None, reason=f"the line is not valid JSON ({detail})"
        )
    name = describe(label.entity_type, label.entity_id, label.area, keeper)
    if not label.entity_id.strip():
        return LabelProblem(line=line_no, label=name, path="entity_id", reason="must not be empty")
    try:
        return keep_label(keeper, label)
    except NeedsSecretError as exc:
        return LabelProblem(line=line_no, label=name, path="entity_id", reason=str(exc))


def describe(
    entity_type: object, entity_id: object, area: object, keeper: EntityKeeper
) -> str | None:
    """How a problem names a label: ``user u1 in scalper``, with PII-like ids pseudonymised."""
    if not isinstance(entity_type, str) or not isinstance(entity_id, str):
        return None
    text = f"{entity_type} {shown_id(entity_type, entity_id, keeper)}"
    return f"{text} in {area}" if isinstance(area, str) else text


def shown_id(entity_type: str, entity_id: str, keeper: EntityKeeper) -> str:
    """An id as it may be shown: as kept, or withheld when it is PII that cannot be kept."""
    try:
        return keeper.keep(entity_type, entity_id)
    except NeedsSecretError:
        return f"<{pii_kind(entity_type, entity_id)} withheld>"


def _explain(message: str, raw: bytes | str, line_no: int, keeper: EntityKeeper) -> LabelProblem:
    document = loose_document(raw)
    name = None
    if document is not None:
        name = describe(
            document.get("entity_type"), document.get("entity_id"), document.get("area"), keeper
        )
    path = ""
    if suffix := _PATH_SUFFIX.search(message):
        path = suffix.group("path")
        message = message[: suffix.start()]
    if not path and message.startswith("Expected `object`"):
        got = message.rsplit("got `", 1)[-1].rstrip("`")
        return LabelProblem(
            line=line_no,
            label=None,
            path=None,
            reason=f"a label must be a JSON object, got {json_type_word(got)}",
        )
    # Optional fields are ``X | None`` in the struct; a person wants the type they should send.
    message = _OPTIONAL.sub(r"`\1`", message)
    path, reason = explain_message(message, path, None)
    if path in _ALLOWED and reason.endswith("is not an allowed value"):
        reason += f" (allowed: {', '.join(str(v) for v in _ALLOWED[path])})"
    return LabelProblem(line=line_no, label=name, path=path or None, reason=reason)


def loose_document(raw: bytes | str) -> dict[str, Any] | None:
    """The line as a JSON object when it is one (whatever its fields), else None."""
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    return document if isinstance(document, dict) else None
