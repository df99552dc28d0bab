"""Every invalid example of the contract gives the error its document describes."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.contract.events import EVENT_TYPES
from rampart.contract.validate import ContractError, parse_line


def _invalid_errors(contract_dir: Path) -> list[ContractError]:
    lines = (contract_dir / "examples" / "invalid.jsonl").read_bytes().splitlines()
    results = [parse_line(line, number) for number, line in enumerate(lines, start=1)]
    errors = [r for r in results if isinstance(r, ContractError)]
    assert len(errors) == len(results) == 7
    return errors


def test_items_must_not_be_empty(contract_dir: Path) -> None:
    error = _invalid_errors(contract_dir)[0]
    assert (error.line, error.event_id, error.path) == (1, "x1", "props.items")
    assert "at least one item" in error.reason


def test_ts_needs_rfc3339_with_offset(contract_dir: Path) -> None:
    error = _invalid_errors(contract_dir)[1]
    assert (error.line, error.event_id, error.path) == (2, "x2", "ts")
    assert "RFC 3339" in error.reason
    assert "offset" in error.reason


def test_unknown_type_lists_the_known_ones(contract_dir: Path) -> None:
    error = _invalid_errors(contract_dir)[2]
    assert (error.line, error.event_id, error.path) == (3, "x3", "type")
    assert "order.refunded" in error.reason
    assert "not a known event type" in error.reason
    assert all(known in error.reason for known in EVENT_TYPES)


def test_quantity_must_be_an_integer(contract_dir: Path) -> None:
    error = _invalid_errors(contract_dir)[3]
    assert (error.line, error.event_id, error.path) == (4, "x4", "props.quantity")
    assert error.reason == "must be an integer, got a string"


def test_user_id_required_for_coupon_claim(contract_dir: Path) -> None:
    error = _invalid_errors(contract_dir)[4]
    assert (error.line, error.event_id, error.path) == (5, "x5", "user_id")
    assert error.reason == "is required for `coupon.claim`"


def test_event_id_is_required(contract_dir: Path) -> None:
    error = _invalid_errors(contract_dir)[5]
    assert (error.line, error.event_id, error.path) == (6, None, "event_id")
    assert error.reason == "is required"


def test_not_json(contract_dir: Path) -> None:
    error = _invalid_errors(contract_dir)[6]
    assert (error.line, error.event_id, error.path) == (7, None, None)
    assert "not valid JSON" in error.reason
    assert str(error).startswith("line 7: ")


def test_valid_examples_decode(contract_dir: Path) -> None:
    lines = (contract_dir / "examples" / "valid.jsonl").read_bytes().splitlines()
    events = [parse_line(line, n) for n, line in enumerate(lines, start=1)]
    assert [e.type for e in events if not isinstance(e, ContractError)] == [
        "account.created",
        "account.login",
        "page.view",
        "order.created",
        "review.posted",
        "message.sent",
    ]


@pytest.mark.parametrize(
    ("line", "path", "reason"),
    [
        (
            b'{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00Z","ip":"1.2.3",'
            b'"props":{"path":"/"}}',
            "ip",
            "is not an IPv4 or IPv6 address",
        ),
        (
            b'{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00Z",'
            b'"props":{"path":"/","status":700}}',
            "props.status",
            "must be at most 599",
        ),
        (
            b'{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00Z",'
            b'"geo":{"country":"sg"},"props":{"path":"/"}}',
            "geo.country",
            "must be an ISO 3166-1 alpha-2 country code in capitals (e.g. SG)",
        ),
        (
            b'{"event_id":"e","type":"coupon.claim","ts":"2026-03-01T10:00:00Z","user_id":"u",'
            b'"props":{"value":1}}',
            "props.coupon_id",
            "is required for `coupon.claim`",
        ),
        (
            b'{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00Z",'
            b'"props":{"path":"/","target_type":"zzz"}}',
            "props.target_type",
            "'zzz' is not an allowed value (allowed: item, shop, search, live, profile, other)",
        ),
        (
            b'{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00","props":{"path":"/"}}',
            "ts",
            "is an RFC 3339 timestamp without an offset (add Z or e.g. +08:00)",
        ),
        (b"[1]", None, "an event must be a JSON object, got a list"),
    ],
)
def test_more_errors_name_path_and_reason(line: bytes, path: str | None, reason: str) -> None:
    error = parse_line(line, 12)
    assert isinstance(error, ContractError)
    assert error.line == 12
    assert error.path == path
    assert error.reason == reason
