"""Parse a rule expression into a small tree, accepting only the rule language's constructs.

The text is parsed by :func:`ast.parse` and every node is checked against a whitelist, so no
other Python is reachable: the result is our own tree (:class:`Node` and its kinds), never
Python code. Positions count from 1 in characters within the expression.

A rule may span several lines (YAML block scalars) without parentheses, because the text is
parsed as if wrapped in ``( ... )``.

>>> tree = parse_expression("features.orders_1h >= 3 and not event.derived.email_free_mail")
>>> type(tree).__name__, tree.op, [type(o).__name__ for o in tree.operands]
('Logic', 'and', ['Compare', 'Not'])
>>> parse_expression("event.props.total[0]")
Traceback (most recent call last):
...
rampart.detect.rules.errors.ExpressionError: 1:1: subscript (x[...]) is not allowed in a rule
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
from dataclasses import dataclass
from typing import Final, Literal, TypedDict

from rampart.detect.rules.errors import ExpressionError, ExpressionProblem

ROOTS: Final[frozenset[str]] = frozenset({"event", "features", "scores"})
MAX_SOURCE_CHARS: Final = 10_000
# Checking and compiling recurse over the tree; a bound keeps a pathological rule from
# exhausting the stack, far above anything an analyst writes.
MAX_DEPTH: Final = 64
INT64_MAX: Final = 2**63 - 1

Scalar = None | bool | int | float | str
LogicOp = Literal["and", "or"]
ArithOp = Literal["+", "-", "*", "/", "%"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """A node of a parsed expression; ``type`` is filled in by the checker."""

    line: int
    column: int
    type: str = "?"


@dataclass(frozen=True, slots=True, kw_only=True)
class Const(Node):
    value: Scalar


@dataclass(frozen=True, slots=True, kw_only=True)
class ListConst(Node):
    values: tuple[bool | int | float | str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Field(Node):
    """A name such as ``event.props.total``; checked against the catalogue later."""

    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Logic(Node):
    op: LogicOp
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Arith(Node):
    op: ArithOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare(Node):
    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Invalid(Node):
    """Stands in for a construct already reported, so parsing goes on to find the next one."""


_CONSTRUCTS: Final[dict[type[ast.AST], str]] = {
    ast.Subscript: "subscript (x[...])",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.IfExp: "conditional expression (x if c else y)",
    ast.NamedExpr: "assignment expression (:=)",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Starred: "starred argument (*x)",
    ast.Dict: "dict literal",
    ast.Set: "set literal (use a list)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_LOGIC: Final[dict[type[ast.boolop], LogicOp]] = {ast.And: "and", ast.Or: "or"}
_ARITH: Final[dict[type[ast.operator], ArithOp]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Mod: "%",
}
# Operators analysts reach for from pandas or SQL, with what to write instead.
_BAD_OPERATORS: Final[dict[type[ast.AST], tuple[str, str | None]]] = {
    ast.FloorDiv: ("//", None),
    ast.Pow: ("**", None),
    ast.LShift: ("<<", None),
    ast.RShift: (">>", None),
    ast.BitAnd: ("&", "and"),
    ast.BitOr: ("|", "or"),
    ast.BitXor: ("^", None),
    ast.MatMult: ("@", None),
    ast.Invert: ("~", "not"),
    ast.UAdd: ("unary +", None),
    ast.Is: ("is", "is_null(x)"),
    ast.IsNot: ("is not", "present(x)"),
}
_COMPARE: Final[dict[type[ast.cmpop], CompareOp]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}


class _At(TypedDict):
    line: int
    column: int


class _Converter:
    def __init__(self, wrapped_lines: list[str]) -> None:
        self.lines = wrapped_lines
        self.problems: list[ExpressionProblem] = []

    def position(self, node: ast.AST) -> tuple[int, int]:
        """1-based (line, column in characters) within the unwrapped expression."""
        line: int = getattr(node, "lineno", 1)
        offset: int = getattr(node, "col_offset", 0)
        # ast offsets count UTF-8 bytes; analysts count characters.
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        column = len(text.encode()[:offset].decode(errors="ignore"))
        if line == 1:
            column -= 1  # the "(" we wrapped the text in
        return line, max(column, 0) + 1

    def fail(self, node: ast.AST, message: str, suggestion: str | None = None) -> Invalid:
        line, column = self.position(node)
        self.problems.append(ExpressionProblem(message, line, column, suggestion))
        return Invalid(line=line, column=column)

    def convert(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            return self.fail(node, f"expression nested deeper than {MAX_DEPTH} levels")
        line, column = self.position(node)
        at: _At = {"line": line, "column": column}
        deeper = depth + 1
        match node:
            case ast.BoolOp(op=op, values=values):
                operands = tuple(self.convert(v, deeper) for v in values)
                return Logic(**at, op=_LOGIC[type(op)], operands=operands)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return Not(**at, operand=self.convert(operand, deeper))
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                inner = self.convert(operand, deeper)
                number = inner.value if isinstance(inner, Const) else None
                # Fold -3 into a literal so "x > -3" still compiles to its fast form.
                if isinstance(number, int | float) and not isinstance(number, bool):
                    return Const(**at, value=-number)
                return Neg(**at, operand=inner)
            case ast.BinOp(op=op, left=left, right=right) if type(op) in _ARITH:
                return Arith(
                    **at,
                    op=_ARITH[type(op)],
                    left=self.convert(left, deeper),
                    right=self.convert(right, deeper),
                )
            case ast.BinOp(op=op) | ast.UnaryOp(op=op) if type(op) in _BAD_OPERATORS:
                text, instead = _BAD_OPERATORS[type(op)]
                return self.fail(node, f"operator {text!r} is not allowed in a rule", instead)
            case ast.Compare():
                return self.compare(node, at, deeper)
            case ast.Constant(value=value):
                return self.constant(node, value, at)
            case ast.List(elts=elements) | ast.Tuple(elts=elements):
                return self.list_literal(node, elements, at, deeper)
            case ast.Attribute() | ast.Name():
                return self.name(node, at)
            case ast.Call(func=ast.Name(id=name), args=args, keywords=keywords):
                for keyword in keywords:
                    self.fail(
                        keyword.value, "keyword arguments are not supported; pass them in order"
                    )
                converted = tuple(self.convert(a, deeper) for a in args)
                return Call(**at, name=name, args=converted)
            case ast.Call():
                return self.fail(
                    node,
                    "only functions can be called, not methods",
                    "lower(x) rather than x.lower()",
                )
        construct = _CONSTRUCTS.get(type(node), type(node).__name__)
        return self.fail(node, f"{construct} is not allowed in a rule")

    def compare(self, node: ast.Compare, at: _At, depth: int) -> Node:
        operands = [
            self.convert(node.left, depth),
            *(self.convert(c, depth) for c in node.comparators),
        ]
        pairs: list[Node] = []
        for index, op in enumerate(node.ops):
            if type(op) not in _COMPARE:
                text, instead = _BAD_OPERATORS[type(op)]
                pairs.append(
                    self.fail(node, f"operator {text!r} is not allowed in a rule", instead)
                )
                continue
            left, right = operands[index], operands[index + 1]
            where: _At = at if index == 0 else {"line": left.line, "column": left.column}
            pairs.append(Compare(**where, op=_COMPARE[type(op)], left=left, right=right))
        # a < b < c means (a < b) and (b < c), as in Python; b has no side effects to repeat.
        return pairs[0] if len(pairs) == 1 else Logic(**at, op="and", operands=tuple(pairs))

    def constant(self, node: ast.AST, value: object, at: _At) -> Node:
        if value is None or isinstance(value, bool | str):
            return Const(**at, value=value)
        if isinstance(value, int):
            if abs(value) > INT64_MAX:
                return self.fail(node, "integer literal out of the 64-bit range")
            return Const(**at, value=value)
        if isinstance(value, float):
            if not math.isfinite(value):
                return self.fail(node, "float literal is not finite")
            return Const(**at, value=value)
        return self.fail(node, f"{type(value).__name__} literal is not allowed in a rule")

    def list_literal(self, node: ast.AST, elements: list[ast.expr], at: _At, depth: int) -> Node:
        values: list[bool | int | float | str] = []
        ok = True
        for element in elements:
            item = self.convert(element, depth + 1)
            if isinstance(item, Const) and item.value is not None:
                values.append(item.value)
            elif isinstance(item, Const):
                self.fail(element, "None in a list never matches", "is_null(x)")
                ok = False
            elif not isinstance(item, Invalid):
                self.fail(element, "list elements must be literals (strings or numbers)")
                ok = False
            else:
                ok = False
        if not values and ok:
            return self.fail(node, "empty list")
        return ListConst(**at, values=tuple(values)) if ok else Invalid(**at)

    def name(self, node: ast.Attribute | ast.Name, at: _At) -> Node:
        parts: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            return self.fail(node, "attributes can only be read from event, features or scores")
        parts.append(current.id)
        parts.reverse()
        if any(p.startswith("__") for p in parts):
            return self.fail(node, "dunder attributes are not allowed in a rule")
        return Field(**at, path=".".join(parts))


def _balance_problem(wrapped: str) -> ExpressionProblem | None:
    """Catch ``a) or (b``, which our wrapping parentheses would otherwise make valid."""
    depth = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(wrapped).readline))
    except (tokenize.TokenError, SyntaxError):
        return None  # ast.parse reports it better
    closing = [t for t in tokens if t.type == tokenize.OP and t.string in ")]}"]
    last = closing[-1] if closing else None
    for token in tokens:
        if token.type != tokenize.OP:
            continue
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}":
            depth -= 1
            if depth == 0 and token is not last:
                line, column = token.start
                # tokenize columns count from 0; line 1 also holds our "(".
                return ExpressionProblem(
                    f"unmatched {token.string!r}", line, column + (0 if line == 1 else 1)
                )
    return None


def _syntax_problem(source: str, wrapped: str, error: SyntaxError) -> ExpressionProblem:
    if "\n" not in source.strip():
        # One line: the unwrapped text gives Python's own, exactly placed message.
        try:
            ast.parse(source.strip(), mode="eval")
        except SyntaxError as direct:
            indent = len(source) - len(source.lstrip())
            return ExpressionProblem(direct.msg, 1, (direct.offset or 1) + indent)
    line = error.lineno or 1
    column = (error.offset or 1) - (1 if line == 1 else 0)
    last_line = source.count("\n") + 1
    if line > last_line:
        line, column = last_line, len(source.rsplit("\n", 1)[-1]) + 1
    return ExpressionProblem(error.msg, line, max(column, 1))


def parse_expression(source: str) -> Node:
    """Parse ``source`` into a tree; raises :class:`ExpressionError` listing every problem."""
    if not source.strip():
        raise ExpressionError(source, [ExpressionProblem("empty expression", 1, 1)])
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(
            source,
            [ExpressionProblem(f"expression longer than {MAX_SOURCE_CHARS} characters", 1, 1)],
        )
    wrapped = f"({source}\n)"
    try:
        tree = ast.parse(wrapped, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(source, [_syntax_problem(source, wrapped, error)]) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(source, [ExpressionProblem("expression too complex", 1, 1)]) from None
    unbalanced = _balance_problem(wrapped)
    if unbalanced is not None:
        raise ExpressionError(source, [unbalanced])
    converter = _Converter(wrapped.split("\n"))
    result = converter.convert(tree.body, 0)
    if converter.problems:
        raise ExpressionError(source, converter.problems)
    return result
