"""Type-check a parsed expression against a catalogue of names and the function registry.

The catalogue maps full names (``event.props.total``, ``features.user_orders_1h``,
``scores.brushing``) to their types. Checking reports every problem in the expression with its
position and, for misspelt names, the closest known one; a sub-expression that failed is typed
``<error>`` so one mistake does not cascade into many.

>>> from rampart.detect.rules.parse import parse_expression
>>> catalogue = {"event.props.total": "float", "event.type": "str"}
>>> typed, problems = check_expression(
...     parse_expression('event.props.totl > 100 and event.type > 3'), catalogue)
>>> for problem in problems:
...     print(problem)
1:1: unknown name 'event.props.totl' (did you mean 'event.props.total'?)
1:28: cannot compare str with int ('>')
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Final

from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.errors import ExpressionProblem, closest
from rampart.detect.rules.functions import FUNCTIONS, FunctionRegistry
from rampart.detect.rules.parse import (
    ROOTS,
    Arith,
    Call,
    Compare,
    Const,
    Field,
    Invalid,
    ListConst,
    Logic,
    Neg,
    Node,
    Not,
)

_CONST_TYPES: Final[dict[type, str]] = {
    type(None): t.NULL,
    bool: t.BOOL,
    int: t.INT,
    float: t.FLOAT,
    str: t.STR,
}


def suggest_name(name: str, catalogue: Collection[str]) -> str | None:
    """The known name closest to ``name``: by the whole path, else by its last part.

    >>> suggest_name("total", ["event.props.total", "event.ts"])
    'event.props.total'
    """
    found = closest(name, catalogue)
    if found is not None:
        return found
    last = name.rsplit(".", 1)[-1]
    by_last = {key.rsplit(".", 1)[-1]: key for key in sorted(catalogue, reverse=True)}
    match = closest(last, by_last)
    return by_last[match] if match is not None else None


class _Checker:
    def __init__(
        self,
        catalogue: Mapping[str, str],
        functions: FunctionRegistry,
        list_names: Collection[str] | None,
    ) -> None:
        self.catalogue = catalogue
        self.functions = functions
        self.list_names = list_names
        self.problems: list[ExpressionProblem] = []

    def fail(self, node: Node, message: str, suggestion: str | None = None) -> str:
        self.problems.append(ExpressionProblem(message, node.line, node.column, suggestion))
        return t.ERROR

    def check(self, node: Node) -> Node:
        match node:
            case Const(value=value):
                return replace(node, type=_CONST_TYPES[type(value)])
            case ListConst():
                return replace(node, type=self.list_type(node))
            case Field(path=path):
                return replace(node, type=self.field_type(node, path))
            case Not(operand=operand):
                inner = self.check(operand)
                self.expect_bool(inner, "not")
                return replace(node, operand=inner, type=t.BOOL)
            case Neg(operand=operand):
                inner = self.check(operand)
                kind = inner.type
                if kind not in t.NUMERIC and kind != t.ERROR:
                    kind = self.fail(inner, f"cannot negate {inner.type}")
                return replace(node, operand=inner, type=kind)
            case Logic(op=op, operands=operands):
                checked = tuple(self.check(o) for o in operands)
                for operand in checked:
                    self.expect_bool(operand, op)
                return replace(node, operands=checked, type=t.BOOL)
            case Arith():
                return self.arith(node)
            case Compare():
                return self.compare(node)
            case Call():
                return self.call(node)
        assert isinstance(node, Invalid), node
        return replace(node, type=t.ERROR)

    def expect_bool(self, node: Node, where: str) -> None:
        if node.type not in (t.BOOL, t.ERROR):
            self.fail(node, f"operand of {where!r} must be bool, not {node.type}")

    def list_type(self, node: ListConst) -> str:
        kinds = {_CONST_TYPES[type(v)] for v in node.values}
        if kinds <= t.NUMERIC:
            return t.list_of(t.FLOAT if t.FLOAT in kinds else t.INT)
        if len(kinds) == 1:
            return t.list_of(kinds.pop())
        return self.fail(node, "list mixes values of different types")

    def field_type(self, node: Node, path: str) -> str:
        kind = self.catalogue.get(path)
        if kind is not None:
            return kind
        members = sorted(key for key in self.catalogue if key.startswith(path + "."))
        if members:
            example = f"such as {members[0]!r}" if len(members) > 1 else repr(members[0])
            return self.fail(
                node, f"{path!r} is a group of fields, not a value: name one, {example}"
            )
        suggestion = suggest_name(path, self.catalogue)
        if path.split(".", 1)[0] not in ROOTS:
            message = f"unknown name {path!r}: rules read event.*, features.* and scores.*"
            if path in self.functions:
                message = f"{path!r} is a function: call it, as in {path}(...)"
            return self.fail(node, message, suggestion)
        return self.fail(node, f"unknown name {path!r}", suggestion)

    def arith(self, node: Arith) -> Node:
        left, right = self.check(node.left), self.check(node.right)
        kinds = (left.type, right.type)
        if t.ERROR in kinds:
            kind = t.ERROR
        elif t.NULL in kinds:
            kind = self.fail(node, f"arithmetic with None is always null ({node.op!r})")
        elif t.STR in kinds:
            kind = self.fail(node, f"arithmetic on strings is not allowed ({node.op!r})")
        elif not (left.type in t.NUMERIC and right.type in t.NUMERIC):
            kind = self.fail(node, f"cannot apply {node.op!r} to {left.type} and {right.type}")
        elif node.op == "/":
            kind = t.FLOAT
        else:
            kind = t.numeric_result(left.type, right.type)
        return replace(node, left=left, right=right, type=kind)

    def compare(self, node: Compare) -> Node:
        left, right = self.check(node.left), self.check(node.right)
        checked = replace(node, left=left, right=right, type=t.BOOL)
        if t.ERROR in (left.type, right.type):
            return checked
        if t.NULL in (left.type, right.type):
            fix = "present(x)" if node.op in ("!=", "not in") else "is_null(x)"
            self.fail(node, f"comparison with None is always null ({node.op!r})", fix)
        elif node.op in ("in", "not in"):
            self.membership(node, left, right)
        elif t.element_of(left.type) or t.element_of(right.type):
            self.fail(node, f"cannot compare {left.type} with {right.type}; use 'in' for lists")
        elif not t.comparable(left.type, right.type, node.op):
            self.fail(node, f"cannot compare {left.type} with {right.type} ({node.op!r})")
        return checked

    def membership(self, node: Compare, left: Node, right: Node) -> None:
        element = t.element_of(right.type)
        if element is None:
            fix = "contains(text, part)" if right.type == t.STR else None
            self.fail(node, f"'{node.op}' needs a list on its right, not {right.type}", fix)
        elif t.element_of(left.type) is not None:
            self.fail(node, f"'{node.op}' needs a single value on its left, not {left.type}")
        elif not t.comparable(left.type, element, "=="):
            self.fail(node, f"cannot look for {left.type} in {right.type}")

    def call(self, node: Call) -> Node:
        function = self.functions.get(node.name)
        literal = function.literal_params if function is not None else frozenset()
        # A literal parameter (a list name) is not an expression: don't type it as one.
        args = tuple(a if i in literal else self.check(a) for i, a in enumerate(node.args))
        if function is None:
            suggestion = closest(node.name, self.functions.names())
            return replace(
                node, args=args, type=self.fail(node, f"unknown function {node.name!r}", suggestion)
            )
        if len(args) != len(function.params):
            count = len(function.params)
            message = (
                f"{node.name}() takes {count} argument{'s' if count != 1 else ''}, got {len(args)}"
            )
            message += f" ({function.signature})"
            return replace(node, args=args, type=self.fail(node, message))
        ok = True
        for index, (arg, allowed) in enumerate(zip(args, function.params, strict=True)):
            if index in function.literal_params:
                ok = self.literal_argument(node, index, arg) and ok
                args = (*args[:index], replace(arg, type=t.STR), *args[index + 1 :])
            elif arg.type not in allowed and arg.type not in (t.NULL, t.ERROR):
                wanted = " or ".join(sorted(allowed))
                message = f"argument {index + 1} of {node.name}() must be {wanted}, not {arg.type}"
                self.fail(arg, f"{message} ({function.signature})")
                ok = False
        if not ok or any(a.type == t.ERROR for a in args):
            return replace(node, args=args, type=t.ERROR)
        result = function.returns(tuple(a.type for a in args))
        if result is None:
            kinds = " and ".join(a.type for a in args)
            result = self.fail(node, f"arguments of {node.name}() must share a type, not {kinds}")
        return replace(node, args=args, type=result)

    def literal_argument(self, node: Call, index: int, arg: Node) -> bool:
        if not (isinstance(arg, Const) and isinstance(arg.value, str)):
            self.fail(arg, f"argument {index + 1} of {node.name}() must be a literal string")
            return False
        if self.list_names is not None and arg.value not in self.list_names:
            suggestion = closest(arg.value, self.list_names)
            self.fail(arg, f"unknown list {arg.value!r}", suggestion)
            return False
        return True


def check_expression(
    node: Node,
    catalogue: Mapping[str, str],
    functions: FunctionRegistry = FUNCTIONS,
    *,
    list_names: Collection[str] | None = None,
    expect: str | None = t.BOOL,
) -> tuple[Node, list[ExpressionProblem]]:
    """The tree with every node typed, and every problem found.

    ``list_names`` are the lists ``in_list`` may name (None: any name, not checked);
    ``expect`` is the type the whole expression must have (a rule must be bool).
    """
    checker = _Checker(catalogue, functions, list_names)
    typed = checker.check(node)
    if expect is not None and typed.type not in (expect, t.ERROR):
        checker.fail(typed, f"a rule must be {expect}, but this expression is {typed.type}")
    return typed, checker.problems
