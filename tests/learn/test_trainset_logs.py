"""Training sets from the decision log: the replay's matrix, point in time, nothing after TS."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from rampart.cli import app
from rampart.contract.outputs import AREAS, Label
from rampart.detect.models.registry import load_models
from rampart.ingest.privacy import DEMO_MARKETPLACE_DOMAINS
from rampart.learn.trainset import TrainingSet, build_training_set
from rampart.learn.trainset_logs import LogTrainingError, build_training_set_from_logs
from rampart.logs.layout import next_part_number, part_path
from rampart.logs.reader import read_logs
from rampart.logs.schema import read_schema
from rampart.packs import DEFAULT_PACK
from rampart.service.assemble import score_files

runner = CliRunner()
# The tiny world is one day (2026-03-02); its labels keep arriving for three weeks.
TS = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DELAY = timedelta(hours=4)


def _score(events: Path, labels: Path, out: Path) -> Path:
    score_files(
        events,
        decisions=out / "decisions.jsonl",
        verdicts=out / "verdicts.jsonl",
        labels=labels,
        checkpoint_every=1000,
        logs=out / "logs",
    )
    return out / "logs"


def _ts(line: str) -> datetime:
    return datetime.fromisoformat(json.loads(line)["ts"])


def _keep(source: Path, target: Path, until: datetime) -> Path:
    lines = [line for line in source.read_text().splitlines() if _ts(line) <= until]
    target.write_text("".join(line + "\n" for line in lines))
    return target


@pytest.fixture(scope="module")
def world(tiny_world_of: Callable[[int], Path]) -> Path:
    return tiny_world_of(3)


@pytest.fixture(scope="module")
def logged(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole world scored once with its labels, logged."""
    out = tmp_path_factory.mktemp("trainset-logs-scored")
    return _score(world / "events.jsonl", world / "labels.jsonl", out)


def _replay(world: Path, names: tuple[str, ...], **cut: object) -> TrainingSet:
    return build_training_set(
        world / "events.jsonl",
        world / "labels.jsonl",
        pack=DEFAULT_PACK,
        names=names,
        marketplace_domains=DEMO_MARKETPLACE_DOMAINS,  # as `score --demo` judged phishing
        **cut,  # type: ignore[arg-type]
    )


def _assert_same(a: TrainingSet, b: TrainingSet) -> None:
    assert a.names == b.names
    assert a.event_ids == b.event_ids
    assert a.event_types == b.event_types
    assert np.array_equal(a.ts, b.ts)
    differing = [
        name
        for j, name in enumerate(a.names)
        if not np.array_equal(a.x[:, j], b.x[:, j], equal_nan=True)
    ]
    assert differing == []
    assert a.targets.keys() == b.targets.keys()
    for area in a.targets:
        assert np.array_equal(a.targets[area], b.targets[area]), area
    assert a.labels_used == b.labels_used
    assert a.entity_features == b.entity_features


@pytest.mark.parametrize("cut", [{}, {"until": TS, "label_delay": DELAY}])
def test_the_log_gives_the_replays_matrix(world: Path, logged: Path, cut: dict[str, Any]) -> None:
    from_log = build_training_set_from_logs(
        logged, world / "labels.jsonl", pack=DEFAULT_PACK, **cut
    )
    replayed = _replay(world, from_log.names, **cut)
    _assert_same(from_log, replayed)
    # Not vacuous: every kind of input is there and varies.
    column = {name: j for j, name in enumerate(from_log.names)}
    assert any(name.startswith("content.") for name in column)  # null on this tiny world
    for prefix in ("features.", "graph.", "event.type=", "rule.", "flagged."):
        used = [j for name, j in column.items() if name.startswith(prefix)]
        assert np.nansum(from_log.x[:, used]) > 0, prefix
    assert sum(from_log.positives().values()) > 10
    # A logged run fills the default view's event fields on every event: none is left out,
    # and they take part in the parity above.
    assert from_log.omitted == []
    assert "event.props.total" in column
    assert np.nansum(from_log.x[:, column["event.props.total"]]) > 0


def _labels(path: Path) -> list[Label]:
    decoder = msgspec.json.Decoder(Label)
    return [decoder.decode(line) for line in path.read_bytes().splitlines() if line.strip()]


def _write_labels(path: Path, labels: list[Label]) -> Path:
    path.write_bytes(b"".join(msgspec.json.encode(label) + b"\n" for label in labels))
    return path


def _poison_log(logs: Path, after: datetime) -> None:
    """Parts after ``after`` that would change every row if read: copies of the first events
    (new ids) and verdicts flagging every user in every area, found by the first event."""
    schema = read_schema(logs)
    assert schema is not None
    fingerprint = {"rampart.pack_fingerprint": schema.pack_fingerprint}
    first = read_logs(logs).drop("day").head(500).collect()
    moment = after + timedelta(minutes=1)
    rows = first.with_columns(
        ("poison_" + pl.col("event_id")).alias("event_id"),
        pl.lit(moment).cast(pl.Datetime("us", "UTC")).alias("ts"),
        pl.lit("block").alias("action"),
    )
    number = next_part_number(logs)
    path = part_path(logs, "decisions", moment.date(), number)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.write_parquet(path, metadata=fingerprint)
    users = first["user_id"].drop_nulls().unique().to_list()
    verdicts = pl.DataFrame(
        {
            "event_id": [first["event_id"][0]] * len(users) * 8,
            "found_at": [moment] * len(users) * 8,
            "entity_type": ["user"] * len(users) * 8,
            "entity_id": users * 8,
            "area": [area for area in AREAS for _ in users],
            "score": [1.0] * len(users) * 8,
            "action": ["block"] * len(users) * 8,
            "evidence": [["poison"]] * len(users) * 8,
        },
        schema=schema.polars("verdicts"),
    )
    path = part_path(logs, "verdicts", moment.date(), number + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    verdicts.write_parquet(path, metadata=fingerprint)


def test_nothing_after_the_cutoff_is_read(world: Path, logged: Path, tmp_path: Path) -> None:
    # What was there at TS: the events and labels up to TS, scored and logged then.
    clean_labels = _keep(world / "labels.jsonl", tmp_path / "labels-at-ts.jsonl", TS)
    clean_events = _keep(world / "events.jsonl", tmp_path / "events-at-ts.jsonl", TS)
    clean_log = _score(clean_events, clean_labels, tmp_path / "clean")
    clean = build_training_set_from_logs(
        clean_log, clean_labels, pack=DEFAULT_PACK, until=TS, label_delay=DELAY
    )
    # Today's log and labels, poisoned after TS: the rest of the day scored, fake rows and
    # verdicts, and labels that flip every row's target, all known after TS.
    poisoned_log = tmp_path / "poisoned-logs"
    shutil.copytree(logged, poisoned_log)
    _poison_log(poisoned_log, TS)
    late = TS + timedelta(seconds=1)
    flips = [
        Label(
            entity_type="event",
            entity_id=event_id,
            area=area,
            label=0 if clean.targets[area][i] else 1,
            ts=late,
        )
        for area in AREAS
        for i, event_id in enumerate(clean.event_ids)
    ]
    poisoned_labels = _write_labels(
        tmp_path / "poisoned-labels.jsonl", [*_labels(world / "labels.jsonl"), *flips]
    )
    poisoned = build_training_set_from_logs(
        poisoned_log, poisoned_labels, pack=DEFAULT_PACK, until=TS, label_delay=DELAY
    )
    _assert_same(clean, poisoned)
    # The poison is real: read a little later, it flips the targets, adds rows and flags.
    later = build_training_set_from_logs(
        poisoned_log, poisoned_labels, pack=DEFAULT_PACK, until=late
    )
    rows = [later.event_ids.index(event_id) for event_id in clean.event_ids]
    for area, y in clean.targets.items():
        assert np.array_equal(later.targets[area][rows], 1 - y), area
    later = build_training_set_from_logs(
        poisoned_log, poisoned_labels, pack=DEFAULT_PACK, until=late + timedelta(minutes=2)
    )
    flags = [j for j, name in enumerate(later.names) if name.startswith("flagged.")]
    poison_rows = [i for i, e in enumerate(later.event_ids) if e.startswith("poison_")]
    assert later.x[np.ix_(poison_rows, flags)].sum() > clean.x[:500][:, flags].sum()


def test_the_delay_keeps_events_whose_labels_had_time_to_arrive(world: Path, logged: Path) -> None:
    labels = world / "labels.jsonl"
    delayed = build_training_set_from_logs(
        logged, labels, pack=DEFAULT_PACK, until=TS, label_delay=DELAY
    )
    undelayed = build_training_set_from_logs(logged, labels, pack=DEFAULT_PACK, until=TS)
    events = [json.loads(line) for line in (world / "events.jsonl").read_text().splitlines()]
    # Rows: exactly the events up to TS - D (and up to TS without a delay).
    assert delayed.event_ids == [
        e["event_id"] for e in events if datetime.fromisoformat(e["ts"]) <= TS - DELAY
    ]
    assert len(undelayed.event_ids) == sum(datetime.fromisoformat(e["ts"]) <= TS for e in events)
    assert delayed.ts.max() <= (TS - DELAY).timestamp()
    # Targets: the labels known at TS, not at TS - D; later ones do not count.
    position = {event_id: i for i, event_id in enumerate(delayed.event_ids)}
    in_delay = after_ts = 0
    for label in _labels(labels):
        i = position.get(label.entity_id)
        if label.entity_type != "event" or label.label != 1 or i is None or label.ts is None:
            continue
        if TS - DELAY < label.ts <= TS:
            in_delay += 1
            assert delayed.targets[label.area][i] == 1
        elif label.ts > TS:
            after_ts += 1
            assert delayed.targets[label.area][i] == 0
    assert in_delay > 0
    assert after_ts > 0
    assert delayed.labels_used == undelayed.labels_used
    with pytest.raises(ValueError, match="needs a cut-off"):
        build_training_set_from_logs(logged, labels, pack=DEFAULT_PACK, label_delay=DELAY)


def test_a_feature_the_log_lacks_or_another_pack_is_a_precise_error(
    world: Path, logged: Path, tmp_path: Path
) -> None:
    labels = world / "labels.jsonl"
    with pytest.raises(LogTrainingError, match=r"features\.brand_new.*--events"):
        build_training_set_from_logs(
            logged, labels, pack=DEFAULT_PACK, names=("features.brand_new", "rule.phishing_link")
        )
    pack = shutil.copytree(DEFAULT_PACK, tmp_path / "pack")
    rules = pack / "malicious_activity.yaml"
    rules.write_text(rules.read_text().replace("weight: 0.9", "weight: 0.8", 1))
    with pytest.raises(LogTrainingError, match=r"another pack .*rampart train --events"):
        build_training_set_from_logs(logged, labels, pack=pack)


def test_score_with_logs_then_train_from_them(world: Path, tmp_path: Path) -> None:
    logs, models = tmp_path / "logs", tmp_path / "models"
    scored = runner.invoke(
        app,
        ["score", "--demo", "--events", str(world / "events.jsonl"), "--labels",
         str(world / "labels.jsonl"), "--decisions", str(tmp_path / "decisions.jsonl"),
         "--verdicts", str(tmp_path / "verdicts.jsonl"), "--logs", str(logs)],
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    trained = runner.invoke(
        app,
        ["train", "--logs", str(logs), "--labels", str(world / "labels.jsonl"),
         "--out", str(models), "--area", "click_farm"],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "AUC ROC" in trained.output
    assert "Brier" in trained.output
    loaded = load_models(models)
    report = loaded.reports["click_farm"]
    assert report["holdout_metrics"]["auc_roc"] > 0.5
    assert report["holdout_metrics"]["average_precision"] is not None
    assert {"threshold", "precision", "recall"} <= report["operating_point"].keys()
    assert report["calibration"]["brier"] is not None
    assert report["calibration"]["bins"]
    assert {"mean_predicted", "observed_rate", "count"} <= report["calibration"]["bins"][0].keys()
    assert report["top_features"]
    # The event fields come from the log too (filled on every event of a logged run).
    assert "event.props.total" in loaded.models["click_farm"].feature_names
    both = runner.invoke(
        app,
        ["train", "--logs", str(logs), "--events", str(world / "events.jsonl"), "--labels",
         str(world / "labels.jsonl"), "--out", str(tmp_path / "m2")],
    )  # fmt: skip
    assert both.exit_code == 2
    assert "--events FILE) or a decision log (--logs DIR)" in both.output
    delay_alone = runner.invoke(
        app,
        ["train", "--logs", str(logs), "--labels", str(world / "labels.jsonl"),
         "--label-delay", "7d", "--out", str(tmp_path / "m3")],
    )  # fmt: skip
    assert delay_alone.exit_code == 2
    assert "--label-delay needs --until" in delay_alone.output
