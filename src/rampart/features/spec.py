"""Feature specs: features declared once, as data, and checked before anything runs.

A feature is an aggregation over the events (or labels) of one entity key, in an event-time
window, restricted by a filter. A pack lists them as mappings (YAML); :func:`parse_feature_specs`
turns them into :class:`FeatureSpec` values and reports *every* problem it finds, each naming
the file, the feature and the key, with the closest valid name when a name is misspelt.

>>> specs, errors = parse_feature_specs([
...     {"name": "failed_logins_ip_1h", "agg": "count", "keys": ["ip"], "window": "1h",
...      "where": {"event.type": "account.login", "event.props.success": False}},
...     {"name": "order_total_max_7d", "agg": "max", "keys": ["user"], "window": "7d",
...      "field": "event.props.totl"},
... ], "features.yaml")
>>> [s.name for s in specs]
['failed_logins_ip_1h']
>>> print(errors[0].key, errors[0].reason)
field unknown event field 'event.props.totl'; did you mean 'event.props.total'?
>>> str(errors[0]).startswith("features.yaml: feature `order_total_max_7d`: `field`: unknown")
True
>>> feature_catalogue(specs)
{'features.failed_logins_ip_1h': 'int'}

Semantics of each aggregation (all "as of" an event; the online state documents windows):

- ``count``: matching events in the window, this event included.
- ``sum`` / ``mean`` / ``max`` / ``min``: over the ``field`` values of matching events in the
  window, this event included; events where the field is absent do not take part
  (``sum`` of none is 0, ``mean``/``max``/``min`` of none is None).
- ``distinct_count``: distinct values of ``field`` (an event path, or an entity kind such as
  ``user``; each member of a ``list[str]`` field counts) in the window, this event included.
- ``age``: seconds from the key's first matching event to now (0.0 on its first event);
  ``first_seen``: that first event's time, epoch seconds. The window is an inactivity limit:
  a key with no matching event for a whole window is forgotten and starts again.
- ``time_since_last``: seconds since the previous matching event of the key, this event
  excluded (None on the key's first event, or when the previous one left the window).
- ``last_value``: ``field`` on the latest previous matching event that carried it, this event
  excluded (None when there is none in the window).
- ``ratio``: ``numerator / denominator`` of two other features of the pack (None when the
  denominator is 0 or None).
- ``source: labels`` (``count`` only): positive labels (``label == 1``, of ``label_area`` if
  set) in the window, counted at the label's time. A label on an event counts for the keys that
  event had if it passed ``where`` (without an ``event.type`` in ``where``: orders, payments and
  refunds only); a label on an entity counts for a feature keyed by just that kind, with no
  ``where``. See online.py and labels.py.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, get_args

import msgspec

from rampart.contract.events import EVENT_TYPES
from rampart.contract.outputs import AREAS
from rampart.features.fields import ENTITY_KINDS, EVENT_FIELDS, ValueType

Aggregation = Literal[
    "count",
    "sum",
    "mean",
    "max",
    "min",
    "distinct_count",
    "age",
    "first_seen",
    "last_value",
    "time_since_last",
    "ratio",
]
AGGREGATIONS: Final[tuple[str, ...]] = get_args(Aggregation)
Source = Literal["events", "labels"]
SOURCES: Final[tuple[str, ...]] = get_args(Source)

MAX_WINDOW_SECONDS: Final = 90 * 86_400
LIFETIME: Final = "lifetime"
_UNIT_SECONDS: Final[dict[str, int]] = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
_WINDOW_RE: Final = re.compile(r"^([1-9][0-9]*)([smhd])$")
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")

# Which aggregations read a field, and which field types they accept.
_NUMERIC: Final[frozenset[str]] = frozenset({"int", "float"})
_FIELD_TYPES: Final[dict[str, frozenset[str]]] = {
    "sum": _NUMERIC,
    "mean": _NUMERIC,
    "max": _NUMERIC,
    "min": _NUMERIC,
    "distinct_count": frozenset({"str", "int", "bool", "float", "list[str]"}),
    "last_value": frozenset({"str", "int", "bool", "float"}),
}
# Aggregations whose field may also name an entity kind (its key in the event, a string).
_ENTITY_FIELD_AGGS: Final[frozenset[str]] = frozenset({"distinct_count", "last_value"})
_FLOAT_AGGS: Final[frozenset[str]] = frozenset(
    {"mean", "age", "first_seen", "time_since_last", "ratio"}
)


def parse_window(text: str) -> int | None:
    """Seconds in a window such as ``"10m"``; None for ``"lifetime"``.

    >>> parse_window("24h"), parse_window("lifetime")
    (86400, None)
    >>> parse_window("3 hours")
    Traceback (most recent call last):
    ...
    ValueError: '3 hours' is not a duration like 30s, 10m, 1h, 7d
    """
    if text == LIFETIME:
        return None
    match = _WINDOW_RE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30s, 10m, 1h, 7d")
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds > MAX_WINDOW_SECONDS:
        raise ValueError(f"{text!r} is longer than 90d (use 'lifetime' for no limit)")
    return seconds


class FeatureSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One feature, as declared in a pack (see the module docstring for each aggregation)."""

    name: str
    agg: Aggregation
    keys: tuple[str, ...]
    window: str = LIFETIME
    field: str | None = None
    where: dict[str, Any] = {}
    numerator: str | None = None
    denominator: str | None = None
    source: Source = "events"
    label_area: str | None = None
    description: str = ""

    @property
    def value_type(self) -> ValueType:
        """The type rules see: ``int``, ``float``, ``bool``, ``str`` (never ``list[str]``)."""
        if self.agg in ("count", "distinct_count"):
            return "int"
        if self.agg in _FLOAT_AGGS:
            return "float"
        if self.field is None or self.field in ENTITY_KINDS:
            return "str"
        return EVENT_FIELDS[self.field]

    @property
    def window_seconds(self) -> int | None:
        """The window in seconds; None for a lifetime feature."""
        return parse_window(self.window)

    @property
    def qualified_name(self) -> str:
        """The name rules use: ``features.<name>``."""
        return f"features.{self.name}"


class SpecError(msgspec.Struct, frozen=True, kw_only=True):
    """One problem in a pack's feature list, located by file, feature and key."""

    source: str
    feature: str | None
    key: str | None
    reason: str

    def __str__(self) -> str:
        parts = [self.source]
        if self.feature is not None:
            parts.append(f"feature `{self.feature}`")
        if self.key is not None:
            parts.append(f"`{self.key}`")
        parts.append(self.reason)
        return ": ".join(parts)


_SPEC_KEYS: Final[tuple[str, ...]] = tuple(FeatureSpec.__struct_fields__)


def suggest(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""`` when none is close.

    A bare last segment (``amount``) also finds the one path that ends with it.

    >>> suggest("event.props.amout", EVENT_FIELDS)
    "; did you mean 'event.props.amount'?"
    >>> suggest("instrument_id", EVENT_FIELDS)
    "; did you mean 'event.props.payment.instrument_id'?"
    """
    pool = list(candidates)
    tail_matches = [c for c in pool if c.rsplit(".", 1)[-1] == word]
    close = tail_matches[:1] or difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def parse_feature_specs(
    raw: list[dict[str, Any]], source: str
) -> tuple[list[FeatureSpec], list[SpecError]]:
    """Validate every raw feature mapping; return the valid specs and every problem found.

    Never raises on bad input: a feature with any problem is left out of the specs and each of
    its problems is reported (a ratio over a bad feature is reported too).
    """
    errors: list[SpecError] = []
    if not isinstance(raw, list):  # YAML may hold anything
        reason = _not_a_list(raw)  # type: ignore[unreachable]
        return [], [SpecError(source=source, feature=None, key=None, reason=reason)]
    checked: list[FeatureSpec] = []
    seen: set[str] = set()
    declared = {item.get("name") for item in raw if isinstance(item, dict)}
    for position, item in enumerate(raw, start=1):
        checker = _Checker(source, position, item, declared)
        spec = checker.check()
        errors.extend(checker.errors)
        if spec is None:
            continue
        if spec.name in seen:
            errors.append(checker.error("name", f"{spec.name!r} is declared twice"))
            continue
        seen.add(spec.name)
        checked.append(spec)
    specs, ratio_errors = _check_ratios(checked, source)
    return specs, errors + ratio_errors


def feature_catalogue(specs: Iterable[FeatureSpec]) -> dict[str, ValueType]:
    """The names and types rules may read: ``{"features.<name>": type}``."""
    return {spec.qualified_name: spec.value_type for spec in specs}


def _not_a_list(raw: object) -> str:
    return f"the feature list must be a list of mappings, not {type(raw).__name__}"


class _Checker:
    """Checks one raw feature mapping, collecting every problem."""

    def __init__(self, source: str, position: int, item: Any, declared: set[Any]) -> None:
        self.source = source
        self.item = item
        self.declared = declared
        name = item.get("name") if isinstance(item, dict) else None
        self.label = name if isinstance(name, str) else f"#{position}"
        self.errors: list[SpecError] = []

    def error(self, key: str | None, reason: str) -> SpecError:
        return SpecError(source=self.source, feature=self.label, key=key, reason=reason)

    def fail(self, key: str | None, reason: str) -> None:
        self.errors.append(self.error(key, reason))

    def check(self) -> FeatureSpec | None:
        item = self.item
        if not isinstance(item, dict):
            self.fail(None, f"a feature must be a mapping, not {type(item).__name__}")
            return None
        for key in item:
            if key not in _SPEC_KEYS:
                self.fail(str(key), f"unknown key{suggest(str(key), _SPEC_KEYS)}")
        name = self._name(item.get("name"))
        agg = self._choice("agg", item.get("agg"), AGGREGATIONS, required=True)
        source = self._choice("source", item.get("source", "events"), SOURCES, required=True)
        keys = self._keys(item, agg)
        window = self._window(item.get("window", LIFETIME))
        field = self._field(agg, item.get("field"))
        where = self._where(item.get("where", {}))
        self._ratio_parts(agg, item)
        label_area = self._label_area(source, agg, item.get("label_area"))
        description = item.get("description", "")
        if not isinstance(description, str):
            self.fail("description", "must be a string")
        if self.errors:
            return None
        if name is None or agg is None or keys is None or window is None or source is None:
            return None  # unreachable: each of these reported an error
        return FeatureSpec(
            name=name,
            agg=agg,  # type: ignore[arg-type]
            keys=keys,
            window=window,
            field=field,
            where=where,
            numerator=item.get("numerator"),
            denominator=item.get("denominator"),
            source=source,  # type: ignore[arg-type]
            label_area=label_area,
            description=description,
        )

    def _name(self, value: Any) -> str | None:
        if value is None:
            self.fail("name", "required")
        elif not isinstance(value, str) or not _NAME_RE.match(value):
            self.fail("name", f"{value!r} must match [a-z][a-z0-9_]*")
        else:
            return value
        return None

    def _choice(
        self, key: str, value: Any, choices: Sequence[str], *, required: bool
    ) -> str | None:
        if value is None:
            if required:
                self.fail(key, f"required, one of {', '.join(choices)}")
            return None
        if value not in choices:
            hint = suggest(str(value), choices) or f"; one of {', '.join(choices)}"
            self.fail(key, f"unknown {key} {value!r}{hint}")
            return None
        return str(value)

    def _keys(self, item: dict[str, Any], agg: str | None) -> tuple[str, ...] | None:
        if "keys" not in item:
            if agg == "ratio":
                return ()
            self.fail("keys", "required: entity kinds such as [user], or [] for a global feature")
            return None
        value = item["keys"]
        kinds = [value] if isinstance(value, str) else value
        if not isinstance(kinds, list | tuple) or not all(isinstance(k, str) for k in kinds):
            self.fail("keys", f"must be a list of entity kinds, not {value!r}")
            return None
        ok = True
        for kind in kinds:
            if kind not in ENTITY_KINDS:
                ok = False
                self.fail("keys", f"unknown entity kind {kind!r}{suggest(kind, ENTITY_KINDS)}")
        if len(set(kinds)) != len(kinds):
            ok = False
            self.fail("keys", f"an entity kind is repeated in {list(kinds)}")
        return tuple(kinds) if ok else None

    def _window(self, value: Any) -> str | None:
        if not isinstance(value, str):
            self.fail("window", f"{value!r} is not a duration like 30s, 10m, 1h, 7d")
            return None
        try:
            parse_window(value)
        except ValueError as problem:
            self.fail("window", str(problem))
            return None
        return value

    def _field(self, agg: str | None, value: Any) -> str | None:
        accepted = _FIELD_TYPES.get(agg or "")
        if accepted is None:
            if value is not None and agg is not None:
                self.fail("field", f"`{agg}` takes no field (filter events with `where`)")
            return None
        if value is None:
            self.fail("field", f"required for `{agg}`")
            return None
        if not isinstance(value, str):
            self.fail("field", f"must be an event field path, not {value!r}")
            return None
        if agg in _ENTITY_FIELD_AGGS and value in ENTITY_KINDS:
            return value
        if value not in EVENT_FIELDS:
            pool = [*EVENT_FIELDS, *(ENTITY_KINDS if agg in _ENTITY_FIELD_AGGS else ())]
            self.fail("field", f"unknown event field {value!r}{suggest(value, pool)}")
            return None
        kind = EVENT_FIELDS[value]
        if kind not in accepted:
            wanted = " or ".join(sorted(accepted))
            self.fail("field", f"`{agg}` needs a {wanted} field; {value!r} is {kind}")
            return None
        return value

    def _where(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail("where", f"must be a mapping of event field to value(s), not {value!r}")
            return {}
        for path, allowed in value.items():
            key = f"where.{path}"
            if path not in EVENT_FIELDS:
                self.fail(key, f"unknown event field {path!r}{suggest(str(path), EVENT_FIELDS)}")
                continue
            kind = EVENT_FIELDS[path]
            if kind == "list[str]":
                self.fail(key, f"{path!r} is a list; filters compare single values")
                continue
            options = allowed if isinstance(allowed, list) else [allowed]
            if not options:
                self.fail(key, "an empty list of values matches no event")
            for option in options:
                problem = _value_problem(path, kind, option)
                if problem:
                    self.fail(key, problem)
        return value

    def _ratio_parts(self, agg: str | None, item: dict[str, Any]) -> None:
        for part in ("numerator", "denominator"):
            value = item.get(part)
            if agg == "ratio":
                if not isinstance(value, str):
                    self.fail(part, "required for `ratio`: the name of another feature")
                elif value not in self.declared:
                    names = [n for n in self.declared if isinstance(n, str)]
                    self.fail(part, f"no feature named {value!r}{suggest(value, names)}")
            elif value is not None:
                self.fail(part, "only a `ratio` takes a numerator and a denominator")
        if agg == "ratio":
            for key in ("field", "where"):
                if item.get(key):
                    self.fail(key, "a `ratio` reads its two features; it takes no " + key)
            if item.get("window", LIFETIME) != LIFETIME:
                self.fail("window", "a `ratio` takes the windows of its two features")

    def _label_area(self, source: str | None, agg: str | None, value: Any) -> str | None:
        if source == "labels" and agg not in (None, "count"):
            self.fail("agg", f"label-fed features count labels; `{agg}` is not supported")
        if value is None:
            return None
        if source != "labels":
            self.fail("label_area", "only features with `source: labels` take a label_area")
            return None
        if value not in AREAS:
            self.fail("label_area", f"unknown risk area {value!r}{suggest(str(value), AREAS)}")
            return None
        return str(value)


def _value_problem(path: str, kind: str, value: Any) -> str | None:
    """Why ``value`` can never equal the field at ``path`` (None when it can)."""
    if value is None:
        return None  # matches events that do not carry the field
    if path == "event.type":
        if value not in EVENT_TYPES:
            return f"unknown event type {value!r}{suggest(str(value), EVENT_TYPES)}"
        return None
    fits = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "str": isinstance(value, str),
    }[kind]
    return None if fits else f"{value!r} is not a {kind}, the type of {path!r}"


def _check_ratios(
    specs: list[FeatureSpec], source: str
) -> tuple[list[FeatureSpec], list[SpecError]]:
    """Drop ratios whose parts are missing (invalid), ratios themselves, or the ratio itself."""
    by_name = {spec.name: spec for spec in specs}
    kept: list[FeatureSpec] = []
    errors: list[SpecError] = []
    for spec in specs:
        if spec.agg != "ratio":
            kept.append(spec)
            continue
        problems = []
        for part, name in (("numerator", spec.numerator), ("denominator", spec.denominator)):
            target = by_name.get(name or "")
            if target is None:
                problems.append((part, f"feature {name!r} is invalid (see its errors)"))
            elif target.agg == "ratio":
                problems.append((part, f"{name!r} is itself a ratio; use its two features"))
            elif target.value_type not in _NUMERIC:
                problems.append((part, f"{name!r} is {target.value_type}, not a number"))
        for part, reason in problems:
            errors.append(SpecError(source=source, feature=spec.name, key=part, reason=reason))
        if not problems:
            kept.append(spec)
    return kept, errors
