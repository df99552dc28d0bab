"""The functions a rule may call, registered in one place.

Each :class:`Function` declares the types it accepts, the type it returns, and two
implementations that must agree: one over Python values (the per-event form) and one over Polars
expressions (the vectorised form). Both implementations are *factories* called once per call
site at compile time with a :class:`CallSite` (argument types, literal arguments, the list
store), so run-time work is only the function itself.

Strict functions (the default) are null in, null out: when any argument is null the result is
null and the implementation is not called. ``is_null``, ``present``, ``coalesce`` and
``in_list`` (for its expiry) look at nulls themselves.

>>> FUNCTIONS.get("ratio").signature
'ratio(int|float, int|float) -> float'
>>> registry = FunctionRegistry()
>>> _ = registry.register(FUNCTIONS.get("lower"))
>>> try:
...     registry.register(FUNCTIONS.get("lower"))
... except DuplicateFunctionError as error:
...     print(error)
function 'lower' is already registered
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.lists import ListStore, active

PythonImpl = Callable[..., Any]
TypeRule = Callable[[tuple[str, ...]], str | None]


@dataclass(frozen=True, slots=True)
class CallSite:
    """What an implementation may know when it is compiled for one call in one rule.

    ``literals`` holds the value of each literal-only parameter (None for the others).
    """

    types: tuple[str, ...]
    literals: tuple[Any, ...]
    lists: ListStore
    result: str


@dataclass(frozen=True, slots=True)
class Function:
    """A function of the rule language.

    ``python(site)`` returns a function of the run-time argument values; ``polars(site, exprs)``
    returns the equivalent expression. Run-time arguments are the non-literal parameters in
    order, then the values of ``implicit`` paths (``in_list`` reads ``event.ts`` this way).
    """

    name: str
    params: tuple[frozenset[str], ...]
    returns: TypeRule
    python: Callable[[CallSite], PythonImpl]
    polars: Callable[[CallSite, Sequence[pl.Expr]], pl.Expr]
    doc: str
    strict: bool = True
    literal_params: frozenset[int] = field(default_factory=frozenset)
    implicit: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        params = ", ".join("|".join(sorted(p, key=_TYPE_ORDER.index)) for p in self.params)
        example = tuple(sorted(p, key=_TYPE_ORDER.index)[0] for p in self.params)
        return f"{self.name}({params}) -> {self.returns(example)}"


_TYPE_ORDER: Final = [t.BOOL, t.INT, t.FLOAT, t.STR, t.LIST_STR]


class DuplicateFunctionError(ValueError):
    """Two functions registered under one name: a mistake to catch at import, not at run time."""


class FunctionRegistry:
    """Functions by name; registering a name twice fails loudly."""

    def __init__(self) -> None:
        self._functions: dict[str, Function] = {}

    def register(self, function: Function) -> Function:
        if function.name in self._functions:
            raise DuplicateFunctionError(f"function {function.name!r} is already registered")
        self._functions[function.name] = function
        return function

    def get(self, name: str) -> Function | None:
        return self._functions.get(name)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    def __iter__(self) -> Iterator[Function]:
        return iter(self._functions.values())

    def copy(self) -> FunctionRegistry:
        """A registry with the same functions, to extend without touching this one."""
        other = FunctionRegistry()
        other._functions = dict(self._functions)
        return other


# --- helpers for declaring functions ---------------------------------------------------------


def _fixed(kind: str) -> TypeRule:
    return lambda _args: kind


def _same_as_first(args: tuple[str, ...]) -> str:
    return args[0]


def _numeric(args: tuple[str, ...]) -> str:
    return t.numeric_result(args[0], args[1])


def _plain(fn: PythonImpl) -> Callable[[CallSite], PythonImpl]:
    """A Python implementation that needs nothing from its call site."""
    return lambda _site: fn


NUM: Final = t.NUMERIC
STR: Final = frozenset({t.STR})


# --- implementations whose two forms need care to agree --------------------------------------


_INT64_RANGE: Final = (-(2**63), 2**63)


def floor_to_int(value: float) -> int | None:
    """``floor(value)`` as a 64-bit integer; None when it is not finite or out of range.

    Matches Polars' non-strict cast of a float to Int64 (out of range gives null).
    """
    if not math.isfinite(value):
        return None
    whole = math.floor(value)
    return whole if _INT64_RANGE[0] <= whole < _INT64_RANGE[1] else None


def full_column(value: pl.Expr | float) -> pl.Expr:
    """``value`` as a column as long as the frame, for a divisor.

    Polars divides by a scalar as a multiplication by its reciprocal, which can be one unit in
    the last place away from true division (``5 / 3``); column by column it divides exactly,
    as Python does. (``x * 0`` would give NaN for infinite x; the row index never is.)
    """
    return pl.int_range(pl.len(), dtype=pl.Int64).cast(pl.Float64) * 0.0 + value


def _time_unit(
    unit_seconds: float, shift: int, modulus: int
) -> tuple[PythonImpl, Callable[[CallSite, Sequence[pl.Expr]], pl.Expr]]:
    """``(floor((ts + offset h) / unit) + shift) mod modulus`` in both forms, exact integers."""

    def python(ts: float, offset_hours: float) -> int | None:
        units = floor_to_int((ts + offset_hours * 3600.0) / unit_seconds)
        return None if units is None else (units + shift) % modulus

    def polars(_site: CallSite, args: Sequence[pl.Expr]) -> pl.Expr:
        ts, offset = args
        units = ((ts + offset * 3600.0) / full_column(unit_seconds)).floor()
        # Integer % is exact and floored in Polars, like Python's on ints.
        return (units.cast(pl.Int64, strict=False) + shift) % modulus

    return python, polars


# Day 0 of the epoch (1970-01-01) was a Thursday: shift by 3 so that 0 = Monday, as in
# datetime.weekday().
_HOUR_OF_DAY: Final = _time_unit(3600.0, 0, 24)
_DAY_OF_WEEK: Final = _time_unit(86400.0, 3, 7)


def _min_max(pick_left_when: Callable[[Any, Any], bool]) -> Callable[[CallSite], PythonImpl]:
    def factory(site: CallSite) -> PythonImpl:
        if site.result == t.FLOAT:
            return lambda a, b: float(a if pick_left_when(a, b) else b)
        return lambda a, b: a if pick_left_when(a, b) else b

    return factory


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def _ratio_pl(_site: CallSite, args: Sequence[pl.Expr]) -> pl.Expr:
    a, b = args
    return pl.when(b == 0).then(None).otherwise(a.cast(pl.Float64) / full_column(b))


def _coalesce(site: CallSite) -> PythonImpl:
    if site.result == t.FLOAT:
        return lambda a, b: float(a) if a is not None else (None if b is None else float(b))
    return lambda a, b: a if a is not None else b


def _coalesce_pl(site: CallSite, args: Sequence[pl.Expr]) -> pl.Expr:
    dtype = t.POLARS_DTYPES.get(site.result)
    if dtype is None:  # coalesce(None, None)
        return pl.lit(None)
    return pl.coalesce(args[0].cast(dtype), args[1].cast(dtype))


def _length(site: CallSite) -> PythonImpl:
    return len


def _length_pl(site: CallSite, args: Sequence[pl.Expr]) -> pl.Expr:
    value = args[0]
    counted = value.list.len() if site.types[0] == t.LIST_STR else value.str.len_chars()
    return counted.cast(pl.Int64)


def _in_list(site: CallSite) -> PythonImpl:
    # The live entries of the named list: edits to the store show at the next event.
    entries = site.lists.entries(str(site.literals[1]))

    def member(value: str, ts: float | None) -> bool | None:
        if value not in entries:
            return False
        return active(entries[value], ts)

    return member


def _in_list_pl(site: CallSite, args: Sequence[pl.Expr]) -> pl.Expr:
    value, ts = args
    entries = site.lists.entries(str(site.literals[1]))
    if not entries:
        return pl.lit(False)
    # Expiry of the row's value (inf = never; null = not listed), read from a snapshot.
    expiry = value.replace_strict(
        list(entries),
        [math.inf if at is None else float(at) for at in entries.values()],
        default=None,
        return_dtype=pl.Float64,
    )
    return (
        pl.when(expiry.is_null())
        .then(False)
        .when(expiry == math.inf)
        .then(True)
        .otherwise(ts < expiry)
    )


def _builtin_functions() -> FunctionRegistry:
    """Every function of the language. Add new ones here, and only here."""
    r = FunctionRegistry()
    add = r.register
    # --- lists ---
    add(
        Function(
            "in_list",
            (STR, STR),
            _fixed(t.BOOL),
            _in_list,
            _in_list_pl,
            "whether the value is on the named list and its entry has not expired at event.ts; "
            'the list name must be a literal ("vip_users")',
            literal_params=frozenset({1}),
            implicit=("event.ts",),
        )
    )
    # --- strings ---
    add(
        Function(
            "lower",
            (STR,),
            _fixed(t.STR),
            _plain(str.lower),
            lambda _s, a: a[0].str.to_lowercase(),
            "lower case",
        )
    )
    add(
        Function(
            "upper",
            (STR,),
            _fixed(t.STR),
            _plain(str.upper),
            lambda _s, a: a[0].str.to_uppercase(),
            "upper case",
        )
    )
    add(
        Function(
            "length",
            (frozenset({t.STR, t.LIST_STR}),),
            _fixed(t.INT),
            _length,
            _length_pl,
            "characters in a string, or items in a list",
        )
    )
    add(
        Function(
            "startswith",
            (STR, STR),
            _fixed(t.BOOL),
            _plain(str.startswith),
            lambda _s, a: a[0].str.starts_with(a[1]),
            "whether a starts with b",
        )
    )
    add(
        Function(
            "endswith",
            (STR, STR),
            _fixed(t.BOOL),
            _plain(str.endswith),
            lambda _s, a: a[0].str.ends_with(a[1]),
            "whether a ends with b",
        )
    )
    add(
        Function(
            "contains",
            (STR, STR),
            _fixed(t.BOOL),
            _plain(lambda a, b: b in a),
            lambda _s, a: a[0].str.contains(a[1], literal=True),
            "whether b occurs in a (plain text, not a pattern)",
        )
    )
    # --- time ---
    add(
        Function(
            "hour_of_day",
            (NUM, NUM),
            _fixed(t.INT),
            _plain(_HOUR_OF_DAY[0]),
            _HOUR_OF_DAY[1],
            "hour 0-23 of epoch seconds ts at a UTC offset in hours",
        )
    )
    add(
        Function(
            "day_of_week",
            (NUM, NUM),
            _fixed(t.INT),
            _plain(_DAY_OF_WEEK[0]),
            _DAY_OF_WEEK[1],
            "day 0 (Monday) - 6 (Sunday) of epoch seconds ts at a UTC offset",
        )
    )
    # --- numbers ---
    add(
        Function(
            "abs", (NUM,), _same_as_first, _plain(abs), lambda _s, a: a[0].abs(), "absolute value"
        )
    )
    add(
        Function(
            "min",
            (NUM, NUM),
            _numeric,
            _min_max(lambda a, b: a <= b),
            lambda _s, a: pl.when(a[0] <= a[1]).then(a[0]).otherwise(a[1]),
            "the smaller of two numbers",
        )
    )
    add(
        Function(
            "max",
            (NUM, NUM),
            _numeric,
            _min_max(lambda a, b: a >= b),
            lambda _s, a: pl.when(a[0] >= a[1]).then(a[0]).otherwise(a[1]),
            "the larger of two numbers",
        )
    )
    add(
        Function(
            "ratio",
            (NUM, NUM),
            _fixed(t.FLOAT),
            _plain(_ratio),
            _ratio_pl,
            "a / b, null when b is 0 or null",
        )
    )
    # --- nulls ---
    add(
        Function(
            "coalesce",
            (t.ANY, t.ANY),
            lambda a: t.unify(a[0], a[1]),
            _coalesce,
            _coalesce_pl,
            "x unless it is null, else default (same types)",
            strict=False,
        )
    )
    add(
        Function(
            "is_null",
            (t.ANY,),
            _fixed(t.BOOL),
            _plain(lambda a: a is None),
            lambda _s, a: a[0].is_null(),
            "whether x is null (never null)",
            strict=False,
        )
    )
    add(
        Function(
            "present",
            (t.ANY,),
            _fixed(t.BOOL),
            _plain(lambda a: a is not None),
            lambda _s, a: a[0].is_not_null(),
            "whether x is not null (never null)",
            strict=False,
        )
    )
    return r


FUNCTIONS: Final[FunctionRegistry] = _builtin_functions()
"""The registry rules compile against unless given another."""
