"""Each way a label line can be wrong gets its line, its label, its field and its reason."""

from __future__ import annotations

import pytest
from tests.records.conftest import SECRET

from rampart.contract.outputs import Label
from rampart.ingest.pii import Pseudonymizer
from rampart.records.entities import EntityKeeper
from rampart.records.validation import LabelProblem, parse_label

GOOD = b'{"entity_type":"user","entity_id":"u1","area":"scalper","label":1'


def _problem(raw: bytes, keeper: EntityKeeper | None = None) -> LabelProblem:
    parsed = parse_label(raw, 12, keeper or EntityKeeper(None))
    assert isinstance(parsed, LabelProblem), parsed
    return parsed


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        (b'{"entity_type":"user","entity_id":"u1","area":"scalper"}', "label", "is required"),
        (b'{"entity_type":"user","area":"scalper","label":1}', "entity_id", "is required"),
        (GOOD + b',"label":"1"}', "label", "must be an integer, got a string"),
        (GOOD.replace(b'"label":1', b'"label":2') + b"}", "label", "2 is not an allowed value"),
        (GOOD.replace(b"user", b"buyer") + b"}", "entity_type", "'buyer' is not an allowed"),
        (GOOD + b',"source":"rumour"}', "source", "'rumour' is not an allowed value"),
        (GOOD + b',"ts":"yesterday"}', "ts", "is not an RFC 3339 timestamp"),
        (GOOD + b',"ts":"2026-03-01T10:00:00"}', "ts", "without an offset"),
        (GOOD + b',"campaign":7}', "campaign", "must be a string, got an integer"),
        (GOOD.replace(b'"u1"', b'" "') + b"}", "entity_id", "must not be empty"),
    ],
)
def test_field_problems(raw: bytes, path: str, reason: str) -> None:
    problem = _problem(raw)
    assert problem.line == 12
    assert problem.path == path
    assert reason in problem.reason
    assert str(problem).startswith("line 12")


def test_the_label_is_named_in_the_problem() -> None:
    problem = _problem(GOOD + b',"source":"rumour"}')
    assert problem.label == "user u1 in scalper"
    assert str(problem) == (
        "line 12, label user u1 in scalper: source: 'rumour' is not an allowed value "
        "(allowed: review, chargeback, appeal, report, simulation)"
    )


def test_allowed_areas_are_listed() -> None:
    problem = _problem(GOOD.replace(b"scalper", b"scalping") + b"}")
    assert "(allowed: account_integrity, " in problem.reason


def test_lines_that_are_not_labels_at_all() -> None:
    assert _problem(b"{not json").reason.startswith("the line is not valid JSON")
    assert _problem(b"[1, 2]").reason == "a label must be a JSON object, got a list"
    assert _problem(b'"text"').label is None


def test_a_pii_id_is_never_shown_raw() -> None:
    raw = b'{"entity_type":"ip","entity_id":"203.0.113.7","area":"scalper","label":5}'
    without_secret = _problem(raw)
    assert without_secret.label == "ip <ip withheld> in scalper"
    with_secret = _problem(raw, EntityKeeper(Pseudonymizer(SECRET)))
    assert with_secret.label is not None
    assert with_secret.label.startswith("ip ip_")
    assert "203.0.113.7" not in str(without_secret) + str(with_secret)


def test_a_pii_id_without_a_secret_is_a_problem_of_its_field() -> None:
    problem = _problem(b'{"entity_type":"user","entity_id":"a@b.io","area":"scalper","label":1}')
    assert problem.path == "entity_id"
    assert "pseudonymisation secret" in problem.reason
    assert "a@b.io" not in str(problem)


def test_a_good_line_comes_back_typed_and_kept() -> None:
    keeper = EntityKeeper(Pseudonymizer(SECRET))
    raw = b'{"entity_type":"ip","entity_id":"203.0.113.7","area":"scalper","label":1,"x":1}'
    parsed = parse_label(raw, 1, keeper)
    assert isinstance(parsed, Label)
    assert parsed.entity_id == keeper.keep("ip", "203.0.113.7")
