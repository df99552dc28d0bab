"""Drift monitoring on real logs: simulated worlds scored with ``--logs``, then drift injected.

Each world is the ``tiny`` preset stretched to four days and scored from empty state. Its real
drift is asserted on as what it is: attack campaigns starting and stopping (rule rates) and
state that warms up from the empty start (ages, long windows); then a copy of the log gets
exactly one injected change, and exactly that change must appear among the alerts.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import orjson
import polars as pl
import pytest
from typer.testing import CliRunner

from rampart.cli import app
from rampart.learn.monitor import Alert, Bands, Monitoring, monitor, reference_window
from rampart.learn.monitor_rates import rate_bands
from rampart.learn.monitor_store import read_alerts
from rampart.logs import read_logs
from rampart.service.assemble import score_files
from rampart.simulate import world_config, write_world

SEEDS = (3, 11)
DAYS = [date(2026, 3, d) for d in (2, 3, 4, 5)]
INJECTED_DAY = date(2026, 3, 4)
# State that starts empty and fills as the replay goes: ages, times since, multi-day windows,
# the last parcel seen. Plus what campaigns light up around them on unlabelled traffic: the farm
# devices' own events (graph.farm_block) and decline counters on card-testing days.
WARMING = re.compile(r"_age$|_since_|_\d+d$|last_parcel|^graph\.farm_block$|_declines_24h$")


@dataclass(frozen=True)
class LoggedWorld:
    seed: int
    world: Path
    logs: Path


def _score(world: Path, out: Path) -> Path:
    score_files(
        world / "events.jsonl",
        decisions=out / "decisions.jsonl",
        verdicts=out / "verdicts.jsonl",
        labels=world / "labels.jsonl",
        logs=out / "logs",
    )
    return out / "logs"


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def logged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LoggedWorld:
    seed: int = request.param
    world = tmp_path_factory.mktemp(f"monitor-world-{seed}")
    config = replace(world_config(preset="tiny", difficulty="hard", seed=seed), days=4, n_users=200)
    write_world(config, world)
    logs = _score(world, tmp_path_factory.mktemp(f"monitor-scored-{seed}"))
    return LoggedWorld(seed, world, logs)


def _run(logs: Path, reference_days: int = 1) -> Monitoring:
    frame = read_logs(logs)
    return monitor(frame, reference_window(DAYS, reference_days=reference_days), Bands())


def _keys(alerts: list[Alert]) -> set[tuple[str, str, date]]:
    return {(a.kind, a.subject, a.day) for a in alerts}


def _campaign(world: Path) -> pl.Expr:
    """Decisions on attack traffic: labelled events, or by a labelled user, device or card."""
    labels = pl.read_ndjson(world / "labels.jsonl").filter(pl.col("label") == 1)

    def ids(kind: str) -> pl.Series:
        return labels.filter(pl.col("entity_type") == kind).get_column("entity_id")

    return (
        pl.col("event_id").is_in(ids("event").implode())
        | pl.col("user_id").is_in(ids("user").implode())
        | pl.col("device_id").is_in(ids("device").implode())
        | pl.col("instrument_id").is_in(ids("instrument").implode())
    ).fill_null(False)


def _rewrite_days(logs: Path, days: list[date], change: object) -> None:
    """Rewrite every decisions part of ``days`` through ``change`` (frame -> frame), in place."""
    assert callable(change)
    for day in days:
        for part in sorted((logs / "decisions" / f"day={day.isoformat()}").glob("part-*.parquet")):
            frame = pl.read_parquet(part)
            changed = change(frame)
            assert changed.schema == frame.schema
            changed.write_parquet(part)


def _copy(logs: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "logs"
    shutil.copytree(logs, copy)
    return copy


def test_the_log_covers_four_days(logged: LoggedWorld) -> None:
    result = _run(logged.logs)
    assert result.days == DAYS
    assert str(result.reference) == "2026-03-02/2026-03-02"
    assert result.decisions.get_column("decisions").min() > 1000  # type: ignore[operator]
    actions = set(result.decision_mix.get_column("action"))
    assert actions == {"allow", "challenge", "review", "block"}
    assert {"score", "areas.click_farm"} <= set(result.scores.get_column("subject"))
    assert result.features.filter(pl.col("feature") == "features.device_users_24h").height == 4


def test_untouched_log_drift_is_campaigns_and_warm_up(logged: LoggedWorld) -> None:
    result = _run(logged.logs)
    kinds = {a.kind for a in result.alerts}
    assert "null_spike" not in kinds
    # Rule rates move because attack campaigns start and stop: the hits behind every rule alert
    # (on the day when the rate rose, in the reference when it fell) are largely attack traffic.
    campaign = _campaign(logged.world)
    frame = read_logs(logged.logs).with_columns(attack=campaign).select("day", "reasons", "attack")
    hits = frame.collect().explode("reasons")
    rule_alerts = [a for a in result.alerts if a.kind == "rule_rate"]
    assert rule_alerts
    for alert in rule_alerts:
        rose = alert.value > alert.reference
        when = pl.col("day") == alert.day if rose else pl.col("day") == DAYS[0]
        behind = hits.filter((pl.col("reasons") == alert.subject) & when)
        assert behind.height >= 10, alert
        assert behind.get_column("attack").mean() >= 1 / 3, alert  # type: ignore[operator]
    # Without the campaigns' events and past the first day's warm-up, what still drifts is state
    # that keeps filling from the replay's empty start.
    legit = read_logs(logged.logs).filter(~campaign)
    warm = monitor(legit, reference_window(DAYS, since=DAYS[1], until=DAYS[1]), Bands())
    features = {a.subject for a in warm.alerts if a.kind in ("feature_psi", "null_spike")}
    assert all(WARMING.search(f) for f in features), features


def _steady_rule(result: Monitoring) -> tuple[str, int]:
    """A live rule with no alert whose hits on the injected day leave room for ten times more."""
    alerted = {a.subject for a in result.alerts}
    day = result.reasons.filter(
        (pl.col("day") == INJECTED_DAY)
        & (pl.col("source") == "rule")
        & ~pl.col("subject").is_in(list(alerted))
        & (pl.col("hits") >= 5)
        & (pl.col("hits") * 10 < pl.col("total") / 2)
        & (pl.col("reference_rate") > 0)
    ).sort("hits", descending=True)
    assert day.height, "no steady rule to inject into"
    return day.get_column("subject")[0], int(day.get_column("hits")[0])


def test_a_rule_firing_ten_times_more_on_one_day_is_caught(
    logged: LoggedWorld, tmp_path: Path
) -> None:
    before = _run(logged.logs)
    rule, hits = _steady_rule(before)
    logs = _copy(logged.logs, tmp_path)
    extra = 9 * hits

    def ten_times(frame: pl.DataFrame) -> pl.DataFrame:
        nonlocal extra
        carries = pl.col("reasons").list.contains(rule)
        free = frame.with_row_index("_i").filter(~carries).get_column("_i").head(extra)
        extra -= free.len()
        pick = pl.int_range(pl.len()).is_in(free.implode())
        return frame.with_columns(
            reasons=pl.when(pick)
            .then(pl.col("reasons").list.concat(pl.lit([rule])))
            .otherwise(pl.col("reasons"))
        )

    _rewrite_days(logs, [INJECTED_DAY], ten_times)
    assert extra == 0
    after = _run(logs)
    added = _keys(after.alerts) - _keys(before.alerts)
    assert added == {("rule_rate", rule, INJECTED_DAY)}
    assert _keys(before.alerts) <= _keys(after.alerts)
    alert = next(a for a in after.alerts if a.subject == rule)
    assert alert.count == 10 * hits
    assert alert.value > alert.band[1]
    assert alert.p_value is not None
    assert alert.p_value < 1e-3


def test_a_feature_going_null_from_one_day_on_is_a_null_spike(
    logged: LoggedWorld, tmp_path: Path
) -> None:
    before = _run(logged.logs)
    feature = "features.user_engagements_1h"
    steady = before.features.filter(pl.col("feature") == feature)
    assert steady.get_column("null_share").max() == 0.0
    logs = _copy(logged.logs, tmp_path)
    nulled = [d for d in DAYS if d >= INJECTED_DAY]
    _rewrite_days(
        logs,
        nulled,
        lambda frame: frame.with_columns(pl.lit(None).cast(frame.schema[feature]).alias(feature)),
    )
    after = _run(logs)
    added = _keys(after.alerts) - _keys(before.alerts)
    removed = _keys(before.alerts) - _keys(after.alerts)
    assert added == {("null_spike", feature, day) for day in nulled}
    # The null spike is the explanation: it replaces any PSI alert of the same feature and day.
    assert removed <= {("feature_psi", feature, day) for day in nulled}
    spike = next(a for a in after.alerts if a.kind == "null_spike")
    assert spike.value == 1.0
    assert spike.reference == 0.0


def test_cli_appends_alerts_once_and_writes_the_report(logged: LoggedWorld, tmp_path: Path) -> None:
    logs = _copy(logged.logs, tmp_path)
    runner = CliRunner()
    arguments = ["monitor", "--logs", str(logs), "--reference-days", "1", "--json"]
    first = runner.invoke(app, [*arguments, "--out", str(tmp_path / "report")])
    assert first.exit_code == 0, first.output
    payload = orjson.loads(first.output)
    assert payload["reference_window"] == "2026-03-02/2026-03-02"
    assert payload["new_alerts"] == len(payload["alerts"]) > 0
    assert {a["kind"] for a in payload["alerts"]} <= {
        "rule_rate",
        "decision_mix",
        "null_spike",
        "feature_psi",
    }
    again = runner.invoke(app, arguments)
    assert again.exit_code == 0, again.output
    assert orjson.loads(again.output)["new_alerts"] == 0
    assert len(read_alerts(logs)) == len(payload["alerts"])
    html = (tmp_path / "report" / "index.html").read_text()
    assert html.count("<svg ") == 2
    assert "<script" not in html
    assert payload["alerts"][0]["subject"] in html
    table = runner.invoke(app, ["monitor", "--logs", str(logs), "--reference-days", "1"])
    assert table.exit_code == 0, table.output
    assert "alerts over 3 monitored days (0 new" in table.output


def test_rare_rules_do_not_flap() -> None:
    # 3 hits where the reference had none, then 0 where it had 4: under the floor, no alert.
    table = pl.DataFrame(
        {
            "day": DAYS,
            "subject": ["rule:rare"] * 4,
            "hits": [0, 3, 4, 0],
            "total": [5000] * 4,
            "reference": [True, False, False, False],
        }
    )
    assert not rate_bands(table).get_column("out_of_band").any()
    busy = table.with_columns(hits=pl.Series([100, 105, 1000, 12]))
    assert rate_bands(busy).get_column("out_of_band").to_list() == [False, True, True]
