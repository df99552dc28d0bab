"""Compiled LightGBM models against Booster.predict: exact raw scores, NaN semantics, Saabas."""

from __future__ import annotations

import math
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rampart.detect.models import Calibration, CompiledModel
from rampart.detect.models._codegen import source_raw
from rampart.detect.models._trees import ZERO_THRESHOLD, UnsupportedModelError, from_lightgbm

N_FEATURES = 6
BASE = {
    "objective": "binary",
    "num_leaves": 7,
    "min_data_in_leaf": 3,
    "verbose": -1,
    "deterministic": True,
    "num_threads": 1,
    "force_row_wise": True,
}
# One model per LightGBM missing-value mode: NaN (default with NaNs seen), None (use_missing
# off: NaN becomes 0.0), Zero (zeros and NaN are missing), and None-by-default (no NaN seen).
CONFIGS: dict[str, dict[str, Any]] = {
    "nan": {},
    "none": {"use_missing": False},
    "zero": {"zero_as_missing": True},
    "no_nan_seen": {"_no_nan": True},
}


def _data(seed: int, *, no_nan: bool = False) -> tuple[npt.NDArray[np.float64], Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, N_FEATURES))
    x[rng.random(x.shape) < 0.15] = 0.0
    if not no_nan:
        x[rng.random(x.shape) < 0.2] = np.nan
    signal = np.nan_to_num(x[:, 0], nan=2.0) + np.isnan(x[:, 1]) - x[:, 2] * (x[:, 3] > 0)
    y = (np.nan_to_num(signal) + rng.normal(size=len(x)) > 0.8).astype(int)
    return x, y


def _train(config: dict[str, Any], seed: int = 0, rounds: int = 20) -> lgb.Booster:
    params = {k: v for k, v in config.items() if not k.startswith("_")}
    x, y = _data(seed, no_nan=bool(config.get("_no_nan")))
    return lgb.train({**BASE, **params, "seed": seed}, lgb.Dataset(x, y), num_boost_round=rounds)


def _compile(booster: lgb.Booster) -> CompiledModel:
    names = [f"f{j}" for j in range(N_FEATURES)]
    return CompiledModel.from_model_text(
        "test", booster.model_to_string(), names, Calibration.platt(1.0, 0.0), 0.5
    )


BOOSTERS = {name: _train(config) for name, config in CONFIGS.items()}
MODELS = {name: _compile(b) for name, b in BOOSTERS.items()}


def _thresholds(booster: lgb.Booster) -> list[float]:
    ens = from_lightgbm(booster.dump_model())
    return sorted({s.threshold for t in ens.trees for s in t.splits if s is not None})


def _value(thresholds: list[float]) -> st.SearchStrategy[float]:
    """Values that hit the edges: thresholds and their neighbours, missing, zeros, extremes."""
    at = st.sampled_from(thresholds)
    return st.one_of(
        at,
        at.map(lambda t: math.nextafter(t, math.inf)),
        at.map(lambda t: math.nextafter(t, -math.inf)),
        st.sampled_from([math.nan, 0.0, -0.0, ZERO_THRESHOLD, -ZERO_THRESHOLD, 1e-36, -1e-30]),
        st.sampled_from([math.inf, -math.inf, 1e300]),
        st.floats(-4, 4),
    )


def _rows(booster: lgb.Booster) -> st.SearchStrategy[tuple[float, ...]]:
    v = _value(_thresholds(booster))
    return st.tuples(*[v] * N_FEATURES)


def _check_rows(booster: lgb.Booster, model: CompiledModel, rows: list[tuple[float, ...]]) -> None:
    # One predict call for many rows: each call has a fixed cost of about a millisecond.
    expected = np.asarray(booster.predict(np.array(rows), raw_score=True, num_threads=1))
    for row, want in zip(rows, expected.tolist(), strict=True):
        assert model.raw(row) == pytest.approx(want, abs=1e-9, rel=0)
        raw, contrib = model.contributions(row)
        assert raw == model.raw(row)
        assert math.fsum(contrib) == pytest.approx(raw - model.bias, abs=1e-9, rel=0)


@pytest.mark.parametrize("name", sorted(CONFIGS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(data=st.data())
def test_raw_score_equals_booster_predict(name: str, data: st.DataObject) -> None:
    booster = BOOSTERS[name]
    rows = data.draw(st.lists(_rows(booster), min_size=1, max_size=40))
    _check_rows(booster, MODELS[name], rows)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    config=st.sampled_from(sorted(CONFIGS)),
    extra=st.fixed_dictionaries(
        {"num_leaves": st.integers(2, 15), "bagging_fraction": st.sampled_from([0.6, 1.0])}
    ),
    data=st.data(),
)
def test_random_models_match_booster(
    seed: int, config: str, extra: dict[str, Any], data: st.DataObject
) -> None:
    booster = _train({**CONFIGS[config], **extra, "bagging_freq": 1}, seed=seed, rounds=10)
    rows = data.draw(st.lists(_rows(booster), min_size=1, max_size=40))
    _check_rows(booster, _compile(booster), rows)


def test_batch_of_training_rows_matches() -> None:
    x, _ = _data(7)
    for name, booster in BOOSTERS.items():
        expected = booster.predict(x, raw_score=True)
        got = [MODELS[name].raw(tuple(r)) for r in x.tolist()]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_missing_modes_are_the_ones_meant() -> None:
    def modes(b: lgb.Booster) -> set[str]:
        found: set[str] = set()

        def walk(n: dict[str, Any]) -> None:
            if "split_feature" in n:
                found.add(n["missing_type"])
                walk(n["left_child"])
                walk(n["right_child"])

        for t in b.dump_model()["tree_info"]:
            walk(t["tree_structure"])
        return found

    assert "NaN" in modes(BOOSTERS["nan"])
    assert modes(BOOSTERS["none"]) == {"None"}
    assert "Zero" in modes(BOOSTERS["zero"])
    assert modes(BOOSTERS["no_nan_seen"]) == {"None"}


def test_explain_names_the_features_that_raise_the_score() -> None:
    model = MODELS["nan"]
    row = (3.0, math.nan, -2.0, 1.0, 0.0, 0.0)  # every planted signal on
    reasons = model.explain(row, k=2)
    assert 1 <= len(reasons) <= 2
    assert all(code.startswith("model:test:f") and c > 0 for code, c in reasons)
    assert reasons[0][0] == "model:test:f0"
    assert [c for _, c in reasons] == sorted((c for _, c in reasons), reverse=True)
    prob, raw, again = model.score(row, k=2)
    assert (raw, again) == (model.raw(row), reasons)
    assert prob == model.probability(row)


def test_row_from_mapping_follows_feature_order() -> None:
    model = MODELS["nan"]
    row = model.row({"f2": 2, "f0": 1.5, "f1": None})
    assert (row[0], row[2]) == (1.5, 2.0)
    assert all(math.isnan(v) for v in (row[1], *row[3:]))


def test_wrong_row_length_is_an_error() -> None:
    with pytest.raises(ValueError, match="unpack"):
        MODELS["nan"].raw((1.0, 2.0))


def test_categorical_splits_are_refused() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.integers(0, 8, 500), rng.normal(size=500)]).astype(float)
    y = (np.isin(x[:, 0], [1, 3, 5]) ^ (rng.random(500) < 0.1)).astype(int)
    ds = lgb.Dataset(x, y, categorical_feature=[0])
    booster = lgb.train({**BASE, "min_data_per_group": 5}, ds, num_boost_round=3)
    with pytest.raises(UnsupportedModelError, match="categorical"):
        from_lightgbm(booster.dump_model())


def test_multiclass_is_refused() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    params = {**BASE, "objective": "multiclass", "num_class": 3}
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=2)
    with pytest.raises(UnsupportedModelError, match="single-output"):
        from_lightgbm(booster.dump_model())


def test_constant_model_compiles() -> None:
    x = np.zeros((50, 2))
    y = np.r_[np.ones(10), np.zeros(40)]
    booster = lgb.train(BASE, lgb.Dataset(x, y), num_boost_round=3)
    ens = from_lightgbm(booster.dump_model())
    assert "def _f(row):" in source_raw(ens)
    model = CompiledModel("c", ens, ["a", "b"], Calibration.platt(1.0, 0.0), 0.5)
    expected = booster.predict(np.array([[1.0, 2.0]]), raw_score=True)[0]
    assert model.raw((1.0, 2.0)) == pytest.approx(expected, abs=1e-12)
    assert model.explain((1.0, 2.0)) == []
