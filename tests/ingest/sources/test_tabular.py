"""CSV and Parquet sources: real files, bad rows in the middle, output decoded by the contract."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rampart.contract.events import Event, OrderCreated
from rampart.contract.validate import ContractError, parse_line
from rampart.ingest.sources.base import SourceItem, SourceRecord
from rampart.ingest.sources.mapping import FieldMapping, MappingError
from rampart.ingest.sources.tabular import CsvSource, ParquetSource

ORDERS = FieldMapping.from_dict(
    {
        "event_id": "txn_id",
        "type": {"const": "order.created"},
        "ts": {"column": "created_at", "format": "%Y-%m-%d %H:%M:%S", "timezone": "+08:00"},
        "user_id": "customer_id",
        "props": {
            "order_id": "order_no",
            "seller_id": {"const": "s1"},
            "total": {"column": "amount", "type": "float"},
            "currency": {"const": "SGD"},
            "items": {"column": "items_json", "type": "json"},
        },
    },
    origin="orders.yaml",
)
ITEMS = '"[{""item_id"": ""i1"", ""quantity"": 1, ""unit_price"": 5}]"'
HEADER = "txn_id,created_at,customer_id,order_no,amount,items_json\n"


def _row(n: int, amount: str = "5.00") -> str:
    return f"t{n},2026-03-01 10:00:0{n},c{n},o{n},{amount},{ITEMS}\n"


def _split(items: list[SourceItem]) -> tuple[dict[int, Event], list[ContractError]]:
    """Decode every record as the caller does; errors of the source and the contract, in order."""
    events: dict[int, Event] = {}
    errors: list[ContractError] = []
    for item in items:
        decoded = item if isinstance(item, ContractError) else parse_line(item.raw, item.line)
        if isinstance(decoded, ContractError):
            errors.append(decoded)
        else:
            events[item.line] = decoded
    return events, errors


def _props(event: Event) -> dict[str, Any]:
    props: dict[str, Any] = msgspec.to_builtins(event.props)
    return props


def test_csv_bad_row_in_the_middle_is_reported_and_the_rows_around_it_go_through(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + _row(1) + _row(2, amount="abc") + _row(3))

    events, errors = _split(list(CsvSource(path, ORDERS)))

    assert sorted(events) == [2, 4]
    assert errors == [
        ContractError(
            line=3,
            event_id="t2",
            path="props.total",
            reason="column `amount`: 'abc' is not a number",
        )
    ]
    first = events[2]
    assert isinstance(first, OrderCreated)
    assert first.ts == dt.datetime(2026, 3, 1, 10, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert first.props.total == 5.0
    assert first.props.items[0].item_id == "i1"


def test_csv_line_numbers_are_physical_lines(tmp_path: Path) -> None:
    # A quoted field spanning lines, blank lines and CRLF endings: numbers match an editor's.
    mapping = FieldMapping.from_dict(
        {
            "event_id": "id",
            "type": {"const": "message.sent"},
            "ts": "at",
            "user_id": "u",
            "props": {"conversation_id": {"const": "c"}, "recipient_id": "to", "text": "body"},
        }
    )
    text = (
        "id,at,u,to,body\r\n"
        'm1,2026-03-01T10:00:00Z,u1,u2,"hello\r\nthere"\r\n'
        "\r\n"
        "m2,2026-03-01T10:01:00Z,u1,u2,bye\r\n"
    )
    path = tmp_path / "messages.csv"
    path.write_bytes(text.encode())

    events, errors = _split(list(CsvSource(path, mapping)))

    assert errors == []
    assert sorted(events) == [2, 5]
    assert _props(events[2])["text"] == "hello\r\nthere"


def test_gzip_csv(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write(HEADER + _row(1) + _row(2))
    events, errors = _split(list(CsvSource(path, ORDERS)))
    assert (sorted(events), errors) == ([2, 3], [])


def test_csv_rows_the_csv_layer_rejects_do_not_stop_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    lines = [
        HEADER.encode(),
        _row(1).encode(),
        b"t2,too,few\n",  # line 3: ragged
        _row(3).replace("c3", "c\xe9").encode("latin-1"),  # line 4: not UTF-8
        b't4,"2026-03-01 10:00:04"x,c4,o4,5,[]\n',  # line 5: stray text after a quote
        b"t5," + b"9" * 300 + b"\n",  # line 6: longer than the limit
        _row(7).encode(),
    ]
    path.write_bytes(b"".join(lines))

    items = list(CsvSource(path, ORDERS, max_line_bytes=200))
    events, errors = _split(items)

    assert sorted(events) == [2, 7]
    assert [(e.line, e.reason) for e in errors] == [
        (3, "the row has 3 fields, the header has 6"),
        (4, "line 4 is not valid utf-8 (byte 25)"),
        (5, "not a valid CSV row (',' expected after '\"')"),
        (6, "line 6 is longer than 200 bytes"),
    ]


def test_csv_dialect_encoding_and_byte_order_mark_from_the_mapping(tmp_path: Path) -> None:
    mapping = FieldMapping.from_dict(
        {
            "event_id": "id",
            "type": {"const": "account.created"},
            "ts": {"column": "at", "format": "%d.%m.%Y %H:%M", "timezone": "Europe/Berlin"},
            "user_id": "uid",
            "props.email": "mail",
            "props.name": "name",
            "csv": {"delimiter": ";", "encoding": "cp1252"},
            "null_values": ["NULL"],
        }
    )
    path = tmp_path / "signups.csv"
    path.write_bytes(
        b"\xef\xbb\xbfid ;at;uid;mail;name\n"  # a BOM and a stray space in the header
        + "a1;01.03.2026 09:30;u1;x@example.com;Jürgen\n".encode("cp1252")
        + b"a2;01.03.2026 09:31;u2;y@example.com;NULL\n"
    )
    items = list(CsvSource(path, mapping))
    events, errors = _split(items)
    assert errors == []
    assert _props(events[2])["name"] == "Jürgen"
    assert events[2].ts.isoformat() == "2026-03-01T09:30:00+01:00"
    assert isinstance(items[1], SourceRecord)
    assert b'"name"' not in items[1].raw  # NULL is one of this mapping's null_values


def test_a_mapped_column_missing_from_the_file_raises_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER.replace("amount", "amt") + _row(1))
    with pytest.raises(MappingError) as info:
        next(iter(CsvSource(path, ORDERS)))
    assert info.value.problems[0] == (
        "orders.csv: column `amount` (for `props.total`) is not in it (did you mean `amt`?)"
    )


def test_empty_csv_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert list(CsvSource(path, ORDERS)) == []


def test_keep_unmapped_puts_other_columns_under_x_keys(tmp_path: Path) -> None:
    mapping = FieldMapping.from_dict(
        {
            "event_id": "id",
            "type": {"const": "page.view"},
            "ts": "at",
            "props.path": "url",
            "keep_unmapped": True,
        }
    )
    path = tmp_path / "views.csv"
    path.write_text("id,at,url,campaign,blank\nv1,2026-03-01T10:00:00Z,/,spring , \n")
    (item,) = CsvSource(path, mapping)
    assert isinstance(item, SourceRecord)
    assert orjson.loads(item.raw)["x_campaign"] == "spring"
    assert "x_blank" not in orjson.loads(item.raw)
    _split([item])


def test_parquet_with_a_bad_row_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    table = pa.table(
        {
            "txn_id": pa.array([101, 102, 103, 104, 105], pa.int64()),
            "created_at": pa.array(
                [dt.datetime(2026, 3, 1, 10, 0, i) for i in range(5)], pa.timestamp("ns")
            ),
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "order_no": ["o1", "o2", "o3", "o4", "o5"],
            "amount": ["5", "7.5", "abc", None, "1e2"],
            "items_json": ['[{"item_id":"i","quantity":1,"unit_price":5}]'] * 5,
            "unused": [1, 2, 3, 4, 5],
        }
    )
    pq.write_table(table, path, row_group_size=2)
    mapping = FieldMapping.from_dict(
        {
            **{r.target: r.column for r in ORDERS.rules if r.column and r.target != "ts"},
            "type": {"const": "order.created"},
            "ts": {"column": "created_at", "timezone": "UTC"},
            "props": {"seller_id": {"const": "s1"}, "currency": {"const": "SGD"}},
        }
    )

    items = list(ParquetSource(path, mapping, batch_size=2))
    events, errors = _split(items)

    assert [e.line for e in errors] == [3, 4]
    assert errors[0] == ContractError(
        line=3, event_id="103", path="props.total", reason="column `amount`: 'abc' is not a number"
    )
    # Row 4 has no amount: the source leaves it out and the contract names what is missing.
    assert errors[1].path == "props.total"
    assert errors[1].reason == "is required for `order.created`"
    assert sorted(events) == [1, 2, 5]
    assert events[1].event_id == "101"
    assert events[5].ts.isoformat() == "2026-03-01T10:00:04+00:00"
    assert _props(events[5])["total"] == 100.0


def test_parquet_native_types(tmp_path: Path) -> None:
    path = tmp_path / "payments.parquet"
    item_type = pa.list_(pa.struct([("item_id", pa.string()), ("quantity", pa.int32())]))
    ns = 1_772_366_400_123_456_789  # nanosecond precision, which Python's datetime lacks
    table = pa.table(
        {
            "id": ["p1", "p2"],
            "at": pa.array([ns, ns], pa.timestamp("ns", tz="+08:00")),
            "epoch": pa.array([1_772_366_400_000, 1_772_366_400_500], pa.int64()),
            "user": ["u1", "u2"],
            "amount": pa.array([Decimal("12.34"), Decimal("0.10")], pa.decimal128(10, 2)),
            "ok": [True, False],
            "basket": pa.array([[{"item_id": "i1", "quantity": 2}], []], item_type),
        }
    )
    pq.write_table(table, path)
    mapping = FieldMapping.from_dict(
        {
            "event_id": "id",
            "type": {"const": "payment.attempt"},
            "ts": "at",
            "user_id": "user",
            "props": {
                "order_id": {"const": "o"},
                "amount": "amount",
                "currency": {"const": "SGD"},
                "success": "ok",
                "x_basket": {"column": "basket", "type": "json"},
                "x_paid_at": {"column": "epoch", "type": "timestamp", "format": "epoch_ms"},
            },
        }
    )
    items = list(ParquetSource(path, mapping))
    events, errors = _split(items)
    assert errors == []
    assert events[1].ts.isoformat() == "2026-03-01T20:00:00.123456+08:00"
    assert _props(events[1])["amount"] == 12.34
    assert _props(events[2])["success"] is False
    first = items[0]
    assert isinstance(first, SourceRecord)
    props = orjson.loads(first.raw)["props"]
    assert props["x_basket"] == [{"item_id": "i1", "quantity": 2}]
    assert props["x_paid_at"] == "2026-03-01T12:00:00Z"


def test_parquet_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"txn_id": ["t"]}), path)
    with pytest.raises(MappingError, match="column `created_at` \\(for `ts`\\) is not in it"):
        list(ParquetSource(path, ORDERS))
