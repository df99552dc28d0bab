"""The model directory: round trip, content-hash version, and refusal of tampered files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from rampart.detect.models import (
    AnomalyModel,
    ModelDirectoryError,
    TrainedModel,
    load_models,
    save_models,
    train_anomaly,
    train_area,
)

NAMES = [f"feat_{j}" for j in range(5)]


def make_data(
    seed: int = 0, n: int = 1500
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int_], npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(NAMES)))
    y = (rng.random(n) < 1 / (1 + np.exp(-(2.0 * x[:, 0] - 3.5)))).astype(int)
    x[rng.random(x.shape) < 0.1] = np.nan
    return x, y, np.sort(rng.uniform(0, 86400, n))


@pytest.fixture(scope="module")
def models() -> tuple[list[TrainedModel], list[AnomalyModel]]:
    x, y, ts = make_data(n=1500)
    areas = [
        train_area(x, y, NAMES, ts, area=a, params={"num_iterations": 10}, seed=s)
        for s, a in enumerate(("account_integrity", "malicious_activity"))
    ]
    return areas, [train_anomaly(x, NAMES, entity_type="account", n_estimators=8)]


META = {"training_set": "ts-2024-06", "labels_until": "2024-06-30T00:00:00Z"}


def _save(path: Path, models: tuple[list[TrainedModel], list[AnomalyModel]]) -> str:
    return save_models(path, models[0], META, anomaly=models[1])


def test_round_trip_scores_the_same(
    tmp_path: Path, models: tuple[list[TrainedModel], list[AnomalyModel]]
) -> None:
    version = _save(tmp_path / "m", models)
    loaded = load_models(tmp_path / "m")
    assert loaded.version == version
    assert loaded.metadata == META
    assert sorted(loaded.models) == ["account_integrity", "malicious_activity"]
    x, _, _ = make_data(seed=5, n=50)
    for trained in models[0]:
        fresh, back = trained.compile(), loaded.models[trained.area]
        assert back.threshold == trained.threshold
        assert back.feature_names == tuple(NAMES)
        for r in x.tolist():
            assert back.probability(tuple(r)) == fresh.probability(tuple(r))
            assert back.explain(tuple(r)) == fresh.explain(tuple(r))
        assert loaded.reports[trained.area] == json.loads(json.dumps(trained.report))
    row = tuple(x[0].tolist())
    assert loaded.anomaly["account"].score(row) == models[1][0].score(row)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["created_from"] == META
    assert "account_integrity/model.txt" in manifest["files"]
    assert "anomaly/account/model.json" in manifest["files"]


def test_version_is_a_content_hash(
    tmp_path: Path, models: tuple[list[TrainedModel], list[AnomalyModel]]
) -> None:
    a = _save(tmp_path / "a", models)
    b = save_models(tmp_path / "b", models[0], {"other": "metadata"}, anomaly=models[1])
    c = save_models(tmp_path / "c", models[0][:1], META)
    assert a == b != c
    assert len(a) == 64


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda d: (d / "account_integrity" / "model.txt").write_text("tree\n"),
            "changed account_integrity/model.txt",
        ),
        (
            lambda d: (d / "malicious_activity" / "calibration.json").unlink(),
            "missing malicious_activity/calibration.json",
        ),
        (
            lambda d: (d / "account_integrity" / "notes.txt").write_text("hi"),
            "unexpected account_integrity/notes.txt",
        ),
        (lambda d: (d / "manifest.json").unlink(), "no manifest.json"),
    ],
)
def test_tampered_directory_is_refused(
    tmp_path: Path,
    models: tuple[list[TrainedModel], list[AnomalyModel]],
    damage: object,
    message: str,
) -> None:
    d = tmp_path / "m"
    _save(d, models)
    damage(d)  # type: ignore[operator]
    with pytest.raises(ModelDirectoryError, match=message):
        load_models(d)


def test_forged_manifest_version_is_refused(
    tmp_path: Path, models: tuple[list[TrainedModel], list[AnomalyModel]]
) -> None:
    d = tmp_path / "m"
    _save(d, models)
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["version"] = "0" * 64
    (d / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelDirectoryError, match="not the hash"):
        load_models(d)


def test_existing_directory_needs_overwrite(
    tmp_path: Path, models: tuple[list[TrainedModel], list[AnomalyModel]]
) -> None:
    d = tmp_path / "m"
    _save(d, models)
    with pytest.raises(FileExistsError):
        _save(d, models)
    version = save_models(d, models[0][:1], META, overwrite=True)
    assert load_models(d).version == version
    assert list(load_models(d).models) == ["account_integrity"]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary directory left


def test_bad_names_are_refused(
    tmp_path: Path, models: tuple[list[TrainedModel], list[AnomalyModel]]
) -> None:
    first = models[0][0]
    for area in ("anomaly", "../x", "Upper"):
        renamed = TrainedModel(
            area,
            first.model_text,
            first.feature_names,
            first.calibration,
            first.threshold,
            first.report,
        )
        with pytest.raises(ValueError, match="invalid area"):
            save_models(tmp_path / "m", [renamed], META)
    with pytest.raises(ValueError, match="duplicate"):
        save_models(tmp_path / "m", [first, first], META)


def test_metadata_must_be_json(
    tmp_path: Path, models: tuple[list[TrainedModel], list[AnomalyModel]]
) -> None:
    with pytest.raises(ValueError, match="JSON"):
        save_models(tmp_path / "m", models[0], {"x": math.nan})
    assert not (tmp_path / "m").exists()
    assert np.isfinite(models[0][0].threshold)
