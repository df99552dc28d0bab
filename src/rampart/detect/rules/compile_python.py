"""Compile a checked expression into a fast per-event Python function.

The result is a tree of closures: ``evaluate(row)`` where ``row`` maps full names
(``"event.props.total"``) to plain Python values, a missing key reading as null. Null semantics
are SQL's three-valued logic (see :mod:`rampart.detect.rules`): the closures check for None before
each operation, and the one arithmetic error well-typed data can cause (an integer too large
for a float) gives null too, so an evaluation never raises on data of the catalogue's types.

The common shapes of a rule (a name compared with a literal, a name in a literal list, ``and``
of two or three conditions) get their own closures: that halves the calls per evaluation.

>>> from rampart.detect.rules.check import check_expression
>>> from rampart.detect.rules.lists import ListStore
>>> from rampart.detect.rules.parse import parse_expression
>>> tree, _ = check_expression(parse_expression("features.n > 2 or event.x"),
...                            {"features.n": "int", "event.x": "bool"})
>>> evaluate = compile_python(tree, lists=ListStore())
>>> evaluate({"features.n": 3}), evaluate({"features.n": 1})
(True, None)
>>> evaluate({"features.n": 1, "event.x": False})
False
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.functions import FUNCTIONS, CallSite, FunctionRegistry
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

Row = Mapping[str, Any]
Evaluator = Callable[[Row], Any]

_COMPARE: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIPPED: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ARITH: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}


def _field(path: str, kind: str) -> Evaluator:
    if kind == t.FLOAT:
        # NaN is not a value of the language: it reads as null (as fill_nan(None) in Polars).
        def read_float(row: Row) -> Any:
            value = row.get(path)
            return None if value != value else value

        return read_float

    def read(row: Row) -> Any:
        return row.get(path)

    return read


def _field_vs_const(path: str, kind: str, op: str, const: Any) -> Evaluator:
    """``path <op> const`` in one closure: the most common condition in a rule."""
    compare = _COMPARE[op]
    if kind == t.FLOAT:

        def float_vs_const(row: Row) -> bool | None:
            value = row.get(path)
            if value is None or value != value:
                return None
            return compare(value, const)

        return float_vs_const
    if op == "==":

        def equals(row: Row) -> bool | None:
            value = row.get(path)
            return None if value is None else value == const

        return equals

    def vs_const(row: Row) -> bool | None:
        value = row.get(path)
        return None if value is None else compare(value, const)

    return vs_const


def _compare(left: Evaluator, right: Evaluator, fn: Callable[[Any, Any], bool]) -> Evaluator:
    def compare(row: Row) -> bool | None:
        a = left(row)
        if a is None:
            return None
        b = right(row)
        return None if b is None else fn(a, b)

    return compare


def _arithmetic(
    left: Evaluator, right: Evaluator, fn: Callable[[Any, Any], Any], nan_is_null: bool
) -> Evaluator:
    def arithmetic(row: Row) -> Any:
        a = left(row)
        if a is None:
            return None
        b = right(row)
        if b is None:
            return None
        try:
            result = fn(a, b)
        except ArithmeticError:  # an int too large for a float: no value, not a crash
            return None
        return None if nan_is_null and result != result else result

    return arithmetic


def _divide(a: Any, b: Any) -> Any:
    return None if b == 0 else a / b


def _int_modulo(a: int, b: int) -> int | None:
    # Floored, as Python and Polars both do; by zero gives null rather than an error.
    return None if b == 0 else a % b


def _float_modulo(a: float, b: float) -> float | None:
    """``a - b * floor(a / b)``: Polars' float %, which can differ from Python's (fmod-based)
    in the last place; both forms compute it this way so they agree."""
    if b == 0:
        return None
    quotient = a / b
    if math.isfinite(quotient):
        quotient = float(math.floor(quotient))
    return a - b * quotient


def _and(operands: Sequence[Evaluator]) -> Evaluator:
    if len(operands) == 2:
        first, second = operands

        def and2(row: Row) -> bool | None:
            a = first(row)
            if a is not None and not a:
                return False
            b = second(row)
            if b is not None and not b:
                return False
            return None if a is None or b is None else True

        return and2

    if len(operands) == 3:
        first, second, third = operands

        def and3(row: Row) -> bool | None:
            a = first(row)
            if a is not None and not a:
                return False
            b = second(row)
            if b is not None and not b:
                return False
            c = third(row)
            if c is not None and not c:
                return False
            return None if a is None or b is None or c is None else True

        return and3

    def and_n(row: Row) -> bool | None:
        result: bool | None = True
        for operand in operands:
            value = operand(row)
            if value is None:
                result = None
            elif not value:
                return False
        return result

    return and_n


def _or(operands: Sequence[Evaluator]) -> Evaluator:
    if len(operands) == 2:
        first, second = operands

        def or2(row: Row) -> bool | None:
            a = first(row)
            if a:
                return True
            b = second(row)
            if b:
                return True
            return None if a is None or b is None else False

        return or2

    def or_n(row: Row) -> bool | None:
        result: bool | None = False
        for operand in operands:
            value = operand(row)
            if value is None:
                result = None
            elif value:
                return True
        return result

    return or_n


def _not(operand: Evaluator) -> Evaluator:
    def negate(row: Row) -> bool | None:
        value = operand(row)
        return None if value is None else not value

    return negate


def _negative(operand: Evaluator) -> Evaluator:
    def negative(row: Row) -> Any:
        value = operand(row)
        return None if value is None else -value

    return negative


def _member(left: Evaluator, values: frozenset[Any], negated: bool) -> Evaluator:
    def member(row: Row) -> bool | None:
        value = left(row)
        if value is None:
            return None
        return (value in values) is not negated

    return member


def _member_of_value(left: Evaluator, right: Evaluator, negated: bool) -> Evaluator:
    def member(row: Row) -> bool | None:
        value = left(row)
        if value is None:
            return None
        container = right(row)
        if container is None:
            return None
        return (value in container) is not negated

    return member


class _Compiler:
    def __init__(self, functions: FunctionRegistry, lists: ListStore) -> None:
        self.functions = functions
        self.lists = lists

    def compile(self, node: Node) -> Evaluator:
        match node:
            case Const(value=value):
                return lambda _row: value
            case Field(path=path, type=kind):
                return _field(path, kind)
            case Not(operand=operand):
                return _not(self.compile(operand))
            case Neg(operand=operand):
                return _negative(self.compile(operand))
            case Logic(op="and", operands=operands):
                return _and([self.compile(o) for o in operands])
            case Logic(op="or", operands=operands):
                return _or([self.compile(o) for o in operands])
            case Arith(op=op, left=left, right=right, type=kind):
                fn: Callable[[Any, Any], Any]
                if op == "%":
                    fn = _float_modulo if kind == t.FLOAT else _int_modulo
                else:
                    fn = _divide if op == "/" else _ARITH[op]
                return _arithmetic(self.compile(left), self.compile(right), fn, kind == t.FLOAT)
            case Compare():
                return self.compare(node)
            case Call():
                return self.call(node)
        raise TypeError(f"cannot compile {type(node).__name__}; was the expression checked?")

    def compare(self, node: Compare) -> Evaluator:
        left, right = node.left, node.right
        op: str = node.op
        if op in ("in", "not in"):
            negated = op == "not in"
            if isinstance(right, ListConst):
                return _member(self.compile(left), frozenset(right.values), negated)
            return _member_of_value(self.compile(left), self.compile(right), negated)
        if isinstance(left, Const) and isinstance(right, Field):
            left, right, op = right, left, _FLIPPED[op]
        if isinstance(left, Field) and isinstance(right, Const) and right.value is not None:
            return _field_vs_const(left.path, left.type, op, right.value)
        return _compare(self.compile(left), self.compile(right), _COMPARE[op])

    def call(self, node: Call) -> Evaluator:
        function = self.functions.get(node.name)
        assert function is not None, node.name
        literals = tuple(
            arg.value if i in function.literal_params and isinstance(arg, Const) else None
            for i, arg in enumerate(node.args)
        )
        site = CallSite(tuple(a.type for a in node.args), literals, self.lists, node.type)
        impl = function.python(site)
        runtime = [
            self.compile(arg) for i, arg in enumerate(node.args) if i not in function.literal_params
        ]
        strict = len(runtime) if function.strict else 0
        runtime += [_field(path, t.FLOAT) for path in function.implicit]
        return _call(impl, runtime, strict)


def _call(impl: Callable[..., Any], args: Sequence[Evaluator], strict: int) -> Evaluator:
    """Call ``impl``; null when any of the first ``strict`` arguments is null."""
    if len(args) == 1 and strict == 1:
        (only,) = args

        def call1(row: Row) -> Any:
            value = only(row)
            if value is None:
                return None
            try:
                return impl(value)
            except ArithmeticError:
                return None

        return call1
    if len(args) == 2 and strict == 2:
        first, second = args

        def call2(row: Row) -> Any:
            a = first(row)
            if a is None:
                return None
            b = second(row)
            if b is None:
                return None
            try:
                return impl(a, b)
            except ArithmeticError:
                return None

        return call2

    def call_n(row: Row) -> Any:
        values = [arg(row) for arg in args]
        if any(v is None for v in values[:strict]):
            return None
        try:
            return impl(*values)
        except ArithmeticError:
            return None

    return call_n


def compile_python(
    node: Node, *, functions: FunctionRegistry = FUNCTIONS, lists: ListStore
) -> Evaluator:
    """``evaluate(row)`` for a checked tree; ``lists`` is read live at each evaluation."""
    return _Compiler(functions, lists).compile(node)


def paths_read(node: Node, functions: FunctionRegistry = FUNCTIONS) -> frozenset[str]:
    """The row keys an expression reads (names, and what its functions read implicitly)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        match current:
            case Field(path=path):
                found.add(path)
            case Not(operand=inner) | Neg(operand=inner):
                stack.append(inner)
            case Logic(operands=operands):
                stack.extend(operands)
            case Arith(left=left, right=right) | Compare(left=left, right=right):
                stack.extend((left, right))
            case Call(name=name, args=args):
                stack.extend(args)
                function = functions.get(name)
                found.update(function.implicit if function else ())
    return frozenset(found)
