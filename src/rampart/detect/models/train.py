"""Training one area's model: LightGBM binary, time-split held-out slice, calibration, report.

The latest ``holdout_fraction`` of rows by event time is held out; the model never sees it.
Labels arrive late and abuse drifts, so a random split would let the future leak into training
and flatter the model. On the held-out slice we measure ranking (AUC ROC, average precision),
fit the calibration, and choose the operating point (the probability threshold reaching the
target precision with the most recall).

Calibration and threshold are fitted on the same held-out slice they are reported on, so the
precision / recall at the operating point are optimistic by a little; AUC ROC and average
precision are honest (nothing was fitted on the slice before they were measured).

No refit on all data: calibration and threshold belong to the model that was evaluated, and a
refit model's score scale would differ. The held-out fifth is the freshest data, so a refit
would help most on fast-moving abuse; doing it would need a second, time-respecting
calibration slice (left for later).

Heavy class imbalance: positives are up-weighted by ``sqrt(negatives / positives)`` (capped at
100), a middle ground between ignoring them and ``is_unbalance`` (full reweighting, which
over-flags); the calibration undoes the shift in the probability scale.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from rampart.detect.models.calibration import Calibration, fit_calibration
from rampart.detect.models.compiled import CompiledModel
from rampart.detect.models.report import (
    operating_point,
    ranking_metrics,
    reliability,
    split_summary,
    top_features,
)

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_ROUNDS",
    "TrainedModel",
    "time_blocks",
    "time_split",
    "train_area",
    "train_area_blocked",
]

DEFAULT_ROUNDS: Final = 100
# Small and fast to score (≤ 100 trees of ≤ 15 leaves), deterministic on one thread.
DEFAULT_PARAMS: Final[Mapping[str, Any]] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 15,
    "max_depth": 8,
    "min_data_in_leaf": 20,
    "min_sum_hessian_in_leaf": 1e-3,
    "lambda_l2": 1.0,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "max_bin": 255,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
_MAX_POS_WEIGHT: Final = 100.0


@dataclass(frozen=True)
class TrainedModel:
    """What :func:`train_area` returns and :func:`~rampart.detect.models.registry.save_models`
    stores: the LightGBM text model and everything needed to score and explain it."""

    area: str
    model_text: str
    feature_names: tuple[str, ...]
    calibration: Calibration
    threshold: float
    report: dict[str, Any] = field(repr=False)

    def compile(self) -> CompiledModel:
        return CompiledModel.from_model_text(
            self.area, self.model_text, self.feature_names, self.calibration, self.threshold
        )


def time_split(
    ts: npt.NDArray[np.float64], holdout_fraction: float
) -> tuple[npt.NDArray[np.bool_], float]:
    """(holdout mask, cutoff): rows at or after the cutoff time are held out. Rows sharing the
    cutoff timestamp all go to the held-out side, so no instant is split across both.

    >>> mask, cut = time_split(np.array([5.0, 1.0, 3.0, 4.0, 2.0]), 0.4)
    >>> mask.tolist(), cut
    ([True, False, False, True, False], 4.0)
    """
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError("holdout_fraction must be between 0 and 1")
    ordered = np.sort(ts, kind="stable")
    cutoff = float(ordered[min(len(ts) - 1, int(len(ts) * (1.0 - holdout_fraction)))])
    return ts >= cutoff, cutoff


def _check_inputs(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int_], names: Sequence[str], ts: Any
) -> None:
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"x must be (rows, {len(names)} features), got shape {x.shape}")
    if len(y) != len(x) or len(ts) != len(x):
        raise ValueError(f"x, y and ts must have the same length ({len(x)}, {len(y)}, {len(ts)})")
    if len(set(names)) != len(names):
        raise ValueError("feature names must be unique")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")


def _lightgbm_params(
    params: Mapping[str, Any] | None, seed: int, positives: int, rows: int
) -> tuple[dict[str, Any], int, float]:
    """(LightGBM parameters, number of trees, positive weight): the defaults, the caller's
    overrides, and positives up-weighted by ``sqrt(negatives / positives)`` unless set."""
    merged = {**DEFAULT_PARAMS, "seed": seed, **(params or {})}
    rounds = int(merged.pop("num_iterations", DEFAULT_ROUNDS))
    if "scale_pos_weight" not in merged and not merged.get("is_unbalance", False):
        merged["scale_pos_weight"] = min(_MAX_POS_WEIGHT, math.sqrt((rows - positives) / positives))
    return merged, rounds, float(merged.get("scale_pos_weight", 1.0))


def train_area(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    feature_names: Sequence[str],
    ts: npt.ArrayLike,
    *,
    area: str,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    holdout_fraction: float = 0.2,
    target_precision: float = 0.95,
    calibration: Literal["auto", "isotonic", "platt"] = "auto",
) -> TrainedModel:
    """Trains the model of one risk area; see the module docstring.

    ``x``: (rows, features) floats, NaN for missing; ``y``: 0/1 labels; ``ts``: event epoch
    seconds. ``params`` override :data:`DEFAULT_PARAMS` (``num_iterations`` sets the number
    of trees, default :data:`DEFAULT_ROUNDS`).
    """
    import lightgbm as lgb

    xs = np.asarray(x, dtype=np.float64)
    y_ = np.asarray(y).astype(np.int64)
    ts_ = np.asarray(ts, dtype=np.float64)
    _check_inputs(xs, y_, feature_names, ts_)
    holdout, cutoff = time_split(ts_, holdout_fraction)
    train = ~holdout
    y_train, y_hold = y_[train], y_[holdout]
    positives = int(y_train.sum())
    if positives == 0 or positives == len(y_train):
        raise ValueError(
            f"area {area!r}: the training slice (before ts {cutoff}) needs both classes, "
            f"has {positives} positive of {len(y_train)}"
        )

    merged, rounds, pos_weight = _lightgbm_params(params, seed, positives, len(y_train))

    # Feature names stay out of LightGBM (it rejects some characters); features.json has them.
    dataset = lgb.Dataset(xs[train], label=y_train, params={"verbose": -1})
    booster = lgb.train(merged, dataset, num_boost_round=rounds)
    raw_hold = np.asarray(booster.predict(xs[holdout], raw_score=True), dtype=np.float64)

    cal = fit_calibration(raw_hold, y_hold, kind=calibration, pos_weight=pos_weight)
    prob_hold = np.array([cal(float(r)) for r in raw_hold], dtype=np.float64)
    op = operating_point(prob_hold, y_hold, target_precision=target_precision)
    names = list(feature_names)
    report: dict[str, Any] = {
        "area": area,
        "lightgbm": lgb.__version__,
        "params": {**merged, "num_iterations": rounds},
        "num_trees": booster.num_trees(),
        "refit_on_all_data": False,
        "split": {
            "method": "time",
            "holdout_fraction": holdout_fraction,
            "cutoff_ts": cutoff,
            "train": split_summary(y_train, ts_[train]),
            "holdout": split_summary(y_hold, ts_[holdout]),
        },
    }
    return _trained(area, booster, names, cal, report, raw_hold, prob_hold, y_hold, op)


def _trained(
    area: str,
    booster: Any,
    names: list[str],
    cal: Calibration,
    report: dict[str, Any],
    raw: npt.NDArray[np.float64],
    prob: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    op: dict[str, Any],
) -> TrainedModel:
    """The model with its report completed by what was measured on the scored-unseen rows."""
    report["holdout_metrics"] = ranking_metrics(raw, y)
    report["calibration"] = {"kind": cal.kind, **reliability(prob, y)}
    report["operating_point"] = op
    report["top_features"] = top_features(
        names,
        booster.feature_importance("gain").tolist(),
        booster.feature_importance("split").tolist(),
    )
    return TrainedModel(
        area=area,
        model_text=booster.model_to_string(),
        feature_names=tuple(names),
        calibration=cal,
        threshold=float(op["threshold"]),
        report=report,
    )


def time_blocks(ts: npt.NDArray[np.float64], folds: int) -> npt.NDArray[np.int_]:
    """Each row's block: ``folds`` contiguous stretches of time holding about as many rows.

    >>> time_blocks(np.array([5.0, 1.0, 3.0, 4.0, 2.0, 6.0]), 3).tolist()
    [2, 0, 1, 1, 0, 2]
    """
    order = np.argsort(ts, kind="stable")
    block = np.empty(len(ts), dtype=np.int_)
    block[order] = np.arange(len(ts)) * folds // max(len(ts), 1)
    return block


def train_area_blocked(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    feature_names: Sequence[str],
    ts: npt.ArrayLike,
    *,
    area: str,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    folds: int = 4,
    max_negatives: int = 60_000,
    target_precision: float = 0.95,
    calibration: Literal["auto", "isotonic", "platt"] = "auto",
    ignore: Collection[str] = (),
) -> TrainedModel:
    """Trains one area's model on all rows; calibrates and picks its operating point on
    out-of-fold scores from ``folds`` contiguous time blocks.

    ``ignore``: inputs the model must not split on (they stay in its view, all missing while
    training, so it reads the same vector; the report lists them).

    Abuse comes in campaigns: a single latest-fifth hold-out often holds no campaign at all, and
    then nothing can be calibrated. Every block is scored by a model that never saw it; blocks
    are stretches of time, so rows of one burst stay together. Models of the later blocks have
    seen the past only, those of earlier blocks have seen the future: the reported figures are
    those of a model that knows the campaigns' kind but not these rows. Negatives are sampled
    down to ``max_negatives`` per fit (weighted back up), all rows are scored.
    """
    import lightgbm as lgb

    xs = np.asarray(x, dtype=np.float64)
    y_ = np.asarray(y).astype(np.int64)
    ts_ = np.asarray(ts, dtype=np.float64)
    _check_inputs(xs, y_, feature_names, ts_)
    ignored = [n for n in feature_names if n in set(ignore)]
    if ignored:  # all missing: LightGBM finds no split on them
        xs = xs.copy()
        xs[:, [list(feature_names).index(n) for n in ignored]] = np.nan
    positives = int(y_.sum())
    if positives == 0 or positives == len(y_):
        raise ValueError(f"area {area!r}: needs both classes, has {positives} of {len(y_)}")
    merged, rounds, pos_weight = _lightgbm_params(params, seed, positives, len(y_))
    rng = np.random.default_rng(seed)
    negatives = np.flatnonzero(y_ == 0)
    rate = min(1.0, max_negatives * folds / max(folds - 1, 1) / len(negatives))
    kept = np.zeros(len(y_), dtype=bool)
    kept[y_ == 1] = True
    kept[negatives[rng.random(len(negatives)) < rate]] = True
    weight = np.where(y_ == 1, 1.0, 1.0 / rate)
    sampled_negatives = int(kept.sum()) - positives

    def fit(mask: npt.NDArray[np.bool_]) -> Any:
        data = lgb.Dataset(xs[mask], label=y_[mask], weight=weight[mask], params={"verbose": -1})
        return lgb.train(merged, data, num_boost_round=rounds)

    block = time_blocks(ts_, folds)
    oof = np.zeros(len(y_), dtype=np.float64)
    for b in range(folds):
        inside = block == b
        outside = ~inside & kept
        if y_[outside].sum() == 0:
            oof[inside] = -30.0  # nothing to learn from: scored as clearly negative
            continue
        oof[inside] = fit(outside).predict(xs[inside], raw_score=True)
    booster = fit(kept)
    cal = fit_calibration(oof, y_, kind=calibration, pos_weight=pos_weight)
    prob = np.array([cal(float(r)) for r in oof], dtype=np.float64)
    op = operating_point(prob, y_, target_precision=target_precision)
    names = list(feature_names)
    report: dict[str, Any] = {
        "area": area,
        "lightgbm": lgb.__version__,
        "params": {**merged, "num_iterations": rounds},
        "num_trees": booster.num_trees(),
        "refit_on_all_data": True,
        "split": {
            "method": "blocked-time-cv",
            "folds": folds,
            "negative_sampling_rate": rate,
            "sampled_negatives": sampled_negatives,
            "all": split_summary(y_, ts_),
        },
        "ignored_inputs": ignored,
    }
    return _trained(area, booster, names, cal, report, oof, prob, y_, op)
