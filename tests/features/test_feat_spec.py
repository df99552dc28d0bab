"""Parsing feature specs: every problem reported, located, with the closest valid name."""

from __future__ import annotations

from typing import Any

import pytest

from rampart.features.spec import (
    FeatureSpec,
    SpecError,
    feature_catalogue,
    parse_feature_specs,
    parse_window,
)


def errors_of(raw: Any) -> list[str]:
    _, errors = parse_feature_specs(raw, "features.yaml")
    assert all(isinstance(error, SpecError) for error in errors)
    return [str(error) for error in errors]


def test_every_problem_of_every_feature_is_reported() -> None:
    errors = errors_of(
        [
            {"name": "Bad Name", "agg": "cnt", "keys": ["usr"], "window": "3 hours", "wher": {}},
            {"name": "ok", "agg": "count", "keys": ["user"]},
            {"name": "bad_field", "agg": "sum", "keys": ["user"], "field": "event.props.amout"},
        ]
    )
    assert errors == [
        "features.yaml: feature `Bad Name`: `wher`: unknown key; did you mean 'where'?",
        "features.yaml: feature `Bad Name`: `name`: 'Bad Name' must match [a-z][a-z0-9_]*",
        "features.yaml: feature `Bad Name`: `agg`: unknown agg 'cnt'; did you mean 'count'?",
        "features.yaml: feature `Bad Name`: `keys`: unknown entity kind 'usr';"
        " did you mean 'user'?",
        "features.yaml: feature `Bad Name`: `window`: '3 hours' is not a duration like 30s, 10m,"
        " 1h, 7d",
        "features.yaml: feature `bad_field`: `field`: unknown event field 'event.props.amout';"
        " did you mean 'event.props.amount'?",
    ]


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"agg": "count", "keys": []}, "`name`: required"),
        ({"name": "x", "keys": []}, "`agg`: required, one of count"),
        ({"name": "x", "agg": "count"}, "`keys`: required: entity kinds such as [user]"),
        ({"name": "x", "agg": "count", "keys": ["user", "user"]}, "is repeated"),
        ({"name": "x", "agg": "count", "keys": [], "window": "91d"}, "longer than 90d"),
        ({"name": "x", "agg": "count", "keys": [], "window": 60}, "60 is not a duration"),
        ({"name": "x", "agg": "count", "keys": [], "field": "user"}, "`count` takes no field"),
        ({"name": "x", "agg": "max", "keys": []}, "`field`: required for `max`"),
        ({"name": "x", "agg": "max", "keys": [], "field": "event.props.currency"},
         "`max` needs a float or int field; 'event.props.currency' is str"),
        ({"name": "x", "agg": "sum", "keys": [], "field": "amount"},
         "did you mean 'event.props.amount'?"),
        ({"name": "x", "agg": "distinct_count", "keys": [], "field": "devise"},
         "did you mean 'device'?"),
        ({"name": "x", "agg": "count", "keys": [], "where": {"event.type": "order.create"}},
         "unknown event type 'order.create'; did you mean 'order.created'?"),
        ({"name": "x", "agg": "count", "keys": [], "where": {"event.props.sucess": True}},
         "did you mean 'event.props.success'?"),
        ({"name": "x", "agg": "count", "keys": [], "where": {"event.props.success": "yes"}},
         "'yes' is not a bool"),
        ({"name": "x", "agg": "count", "keys": [], "where": {"event.props.coupon_ids": "c"}},
         "is a list; filters compare single values"),
        ({"name": "x", "agg": "count", "keys": [], "where": {"event.props.status": []}},
         "an empty list of values matches no event"),
        ({"name": "x", "agg": "count", "keys": [], "where": "login"}, "must be a mapping"),
        ({"name": "x", "agg": "count", "keys": [], "numerator": "y"}, "only a `ratio` takes"),
        ({"name": "x", "agg": "ratio", "numerator": "nope", "denominator": "x"},
         "no feature named 'nope'"),
        ({"name": "x", "agg": "sum", "keys": [], "source": "labels", "field": "event.props.total"},
         "label-fed features count labels"),
        ({"name": "x", "agg": "count", "keys": [], "label_area": "scalper"},
         "only features with `source: labels` take a label_area"),
        ({"name": "x", "agg": "count", "keys": [], "source": "labels", "label_area": "scalping"},
         "did you mean 'scalper'?"),
        ({"name": "x", "agg": "count", "keys": [], "source": "stream"}, "unknown source 'stream'"),
        ("count", "a feature must be a mapping, not str"),
    ],
)  # fmt: skip
def test_each_problem_is_explained(feature: Any, message: str) -> None:
    errors = errors_of([feature])
    assert any(message in error for error in errors), errors


def test_ratios_need_valid_numeric_parts() -> None:
    errors = errors_of(
        [
            {"name": "n", "agg": "count", "keys": ["user"]},
            {"name": "broken", "agg": "count", "keys": ["usr"]},
            {"name": "last", "agg": "last_value", "keys": ["user"], "field": "device"},
            {"name": "r1", "agg": "ratio", "numerator": "n", "denominator": "broken"},
            {"name": "r2", "agg": "ratio", "numerator": "last", "denominator": "n"},
            {"name": "r3", "agg": "ratio", "numerator": "r1", "denominator": "n"},
        ]
    )
    assert "features.yaml: feature `r1`: `denominator`: feature 'broken' is invalid" in errors[1]
    assert any("`r2`: `numerator`: 'last' is str, not a number" in e for e in errors)
    assert any("`r3`: `numerator`: 'r1' is itself a ratio" in e for e in errors)


def test_a_duplicate_name_is_reported() -> None:
    errors = errors_of([{"name": "n", "agg": "count", "keys": []}] * 2)
    assert errors == ["features.yaml: feature `n`: `name`: 'n' is declared twice"]


def test_a_pack_that_is_not_a_list() -> None:
    assert errors_of({"name": "n"}) == [
        "features.yaml: the feature list must be a list of mappings, not dict"
    ]


def test_valid_specs_and_their_types() -> None:
    specs, errors = parse_feature_specs(
        [
            {"name": "n", "agg": "count", "keys": "user", "window": "10m"},
            {"name": "total", "agg": "sum", "keys": ["seller", "user"],
             "field": "event.props.total"},
            {"name": "quantity", "agg": "sum", "keys": [], "field": "event.props.quantity"},
            {"name": "top", "agg": "max", "keys": ["user"], "field": "event.props.quantity"},
            {"name": "avg", "agg": "mean", "keys": ["user"], "field": "event.props.quantity"},
            {"name": "users", "agg": "distinct_count", "keys": ["device"], "field": "user"},
            {"name": "coupons", "agg": "distinct_count", "keys": ["user"],
             "field": "event.props.coupon_ids"},
            {"name": "age", "agg": "age", "keys": ["user"], "window": "90d"},
            {"name": "seen", "agg": "first_seen", "keys": ["user"]},
            {"name": "gap", "agg": "time_since_last", "keys": ["user"]},
            {"name": "country", "agg": "last_value", "keys": ["user"],
             "field": "event.geo.country"},
            {"name": "success", "agg": "last_value", "keys": ["user"],
             "field": "event.props.success"},
            {"name": "share", "agg": "ratio", "numerator": "n", "denominator": "users"},
            {"name": "fraud", "agg": "count", "keys": ["seller"], "source": "labels",
             "window": "30d", "label_area": "malicious_activity"},
        ],
        "pack",
    )  # fmt: skip
    assert errors == []
    assert feature_catalogue(specs) == {
        "features.n": "int",
        "features.total": "float",
        "features.quantity": "int",
        "features.top": "int",
        "features.avg": "float",
        "features.users": "int",
        "features.coupons": "int",
        "features.age": "float",
        "features.seen": "float",
        "features.gap": "float",
        "features.country": "str",
        "features.success": "bool",
        "features.share": "float",
        "features.fraud": "int",
    }
    assert specs[0].keys == ("user",)
    assert specs[0].window_seconds == 600


def test_windows() -> None:
    assert [parse_window(w) for w in ("30s", "10m", "1h", "24h", "7d", "90d", "lifetime")] == [
        30, 600, 3600, 86_400, 604_800, 7_776_000, None,
    ]  # fmt: skip
    for bad in ("0s", "1w", "1.5h", "h", "", "91d"):
        with pytest.raises(ValueError, match=repr(bad)):
            parse_window(bad)


def test_specs_are_frozen_values() -> None:
    spec = FeatureSpec(name="n", agg="count", keys=("user",))
    with pytest.raises(AttributeError):
        spec.name = "m"  # type: ignore[misc]
