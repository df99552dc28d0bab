"""Training sets and `rampart train`: point in time, nothing after the cut-off, models score."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rampart.cli import app
from rampart.detect.models.registry import load_models
from rampart.learn.training import train_models
from rampart.learn.trainset import build_training_set
from rampart.packs import DEFAULT_PACK
from rampart.simulate import world_config, write_world

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(world_config("tiny", "hard", seed=11), out)
    return out


def _middle(world: Path) -> datetime:
    lines = (world / "events.jsonl").read_text().splitlines()
    return datetime.fromisoformat(json.loads(lines[len(lines) // 2])["ts"])


def test_a_training_set_holds_only_events_and_labels_up_to_the_cutoff(world: Path) -> None:
    whole = build_training_set(world / "events.jsonl", world / "labels.jsonl", pack=DEFAULT_PACK)
    cut = _middle(world)
    early = build_training_set(
        world / "events.jsonl", world / "labels.jsonl", pack=DEFAULT_PACK, until=cut
    )
    assert whole.x.shape == (len(whole.ts), len(whole.names))
    assert early.ts.max() <= cut.timestamp() < whole.ts.max()
    # Labels arrive late: fewer are known at the cut-off than the events before it deserve.
    assert early.labels_used < whole.labels_used
    assert sum(early.positives().values()) < sum(whole.positives().values())
    # Features are point in time: the first rows are identical whatever comes after them.
    rows = len(early.ts) // 2
    assert np.array_equal(early.x[:rows], whole.x[:rows], equal_nan=True)


def test_models_train_save_and_score_the_same_view(world: Path, tmp_path: Path) -> None:
    training = build_training_set(world / "events.jsonl", world / "labels.jsonl", pack=DEFAULT_PACK)
    run = train_models(training, tmp_path / "models", min_positives=20)
    assert run.trained
    loaded = load_models(tmp_path / "models")
    assert loaded.version == run.version
    # One per entity type the pack keys two or more features by alone (here: no ip).
    assert {"device", "user"} <= set(loaded.anomaly) <= {"device", "ip", "user"}
    for area, model in loaded.models.items():
        assert model.feature_names == training.names
        assert loaded.reports[area]["event_types"]
        row = training.x[0].astype(float).tolist()
        assert 0.0 <= model.probability(row) <= 1.0


def test_train_then_score_with_the_model(world: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained = runner.invoke(
        app,
        ["train", "--events", str(world / "events.jsonl"), "--labels",
         str(world / "labels.jsonl"), "--out", str(models), "--area", "click_farm"],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert sorted(load_models(models).models) == ["click_farm"]
    decisions = tmp_path / "decisions.jsonl"
    scored = runner.invoke(
        app,
        ["score", "--demo", "--events", str(world / "events.jsonl"), "--decisions",
         str(decisions), "--verdicts", str(tmp_path / "verdicts.jsonl"), "--model", str(models)],
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    lines = decisions.read_text().splitlines()
    reasons = [r for line in lines for r in json.loads(line).get("reasons", [])]
    assert "model:click_farm" in reasons
    # Every model hit is explained by the features that pushed it up.
    assert any(r.startswith("model:click_farm:") for r in reasons)
    # Under its operating point the model still gives the overall risk (for ranking), while
    # the action and the area scores stay the policy's.
    quiet = [json.loads(line) for line in lines]
    quiet = [d for d in quiet if d["action"] == "allow" and not d.get("reasons")]
    assert any(d["score"] > 0 for d in quiet)
    assert all(not d.get("areas") for d in quiet)
    # Unusual entities are reported in shadow by the anomaly models, never acting.
    shadows = [s for line in lines for s in json.loads(line).get("shadow", [])]
    assert {s["name"] for s in shadows if s["name"].startswith("anomaly:")} <= {
        "anomaly:user",
        "anomaly:device",
        "anomaly:ip",
    }
    assert any(s["name"].startswith("anomaly:") for s in shadows)


def test_a_tampered_model_directory_is_refused(world: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    args = ["train", "--events", str(world / "events.jsonl"), "--labels",
            str(world / "labels.jsonl"), "--out", str(models), "--area", "click_farm"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    (models / "click_farm" / "calibration.json").write_text('{"kind": "platt"}')
    scored = runner.invoke(
        app,
        ["score", "--demo", "--events", str(world / "events.jsonl"), "--decisions",
         str(tmp_path / "d.jsonl"), "--verdicts", str(tmp_path / "v.jsonl"), "--model",
         str(models)],
    )  # fmt: skip
    assert scored.exit_code == 2
    assert "calibration.json" in scored.output
