"""train_area: time split, determinism, calibration, operating point and the report."""

from __future__ import annotations

import json
import math
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pytest
from sklearn.isotonic import IsotonicRegression

from rampart.detect.models import TrainedModel, format_report, train_area
from rampart.detect.models.calibration import Calibration, fit_calibration
from rampart.detect.models.report import NEVER, operating_point
from rampart.detect.models.train import time_blocks, time_split, train_area_blocked

NAMES = [f"feat_{j}" for j in range(8)]


def make_data(
    seed: int = 0, n: int = 3000
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int_], npt.NDArray[np.float64]]:
    """Imbalanced (~4% positive) rows over a month, NaN-sprinkled, two informative features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(NAMES)))
    logit = 2.0 * x[:, 0] + 1.5 * (x[:, 1] > 1.0) - 4.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    x[rng.random(x.shape) < 0.1] = np.nan
    ts = 1_700_000_000 + np.sort(rng.uniform(0, 30 * 86400, n))
    return x, y, ts


FAST: dict[str, Any] = {"num_iterations": 30}


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    x, y, ts = make_data()
    return train_area(x, y, NAMES, ts, area="payment_fraud", params=FAST)


def test_time_split_holds_out_the_latest_rows(trained: TrainedModel) -> None:
    split = trained.report["split"]
    assert split["method"] == "time"
    assert split["train"]["ts_max"] < split["cutoff_ts"] <= split["holdout"]["ts_min"]
    assert split["holdout"]["rows"] == pytest.approx(600, abs=2)
    assert split["train"]["rows"] + split["holdout"]["rows"] == 3000
    total_pos = sum(split[s]["positives"] for s in ("train", "holdout"))
    assert total_pos == int(make_data()[1].sum())


def test_time_split_keeps_equal_timestamps_together() -> None:
    ts = np.array([1.0, 2.0, 2.0, 2.0, 3.0])
    mask, cutoff = time_split(ts, 0.5)
    assert cutoff == 2.0
    assert mask.tolist() == [False, True, True, True, True]


def test_training_is_deterministic(trained: TrainedModel) -> None:
    x, y, ts = make_data()
    again = train_area(x, y, NAMES, ts, area="payment_fraud", params=FAST)
    assert again.model_text == trained.model_text
    assert again.calibration == trained.calibration
    assert again.report == trained.report


def test_model_is_small_and_learns(trained: TrainedModel) -> None:
    report = trained.report
    assert report["num_trees"] == 30
    assert report["params"]["num_leaves"] <= 15
    assert report["params"]["scale_pos_weight"] > 1  # imbalance handled
    assert report["holdout_metrics"]["auc_roc"] > 0.8
    assert report["holdout_metrics"]["average_precision"] > 0.2
    assert report["top_features"][0]["feature"] == "feat_0"
    json.dumps(report, allow_nan=False)  # the report is plain JSON


def test_calibrated_probabilities_and_operating_point(trained: TrainedModel) -> None:
    model = trained.compile()
    x, y, ts = make_data()
    holdout, _ = time_split(ts, 0.2)
    probs = np.array([model.probability(tuple(r)) for r in x[holdout].tolist()])
    assert ((probs >= 0) & (probs <= 1)).all()
    # Calibrated: the mean probability is close to the observed positive rate.
    assert probs.mean() == pytest.approx(y[holdout].mean(), abs=0.02)
    op = trained.report["operating_point"]
    flagged = probs >= trained.threshold
    assert int(flagged.sum()) == op["flagged"]
    if op["target_met"]:
        assert y[holdout][flagged].mean() >= 0.95
    bins = trained.report["calibration"]["bins"]
    assert sum(b["count"] for b in bins) == holdout.sum()
    assert 0 <= trained.report["calibration"]["brier"] < 0.1
    assert "payment_fraud" in format_report(trained.report)


def test_compiled_model_matches_the_booster(trained: TrainedModel) -> None:
    booster = lgb.Booster(model_str=trained.model_text)
    x, _, _ = make_data(seed=1, n=200)
    model = trained.compile()
    got = [model.raw(tuple(r)) for r in x.tolist()]
    np.testing.assert_allclose(got, booster.predict(x, raw_score=True), rtol=0, atol=1e-9)


def test_bad_inputs_are_refused() -> None:
    x, y, ts = make_data(n=200)
    with pytest.raises(ValueError, match="features"):
        train_area(x[:, :3], y, NAMES, ts, area="a")
    with pytest.raises(ValueError, match="both classes"):
        train_area(x, np.zeros_like(y), NAMES, ts, area="a")
    with pytest.raises(ValueError, match="0 or 1"):
        train_area(x, y * 2, NAMES, ts, area="a")


def test_holdout_without_positives_gets_a_never_threshold() -> None:
    x, y, ts = make_data(n=1000)
    y = y.copy()
    y[ts >= np.quantile(ts, 0.7)] = 0
    m = train_area(x, y, NAMES, ts, area="a", params={"num_iterations": 5})
    assert m.threshold == NEVER > 1.0
    assert m.report["operating_point"]["target_met"] is False
    assert m.report["holdout_metrics"]["auc_roc"] is None
    assert m.calibration.kind == "platt"
    assert m.calibration.b == pytest.approx(-math.log(m.report["params"]["scale_pos_weight"]))


def test_isotonic_matches_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    raw = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-2 * raw))).astype(int)
    cal = fit_calibration(raw, y)
    assert cal.kind == "isotonic"
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    probe = np.r_[rng.normal(size=500) * 2, raw[:100], -10.0, 10.0]
    np.testing.assert_array_equal([cal(float(v)) for v in probe], iso.predict(probe))
    assert Calibration.from_json(json.loads(json.dumps(cal.to_json()))) == cal


def test_platt_for_small_slices() -> None:
    rng = np.random.default_rng(4)
    raw = rng.normal(size=300)
    y = (raw + rng.normal(size=300) > 1.5).astype(int)
    cal = fit_calibration(raw, y)
    assert cal.kind == "platt"
    assert cal.a > 0
    assert cal(5.0) > cal(0.0) > cal(-5.0)
    assert 0.0 <= cal(-1e6) < cal(1e6) <= 1.0  # no overflow at the extremes


def test_operating_point_flags_ties_together() -> None:
    p = np.array([0.9, 0.9, 0.5, 0.1])
    y = np.array([1, 0, 1, 0])
    op = operating_point(p, y, target_precision=0.95)
    # 0.9 is shared by a positive and a negative: no cut reaches 0.95; the most precise is 0.5.
    assert op["target_met"] is False
    assert (op["threshold"], op["flagged"]) == (0.5, 3)
    assert op["precision"] == pytest.approx(2 / 3)


def test_blocked_training_calibrates_when_the_latest_slice_holds_no_campaign() -> None:
    """Abuse in bursts: nothing in the last fifth. The hold-out cannot calibrate; blocks can."""
    x, y, ts = make_data(seed=3, n=4000)
    late = ts >= np.quantile(ts, 0.8)
    y = np.where(late, 0, y)
    held_out = train_area(x, y, NAMES, ts, area="scalper", params=FAST)
    assert held_out.threshold == NEVER  # never flags: no positive to choose a threshold on
    blocked = train_area_blocked(x, y, NAMES, ts, area="scalper", params=FAST, folds=4)
    assert blocked.report["split"]["method"] == "blocked-time-cv"
    assert blocked.threshold < 1.0
    assert blocked.report["holdout_metrics"]["auc_roc"] > 0.8
    # Deterministic, and the same model scores as LightGBM does.
    again = train_area_blocked(x, y, NAMES, ts, area="scalper", params=FAST, folds=4)
    assert again.model_text == blocked.model_text
    compiled = blocked.compile()
    raw = lgb.Booster(model_str=blocked.model_text).predict(x[:50], raw_score=True)
    assert [compiled.raw(tuple(row)) for row in x[:50]] == pytest.approx(raw, abs=1e-9)


def test_time_blocks_are_contiguous_and_even() -> None:
    ts = np.random.default_rng(1).uniform(0, 100, 1000)
    block = time_blocks(ts, 4)
    assert np.bincount(block).tolist() == [250, 250, 250, 250]
    for b in range(3):
        assert ts[block == b].max() <= ts[block == b + 1].min()


def test_blocked_training_never_splits_on_an_ignored_input() -> None:
    """An input that only tells the time (a counter growing with the stream) is screened out by
    ``rampart.learn.training.drifting_inputs`` and left out of the trees; the view keeps it."""
    from rampart.learn.training import drifting_inputs

    x, y, ts = make_data(seed=5)
    clock = np.column_stack([x, ts - ts.min()])  # the last column: seconds since the start
    names = [*NAMES, "clock"]
    drifting = drifting_inputs(clock, ts, names)
    assert list(drifting) == ["clock"]
    assert all(v > 0.25 for v in drifting["clock"])
    model = train_area_blocked(clock, y, names, ts, area="scalper", params=FAST, ignore=drifting)
    assert model.report["ignored_inputs"] == ["clock"]
    assert model.feature_names == tuple(names)
    assert "clock" not in {f["feature"] for f in model.report["top_features"]}
    compiled = model.compile()
    later = clock[:20].copy()
    later[:, -1] += 1e9  # far outside anything seen: the score does not move
    assert [compiled.raw(tuple(r)) for r in later] == [compiled.raw(tuple(r)) for r in clock[:20]]
