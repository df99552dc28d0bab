"""The schema grows by versions, never changes a column's type, and types rows from the pack."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.detect.rules.pack import load_pack
from rampart.logs.schema import DECISION_COLUMNS, LogSchema, read_schema, row_columns
from rampart.logs.writer import open_schema
from rampart.packs import DEFAULT_PACK

_names = st.sampled_from([f"features.f{i}" for i in range(8)])
_types = st.sampled_from(["int", "float", "bool", "str", "list[str]"])
_column_sets = st.dictionaries(_names, _types, max_size=6)


@given(st.lists(_column_sets, min_size=1, max_size=6))
def test_merging_only_adds_columns_and_bumps_the_version_when_it_does(
    runs: list[dict[str, str]],
) -> None:
    """Each run's columns typed as first logged (a clashing run is refused, changing nothing)."""
    schema = LogSchema.new(runs[0], pack_fingerprint="0")
    typed = dict(runs[0])
    for i, columns in enumerate(runs[1:], start=1):
        before = schema
        if any(typed.get(name, kind) != kind for name, kind in columns.items()):
            with pytest.raises(ValueError, match="differently"):
                schema.merged(columns, str(i))
            continue
        schema, grew = schema.merged(columns, str(i))
        new = [name for name in columns if name not in typed]
        typed.update(columns)
        assert grew == bool(new)
        assert schema.version == before.version + grew
        # Old columns keep their place and type; new ones come after them.
        assert list(schema.decisions)[: len(before.decisions)] == list(before.decisions)
        assert schema.history[-1].added == (sorted(new) if grew else before.history[-1].added)
    assert {n: k for n, k in schema.decisions.items() if n not in DECISION_COLUMNS} == typed
    assert [v.version for v in schema.history] == list(range(1, schema.version + 1))


def test_the_schema_file_is_written_once_per_version(tmp_path: Path) -> None:
    first = open_schema(tmp_path, {"features.a": "int"}, "p1")
    assert open_schema(tmp_path, {"features.a": "int"}, "p2") == first
    grown = open_schema(tmp_path, {"features.a": "int", "features.b": "bool"}, "p3")
    assert grown.version == 2
    assert grown.pack_fingerprint == "p3"
    assert read_schema(tmp_path) == grown
    with pytest.raises(ValueError, match=r"features\.a \(int logged, float now\)"):
        open_schema(tmp_path, {"features.a": "float"}, "p4")


def test_row_columns_cover_what_the_default_packs_rules_read() -> None:
    pack = load_pack(DEFAULT_PACK)
    columns = row_columns(pack.catalogue, [rule.paths for rule in pack.active_rules])
    for rule in pack.active_rules:
        assert rule.paths <= columns.keys(), rule.name
    assert all(columns[name] == pack.catalogue[name] for name in columns)
    assert "event.type" in columns
    assert {n for n in pack.catalogue if n.startswith("features.")} <= columns.keys()


def test_a_row_column_may_not_shadow_a_decision_column() -> None:
    with pytest.raises(ValueError, match="named like decision columns"):
        LogSchema.new({"score": "float"}, pack_fingerprint="p")
    with pytest.raises(ValueError, match="loggable type"):
        LogSchema.new({"features.x": "<error>"}, pack_fingerprint="p")


def test_every_event_holds_only_what_every_run_filled_everywhere(tmp_path: Path) -> None:
    """A field counts as filled on every event only if each run writing the folder did so."""
    columns = {"event.props.total": "float", "event.props.status": "int", "features.a": "int"}
    first = open_schema(tmp_path, columns, "p1", ["event.props.total", "event.props.status"])
    assert first.every_event == ["event.props.status", "event.props.total"]
    # A run filling only one of them narrows the promise, without a new version.
    second = open_schema(tmp_path, columns, "p1", ["event.props.total"])
    assert (second.version, second.every_event) == (1, ["event.props.total"])
    assert read_schema(tmp_path) == second
    # A run filling none (an older scorer) leaves nothing promised; nothing comes back later.
    assert open_schema(tmp_path, columns, "p1").every_event == []
    assert open_schema(tmp_path, columns, "p1", ["event.props.total"]).every_event == []
    # Only logged columns can be promised.
    other = tmp_path / "other"
    assert open_schema(other, columns, "p1", ["event.props.absent"]).every_event == []
