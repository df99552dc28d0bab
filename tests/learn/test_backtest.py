"""Backtests on a scored tiny world: every figure against a plain-Python reading of the log.

The reference counts each rule's hits with its Polars form over the logged table (the form
the logs tests prove equal to the per-event one) and applies SCORING.md's definitions to them
row by row, with the labels resolved as ``rampart evaluate`` resolves them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from rampart.cli import app
from rampart.contract.outputs import Label
from rampart.detect.rules import PackError, load_pack
from rampart.ingest.pii import Pseudonymizer
from rampart.learn.backtest import (
    Backtest,
    BacktestError,
    expression_rule,
    label_tables,
    pack_rules,
    read_labels,
)
from rampart.learn.backtest import backtest as run_backtest
from rampart.logs import read_logs
from rampart.packs import DEFAULT_PACK
from rampart.service.assemble import score_files
from rampart.simulate import world_config, write_world


def score_with_logs(out: Path, seed: int = 3) -> Path:
    """Simulate a tiny world into ``out`` and score it with a log; the world's folder."""
    write_world(world_config(preset="tiny", difficulty="hard", seed=seed), out)
    score_files(
        out / "events.jsonl",
        decisions=out / "decisions.jsonl",
        verdicts=out / "verdicts.jsonl",
        labels=out / "labels.jsonl",
        logs=out / "logs",
        checkpoint_every=1000,
    )
    return out


def demo_ip() -> Any:
    keyed = Pseudonymizer.from_config(demo=True, env={})
    return lambda ip: keyed.token("ip", ip)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return score_with_logs(tmp_path_factory.mktemp("backtest-world"))


@pytest.fixture(scope="module")
def labels(world: Path) -> list[Label]:
    return read_labels(world / "labels.jsonl")


@pytest.fixture(scope="module")
def result(world: Path, labels: list[Label]) -> Backtest:
    rules = pack_rules(load_pack(DEFAULT_PACK))
    return run_backtest(world / "logs", rules, labels=labels, pseudonymize_ip=demo_ip())


def _reference(
    logged: pl.DataFrame, hit: pl.Series, areas: set[str], tables: Any
) -> dict[str, Any]:
    abusive_entities = {(k, e) for k, e, a in tables.entities if a in areas}
    abusive_events = {e for e, a in tables.events if a in areas}
    abusive_any = {e for e, _ in tables.events}
    accounts = set(tables.accounts)
    flagged: set[tuple[str, str]] = set()
    acting: set[tuple[str, str]] = set()
    hits = hit_labelled = labelled_events = 0
    touched: set[str] = set()
    legit: set[str] = set()
    for row, is_hit in zip(logged.iter_rows(named=True), hit, strict=True):
        own = {
            (kind, row[column])
            for kind, column in (("account", "user_id"), ("device", "device_id"), ("ip", "ip"))
            if row[column] is not None
        }
        acting |= own & abusive_entities
        user = row["user_id"]
        is_legit = user is not None and user not in accounts and row["event_id"] not in abusive_any
        if is_legit:
            legit.add(user)
        labelled_events += row["event_id"] in abusive_events
        if is_hit is True:
            hits += 1
            flagged |= own
            hit_labelled += row["event_id"] in abusive_events
            if is_legit:
                touched.add(user)
    return {
        "hits": hits,
        "flagged_entities": len(flagged),
        "true_positives": len(flagged & abusive_entities),
        "labelled_entities": len(acting),
        "hit_labelled_events": hit_labelled,
        "labelled_events": labelled_events,
        "legit_users_touched": len(touched),
        "legit_users": len(legit),
    }


def test_every_figure_matches_a_plain_reading_of_the_log(
    world: Path, labels: list[Label], result: Backtest
) -> None:
    pack = load_pack(DEFAULT_PACK)
    logged = read_logs(world / "logs").collect()
    hits = logged.select([rule.polars(pack.lists) for rule in pack.rules])
    tables = label_tables(labels, demo_ip())
    rows = {(r.rule, r.scope_kind, r.scope): r for r in result.rows}
    assert result.events == logged.height
    assert sum(r.hits for r in result.rows if r.scope_kind == "all") > 100
    for rule in pack.rules:
        scopes: list[tuple[str, str, set[str]]] = [("all", "all", set(rule.areas))]
        scopes += [("area", a, {a}) for a in rule.areas]
        for kind, scope, areas in scopes:
            expected = _reference(logged, hits[rule.name], areas, tables)
            row = rows[(rule.name, kind, scope)]
            got = {name: getattr(row, name) for name in expected}
            assert got == expected, (rule.name, kind, scope)
        per_day = [r for r in result.rows if r.rule == rule.name and r.scope_kind == "day"]
        assert sum(r.hits for r in per_day) == rows[(rule.name, "all", "all")].hits
        assert {r.scope for r in per_day} == set(result.days)


def test_a_rule_of_several_areas_counts_each_scope_over_its_own_areas(
    world: Path, labels: list[Label]
) -> None:
    catalogue = load_pack(DEFAULT_PACK).catalogue
    rules = [
        expression_rule('event.type == "order.created"', catalogue),  # every area
        expression_rule('event.type == "order.created"', catalogue, areas=["brushing"], name="one"),
    ]
    result = run_backtest(world / "logs", rules, labels=labels, pseudonymize_ip=demo_ip())
    logged = read_logs(world / "logs").collect()
    hit = logged["event_type"] == "order.created"
    tables = label_tables(labels, demo_ip())
    rows = {(r.rule, r.scope_kind, r.scope): r for r in result.rows}
    for rule in rules:
        scopes: list[tuple[str, str, set[str]]] = [("all", "all", set(rule.areas))]
        scopes += [("area", a, {a}) for a in rule.areas]
        for kind, scope, areas in scopes:
            expected = _reference(logged, hit, areas, tables)
            row = rows[(rule.name, kind, scope)]
            assert {name: getattr(row, name) for name in expected} == expected, (rule.name, scope)
    assert len(rules[0].areas) > 1
    assert any(
        rows[("rule", "all", "all")].labelled_entities != r.labelled_entities
        for k, r in rows.items()
        if k[0] == "rule" and k[1] == "area"
    )


def test_ratios_follow_their_counts(result: Backtest) -> None:
    some = [r for r in result.rows if r.flagged_entities and r.labelled_entities]
    assert some
    for row in some:
        assert row.precision == row.true_positives / row.flagged_entities
        assert row.recall == row.true_positives / row.labelled_entities
    assert any(r.precision is not None and r.precision < 1 for r in some)


def test_without_labels_every_user_is_legitimate_and_nothing_is_precise(world: Path) -> None:
    rules = [expression_rule('event.type == "order.created"', load_pack(DEFAULT_PACK).catalogue)]
    result = run_backtest(world / "logs", rules)
    whole = result.rows[0]
    assert (whole.scope_kind, whole.precision, whole.recall, whole.labelled_entities) == (
        "all",
        None,
        None,
        0,
    )
    orders = read_logs(world / "logs").filter(pl.col("event_type") == "order.created").collect()
    assert whole.hits == orders.height
    assert whole.legit_users_touched == orders["user_id"].n_unique()
    assert {r.scope for r in result.rows if r.scope_kind == "area"} == set(result.rules[0].areas)


def test_the_window_reads_only_the_events_in_it(world: Path) -> None:
    logged = read_logs(world / "logs").collect()
    middle = logged["ts"].sort()[logged.height // 2]
    since = middle.astimezone(UTC)
    rules = [expression_rule("present(event.type)", {"event.type": "str"})]
    result = run_backtest(world / "logs", rules, since=since)
    assert result.events == read_logs(world / "logs", since=since).collect().height
    assert 0 < result.events < logged.height
    assert result.rows[0].hits == result.events
    empty = run_backtest(world / "logs", rules, until=datetime(2000, 1, 1, tzinfo=UTC))
    assert (empty.events, empty.days, empty.rows[0].hits) == (0, [], 0)


def test_a_rule_is_checked_like_a_pack_rule() -> None:
    catalogue = load_pack(DEFAULT_PACK).catalogue
    with pytest.raises(PackError) as caught:
        expression_rule("features.device_signups_31d >= 2", catalogue, areas=["scalpers"])
    text = str(caught.value)
    assert "--rule: rule 'rule': areas: unknown risk area 'scalpers'" in text
    assert "--rule:1:1: rule 'rule': expression: unknown name 'features.device_signups_31d'" in text
    assert "did you mean 'features.device_signups_30d'?" in text


def test_a_column_the_log_lacks_is_named_with_its_rule(world: Path) -> None:
    rule = expression_rule("features.brand_new > 1", {"features.brand_new": "int"}, name="new")
    with pytest.raises(BacktestError, match=r"no column features\.brand_new \(read by new\)"):
        run_backtest(world / "logs", [rule])
    with pytest.raises(BacktestError, match="no decision log"):
        run_backtest(world, [rule])


def test_the_command_prints_tables_and_json(world: Path) -> None:
    runner = CliRunner()
    base = ["backtest", "--logs", str(world / "logs"), "--labels", str(world / "labels.jsonl")]
    shown = runner.invoke(app, [*base, "--pack", str(DEFAULT_PACK), "--demo"])
    assert shown.exit_code == 0, shown.output
    assert "Backtest per rule and area" in shown.output
    answer = runner.invoke(
        app,
        [
            *base,
            "--rule",
            "features.device_signups_30d >= 2",
            "--area",
            "account_integrity",
            "--json",
        ],
    )
    assert answer.exit_code == 0, answer.output
    data: Mapping[str, Any] = json.loads(answer.output)
    assert [r["scope_kind"] for r in data["rows"]][:2] == ["all", "area"]
    assert data["ip_labels_skipped"] > 0  # no key given: ip labels cannot be matched
    assert runner.invoke(app, ["backtest", "--logs", str(world / "logs")]).exit_code == 2
