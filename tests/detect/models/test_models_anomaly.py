"""The compiled Isolation Forest against scikit-learn's own scores."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import IsolationForest

from rampart.detect.models import AnomalyModel, train_anomaly
from rampart.detect.models.anomaly import average_path_length, float32_threshold, impute

NAMES = ["orders_1h", "distinct_cards_1d", "account_age_days", "amount"]


def _normal_rows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [rng.poisson(1, n), rng.poisson(1, n), rng.exponential(200, n), rng.gamma(2, 30, n)]
    ).astype(float)
    x[rng.random(x.shape) < 0.1] = np.nan
    return x


@pytest.fixture(scope="module")
def model() -> AnomalyModel:
    return train_anomaly(_normal_rows(2000), NAMES, entity_type="account", n_estimators=40)


def test_scores_equal_scikit_learn(model: AnomalyModel) -> None:
    x = _normal_rows(2000)
    forest = IsolationForest(n_estimators=40, max_samples=128, random_state=0)
    forest.fit(impute(x, model.fill))
    probe = np.r_[_normal_rows(300, seed=1), [[40, 9, 0.0, 5000], [np.nan] * 4]]
    expected = -forest.score_samples(impute(probe, model.fill))
    got = [model.score(tuple(r)) for r in probe.tolist()]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    assert all(0 < s <= 1 for s in got)


def test_planted_anomaly_scores_high_and_is_explained(model: AnomalyModel) -> None:
    normal = [model.score(tuple(r)) for r in _normal_rows(300, seed=2).tolist()]
    odd = (1.0, 25.0, 150.0, 60.0)  # many distinct cards, otherwise ordinary
    assert model.score(odd) > np.quantile(normal, 0.95)
    reasons = model.explain(odd, k=2)
    assert reasons[0][0] == "anomaly:account:distinct_cards_1d"
    assert model.score(odd) > model.score((1.0, 1.0, 150.0, 60.0))
    assert all(v > 0 for _, v in reasons)


def test_round_trip_through_json(model: AnomalyModel) -> None:
    again = AnomalyModel.from_json(json.loads(json.dumps(model.to_json(), allow_nan=False)))
    rows = _normal_rows(50, seed=3).tolist()
    assert [again.score(tuple(r)) for r in rows] == [model.score(tuple(r)) for r in rows]


def test_all_missing_column_and_bad_shapes() -> None:
    x = _normal_rows(100)
    x[:, 2] = np.nan
    m = train_anomaly(x, NAMES, entity_type="device", n_estimators=5)
    assert m.fill[2] == 0.0
    assert 0 < m.score((math.nan,) * 4) <= 1
    with pytest.raises(ValueError, match="features"):
        train_anomaly(x[:, :2], NAMES, entity_type="device")


def test_average_path_length_matches_scikit_learn() -> None:
    from sklearn.ensemble._iforest import _average_path_length

    ns = [1, 2, 3, 10, 128, 256, 10_000]
    assert [average_path_length(n) for n in ns] == _average_path_length(ns).tolist()


@settings(max_examples=300, deadline=None)
@given(
    t=st.floats(-1e30, 1e30, allow_nan=False),
    x=st.floats(-1e30, 1e30, allow_nan=False),
)
def test_float32_threshold_decides_like_a_float32_comparison(t: float, x: float) -> None:
    u = float32_threshold(t)
    for v in (x, u, math.nextafter(u, math.inf), math.nextafter(u, -math.inf)):
        assert (v <= u) == (float(np.float32(v)) <= t)
