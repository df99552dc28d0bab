"""The per-event closure and the Polars expression give the same answer on every row.

Expressions are generated from a typed grammar over a small catalogue (every operator, chained
comparisons, ``in`` against literals and list values, every function), rows with nulls, zeros,
negative numbers, subnormal floats and non-ASCII strings; the closure runs row by row, the
Polars form over a DataFrame of the rows, and the results must be identical, True, False and
None alike.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rampart.detect.rules import ListStore, compile_expression
from rampart.detect.rules.valuetypes import POLARS_DTYPES

CATALOGUE: dict[str, str] = {
    "event.b1": "bool",
    "event.b2": "bool",
    "event.i1": "int",
    "event.i2": "int",
    "event.f1": "float",
    "event.f2": "float",
    "event.s1": "str",
    "event.s2": "str",
    "event.l1": "list[str]",
    "event.ts": "float",
}
LISTS = {"L": {"a": None, "b": 100.0, "é": -5.0}}
ALPHABET = "aAbB é"  # no characters whose case mapping differs between Python and Rust

small_int = st.integers(-50, 50)
small_float = st.one_of(
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 0.5, -2.5, 3.0, 5e-324]),
)
short_str = st.text(ALPHABET, max_size=3)


def _lit_str(value: str) -> str:
    return repr(value)


LEAVES: dict[str, st.SearchStrategy[str]] = {
    "bool": st.sampled_from(["event.b1", "event.b2", "True", "False"]),
    "int": st.one_of(st.sampled_from(["event.i1", "event.i2"]), small_int.map(str)),
    "float": st.one_of(
        st.sampled_from(["event.f1", "event.f2", "event.ts"]), small_float.map(repr)
    ),
    "str": st.one_of(st.sampled_from(["event.s1", "event.s2"]), short_str.map(_lit_str)),
}


def _p(text: str) -> str:
    return f"({text})"


def _call(name: str, *kinds: str, depth: int) -> st.SearchStrategy[str]:
    args = [expression(kind, depth) for kind in kinds]
    return st.tuples(*args).map(lambda values: f"{name}({', '.join(values)})")


def _binary(template: str, left: str, right: str, depth: int) -> st.SearchStrategy[str]:
    return st.tuples(expression(left, depth), expression(right, depth)).map(
        lambda pair: template.format(_p(pair[0]), _p(pair[1]))
    )


@cache
def expression(kind: str, depth: int) -> st.SearchStrategy[str]:
    """Source text of an expression of type ``kind``, at most ``depth`` levels deep."""
    leaves = LEAVES[kind]
    if depth == 0:
        return leaves
    d = depth - 1
    number = st.sampled_from(["int", "float"])
    options: list[st.SearchStrategy[str]] = [leaves]
    if kind == "bool":
        options += [
            expression("bool", d).map(lambda a: f"not {_p(a)}"),
            _binary("{} and {}", "bool", "bool", d),
            _binary("{} or {}", "bool", "bool", d),
            st.tuples(number, number, st.sampled_from(["<", "<=", ">", ">=", "==", "!="])).flatmap(
                lambda k: _binary(f"{{}} {k[2]} {{}}", k[0], k[1], d)
            ),
            st.sampled_from(["<", "<=", ">", ">=", "==", "!="]).flatmap(
                lambda op: _binary(f"{{}} {op} {{}}", "str", "str", d)
            ),
            _binary("{} == {}", "bool", "bool", d),
            _binary("{} != {}", "bool", "bool", d),
            st.tuples(expression("int", d), expression("float", d), expression("int", d)).map(
                lambda abc: f"{_p(abc[0])} < {_p(abc[1])} <= {_p(abc[2])}"
            ),
            st.tuples(
                expression("int", d),
                st.lists(st.one_of(small_int, small_float), min_size=1, max_size=3),
                st.sampled_from(["in", "not in"]),
            ).map(lambda x: f"{_p(x[0])} {x[2]} {x[1]!r}"),
            st.tuples(
                expression("str", d),
                st.lists(short_str, min_size=1, max_size=3),
                st.sampled_from(["in", "not in"]),
            ).map(lambda x: f"{_p(x[0])} {x[2]} {tuple(x[1])!r}"),
            st.tuples(expression("str", d), st.sampled_from(["in", "not in"])).map(
                lambda x: f"{_p(x[0])} {x[1]} event.l1"
            ),
            _call("startswith", "str", "str", depth=d),
            _call("endswith", "str", "str", depth=d),
            _call("contains", "str", "str", depth=d),
            expression("str", d).map(lambda s: f'in_list({s}, "L")'),
            st.sampled_from(["int", "float", "str", "bool"]).flatmap(
                lambda k: expression(k, d).map(lambda a: f"is_null({a})")
            ),
            st.sampled_from(["int", "str"]).flatmap(
                lambda k: expression(k, d).map(lambda a: f"present({a})")
            ),
            _call("coalesce", "bool", "bool", depth=d),
        ]
    elif kind in ("int", "float"):
        other = st.sampled_from(["int", "float"]) if kind == "float" else st.just("int")
        options += [
            expression(kind, d).map(lambda a: f"-{_p(a)}"),
            expression(kind, d).map(lambda a: f"abs({a})"),
            st.tuples(other, st.sampled_from(["+", "-", "*", "%"])).flatmap(
                lambda k: _binary(f"{{}} {k[1]} {{}}", kind, k[0], d)
            ),
            st.sampled_from(["min", "max", "coalesce"]).flatmap(
                lambda fn: _call(fn, kind, "int", depth=d)
            ),
        ]
        if kind == "float":
            options += [
                st.tuples(number, number).flatmap(lambda k: _binary("{} / {}", k[0], k[1], d)),
                st.tuples(number, number).flatmap(lambda k: _call("ratio", k[0], k[1], depth=d)),
            ]
        else:
            options += [
                _call("length", "str", depth=d),
                st.just("length(event.l1)"),
                st.sampled_from(["hour_of_day", "day_of_week"]).flatmap(
                    lambda fn: _call(fn, "float", "int", depth=d)
                ),
            ]
    else:  # str
        options += [
            _call("lower", "str", depth=d),
            _call("upper", "str", depth=d),
            _call("coalesce", "str", "str", depth=d),
        ]
    return st.one_of(*options)


def _value(kind: str) -> st.SearchStrategy[Any]:
    values: dict[str, st.SearchStrategy[Any]] = {
        "bool": st.booleans(),
        "int": small_int,
        "float": st.one_of(small_float, st.floats(-2e9, 2e9, allow_nan=False)),
        "str": short_str,
        "list[str]": st.lists(st.one_of(st.none(), short_str), max_size=3),
    }
    return st.one_of(st.none(), values[kind])


rows = st.lists(
    st.fixed_dictionaries({path: _value(kind) for path, kind in CATALOGUE.items()}),
    min_size=1,
    max_size=8,
)


def _frame(table: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {path: POLARS_DTYPES[kind] for path, kind in CATALOGUE.items()}
    return pl.DataFrame(table, schema=schema, orient="row")


def _same(left: Any, right: Any) -> bool:
    return (type(left) is type(right) and left == right) or (left is None and right is None)


def _check(source: str, table: list[dict[str, Any]], expect: str | None) -> None:
    lists = ListStore(LISTS)
    compiled = compile_expression(source, CATALOGUE, lists=lists, expect=expect)
    # Rows the engine builds leave out what an event does not carry: None and absent alike.
    per_event = [
        compiled({k: v for k, v in row.items() if v is not None or i % 2})
        for i, row in enumerate(table)
    ]
    vectorised = _frame(table).with_columns(compiled.polars().alias("_r"))["_r"].to_list()
    if compiled.type == "float":
        per_event = [None if v is None else float(v) for v in per_event]
    assert all(_same(a, b) for a, b in zip(per_event, vectorised, strict=True)), (
        f"{source}\nper event:  {per_event}\nvectorised: {vectorised}\nrows: {table}"
    )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=expression("bool", 3), table=rows)
def test_rules_agree_on_generated_rules(source: str, table: list[dict[str, Any]]) -> None:
    _check(source, table, "bool")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(["int", "float", "str"]).flatmap(lambda k: expression(k, 3)),
    table=rows,
)
def test_values_agree_on_generated_expressions(source: str, table: list[dict[str, Any]]) -> None:
    _check(source, table, None)


@pytest.mark.parametrize(
    "source",
    [
        "event.i1 % event.i2 == 1",  # floored modulo on negatives
        "event.f1 % event.i2 > 0.0",
        "event.i1 / event.i2 > 1",  # division by zero is null
        "ratio(event.i1, event.i2) < 0",
        "event.s1 < event.s2",  # code point order, beyond ASCII
        "event.i1 in [1, 2.5] or event.s1 not in event.l1",
        "-3 < event.i1 < event.f1 <= 7",
        'in_list(event.s1, "L")',
        "not (event.b1 and event.b2) or event.b1",
    ],
)
def test_rules_agree_on_corner_cases(source: str) -> None:
    table = [
        {"event.i1": a, "event.i2": b, "event.f1": f, "event.s1": s, "event.s2": s2,
         "event.l1": lst, "event.b1": b1, "event.b2": b2, "event.ts": ts}
        for a, b, f, s, s2, lst, b1, b2, ts in [
            (-7, 2, -7.5, "a", "é", ["a", None], True, None, 50.0),
            (7, -2, 7.5, "é", "a", None, False, None, None),
            (1, 0, 0.0, None, "", [], None, True, 200.0),
            (None, 3, None, "b", "B", ["b"], None, None, 99.0),
            (2, 2, 2.0, "b", None, [None], True, False, None),
        ]
    ]  # fmt: skip
    _check(source, table, "bool")
