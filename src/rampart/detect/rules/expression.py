"""One rule expression, parsed, checked and compiled both ways.

>>> from rampart.detect.rules.lists import ListStore
>>> catalogue = {"event.props.total": "float", "event.user_id": "str", "event.ts": "float"}
>>> lists = ListStore({"vip": {"u1": None}})
>>> rule = compile_expression('event.props.total > 500 and not in_list(event.user_id, "vip")',
...                           catalogue, lists=lists)
>>> sorted(rule.paths)
['event.props.total', 'event.ts', 'event.user_id']
>>> rule({"event.props.total": 900.0, "event.user_id": "u2"})
True
>>> rule({"event.props.total": 900.0, "event.user_id": "u1"}), rule({"event.user_id": "u2"})
(False, None)
>>> compile_expression("event.props.total > 'big'", catalogue)
Traceback (most recent call last):
...
rampart.detect.rules.errors.ExpressionError: 1:1: cannot compare float with str ('>')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.check import check_expression
from rampart.detect.rules.compile_polars import compile_polars
from rampart.detect.rules.compile_python import Evaluator, Row, compile_python, paths_read
from rampart.detect.rules.errors import ExpressionError
from rampart.detect.rules.functions import FUNCTIONS, FunctionRegistry
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.parse import Node, parse_expression


class Expression:
    """A checked expression with its per-event and vectorised forms.

    ``evaluate(row)`` is the per-event function (call it directly on hot paths: it is a plain
    closure); ``paths`` are the row keys it reads; :meth:`polars` builds the vectorised form.
    """

    __slots__ = ("_functions", "evaluate", "lists", "paths", "source", "tree", "type")

    def __init__(
        self, source: str, tree: Node, functions: FunctionRegistry, lists: ListStore
    ) -> None:
        self.source = source
        self.tree = tree
        self.type = tree.type
        self.lists = lists
        self._functions = functions
        self.paths: frozenset[str] = paths_read(tree, functions)
        self.evaluate: Evaluator = compile_python(tree, functions=functions, lists=lists)

    def __call__(self, row: Row) -> Any:
        return self.evaluate(row)

    def hits(self, row: Row) -> bool:
        """Whether the expression is True on ``row`` (null and False both do not hit)."""
        return self.evaluate(row) is True

    def polars(self, lists: ListStore | None = None) -> pl.Expr:
        """The vectorised form, reading ``lists`` (default: this expression's store) now."""
        return compile_polars(
            self.tree, functions=self._functions, lists=lists if lists is not None else self.lists
        )

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_expression(
    source: str,
    catalogue: Mapping[str, str],
    *,
    functions: FunctionRegistry = FUNCTIONS,
    lists: ListStore | None = None,
    check_lists: bool | None = None,
    expect: str | None = t.BOOL,
) -> Expression:
    """Parse, check and compile ``source``; raises :class:`ExpressionError` with every problem.

    With ``lists`` given, ``in_list`` may only name lists the store knows (unless
    ``check_lists=False``); without, any name is accepted and the expression reads a fresh,
    empty store (``expression.lists``) to be filled.
    """
    tree = parse_expression(source)
    if check_lists is None:
        check_lists = lists is not None
    names = lists.names() if lists is not None and check_lists else None
    typed, problems = check_expression(tree, catalogue, functions, list_names=names, expect=expect)
    if problems:
        raise ExpressionError(source, problems)
    return Expression(source, typed, functions, lists if lists is not None else ListStore())
