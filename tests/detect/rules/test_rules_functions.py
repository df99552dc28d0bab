"""The registered functions: what each computes, with nulls, in both compiled forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from rampart.detect.rules import (
    FUNCTIONS,
    DuplicateFunctionError,
    FunctionRegistry,
    ListStore,
    compile_expression,
)
from rampart.detect.rules.functions import floor_to_int
from rampart.detect.rules.valuetypes import POLARS_DTYPES

CATALOGUE = {
    "event.s": "str",
    "event.t": "str",
    "event.n": "int",
    "event.m": "int",
    "event.x": "float",
    "event.ts": "float",
    "event.l": "list[str]",
    "event.b": "bool",
}


def both(source: str, rows: list[dict[str, Any]], lists: ListStore | None = None) -> list[Any]:
    """The value on each row, after checking that both compiled forms agree on it."""
    compiled = compile_expression(source, CATALOGUE, lists=lists, expect=None)
    per_event = [compiled(row) for row in rows]
    schema = {path: POLARS_DTYPES[kind] for path, kind in CATALOGUE.items()}
    frame = pl.DataFrame([{p: row.get(p) for p in CATALOGUE} for row in rows], schema=schema)
    vectorised = frame.select(compiled.polars().alias("v"))["v"].to_list()
    assert per_event == vectorised, source
    return per_event


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_every_function_is_registered_once_with_a_doc() -> None:
    names = FUNCTIONS.names()
    assert names == sorted(
        ["in_list", "lower", "upper", "length", "startswith", "endswith", "contains",
         "hour_of_day", "day_of_week", "abs", "min", "max", "ratio", "coalesce", "is_null",
         "present"]
    )  # fmt: skip
    assert all(function.doc for function in FUNCTIONS)


def test_duplicate_registration_fails_loudly() -> None:
    registry = FUNCTIONS.copy()
    lower = FUNCTIONS.get("lower")
    assert lower is not None
    with pytest.raises(DuplicateFunctionError, match="'lower' is already registered"):
        registry.register(lower)
    fresh = FunctionRegistry()
    fresh.register(lower)
    assert "lower" in fresh
    assert "upper" not in fresh


def test_a_registry_can_be_extended_without_touching_the_default() -> None:
    registry = FUNCTIONS.copy()
    abs_function = FUNCTIONS.get("abs")
    assert abs_function is not None
    from dataclasses import replace

    registry.register(replace(abs_function, name="magnitude"))
    compiled = compile_expression("magnitude(event.n) > 2", CATALOGUE, functions=registry)
    assert compiled({"event.n": -3}) is True
    assert "magnitude" not in FUNCTIONS


def test_string_functions() -> None:
    rows: list[dict[str, Any]] = [
        {"event.s": "Héllo", "event.t": "Hé"},
        {"event.s": "abc", "event.t": ""},
        {"event.s": None, "event.t": "a"},
        {"event.s": "abc", "event.t": None},
    ]
    assert both("lower(event.s)", rows) == ["héllo", "abc", None, "abc"]
    assert both("upper(event.s)", rows) == ["HÉLLO", "ABC", None, "ABC"]
    assert both("length(event.s)", rows) == [5, 3, None, 3]
    assert both("startswith(event.s, event.t)", rows) == [True, True, None, None]
    assert both("endswith(event.s, 'lo')", rows) == [True, False, None, False]
    assert both("contains(event.s, 'll')", rows) == [True, False, None, False]
    assert both("contains(event.s, '.')", rows) == [False, False, None, False]  # not a pattern


def test_length_of_a_list() -> None:
    rows: list[dict[str, Any]] = [{"event.l": ["a", "b"]}, {"event.l": []}, {"event.l": None}]
    assert both("length(event.l)", rows) == [2, 0, None]


def test_time_functions_on_known_dates() -> None:
    rows: list[dict[str, Any]] = [
        {"event.ts": ts("2026-03-02T23:30:00"), "event.n": 0},  # a Monday
        {"event.ts": ts("2026-03-02T23:30:00"), "event.n": 1},  # Tuesday 00:30 at UTC+1
        {"event.ts": ts("2026-03-01T02:00:00"), "event.n": -3},  # Saturday 23:00 at UTC-3
        {"event.ts": ts("1969-12-31T23:00:00"), "event.n": 0},  # before the epoch: Wednesday
        {"event.ts": 7200.0, "event.n": 0},  # exactly on the hour
        {"event.ts": None, "event.n": 0},
    ]
    assert both("hour_of_day(event.ts, event.n)", rows) == [23, 0, 23, 23, 2, None]
    assert both("day_of_week(event.ts, event.n)", rows) == [0, 1, 5, 2, 3, None]
    assert both("hour_of_day(event.ts, 5.5)", rows[:1]) == [5]


def test_time_functions_of_values_out_of_range_are_null() -> None:
    assert both("hour_of_day(event.x * 1e300, 0)", [{"event.x": 1e300}]) == [None]
    assert floor_to_int(float("inf")) is None
    assert floor_to_int(-0.5) == -1


def test_numeric_functions() -> None:
    rows: list[dict[str, Any]] = [
        {"event.n": -3, "event.m": 2, "event.x": 2.5},
        {"event.n": 4, "event.m": 0, "event.x": -1.0},
        {"event.n": None, "event.m": 1, "event.x": None},
    ]
    assert both("abs(event.n)", rows) == [3, 4, None]
    assert both("min(event.n, event.m)", rows) == [-3, 0, None]
    assert both("max(event.n, event.x)", rows) == [2.5, 4.0, None]
    assert both("ratio(event.n, event.m)", rows) == [-1.5, None, None]
    assert both("ratio(event.x, 4)", rows) == [0.625, -0.25, None]
    assert both("coalesce(event.n, 0)", rows) == [-3, 4, 0]
    assert both("coalesce(event.x, event.m)", rows) == [2.5, -1.0, 1.0]


def test_null_tests_are_never_null() -> None:
    rows: list[dict[str, Any]] = [{"event.s": "a"}, {"event.s": None}, {}]
    assert both("is_null(event.s)", rows) == [False, True, True]
    assert both("present(event.s)", rows) == [True, False, False]


def test_in_list_judges_expiry_at_the_event_time() -> None:
    lists = ListStore({"blocked": {"u1": None, "u2": 1_000.0}, "empty": {}})
    rows: list[dict[str, Any]] = [
        {"event.s": "u1", "event.ts": 5_000.0},  # never expires
        {"event.s": "u2", "event.ts": 999.0},  # still on the list
        {"event.s": "u2", "event.ts": 1_000.0},  # expired at that instant
        {"event.s": "u3", "event.ts": 0.0},  # never listed
        {"event.s": None, "event.ts": 0.0},  # null value: unknown
        {"event.s": "u2", "event.ts": None},  # expiry cannot be judged
        {"event.s": "u1", "event.ts": None},  # a permanent entry needs no time
    ]
    assert both('in_list(event.s, "blocked")', rows, lists) == [
        True, True, False, False, None, None, True,
    ]  # fmt: skip
    assert both('in_list(event.s, "empty")', rows[:1], lists) == [False]


def test_in_list_reads_the_live_store_per_event_and_a_snapshot_when_vectorised() -> None:
    lists = ListStore({"blocked": {}})
    compiled = compile_expression('in_list(event.s, "blocked")', CATALOGUE, lists=lists)
    row = {"event.s": "u9", "event.ts": 10.0}
    frame = pl.DataFrame({"event.s": ["u9"], "event.ts": [10.0]})
    before = compiled.polars()
    assert compiled(row) is False
    lists.add("blocked", "u9", expires_at=20.0)
    assert compiled(row) is True  # no recompiling
    assert frame.select(before.alias("v"))["v"].to_list() == [False]  # its snapshot
    assert frame.select(compiled.polars().alias("v"))["v"].to_list() == [True]
    lists.replace("blocked", {})
    assert compiled(row) is False
    # A backtest may pass the lists as they were then, even empty ones.
    then = ListStore({"blocked": {"u9": None}})
    assert frame.select(compiled.polars(then).alias("v"))["v"].to_list() == [True]
    lists.add("blocked", "u9")
    assert frame.select(compiled.polars(ListStore()).alias("v"))["v"].to_list() == [False]


def test_list_store() -> None:
    lists = ListStore()
    lists.declare("a")
    lists.add("b", "x", 5.0)
    lists.add("b", "y")
    assert lists.names() == {"a", "b"}
    assert len(lists) == 2
    assert lists.remove("b", "x")
    assert not lists.remove("b", "x")
    assert not lists.remove("zz", "x")
    lists.add("b", "old", 1.0)
    assert lists.prune(ts=1.0) == 1
    assert lists.contains("b", "old", 0.0) is False
    snapshot = lists.snapshot()
    lists.add("b", "z")
    assert lists.contains("b", "z", 0.0)
    assert not snapshot.contains("b", "z", 0.0)
    assert repr(lists) == "ListStore({a: 0, b: 2})"


def test_signatures_are_readable() -> None:
    signatures = {f.name: f.signature for f in FUNCTIONS}
    assert signatures["in_list"] == "in_list(str, str) -> bool"
    assert signatures["length"] == "length(str|list[str]) -> int"
    assert (
        signatures["coalesce"]
        == "coalesce(bool|int|float|str|list[str], bool|int|float|str|list[str]) -> bool"
    )
