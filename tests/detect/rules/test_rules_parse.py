"""The parser accepts the rule language and nothing else, and says where the problem is."""

from __future__ import annotations

import pytest

from rampart.detect.rules.errors import ExpressionError, ExpressionProblem
from rampart.detect.rules.parse import (
    MAX_DEPTH,
    Arith,
    Call,
    Compare,
    Const,
    Field,
    ListConst,
    Logic,
    Neg,
    Not,
    parse_expression,
)


def problems(source: str) -> list[ExpressionProblem]:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(source)
    return list(caught.value.problems)


def test_parses_every_construct_of_the_language() -> None:
    tree = parse_expression(
        'not event.a and (features.n + 2 * 3 - 1 / 4 % 5 > -scores.x or lower(event.s) in ["a"])'
    )
    assert isinstance(tree, Logic)
    assert tree.op == "and"
    negated, grouped = tree.operands
    assert isinstance(negated, Not)
    assert negated.operand == Field(line=1, column=5, path="event.a")
    assert isinstance(grouped, Logic)
    assert grouped.op == "or"
    compare, membership = grouped.operands
    assert isinstance(compare, Compare)
    assert compare.op == ">"
    assert isinstance(compare.left, Arith)
    assert compare.left.op == "-"
    assert isinstance(compare.right, Neg)
    assert isinstance(membership, Compare)
    assert membership.op == "in"
    assert isinstance(membership.left, Call)
    assert membership.left.name == "lower"
    assert isinstance(membership.right, ListConst)
    assert membership.right.values == ("a",)


def test_chained_comparison_becomes_and_of_pairs() -> None:
    tree = parse_expression("1 < features.n <= 5")
    assert isinstance(tree, Logic)
    assert tree.op == "and"
    first, second = tree.operands
    assert isinstance(first, Compare)
    assert isinstance(second, Compare)
    assert (first.op, second.op) == ("<", "<=")
    assert first.right == second.left == Field(line=1, column=5, path="features.n")


@pytest.mark.parametrize(
    ("source", "value"),
    [("True", True), ("None", None), ("'x'", "x"), ("-3", -3), ("-2.5", -2.5), ("7", 7)],
)
def test_literals(source: str, value: object) -> None:
    tree = parse_expression(source)
    assert isinstance(tree, Const)
    assert tree.value == value
    assert type(tree.value) is type(value)


def test_tuples_and_lists_are_both_list_literals() -> None:
    as_tuple, as_list = (
        parse_expression("event.x in (1, -2)"),
        parse_expression("event.x in [1, -2]"),
    )
    assert isinstance(as_tuple, Compare)
    assert isinstance(as_list, Compare)
    assert as_tuple.right == as_list.right == ListConst(line=1, column=12, values=(1, -2))


@pytest.mark.parametrize(
    ("source", "message", "suggestion"),
    [
        ("event.props.items[0]", "subscript (x[...]) is not allowed in a rule", None),
        ("lambda: 1", "lambda is not allowed in a rule", None),
        ("[x for x in event.l]", "list comprehension is not allowed in a rule", None),
        ("f'{event.x}'", "f-string is not allowed in a rule", None),
        ("(y := 1)", "assignment expression (:=) is not allowed in a rule", None),
        (
            "1 if event.a else 2",
            "conditional expression (x if c else y) is not allowed in a rule",
            None,
        ),
        ("{1: 2}", "dict literal is not allowed in a rule", None),
        ("{1, 2}", "set literal (use a list) is not allowed in a rule", None),
        ("event.__class__", "dunder attributes are not allowed in a rule", None),
        ("event.a & event.b", "operator '&' is not allowed in a rule", "and"),
        ("event.a | event.b", "operator '|' is not allowed in a rule", "or"),
        ("~event.a", "operator '~' is not allowed in a rule", "not"),
        ("event.n ** 2", "operator '**' is not allowed in a rule", None),
        ("event.n // 2", "operator '//' is not allowed in a rule", None),
        ("event.x is None", "operator 'is' is not allowed in a rule", "is_null(x)"),
        ("event.x is not None", "operator 'is not' is not allowed in a rule", "present(x)"),
        (
            "event.s.lower()",
            "only functions can be called, not methods",
            "lower(x) rather than x.lower()",
        ),
        ("b'x' == event.s", "bytes literal is not allowed in a rule", None),
        ("1j == event.n", "complex literal is not allowed in a rule", None),
        ("event.n > 1e999", "float literal is not finite", None),
        ("event.n > 99999999999999999999", "integer literal out of the 64-bit range", None),
        ("event.x in []", "empty list", None),
        ("event.x in [None]", "None in a list never matches", "is_null(x)"),
        ("event.x in [event.y]", "list elements must be literals (strings or numbers)", None),
        ("(1).real == 1", "attributes can only be read from event, features or scores", None),
        ("", "empty expression", None),
    ],
)
def test_rejects_what_is_not_the_language(
    source: str, message: str, suggestion: str | None
) -> None:
    found = problems(source)
    assert [(p.message, p.suggestion) for p in found][:1] == [(message, suggestion)]


def test_keyword_and_starred_arguments_are_rejected() -> None:
    assert [p.message for p in problems("max(event.a, b=2)")] == [
        "keyword arguments are not supported; pass them in order"
    ]
    assert problems("max(*event.a)")[0].message == "starred argument (*x) is not allowed in a rule"


def test_reports_every_problem_with_its_position() -> None:
    found = problems("event.a[0] and\n  (lambda: 1) or event.b & event.c")
    assert [(p.line, p.column, p.message.split(" ")[0]) for p in found] == [
        (1, 1, "subscript"),
        (2, 4, "lambda"),
        (2, 18, "operator"),
    ]


def test_columns_count_characters_not_bytes() -> None:
    (problem,) = problems('"héé" == "é" and event.x[0]')
    assert (problem.line, problem.column) == (1, 18)


def test_syntax_errors_point_into_the_expression() -> None:
    (problem,) = problems("event.a and and event.b")
    assert (problem.line, problem.column, problem.message) == (1, 13, "invalid syntax")
    (problem,) = problems("event.a and\n   event.b ===  1")
    assert (problem.line, problem.column) == (2, 14)


def test_wrapping_in_parentheses_does_not_accept_unbalanced_text() -> None:
    (problem,) = problems("event.a) or (event.b")
    assert (problem.message, problem.line, problem.column) == ("unmatched ')'", 1, 8)


def test_multi_line_expressions_need_no_parentheses() -> None:
    tree = parse_expression("event.a\n  and event.b\n")
    assert isinstance(tree, Logic)
    assert [o.line for o in tree.operands] == [1, 2]


def test_nesting_is_bounded() -> None:
    deep = "not " * (MAX_DEPTH + 5) + "event.a"
    assert problems(deep)[0].message == f"expression nested deeper than {MAX_DEPTH} levels"
    assert "longer than" in problems("event.a or " * 2_000 + "event.b")[0].message
