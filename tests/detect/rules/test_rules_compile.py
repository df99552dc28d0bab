"""The per-event form: three-valued logic, nulls, arithmetic corner cases, what it reads."""

from __future__ import annotations

import itertools
import math
from typing import Any

import polars as pl
import pytest

from rampart.detect.rules import compile_expression
from rampart.detect.rules.valuetypes import POLARS_DTYPES

CATALOGUE = {
    "event.a": "bool",
    "event.b": "bool",
    "event.c": "bool",
    "event.n": "int",
    "event.m": "int",
    "event.x": "float",
    "event.y": "float",
    "event.s": "str",
    "event.l": "list[str]",
    "event.ts": "float",
}
TRUTH = (True, False, None)


def value(source: str, row: dict[str, Any]) -> Any:
    return compile_expression(source, CATALOGUE, expect=None)(row)


def kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


@pytest.mark.parametrize(("a", "b"), list(itertools.product(TRUTH, TRUTH)))
def test_and_or_are_kleene(a: bool | None, b: bool | None) -> None:
    row = {"event.a": a, "event.b": b}
    assert value("event.a and event.b", row) is kleene_and(a, b)
    assert value("event.a or event.b", row) is kleene_or(a, b)


@pytest.mark.parametrize(("a", "b", "c"), list(itertools.product(TRUTH, TRUTH, TRUTH)))
def test_three_operand_and_or(a: bool | None, b: bool | None, c: bool | None) -> None:
    row = {"event.a": a, "event.b": b, "event.c": c}
    assert value("event.a and event.b and event.c", row) is kleene_and(kleene_and(a, b), c)
    assert value("event.a or event.b or event.c", row) is kleene_or(kleene_or(a, b), c)


def test_not_of_null_is_null() -> None:
    assert [value("not event.a", {"event.a": v}) for v in TRUTH] == [False, True, None]


def test_missing_keys_read_as_null() -> None:
    assert value("event.n > 1", {}) is None
    assert value("event.n > 1 or event.a", {"event.a": True}) is True


@pytest.mark.parametrize(
    ("source", "row", "expected"),
    [
        ("event.n + 1", {"event.n": None}, None),
        ("event.n / event.m", {"event.n": 1, "event.m": 0}, None),
        ("event.n % event.m", {"event.n": 1, "event.m": 0}, None),
        ("event.x % 0", {"event.x": 1.5}, None),
        ("event.n / event.m", {"event.n": 7, "event.m": 2}, 3.5),
        ("event.n % event.m", {"event.n": -7, "event.m": 2}, 1),  # floored, as in Python
        ("event.n % event.m", {"event.n": 7, "event.m": -2}, -1),
        ("event.x % 2", {"event.x": -7.5}, 0.5),
        ("-event.n", {"event.n": 3}, -3),
        ("event.x * event.y", {"event.x": 1e308, "event.y": 10.0}, math.inf),
        ("event.x - event.y", {"event.x": math.inf, "event.y": math.inf}, None),  # NaN is null
        ("event.x", {"event.x": math.nan}, None),
        ("event.n * 1.5", {"event.n": 10**400}, None),  # too large for a float: no crash
    ],
)
def test_arithmetic(source: str, row: dict[str, Any], expected: Any) -> None:
    assert value(source, row) == expected


@pytest.mark.parametrize(
    ("source", "row", "expected"),
    [
        ("event.s < 'b'", {"event.s": "a"}, True),
        ("event.s < 'b'", {"event.s": None}, None),
        ("event.s > 'Z'", {"event.s": "a"}, True),  # code point order
        ("event.x == event.n", {"event.x": 2.0, "event.n": 2}, True),
        ("event.x > event.n", {"event.x": None, "event.n": 2}, None),
        ("event.x > 1", {"event.x": math.nan}, None),
        ("1 < event.n < 5", {"event.n": 3}, True),
        ("1 < event.n < 5", {"event.n": 7}, False),
        ("1 < event.n < event.m", {"event.n": 0, "event.m": None}, False),  # False and null
        ("1 < event.n < event.m", {"event.n": 3, "event.m": None}, None),
        ("event.a == False", {"event.a": False}, True),
        ("event.s in ['a', 'b']", {"event.s": "b"}, True),
        ("event.s in ['a', 'b']", {"event.s": None}, None),
        ("event.s not in ['a', 'b']", {"event.s": None}, None),
        ("event.s not in ['a', 'b']", {"event.s": "c"}, True),
        ("event.n in [1, 2.5]", {"event.n": 1}, True),
        ("event.x in [1, 2]", {"event.x": 2.0}, True),
        ("event.s in event.l", {"event.s": "a", "event.l": ["a"]}, True),
        ("event.s in event.l", {"event.s": "a", "event.l": None}, None),
        ("event.s in event.l", {"event.s": None, "event.l": [None]}, None),
        ("event.s not in event.l", {"event.s": "b", "event.l": ["a", None]}, True),
        ("3 in [1, 2, 3]", {}, True),
    ],
)
def test_comparisons(source: str, row: dict[str, Any], expected: Any) -> None:
    assert value(source, row) is expected


def test_paths_are_what_the_rule_reads() -> None:
    compiled = compile_expression(
        'event.n > 1 and in_list(event.s, "x") or is_null(event.y) or 1 < 2', CATALOGUE
    )
    assert compiled.paths == {"event.n", "event.s", "event.ts", "event.y"}


def test_hits_only_on_true() -> None:
    compiled = compile_expression("event.n > 1", CATALOGUE)
    assert [compiled.hits({"event.n": n}) for n in (2, 1, None)] == [True, False, False]
    assert repr(compiled) == "Expression('event.n > 1')"


def test_results_are_python_bools() -> None:
    compiled = compile_expression("event.s in ['a'] and not event.a", CATALOGUE)
    result = compiled({"event.s": "a", "event.a": False})
    assert result is True


def test_vectorised_form_reads_columns_by_full_name() -> None:
    compiled = compile_expression("event.n > 1 and event.s == 'a'", CATALOGUE)
    schema = {name: POLARS_DTYPES[CATALOGUE[name]] for name in ("event.n", "event.s")}
    frame = pl.DataFrame({"event.n": [2, 2, None], "event.s": ["a", "b", "a"]}, schema=schema)
    assert frame.select(compiled.polars().alias("hit"))["hit"].to_list() == [True, False, None]


def test_vectorised_form_copes_with_narrow_integer_and_integer_float_columns() -> None:
    compiled = compile_expression("event.n * 1000000 > 0 and event.x / 2 > 0", CATALOGUE)
    frame = pl.DataFrame(
        {"event.n": pl.Series([100_000], dtype=pl.Int32), "event.x": pl.Series([3], dtype=pl.Int64)}
    )
    assert frame.select(compiled.polars().alias("hit"))["hit"].to_list() == [True]


def test_vectorised_constant_subexpressions_broadcast() -> None:
    compiled = compile_expression("(2 in [1, 2]) and event.n > 0", CATALOGUE)
    frame = pl.DataFrame({"event.n": [1, -1, None]})
    assert frame.select(compiled.polars().alias("hit"))["hit"].to_list() == [True, False, None]
