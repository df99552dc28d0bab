"""Compile a checked expression into a SQL boolean (or value) expression, for backtests.

The same text runs on DuckDB (embedded) and on Spark SQL (scaled out); the two dialects differ
only in how names and strings are quoted and in a few function names (:class:`Dialect`). The
answer on each row is the per-event function's, three-valued: SQL's ``AND``, ``OR`` and ``NOT``
are Kleene and comparisons with NULL give NULL; where SQL differs from the language, the
expression says so explicitly:

* division and ``%`` by zero are NULL (DuckDB and ANSI Spark raise), ``%`` is floored
  (SQL's is truncated), float ``%`` is ``a - b * floor(a / b)`` as in the other two forms;
* NaN is NULL (SQL orders NaN above every number, the language has no NaN);
* a list value with a NULL inside never matches, and never makes ``in`` NULL (Spark's
  ``array_contains`` would);
* numeric literals are typed (``CAST('2.5' AS DOUBLE)``: a bare ``2.5`` is a DECIMAL in both).

A registered function without a SQL form makes :func:`compile_sql` raise
:class:`SqlCompileError` naming the rule, the function and where it is called.

>>> from rampart.detect.rules.check import check_expression
>>> from rampart.detect.rules.lists import ListStore
>>> from rampart.detect.rules.parse import parse_expression
>>> tree, _ = check_expression(parse_expression('features.n >= 3 and event.type == "it\\'s"'),
...                            {"features.n": "int", "event.type": "str"})
>>> print(compile_sql(tree, lists=ListStore()))
((CAST("features.n" AS BIGINT) >= CAST(3 AS BIGINT)) AND ("event.type" = 'it''s'))
>>> print(compile_sql(tree, lists=ListStore(), dialect=SPARK))
((CAST(`features.n` AS BIGINT) >= CAST(3 AS BIGINT)) AND (`event.type` = 'it\\'s'))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.compile_python import compile_python, paths_read
from rampart.detect.rules.functions import FUNCTIONS, FunctionRegistry
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.parse import (
    Arith,
    Call,
    Compare,
    Const,
    Field,
    ListConst,
    Logic,
    Neg,
    Node,
    Not,
)

__all__ = ["DUCKDB", "SPARK", "SQL_FUNCTIONS", "Dialect", "SqlCompileError", "compile_sql"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the SQL engines a backtest runs on."""

    name: str
    quote: str  # the identifier quote character
    backslash_escapes: bool  # whether string literals read \ as an escape (Spark does)
    starts_with: str
    ends_with: str
    list_length: str

    def identifier(self, name: str) -> str:
        q = self.quote
        return f"{q}{name.replace(q, q + q)}{q}"

    def string(self, value: str) -> str:
        if self.backslash_escapes:
            # Spark reads 'a' 'b' as 'ab': a doubled quote would end the literal, so escape it.
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"


DUCKDB: Final = Dialect("duckdb", '"', False, "starts_with", "ends_with", "len")
SPARK: Final = Dialect("spark", "`", True, "startswith", "endswith", "size")

_DOUBLE_NAN: Final = "CAST('NaN' AS DOUBLE)"
# Every double at or beyond 2**52 in magnitude is a whole number: floor is the identity there.
_WHOLE_FROM: Final = "4503599627370496.0"
_SQL_OPS: Final = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_INT64: Final = (-(2**63), 2**63 - 1)


class SqlCompileError(ValueError):
    """An expression that has no SQL form (a function SQL cannot express)."""

    def __init__(self, rule: str | None, function: str, line: int, column: int) -> None:
        self.rule = rule
        self.function = function
        where = f"rule {rule!r}: " if rule else ""
        super().__init__(
            f"{where}{line}:{column}: function {function!r} has no SQL form; this rule cannot "
            f"be backtested in SQL (functions with one: {', '.join(sorted(SQL_FUNCTIONS))})"
        )


def _double(value: float) -> str:
    if math.isnan(value):
        return "NULL"
    if math.isinf(value):
        return "CAST('Infinity' AS DOUBLE)" if value > 0 else "CAST('-Infinity' AS DOUBLE)"
    return f"CAST('{value!r}' AS DOUBLE)"


def _no_nan(sql: str) -> str:
    # NULLIF, not CASE: the operand is written once (NaN = NaN is true in DuckDB and Spark).
    return f"NULLIF({sql}, {_DOUBLE_NAN})"


def _as_double(sql: str) -> str:
    return f"CAST({sql} AS DOUBLE)"


def _not_zero(sql: str) -> str:
    return f"NULLIF({sql}, 0)"


def _floor_double(sql: str) -> str:
    """floor() as a double, exact (Spark's floor gives a BIGINT); non-finite values kept."""
    return f"CASE WHEN abs({sql}) < {_WHOLE_FROM} THEN CAST(floor({sql}) AS DOUBLE) ELSE {sql} END"


def _floored_modulo(a: str, b: str) -> str:
    """Python's floored % on integers from SQL's truncated one; NULL by zero."""
    divisor = _not_zero(b)
    return f"((({a}) % {divisor} + {divisor}) % {divisor})"


# --- functions: (dialect, argument types, literal args, SQL args, result type) -> SQL ------


SqlImpl = Callable[[Dialect, tuple[str, ...], tuple[Any, ...], Sequence[str], str, ListStore], str]


@dataclass(frozen=True, slots=True)
class SqlFunction:
    """The SQL form of a registered function.

    ``propagates_null``: SQL already gives NULL when a strict argument is NULL, so no guard is
    written around the call.
    """

    impl: SqlImpl
    propagates_null: bool = True


def _unary(template: str) -> SqlFunction:
    return SqlFunction(lambda _d, _t, _l, a, _r, _s: template.format(*a))


def _length(
    d: Dialect, types: tuple[str, ...], _l: Any, a: Sequence[str], _r: str, _s: ListStore
) -> str:
    counted = f"{d.list_length}({a[0]})" if types[0] == t.LIST_STR else f"char_length({a[0]})"
    return f"CAST({counted} AS BIGINT)"


def _time_unit(unit_seconds: float, shift: int, modulus: int) -> SqlFunction:
    """``(floor((ts + offset h) / unit) + shift) mod modulus``, NULL when out of BIGINT range."""

    def impl(_d: Dialect, _t: Any, _l: Any, a: Sequence[str], _r: str, _s: ListStore) -> str:
        ts, offset = a
        shifted = f"{_as_double(ts)} + {_as_double(offset)} * {_double(3600.0)}"
        units = f"(({shifted}) / {_double(unit_seconds)})"
        whole = (
            f"CASE WHEN {units} >= {_double(-(2.0**63))} AND {units} < {_double(2.0**63)} "
            f"THEN CAST(floor({units}) AS BIGINT) END"
        )
        return _floored_modulo(f"{whole} + {shift}", f"CAST({modulus} AS BIGINT)")

    return SqlFunction(impl)


def _min_max(op: str) -> SqlFunction:
    def impl(_d: Dialect, _t: Any, _l: Any, a: Sequence[str], result: str, _s: ListStore) -> str:
        chosen = f"CASE WHEN {a[0]} {op} {a[1]} THEN {a[0]} ELSE {a[1]} END"
        return _as_double(chosen) if result == t.FLOAT else chosen

    # CASE gives b when a is NULL: the strict guard is needed.
    return SqlFunction(impl, propagates_null=False)


def _ratio(_d: Dialect, _t: Any, _l: Any, a: Sequence[str], _r: str, _s: ListStore) -> str:
    return f"({_as_double(a[0])} / {_not_zero(_as_double(a[1]))})"


def _coalesce(_d: Dialect, _t: Any, _l: Any, a: Sequence[str], result: str, _s: ListStore) -> str:
    kind = {t.BOOL: "BOOLEAN", t.INT: "BIGINT", t.FLOAT: "DOUBLE", t.STR: "STRING"}.get(result)
    if kind is None:  # coalesce(None, None), or of two list values
        return "NULL" if result == t.NULL else f"COALESCE({a[0]}, {a[1]})"
    return f"COALESCE(CAST({a[0]} AS {kind}), CAST({a[1]} AS {kind}))"


def _in_list(
    d: Dialect, _t: Any, literals: tuple[Any, ...], a: Sequence[str], _r: str, lists: ListStore
) -> str:
    value, ts = a
    entries = lists.entries(str(literals[1]))
    if not entries:
        return "FALSE"
    forever = [name for name, at in entries.items() if at is None]
    branches: list[str] = []
    if forever:
        branches.append(f"WHEN {value} IN ({', '.join(d.string(v) for v in forever)}) THEN TRUE")
    by_expiry: dict[float, list[str]] = {}
    for name, at in entries.items():
        if at is not None:
            by_expiry.setdefault(float(at), []).append(name)
    for at, names in sorted(by_expiry.items()):
        members = ", ".join(d.string(v) for v in names)
        branches.append(f"WHEN {value} IN ({members}) THEN {ts} < {_double(at)}")
    return f"CASE {' '.join(branches)} ELSE FALSE END"


def _text(template: Callable[[Dialect], str]) -> SqlFunction:
    return SqlFunction(lambda d, _t, _l, a, _r, _s: template(d).format(*a))


SQL_FUNCTIONS: Final[Mapping[str, SqlFunction]] = {
    "in_list": SqlFunction(_in_list, propagates_null=False),
    "lower": _unary("lower({0})"),
    "upper": _unary("upper({0})"),
    "length": SqlFunction(_length),
    "startswith": _text(lambda d: d.starts_with + "({0}, {1})"),
    "endswith": _text(lambda d: d.ends_with + "({0}, {1})"),
    "contains": _unary("contains({0}, {1})"),
    "hour_of_day": _time_unit(3600.0, 0, 24),
    "day_of_week": _time_unit(86400.0, 3, 7),
    "abs": _unary("abs({0})"),
    "min": _min_max("<="),
    "max": _min_max(">="),
    "ratio": SqlFunction(_ratio),
    "coalesce": SqlFunction(_coalesce),
    "is_null": _unary("({0} IS NULL)"),
    "present": _unary("({0} IS NOT NULL)"),
}
"""The SQL form of each function of :data:`~rampart.detect.rules.functions.FUNCTIONS` SQL can
express, by name (a function missing here cannot be backtested in SQL)."""


class _Compiler:
    def __init__(
        self,
        dialect: Dialect,
        functions: FunctionRegistry,
        lists: ListStore,
        sql_functions: Mapping[str, SqlFunction],
        rule: str | None,
    ) -> None:
        self.d = dialect
        self.functions = functions
        self.lists = lists
        self.sql_functions = sql_functions
        self.rule = rule

    def literal(self, value: Any, kind: str) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int) and kind != t.FLOAT:
            # Python's ints do not overflow; a value beyond 64 bits has no SQL form.
            return f"CAST({value} AS BIGINT)" if _INT64[0] <= value <= _INT64[1] else "NULL"
        if isinstance(value, int | float):
            return _double(float(value))
        if isinstance(value, str):
            return self.d.string(value)
        raise TypeError(f"no SQL literal for {value!r}")

    def compile(self, node: Node) -> str:
        if not isinstance(node, Const) and not paths_read(node, self.functions):
            # Literals only: compute it once, the per-event way (as the Polars form does).
            self.check_functions(node)
            value = compile_python(node, functions=self.functions, lists=self.lists)({})
            return self.literal(value, node.type)
        match node:
            case Const(value=value, type=kind):
                return self.literal(value, kind)
            case Field(path=path, type=kind):
                column = self.d.identifier(path)
                if kind == t.FLOAT:
                    return _no_nan(_as_double(column))
                if kind == t.INT:
                    return f"CAST({column} AS BIGINT)"
                return column
            case Not(operand=operand):
                return f"(NOT {self.compile(operand)})"
            case Neg(operand=operand):
                return f"(- {self.compile(operand)})"
            case Logic(op=op, operands=operands):
                joined = f" {op.upper()} ".join(self.compile(o) for o in operands)
                return f"({joined})"
            case Arith():
                return self.arith(node)
            case Compare():
                return self.compare(node)
            case Call():
                return self.call(node)
        raise TypeError(f"cannot compile {type(node).__name__}; was the expression checked?")

    def check_functions(self, node: Node) -> None:
        """Constant sub-expressions are folded, but a function with no SQL form is still an
        error: whether a rule backtests must not depend on where its literals are."""
        match node:
            case Call(name=name, args=args):
                if name not in self.sql_functions:
                    raise SqlCompileError(self.rule, name, node.line, node.column)
                for arg in args:
                    self.check_functions(arg)
            case Not(operand=inner) | Neg(operand=inner):
                self.check_functions(inner)
            case Logic(operands=operands):
                for operand in operands:
                    self.check_functions(operand)
            case Arith(left=left, right=right) | Compare(left=left, right=right):
                self.check_functions(left)
                self.check_functions(right)

    def arith(self, node: Arith) -> str:
        left, right = self.compile(node.left), self.compile(node.right)
        floating = node.type == t.FLOAT
        match node.op:
            case "/":
                return _no_nan(f"({_as_double(left)} / {_not_zero(_as_double(right))})")
            case "%" if floating:
                a, b = _as_double(left), _not_zero(_as_double(right))
                return _no_nan(f"({a} - {b} * {_floor_double(f'({a} / {b})')})")
            case "%":
                return _floored_modulo(left, right)
        result = f"({left} {node.op} {right})"
        return _no_nan(result) if floating else result

    def compare(self, node: Compare) -> str:
        left = self.compile(node.left)
        if node.op in ("in", "not in"):
            member = self.membership(node, left)
            return f"(NOT {member})" if node.op == "not in" else member
        return f"({left} {_SQL_OPS[node.op]} {self.compile(node.right)})"

    def membership(self, node: Compare, left: str) -> str:
        right = node.right
        if isinstance(right, ListConst):
            if not right.values:
                return f"CASE WHEN {left} IS NULL THEN NULL ELSE FALSE END"
            element = t.element_of(right.type) or t.STR
            if t.FLOAT in (element, node.left.type) and element != t.BOOL:
                # Meet at double, as the Polars form does ([1, 2.5] holds 1.0).
                left = _as_double(left)
                values = [_double(float(v)) for v in right.values]
            else:
                values = [self.literal(v, element) for v in right.values]
            # No NULL in the list: SQL's IN is then NULL exactly when the value is.
            return f"({left} IN ({', '.join(values)}))"
        container = self.compile(right)
        # A NULL in the list never matches (array_contains would give NULL on Spark).
        return (
            f"CASE WHEN {left} IS NULL OR {container} IS NULL THEN NULL "
            f"ELSE COALESCE(array_contains({container}, {left}), FALSE) END"
        )

    def call(self, node: Call) -> str:
        function = self.functions.get(node.name)
        assert function is not None, node.name
        form = self.sql_functions.get(node.name)
        if form is None:
            raise SqlCompileError(self.rule, node.name, node.line, node.column)
        literals = tuple(
            arg.value if i in function.literal_params and isinstance(arg, Const) else None
            for i, arg in enumerate(node.args)
        )
        runtime = [
            self.compile(arg) for i, arg in enumerate(node.args) if i not in function.literal_params
        ]
        strict = list(runtime) if function.strict else []
        runtime += [_no_nan(_as_double(self.d.identifier(p))) for p in function.implicit]
        types = tuple(a.type for a in node.args)
        result = form.impl(self.d, types, literals, runtime, node.type, self.lists)
        if not strict or form.propagates_null:
            return result
        missing = " OR ".join(f"{a} IS NULL" for a in strict)
        return f"CASE WHEN {missing} THEN NULL ELSE {result} END"


def compile_sql(
    node: Node,
    *,
    lists: ListStore,
    dialect: Dialect = DUCKDB,
    functions: FunctionRegistry = FUNCTIONS,
    sql_functions: Mapping[str, SqlFunction] = SQL_FUNCTIONS,
    rule: str | None = None,
) -> str:
    """The SQL form of a checked tree (list contents are read now: a snapshot).

    Raises :class:`SqlCompileError` (naming ``rule``) for a function with no SQL form.
    """
    return _Compiler(dialect, functions, lists, sql_functions, rule).compile(node)
