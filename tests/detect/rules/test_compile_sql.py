"""The SQL form (run on DuckDB) gives the per-event closure's and the Polars form's answer.

The generated rules and rows are the Polars parity test's (every operator, ``in`` against
literals and list values, every function, nulls, zeros, subnormal floats, non-ASCII strings);
each expression is compiled three ways and run row by row, over a Polars frame and in DuckDB
over the same frame, and the three answers must be identical, True, False and None alike.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.detect.rules.test_rules_parity import CATALOGUE, LISTS, _frame, _same, expression, rows

from rampart.detect.rules import FUNCTIONS, ListStore, compile_expression
from rampart.detect.rules.compile_sql import DUCKDB, SPARK, SqlCompileError, compile_sql
from rampart.detect.rules.functions import Function

CORNER_TABLE: list[dict[str, Any]] = [
    {"event.i1": a, "event.i2": b, "event.f1": f, "event.s1": s, "event.s2": s2,
     "event.l1": lst, "event.b1": b1, "event.b2": b2, "event.ts": ts}
    for a, b, f, s, s2, lst, b1, b2, ts in [
        (-7, 2, -7.5, "a", "é", ["a", None], True, None, 50.0),
        (7, -2, 7.5, "é", "a", None, False, None, None),
        (1, 0, 0.0, None, "", [], None, True, 200.0),
        (None, 3, None, "b", "B", ["b"], None, None, 99.0),
        (2, 2, 2.0, "b", None, [None], True, False, None),
        (-9, -4, 5e-324, "it's", "a\\b", ["it's", "a\\b"], False, False, -1.0),
    ]
]  # fmt: skip

CORNER_CASES = [
    "event.i1 % event.i2 == 1",  # floored modulo on negatives
    "event.f1 % event.i2 > 0.0",
    "event.i1 / event.i2 > 1",  # division by zero is null
    "ratio(event.i1, event.i2) < 0",
    "event.s1 < event.s2",  # code point order, beyond ASCII
    "event.i1 in [1, 2.5] or event.s1 not in event.l1",
    "-3 < event.i1 < event.f1 <= 7",
    'in_list(event.s1, "L")',
    "not (event.b1 and event.b2) or event.b1",
    "event.s1 == \"it's\" or event.s2 == 'a\\\\b' or event.s1 in ('it\\'s', 'x')",
    "hour_of_day(event.ts, -5) == 19 or day_of_week(event.f1, 3) < 2",
    "min(event.i1, event.f1) < max(event.i2, 1)",
    "coalesce(event.s1, 'z') >= 'b' and length(event.l1) > 0",
    "startswith(event.s1, 'i') or endswith(coalesce(event.s2, ''), '\\\\b')",
    "1 / 0 > 1 or present(event.i1) and -(-event.i1) == event.i1",
]


def _duckdb(source: str, table: list[dict[str, Any]], expect: str | None) -> list[Any]:
    lists = ListStore(LISTS)
    compiled = compile_expression(source, CATALOGUE, lists=lists, expect=expect)
    sql = compile_sql(compiled.tree, lists=lists)
    frame = _frame(table).with_row_index("_i")
    connection = duckdb.connect()
    connection.register("t", frame.to_arrow())
    result = connection.sql(f"SELECT {sql} AS r FROM t ORDER BY _i").fetchall()
    return [value for (value,) in result]


def _check(source: str, table: list[dict[str, Any]], expect: str | None) -> None:
    lists = ListStore(LISTS)
    compiled = compile_expression(source, CATALOGUE, lists=lists, expect=expect)
    per_event = [compiled(row) for row in table]
    if compiled.type == "float":
        per_event = [None if v is None else float(v) for v in per_event]
    vectorised = _frame(table).with_columns(compiled.polars().alias("_r"))["_r"].to_list()
    in_sql = _duckdb(source, table, expect)
    assert all(_same(a, b) for a, b in zip(per_event, vectorised, strict=True))
    assert all(_same(a, b) for a, b in zip(per_event, in_sql, strict=True)), (
        f"{source}\n{compile_sql(compiled.tree, lists=lists)}\n"
        f"per event: {per_event}\nSQL:       {in_sql}\nrows: {table}"
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=expression("bool", 3), table=rows)
def test_sql_agrees_on_generated_rules(source: str, table: list[dict[str, Any]]) -> None:
    _check(source, table, "bool")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(["int", "float", "str"]).flatmap(lambda k: expression(k, 3)),
    table=rows,
)
def test_sql_values_agree_on_generated_expressions(
    source: str, table: list[dict[str, Any]]
) -> None:
    _check(source, table, None)


@pytest.mark.parametrize("source", CORNER_CASES)
def test_sql_agrees_on_corner_cases(source: str) -> None:
    _check(source, CORNER_TABLE, "bool")


def test_names_with_dots_and_quotes_are_quoted_for_each_dialect() -> None:
    lists = ListStore()
    compiled = compile_expression("event.x > 1", {"event.x": "int"})
    assert (
        compile_sql(compiled.tree, lists=lists) == '(CAST("event.x" AS BIGINT) > CAST(1 AS BIGINT))'
    )
    assert DUCKDB.identifier('a"b') == '"a""b"'
    assert SPARK.identifier("a`b") == "`a``b`"
    assert SPARK.string("it's \\") == "'it\\'s \\\\'"


def _registry_with_soundex() -> Any:
    registry = FUNCTIONS.copy()
    registry.register(
        Function(
            "soundex",
            (frozenset({"str"}),),
            lambda _args: "str",
            lambda _site: lambda value: value[:1],
            lambda _site, args: args[0].str.slice(0, 1),
            "a phonetic code",
        )
    )
    return registry


@pytest.mark.parametrize(
    "source", ["soundex(event.s1) == 'a'", "event.b1 or soundex('abc') == 'a'"]
)
def test_a_function_without_sql_form_is_a_precise_error(source: str) -> None:
    registry = _registry_with_soundex()
    compiled = compile_expression(source, CATALOGUE, functions=registry)
    with pytest.raises(SqlCompileError) as caught:
        compile_sql(compiled.tree, lists=ListStore(), functions=registry, rule="odd_names")
    message = str(caught.value)
    assert "rule 'odd_names'" in message
    assert "function 'soundex' has no SQL form" in message
    assert caught.value.function == "soundex"
