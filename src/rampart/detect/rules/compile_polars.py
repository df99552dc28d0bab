"""Compile a checked expression into a vectorised Polars expression, for backtests.

Columns are named by the same full names the per-event form reads (``pl.col("event.props.total")``)
and hold the catalogue's types (:data:`rampart.detect.rules.valuetypes.POLARS_DTYPES`). The
result is the same three-valued answer the per-event function gives on each row: Polars' own
``&``, ``|`` and ``~`` are Kleene and comparisons with null give null; where Polars differs
from the language (division by zero, ``list.contains`` of a null, NaN), the expression says
so explicitly.

>>> import polars as pl
>>> from rampart.detect.rules.check import check_expression
>>> from rampart.detect.rules.lists import ListStore
>>> from rampart.detect.rules.parse import parse_expression
>>> tree, _ = check_expression(parse_expression("features.n / features.d > 1"),
...                            {"features.n": "int", "features.d": "int"})
>>> frame = pl.DataFrame({"features.n": [3, 3, None], "features.d": [2, 0, 1]})
>>> frame.select(compile_polars(tree, lists=ListStore()).alias("hit"))["hit"].to_list()
[True, None, None]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Final

import polars as pl

from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.compile_python import compile_python, paths_read
from rampart.detect.rules.functions import FUNCTIONS, CallSite, FunctionRegistry, full_column
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

_NULL: Final = pl.lit(None)
_FLIPPED: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _field(path: str, kind: str) -> pl.Expr:
    column = pl.col(path)
    if kind == t.FLOAT:
        # Integer-typed logs of a float name, and NaN (not a value of the language: null).
        return column.cast(pl.Float64).fill_nan(None)
    if kind == t.INT:
        return column.cast(pl.Int64)  # 32-bit columns would overflow where Python does not
    return column


def _nullable_if(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(_NULL).otherwise(value)


class _Compiler:
    def __init__(self, functions: FunctionRegistry, lists: ListStore) -> None:
        self.functions = functions
        self.lists = lists

    def compile(self, node: Node) -> pl.Expr:
        if not isinstance(node, Const) and not paths_read(node, self.functions):
            # A sub-expression of literals only: some Polars forms of it (is_in) give a
            # one-row column that won't broadcast, so compute it once, the per-event way.
            value = compile_python(node, functions=self.functions, lists=self.lists)({})
            return self.compile(
                Const(line=node.line, column=node.column, value=value, type=node.type)
            )
        match node:
            case Const(value=None):
                return _NULL
            case Const(value=value, type=kind):
                return pl.lit(value, dtype=t.POLARS_DTYPES.get(kind))
            case Field(path=path, type=kind):
                return _field(path, kind)
            case Not(operand=operand):
                return ~self.compile(operand)
            case Neg(operand=operand):
                return -self.compile(operand)
            case Logic(op="and", operands=operands):
                return reduce(lambda a, b: a & b, (self.compile(o) for o in operands))
            case Logic(op="or", operands=operands):
                return reduce(lambda a, b: a | b, (self.compile(o) for o in operands))
            case Arith():
                return self.arith(node)
            case Compare():
                return self.compare(node)
            case Call():
                return self.call(node)
        raise TypeError(f"cannot compile {type(node).__name__}; was the expression checked?")

    def arith(self, node: Arith) -> pl.Expr:
        left, right = self.compile(node.left), self.compile(node.right)
        match node.op:
            case "+":
                result = left + right
            case "-":
                result = left - right
            case "*":
                result = left * right
            case "/":
                result = _nullable_if(right == 0, left.cast(pl.Float64) / self.divisor(node))
            case _ if node.type == t.FLOAT:
                # a - b * floor(a / b), as Polars computes it column by column and as the
                # per-event form does; by a scalar Polars would use the reciprocal instead.
                result = _nullable_if(right == 0, left % self.divisor(node))
            case _:
                # Integer % is floored in Polars as in Python; by zero Polars gives null too.
                result = left % right
        return result.fill_nan(None) if node.type == t.FLOAT else result

    def divisor(self, node: Arith) -> pl.Expr:
        right = self.compile(node.right)
        return right if paths_read(node.right, self.functions) else full_column(right)

    def compare(self, node: Compare) -> pl.Expr:
        left = self.compile(node.left)
        if node.op in ("in", "not in"):
            member = self.membership(node, left)
            return ~member if node.op == "not in" else member
        right = self.compile(node.right)
        op: str = node.op
        if not paths_read(node.left, self.functions) and paths_read(node.right, self.functions):
            # Polars 2.1 loses the row count of ``literal < when(...)...`` when every row takes
            # one branch (it returns one row); the same comparison written the other way round
            # is fine, so keep the literal on the right.
            left, right, op = right, left, _FLIPPED[op]
        match op:
            case "==":
                return left == right
            case "!=":
                return left != right
            case "<":
                return left < right
            case "<=":
                return left <= right
            case ">":
                return left > right
        return left >= right

    def membership(self, node: Compare, left: pl.Expr) -> pl.Expr:
        right = node.right
        if isinstance(right, ListConst):
            element = t.element_of(right.type) or t.STR
            # Polars 2 will not compare across numeric types in is_in: meet at float.
            if t.FLOAT in (element, node.left.type) and element != t.BOOL:
                left, element = left.cast(pl.Float64), t.FLOAT
            values = pl.Series(list(right.values), dtype=t.POLARS_DTYPES[element])
            return _nullable_if(left.is_null(), left.is_in(values.implode()))
        container = self.compile(right)
        # list.contains finds a null in a list; the language says null in, null out.
        missing = left.is_null() | container.is_null()
        return _nullable_if(missing, container.list.contains(left))

    def call(self, node: Call) -> pl.Expr:
        function = self.functions.get(node.name)
        assert function is not None, node.name
        literals = tuple(
            arg.value if i in function.literal_params and isinstance(arg, Const) else None
            for i, arg in enumerate(node.args)
        )
        site = CallSite(tuple(a.type for a in node.args), literals, self.lists, node.type)
        runtime = [
            self.compile(arg) for i, arg in enumerate(node.args) if i not in function.literal_params
        ]
        strict: Sequence[pl.Expr] = list(runtime) if function.strict else ()
        runtime += [_field(path, t.FLOAT) for path in function.implicit]
        result = function.polars(site, runtime)
        if not strict:
            return result
        return _nullable_if(pl.any_horizontal([a.is_null() for a in strict]), result)


def compile_polars(
    node: Node, *, functions: FunctionRegistry = FUNCTIONS, lists: ListStore
) -> pl.Expr:
    """The vectorised form of a checked tree; list contents are read now (a snapshot)."""
    return _Compiler(functions, lists).compile(node)
