"""The typed model (msgspec) and ``events.schema.json`` accept and reject the same events.

Known, deliberate differences, kept out of the generated cases: JSON Schema counts ``1.0`` as an
integer where the typed model wants ``1``, and the RFC 3339 parsers differ on leap seconds and
basic-format offsets. Everything a producer following the contract sends is judged alike.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from rampart.contract.validate import ContractError, parse_line
from rampart.simulate import world_config, write_world


@pytest.fixture(scope="module")
def schema_validator(event_schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(event_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _both(validator: Draft202012Validator, document: Any) -> tuple[bool, bool]:
    raw = orjson.dumps(document)
    typed_ok = not isinstance(parse_line(raw, 1), ContractError)
    schema_ok = validator.is_valid(document)
    return typed_ok, schema_ok


def test_examples_agree(contract_dir: Path, schema_validator: Draft202012Validator) -> None:
    examples = contract_dir / "examples"
    for line in (examples / "valid.jsonl").read_bytes().splitlines():
        assert _both(schema_validator, orjson.loads(line)) == (True, True)
    for line in (examples / "invalid.jsonl").read_bytes().splitlines():
        typed = parse_line(line, 1)
        assert isinstance(typed, ContractError)
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # not JSON at all: nothing for a schema to judge, and the model rejects it
        assert not schema_validator.is_valid(document)


@pytest.fixture(scope="module")
def simulated_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    out = tmp_path_factory.mktemp("world")
    write_world(world_config(preset="tiny", difficulty="hard", seed=101), out)
    return (out / "events.jsonl").read_bytes().splitlines()


def test_simulator_output_agrees(
    simulated_lines: list[bytes], schema_validator: Draft202012Validator
) -> None:
    assert len(simulated_lines) > 5_000
    for line in simulated_lines:
        document = orjson.loads(line)
        assert _both(schema_validator, document) == (True, True), line[:300]


# --- generated mutations of real events ----------------------------------------------------

_BAD_VALUES: list[Any] = ["", "x", -1, 0, 1, 2.5, 10**6, True, None, [], {}, "zzz", [1], {"a": 1}]


def _paths(document: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


def _mutate(document: Any, path: tuple[str | int, ...], action: str, value: Any) -> Any:
    mutated = copy.deepcopy(document)
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "drop" and isinstance(parent, dict):
        del parent[last]
    else:
        parent[last] = value
    return mutated


def _is_known_difference(value: Any, path: tuple[str | int, ...]) -> bool:
    # Integers written as floats, and timestamps, are the documented differences above.
    return (isinstance(value, float) and value.is_integer()) or path[-1] in ("ts", "delivered_ts")


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_events_agree(
    data: st.DataObject,
    simulated_lines: list[bytes],
    schema_validator: Draft202012Validator,
) -> None:
    line = data.draw(st.sampled_from(simulated_lines[:3000]))
    document = orjson.loads(line)
    path = data.draw(st.sampled_from(_paths(document)))
    action = data.draw(st.sampled_from(["drop", "set"]))
    value = data.draw(st.sampled_from(_BAD_VALUES))
    if _is_known_difference(value, path):
        return
    mutated = _mutate(document, path, action, value)
    typed_ok, schema_ok = _both(schema_validator, mutated)
    assert typed_ok == schema_ok, (path, action, value, msgspec.json.encode(mutated)[:400])
