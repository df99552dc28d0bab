"""One area's model, compiled for per-event scoring: probability, then reasons when it matters.

A row is a sequence of floats in the model's feature order, NaN for missing (build one from a
mapping with :meth:`CompiledModel.row`). :meth:`CompiledModel.probability` is the hot path
(raw score → calibrated probability, no allocation beyond the unpacking); call
:meth:`CompiledModel.explain` only for events worth explaining (twice the cost).

Reasons are Saabas contributions: walking the event's path, each split moves the expected value
from the node's to the child's, and the difference is credited to the split's feature. Summed
over trees they add up to ``raw - bias`` exactly (up to rounding), and unlike SHAP they cost one
walk. Positive contributions push toward the positive (abusive) class; reasons list those only.

>>> import numpy as np
>>> from rampart.detect.models.calibration import Calibration
>>> from rampart.detect.models._trees import Split, Tree, TreeEnsemble
>>> tree = Tree((Split(0, 0.5, False, False, 1, 2), None, None), (-1.0, -2.0, 1.0))
>>> m = CompiledModel("scalper", TreeEnsemble((tree,), 1), ("qty",), Calibration.platt(1, 0), 0.5)
>>> m.raw((3.0,)), round(m.probability((3.0,)), 4), m.explain((3.0,))
(1.0, 0.7311, [('model:scalper:qty', 2.0)])
>>> m.row({"qty": None})
(nan,)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from typing import Any

from rampart.detect.models._codegen import compile_contributions, compile_raw
from rampart.detect.models._trees import TreeEnsemble, from_lightgbm
from rampart.detect.models.calibration import Calibration

__all__ = ["CompiledModel", "Reason"]

Reason = tuple[str, float]  # ("model:<area>:<feature>", contribution to the raw score)


def top_reasons(
    contributions: list[float], codes: Sequence[str], k: int, *, sign: float = 1.0
) -> list[Reason]:
    """The ``k`` largest ``sign * contribution`` above zero, largest first (ties: feature order).

    >>> top_reasons([0.5, -1.0, 2.0, 0.0], ["a", "b", "c", "d"], 2)
    [('c', 2.0), ('a', 0.5)]
    >>> top_reasons([0.5, -1.0, 2.0, 0.0], ["a", "b", "c", "d"], 2, sign=-1.0)
    [('b', 1.0)]
    """
    values = contributions if sign == 1.0 else [sign * v for v in contributions]
    # A bound method as key: about twice as fast as a lambda over ~40 features.
    best = heapq.nlargest(k, range(len(values)), key=values.__getitem__)
    return [(codes[j], values[j]) for j in best if values[j] > 0]


class CompiledModel:
    """A LightGBM area model compiled to Python; see the module docstring."""

    __slots__ = (
        "_contrib",
        "_raw",
        "_reason_codes",
        "area",
        "bias",
        "calibration",
        "feature_names",
        "n_trees",
        "threshold",
    )

    def __init__(
        self,
        area: str,
        ensemble: TreeEnsemble,
        feature_names: Sequence[str],
        calibration: Calibration,
        threshold: float,
    ) -> None:
        if ensemble.n_features != len(feature_names):
            raise ValueError(
                f"model {area!r} has {ensemble.n_features} features, "
                f"{len(feature_names)} feature names given"
            )
        self.area = area
        self.feature_names = tuple(feature_names)
        self.calibration = calibration
        self.threshold = threshold  # flag when probability >= threshold (the operating point)
        self.bias = ensemble.bias
        self.n_trees = len(ensemble.trees)
        self._raw = compile_raw(ensemble, f"model:{area}")
        self._contrib = compile_contributions(ensemble, f"model:{area}:contributions")
        self._reason_codes = tuple(f"model:{area}:{f}" for f in self.feature_names)

    @classmethod
    def from_model_text(
        cls,
        area: str,
        model_text: str,
        feature_names: Sequence[str],
        calibration: Calibration,
        threshold: float,
    ) -> CompiledModel:
        """Compiles a LightGBM text model (``Booster.model_to_string()``, ``model.txt``)."""
        import lightgbm as lgb

        dump: dict[str, Any] = lgb.Booster(model_str=model_text).dump_model()
        return cls(area, from_lightgbm(dump), feature_names, calibration, threshold)

    def row(self, values: Mapping[str, float | None]) -> tuple[float, ...]:
        """A row in feature order from a mapping; absent and None values become NaN."""
        nan = math.nan
        return tuple(
            nan if (v := values.get(name)) is None else float(v) for name in self.feature_names
        )

    def raw(self, row: Sequence[float]) -> float:
        """LightGBM's raw score (``predict(raw_score=True)``): the log-odds before calibration."""
        return self._raw(row)

    def probability(self, row: Sequence[float]) -> float:
        """Calibrated probability of the positive class."""
        return self.calibration(self._raw(row))

    def contributions(self, row: Sequence[float]) -> tuple[float, list[float]]:
        """(raw score, per-feature Saabas contributions); they sum to ``raw - self.bias``."""
        return self._contrib(row)

    def explain(self, row: Sequence[float], k: int = 3) -> list[Reason]:
        """Up to ``k`` features that pushed the score up most, as (reason code, contribution)."""
        _, c = self.contributions(row)
        return top_reasons(c, self._reason_codes, k)

    def score(self, row: Sequence[float], k: int = 3) -> tuple[float, float, list[Reason]]:
        """(calibrated probability, raw score, top reasons) in one walk."""
        raw, c = self.contributions(row)
        return self.calibration(raw), raw, top_reasons(c, self._reason_codes, k)
