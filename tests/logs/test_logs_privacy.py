"""No raw e-mail, phone, address, name or IP in any log file: pseudonyms only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from rampart.logs.layout import parts


def _raw_pii(events: Path) -> set[str]:
    found: set[str] = set()
    for line in events.read_text().splitlines():
        event = json.loads(line)
        if event.get("ip"):
            found.add(event["ip"])
        props = event.get("props", {})
        for key in ("email", "phone", "name"):
            if isinstance(props.get(key), str):
                found.add(props[key])
        if isinstance(props.get("new_value"), str):
            found.add(props["new_value"])
        address = props.get("shipping_address") or {}
        if isinstance(address, dict) and address.get("line1"):
            found.add(address["line1"])
    return {value for value in found if len(value) >= 6}


def _strings(frame: pl.DataFrame) -> set[str]:
    values: set[str] = set()
    for name, dtype in frame.schema.items():
        column = frame[name]
        if dtype == pl.String():
            values.update(v for v in column.drop_nulls().to_list())
        elif dtype == pl.List(pl.String()):
            values.update(v for v in column.explode().drop_nulls().to_list())
    return values


def test_no_log_value_is_raw_pii(scored_world: Any) -> None:
    raw = _raw_pii(scored_world.world / "events.jsonl")
    kinds = {"ip": 0, "email": 0}
    for value in raw:
        kinds["ip" if value.count(".") == 3 and value.replace(".", "").isdigit() else "email"] += 1
    assert kinds["ip"] > 100
    assert kinds["email"] > 50
    logged: set[str] = set()
    for table in ("decisions", "verdicts"):
        for _, _, path in parts(scored_world.logs, table):
            logged |= _strings(pl.read_parquet(path))
    assert logged
    assert not {value for value in logged if any(r in value for r in raw)}


def test_ip_verdicts_name_the_pseudonym_not_the_address(scored_world: Any) -> None:
    answered = [
        json.loads(line) for line in (scored_world.out / "verdicts.jsonl").read_text().splitlines()
    ]
    ip_verdicts = [v for v in answered if v["entity_type"] == "ip"]
    addresses = {v["entity_id"] for v in ip_verdicts}
    assert addresses  # the world has address verdicts, named in clear to the caller
    logged = pl.concat(
        pl.read_parquet(path) for _, _, path in parts(scored_world.logs, "verdicts")
    ).filter(pl.col("entity_type") == "ip")
    assert logged.height == len(ip_verdicts)
    assert logged["entity_id"].n_unique() == len(addresses)
    assert all(ip.startswith("ip_") for ip in logged["entity_id"])
    assert not set(logged["entity_id"]) & addresses


def test_no_file_of_the_log_holds_raw_bytes_of_pii(scored_world: Any) -> None:
    raw = _raw_pii(scored_world.world / "events.jsonl")
    for path in scored_world.logs.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [value for value in raw if value.encode() in data], path
