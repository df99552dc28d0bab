"""Type checking: names against the catalogue, operand types, function signatures; all at once."""

from __future__ import annotations

import pytest

from rampart.detect.rules import ListStore, compile_expression
from rampart.detect.rules.check import check_expression, suggest_name
from rampart.detect.rules.errors import ExpressionError, ExpressionProblem
from rampart.detect.rules.parse import parse_expression
from rampart.features.fields import EVENT_FIELDS

CATALOGUE: dict[str, str] = {
    **EVENT_FIELDS,
    "features.user_orders_1h": "int",
    "features.user_age_s": "float",
    "scores.scalper": "float",
}


def problems(source: str, **kwargs: object) -> list[ExpressionProblem]:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, CATALOGUE, **kwargs)  # type: ignore[arg-type]
    return list(caught.value.problems)


def messages(source: str) -> list[str]:
    return [str(p) for p in problems(source)]


def test_types_every_node() -> None:
    tree, found = check_expression(
        parse_expression("features.user_orders_1h / 2 + 1 > scores.scalper"), CATALOGUE
    )
    assert found == []
    assert tree.type == "bool"
    assert tree.left.type == "float"  # type: ignore[attr-defined]
    assert tree.left.left.type == "float"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("features.user_orders_1h + 1", "int"),
        ("features.user_orders_1h % 7", "int"),
        ("features.user_orders_1h * 1.5", "float"),
        ("features.user_orders_1h / 1", "float"),
        ("-features.user_orders_1h", "int"),
        ("lower(event.type)", "str"),
        ("length(event.derived.text_url_domains)", "int"),
        ("min(features.user_orders_1h, 2)", "int"),
        ("max(features.user_orders_1h, 2.0)", "float"),
        ("coalesce(features.user_age_s, 0)", "float"),
        ("coalesce(event.type, None)", "str"),
        ("hour_of_day(event.ts, -5)", "int"),
        ("ratio(1, 2)", "float"),
        ("abs(scores.scalper)", "float"),
    ],
)
def test_result_types(source: str, kind: str) -> None:
    assert compile_expression(source, CATALOGUE, expect=None).type == kind


def test_unknown_name_suggests_the_closest_and_points_at_it() -> None:
    (problem,) = problems("features.user_orders_1h > 2 and features.user_ordres_1h > 3")
    assert problem.message == "unknown name 'features.user_ordres_1h'"
    assert problem.suggestion == "features.user_orders_1h"
    assert (problem.line, problem.column) == (1, 33)


def test_unknown_bare_name_suggests_a_full_path() -> None:
    (problem,) = problems("total > 3")
    assert problem.suggestion == "event.props.total"
    assert "rules read event.*, features.* and scores.*" in problem.message


def test_group_names_are_not_values() -> None:
    (problem,) = problems("event.props.payment == 'x'")
    assert problem.message.startswith("'event.props.payment' is a group of fields, not a value")


def test_function_used_as_a_name() -> None:
    (problem,) = problems("lower == 'x'")
    assert problem.message == "'lower' is a function: call it, as in lower(...)"


def test_suggest_name() -> None:
    assert suggest_name("event.props.totl", CATALOGUE) == "event.props.total"
    assert suggest_name("instrument_id", CATALOGUE) == "event.props.payment.instrument_id"
    assert suggest_name("zzzzzz", ["event.a"]) is None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("event.props.total > 'big'", "cannot compare float with str ('>')"),
        ("event.type == 3", "cannot compare str with int ('==')"),
        ("event.props.success > False", "cannot compare bool with bool ('>')"),
        ("event.props.success == 1", "cannot compare bool with int ('==')"),
        ("event.type + 'x' == 'y'", "arithmetic on strings is not allowed ('+')"),
        ("event.props.success + 1 > 0", "cannot apply '+' to bool and int"),
        ("event.props.total + None > 0", "arithmetic with None is always null ('+')"),
        ("event.props.total == None", "comparison with None is always null ('==')"),
        ("-event.type == 'x'", "cannot negate str"),
        ("event.props.total and event.props.success", "operand of 'and' must be bool, not float"),
        ("not event.type", "operand of 'not' must be bool, not str"),
        ("event.type in 'abc'", "'in' needs a list on its right, not str"),
        ("event.props.total in ['a', 'b']", "cannot look for float in list[str]"),
        ("event.type in [1, 'a']", "list mixes values of different types"),
        (
            "event.derived.text_url_domains == 'x'",
            "cannot compare list[str] with str; use 'in' for lists",
        ),
        (
            "event.derived.text_url_domains in ['x']",
            "'in' needs a single value on its left, not list[str]",
        ),
        ("event.props.total", "a rule must be bool, but this expression is float"),
        (
            "lower(event.props.total) == 'x'",
            "argument 1 of lower() must be str, not float (lower(str) -> str)",
        ),
        ("lower(event.type, 1) == 'x'", "lower() takes 1 argument, got 2 (lower(str) -> str)"),
        (
            "coalesce(event.type, 1) == 'x'",
            "arguments of coalesce() must share a type, not str and int",
        ),
        ("in_list(event.user_id, event.type)", "argument 2 of in_list() must be a literal string"),
    ],
)
def test_type_errors(source: str, message: str) -> None:
    assert [p.message for p in problems(source)] == [message]


def test_unknown_function_suggests_the_closest() -> None:
    (problem,) = problems("lowr(event.type) == 'x'")
    assert (problem.message, problem.suggestion) == ("unknown function 'lowr'", "lower")


def test_reports_all_problems_without_cascading() -> None:
    found = messages(
        "features.user_ordrs_1h + 1 > 2 and event.type > 1\n"
        "  or lowr(event.typo) and event.props.total"
    )
    assert found == [
        "1:1: unknown name 'features.user_ordrs_1h' (did you mean 'features.user_orders_1h'?)",
        "1:36: cannot compare str with int ('>')",
        "2:11: unknown name 'event.typo' (did you mean 'event.type'?)",
        "2:6: unknown function 'lowr' (did you mean 'lower'?)",
        "2:27: operand of 'and' must be bool, not float",
    ]


def test_list_names_are_checked_against_a_given_store() -> None:
    lists = ListStore({"vip_users": {}})
    (problem,) = problems('in_list(event.user_id, "vip_user")', lists=lists)
    assert (problem.message, problem.suggestion) == ("unknown list 'vip_user'", "vip_users")
    # Without a store, any name is accepted: the lists are filled in later.
    assert compile_expression('in_list(event.user_id, "anything")', CATALOGUE).type == "bool"
    relaxed = compile_expression(
        'in_list(event.user_id, "later")', CATALOGUE, lists=lists, check_lists=False
    )
    assert relaxed.type == "bool"


def test_nullable_bool_operands_are_fine() -> None:
    compiled = compile_expression(
        "not event.derived.email_disposable or is_null(features.user_age_s)", CATALOGUE
    )
    assert compiled.type == "bool"
