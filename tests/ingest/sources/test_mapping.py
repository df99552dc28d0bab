"""The field-mapping file: every feature on a happy path; validation that lists every problem."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import orjson
import pytest

from rampart.contract.events import OrderCreated, Payment, PaymentAttempt
from rampart.contract.validate import parse_line
from rampart.ingest.sources.mapping import FieldMapping, MappingError, load_mapping
from rampart.ingest.sources.tabular import ConversionError, apply_mapping

ORDERS_YAML = """\
event_id: txn_id
type: {column: evt, values: {ORDER: order.created, PAY: payment.attempt}}
ts: {column: created_at, format: "%Y-%m-%d %H:%M:%S", timezone: "+08:00"}
user_id: customer_id
device.id: device_fp
ip: client_ip
geo.country: country
props:
  order_id: order_no
  seller_id: {const: s-1}
  total: amount                     # float, from the contract
  amount: amount
  currency: {const: SGD}
  success: {column: outcome, values: {OK: true, KO: false, UNKNOWN: null}}
  items: {column: items_json, type: json}
  payment.instrument_id: card_token
  x_channel: {column: channel}
  x_version: {const: 3}
keep_unmapped: true
null_values: ["NULL", "n/a"]
"""

ROW = {
    "txn_id": "t-1",
    "evt": "ORDER",
    "created_at": "2026-03-01 20:15:00",
    "customer_id": "c-9",
    "device_fp": "fp-1",
    "client_ip": "203.0.113.7",
    "country": "SG",
    "order_no": "o-1",
    "amount": " 12.50 ",
    "outcome": "OK",
    "items_json": '[{"item_id": "i1", "quantity": 2, "unit_price": 6.25}]',
    "card_token": "NULL",
    "channel": "app",
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def test_every_feature_of_a_yaml_mapping(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, "orders.yaml", ORDERS_YAML))
    assert mapping.rules[0].target == "event_id"
    assert mapping.keep_unmapped
    assert "card_token" in mapping.columns

    event = apply_mapping(mapping, ROW)

    assert event == {
        "event_id": "t-1",
        "type": "order.created",
        "ts": "2026-03-01T20:15:00+08:00",
        "user_id": "c-9",
        "device": {"id": "fp-1"},
        "ip": "203.0.113.7",
        "geo": {"country": "SG"},
        "props": {
            "order_id": "o-1",
            "seller_id": "s-1",
            "total": 12.5,
            "amount": 12.5,
            "currency": "SGD",
            "success": True,
            "items": [{"item_id": "i1", "quantity": 2, "unit_price": 6.25}],
            "x_channel": "app",
            "x_version": 3,
        },
    }
    decoded = parse_line(_json(event), 1)
    assert isinstance(decoded, OrderCreated)
    assert decoded.props.items[0].quantity == 2


def test_value_maps_pass_unknown_values_and_null_drops_the_field() -> None:
    mapping = load_mapping_from(
        {
            "event_id": "id",
            "type": {"column": "evt", "values": {"PAY": "payment.attempt"}},
            "ts": "at",
            "props.success": {"column": "ok", "values": {"UNKNOWN": None, "1": True}},
        }
    )
    row = {"id": "e", "evt": "payment.attempt", "at": "2026-03-01T00:00:00Z", "ok": "UNKNOWN"}
    event = apply_mapping(mapping, row)
    assert event["type"] == "payment.attempt"
    assert "props" not in event
    assert apply_mapping(mapping, {**row, "ok": "1"})["props"] == {"success": True}
    assert apply_mapping(mapping, {**row, "ok": 1})["props"] == {"success": True}


@pytest.mark.parametrize(
    ("spec", "cell", "expected"),
    [
        ({"format": "epoch_s"}, "1772366400", "2026-03-01T12:00:00Z"),
        ({"format": "epoch_ms"}, 1772366400123, "2026-03-01T12:00:00.123000Z"),
        (
            {"format": "epoch_ms", "timezone": "Asia/Singapore"},
            "1772366400000",
            "2026-03-01T20:00:00+08:00",
        ),
        ({}, "2026-03-01T12:00:00+02:00", "2026-03-01T12:00:00+02:00"),
        ({}, "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"),
        ({"timezone": "UTC"}, "2026-03-01 12:00:00", "2026-03-01T12:00:00Z"),
        ({"timezone": "-0700"}, "2026-03-01 12:00", "2026-03-01T12:00:00-07:00"),
        # A zone name follows daylight saving time; a fixed offset would be an hour off in July.
        ({"timezone": "Europe/Paris"}, "2026-07-01 12:00:00", "2026-07-01T12:00:00+02:00"),
        ({"timezone": "Europe/Paris"}, "2026-01-01 12:00:00", "2026-01-01T12:00:00+01:00"),
        ({"format": "%d/%m/%Y %H:%M %z"}, "01/03/2026 12:00 +0530", "2026-03-01T12:00:00+05:30"),
        # An offset in the value wins over the mapping's timezone, which is for naive values.
        ({"timezone": "+08:00"}, "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"),
    ],
)
def test_timestamps(spec: dict[str, Any], cell: object, expected: str) -> None:
    mapping = load_mapping_from(
        {
            "event_id": "id",
            "type": {"const": "page.view"},
            "ts": {"column": "at", **spec},
            "props.path": "p",
        }
    )
    assert apply_mapping(mapping, {"id": "e", "at": cell, "p": "/"})["ts"] == expected


@pytest.mark.parametrize(
    ("spec", "cell", "reason"),
    [
        ({"column": "n", "type": "float"}, "abc", "column `n`: 'abc' is not a number"),
        ({"column": "n", "type": "float"}, "nan", "column `n`: 'nan' is not a number"),
        ({"column": "n", "type": "int"}, "2.5", "column `n`: '2.5' is not an integer"),
        ({"column": "n", "type": "bool"}, "maybe", "column `n`: 'maybe' is not a boolean"),
        ({"column": "n", "type": "json"}, "[1,", "column `n`: '[1,' is not valid JSON"),
        ({"column": "n", "type": "string"}, [1], "column `n`: [1] is a list or object, not text"),
    ],
)
def test_conversion_errors_name_the_column_and_the_value(
    spec: dict[str, Any], cell: object, reason: str
) -> None:
    mapping = load_mapping_from(
        {"event_id": "id", "type": {"const": "page.view"}, "ts": "at", "props.x_n": spec}
    )
    with pytest.raises(ConversionError) as info:
        apply_mapping(mapping, {"id": "e7", "at": "2026-03-01T00:00:00Z", "n": cell})
    assert info.value.path == "props.x_n"
    assert info.value.event_id == "e7"
    assert info.value.reason.startswith(reason)


def test_timestamp_errors() -> None:
    mapping = load_mapping_from(
        {
            "event_id": "id",
            "type": {"const": "page.view"},
            "ts": {"column": "at", "format": "%Y-%m-%d %H:%M", "timezone": "UTC"},
        }
    )
    with pytest.raises(ConversionError, match=r"'01/03/2026' is not a timestamp in `%Y-%m-%d"):
        apply_mapping(mapping, {"id": "e", "at": "01/03/2026"})
    naive = load_mapping_from({"event_id": "id", "type": {"const": "page.view"}, "ts": "at"})
    with pytest.raises(ConversionError, match="has no offset and the mapping gives no `timezone`"):
        apply_mapping(naive, {"id": "e", "at": "2026-03-01 12:00:00"})
    with pytest.raises(ConversionError, match="is a number: set `format: epoch_s`"):
        apply_mapping(naive, {"id": "e", "at": 1772366400})


def test_pii_values_never_appear_in_errors() -> None:
    mapping = load_mapping_from(
        {
            "event_id": "id",
            "type": {"const": "order.created"},
            "ts": "at",
            "props.shipping_address": {"column": "addr", "type": "json"},
        }
    )
    with pytest.raises(ConversionError) as info:
        apply_mapping(mapping, {"id": "e", "at": "2026-03-01T00:00:00Z", "addr": "{1 Main St"})
    assert "Main" not in str(info.value)
    assert "column `addr`: the value is not valid JSON" in info.value.reason


def test_empty_and_null_cells_are_left_out(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, "orders.yaml", ORDERS_YAML))
    row = {**ROW, "device_fp": "  ", "country": "n/a", "client_ip": None, "amount": float("nan")}
    event = apply_mapping(mapping, row)
    assert {"device", "geo", "ip"}.isdisjoint(event)
    assert {"total", "amount"}.isdisjoint(event["props"])


def test_toml_mapping_with_nested_tables_and_dotted_keys(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "payments.toml",
        """\
        event_id = "id"
        type = { const = "payment.attempt" }
        ts = { column = "at", format = "epoch_s" }
        user_id = "uid"

        [props]
        order_id = "order"
        amount = "amt"
        currency = { const = "EUR" }
        success = { column = "ok", type = "bool" }
        payment.instrument_id = "card"

        [csv]
        delimiter = ";"
        encoding = "cp1252"
        """,
    )
    mapping = load_mapping(path)
    assert mapping.csv.delimiter == ";"
    assert mapping.csv.encoding == "cp1252"
    row = {
        "id": "p1",
        "at": "1772366400",
        "uid": "u",
        "order": "o",
        "amt": "9",
        "ok": "yes",
        "card": "tok",
    }
    decoded = parse_line(_json(apply_mapping(mapping, row)), 1)
    assert isinstance(decoded, PaymentAttempt)
    assert isinstance(decoded.props.payment, Payment)
    assert decoded.props.payment.instrument_id == "tok"
    assert decoded.props.amount == 9.0


def test_mapping_file_validation_lists_every_problem(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad.yaml",
        """\
        event_id: {column: id, type: int}
        type: order.created
        user_id: {column: uid, const: u}
        props.totl: amount
        props.total: {column: amount, type: money}
        props.items.item_id: sku
        device.platform: {column: os, format: "%Y"}
        geo: {column: geo, type: string}
        props.currency: {const: 5}
        props.payment: {column: pay, type: json}
        props.payment.bin: bin
        props.order_id: {column: o, sort: asc}
        ts: {column: at, format: "%Y-%m-%d %H:%M", timezone: Mars/Olympus}
        keep_unmapped: sometimes
        csv: {delimiter: ";;", encoding: utf-16}
        """,
    )
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    problems = info.value.problems
    expected = [
        "`event_id`: is text in the contract: type `int` cannot fill it, use string",
        "`type`: `order.created` is an event type: write {const: order.created}",
        "`user_id`: give exactly one of `column` and `const`",
        "`props.totl`: is not a field of the contract (did you mean `props.total`?)",
        "`props.total`: unknown type `money` (known: string, int, float, bool, json, timestamp)",
        "`props.items.item_id`: `props.items` is a list: map it whole (type: json)",
        "`device.platform`: `format` and `timezone` apply to timestamps only",
        "`geo`: is an object in the contract: type `string` cannot fill it, use a JSON column",
        "`props.currency`: `const` 5 is not of type string",
        "`props.payment.bin`: lies inside `props.payment`, which is mapped whole",
        "`props.order_id`: unknown keys sort",
        "`ts`: unknown timezone `Mars/Olympus`",
        "`keep_unmapped`: must be true or false",
        "`csv.delimiter`: must be one character",
        "`csv.encoding`: `utf-16` is unknown or not ASCII-compatible",
    ]
    for text in expected:
        assert any(p.startswith("bad.yaml: ") and text in p for p in problems), text
    assert len(problems) == len(expected)
    assert str(info.value).startswith(f"{len(expected)} problems with mapping bad.yaml:")


def test_required_fields_and_props_of_the_chosen_type() -> None:
    with pytest.raises(MappingError) as info:
        load_mapping_from(
            {
                "event_id": "id",
                "type": {"const": "account.login"},
                "props.order_id": "o",
                "props.success": "ok",
            }
        )
    assert info.value.problems == [
        "m.yaml: `props.order_id`: is not a field of `account.login`",
        "m.yaml: `ts`: is required: map a column to it or give a {const: ...}",
    ]


def test_unknown_event_types_in_consts_and_value_maps() -> None:
    with pytest.raises(MappingError) as info:
        load_mapping_from({"event_id": "id", "type": {"const": "order.refunded"}, "ts": "at"})
    assert "`order.refunded` is not an event type" in str(info.value)
    with pytest.raises(MappingError, match="maps to unknown event types login"):
        load_mapping_from(
            {"event_id": "id", "ts": "at", "type": {"column": "e", "values": {"L": "login"}}}
        )


def test_format_without_offset_needs_a_timezone() -> None:
    with pytest.raises(MappingError, match="the format has no %z: give `timezone`"):
        load_mapping_from(
            {
                "event_id": "id",
                "type": {"const": "page.view"},
                "ts": {"column": "at", "format": "%Y-%m-%d"},
            }
        )


def test_unparseable_file_and_wrong_top_level(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"broken\.yaml: cannot be parsed"):
        load_mapping(_write(tmp_path, "broken.yaml", "event_id: [unclosed\n"))
    with pytest.raises(MappingError, match="must be a table"):
        load_mapping(_write(tmp_path, "list.yaml", "- event_id\n"))


def test_check_columns_names_missing_and_repeated_columns(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, "orders.yaml", ORDERS_YAML))
    header = [c for c in ROW if c != "amount"] + ["amt", "txn_id"]
    with pytest.raises(MappingError) as info:
        mapping.check_columns(header, "orders.csv")
    assert info.value.problems[:2] == [
        "orders.csv: column `txn_id` (for `event_id`) is in it 2 times",
        "orders.csv: column `amount` (for `props.total`) is not in it (did you mean `amt`?)",
    ]
    assert info.value.problems[2].startswith("orders.csv: its columns are txn_id, evt")


def load_mapping_from(data: dict[str, Any]) -> FieldMapping:
    return FieldMapping.from_dict(data, origin="m.yaml")


def _json(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)
