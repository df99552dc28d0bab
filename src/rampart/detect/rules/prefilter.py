"""Which event types a rule can hit at all, read from its expression.

A rule whose top-level conjunction holds ``event.type == "x"`` or ``event.type in [...]`` is
False for every other type, whatever the other values (Kleene ``and`` with a False operand is
False), so the engine need not evaluate it on those events. ``or`` at the top level keeps the
union of its branches, when every branch is restricted; anything else is unrestricted.

>>> from rampart.detect.rules.expression import compile_expression
>>> catalogue = {"event.type": "str", "event.props.total": "float"}
>>> def types(source):
...     return event_types(compile_expression(source, catalogue).tree)
>>> sorted(types('event.type == "order.created" and event.props.total > 5'))
['order.created']
>>> sorted(types('event.type in ["a", "b"] or (event.type == "c" and event.props.total > 1)'))
['a', 'b', 'c']
>>> types('event.props.total > 5') is None
True
"""

from __future__ import annotations

from rampart.detect.rules.parse import Compare, Const, Field, ListConst, Logic, Node

_TYPE_FIELD = "event.type"


def event_types(tree: Node) -> frozenset[str] | None:
    """The event types the expression can be True for, or None when it is not restricted."""
    if isinstance(tree, Compare):
        return _compare_types(tree)
    if isinstance(tree, Logic):
        restrictions = [event_types(operand) for operand in tree.operands]
        if tree.op == "and":
            known = [r for r in restrictions if r is not None]
            return frozenset.intersection(*known) if known else None
        if tree.op == "or" and all(r is not None for r in restrictions):
            return frozenset().union(*(r for r in restrictions if r is not None))
    return None


def _compare_types(node: Compare) -> frozenset[str] | None:
    if not (isinstance(node.left, Field) and node.left.path == _TYPE_FIELD):
        return None
    if node.op == "==" and isinstance(node.right, Const) and isinstance(node.right.value, str):
        return frozenset({node.right.value})
    if node.op == "in" and isinstance(node.right, ListConst):
        return frozenset(str(v) for v in node.right.values)
    return None
