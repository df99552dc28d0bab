"""Raw model score → calibrated probability, stored as plain numbers.

Fitting uses scikit-learn (offline); applying needs only this module, so the online scorer does
not import scikit-learn. Three kinds:

* ``isotonic``: piecewise-linear through breakpoints ``x``/``y`` (scikit-learn's
  ``IsotonicRegression(out_of_bounds="clip")``), used when the held-out slice has enough of
  both classes for a step function not to overfit;
* ``platt``: ``sigmoid(a * raw + b)``, for smaller slices;
* ``platt`` with ``a = 1, b = -log(w)`` when the held-out slice has a single class: undoes the
  ``scale_pos_weight`` ``w`` used in training and nothing more.

>>> iso = Calibration.isotonic([0.0, 1.0, 2.0], [0.1, 0.3, 0.9])
>>> iso(-5.0), iso(0.5), iso(1.5), iso(9.0)
(0.1, 0.2, 0.6000000000000001, 0.9)
>>> Calibration.from_json(iso.to_json()) == iso
True
>>> Calibration.platt(1.0, 0.0)(0.0)
0.5
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["ISOTONIC_MIN_PER_CLASS", "Calibration", "fit_calibration"]

# Below this many positives (or negatives) in the held-out slice, isotonic steps follow noise.
ISOTONIC_MIN_PER_CLASS: Final = 100


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)  # no overflow for very negative z
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class Calibration:
    kind: Literal["isotonic", "platt"]
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    a: float = 1.0
    b: float = 0.0

    @classmethod
    def isotonic(cls, x: Sequence[float], y: Sequence[float]) -> Calibration:
        if len(x) != len(y) or not x:
            raise ValueError("isotonic calibration needs as many x as y breakpoints, at least one")
        if any(x1 < x0 for x0, x1 in pairwise(x)):
            raise ValueError("isotonic breakpoints must be sorted by x")
        return cls("isotonic", tuple(map(float, x)), tuple(map(float, y)))

    @classmethod
    def platt(cls, a: float, b: float) -> Calibration:
        return cls("platt", a=float(a), b=float(b))

    def __call__(self, raw: float) -> float:
        if self.kind == "platt":
            return _sigmoid(self.a * raw + self.b)
        x, y = self.x, self.y
        i = bisect_right(x, raw)
        if i == 0:
            return y[0]
        if i == len(x):
            return y[-1]
        x0, x1, y0 = x[i - 1], x[i], y[i - 1]
        # Same formula as numpy.interp, which scikit-learn's predict uses.
        return y0 + (raw - x0) * ((y[i] - y0) / (x1 - x0))

    def to_json(self) -> dict[str, Any]:
        if self.kind == "platt":
            return {"kind": "platt", "a": self.a, "b": self.b}
        return {"kind": "isotonic", "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        kind = data.get("kind")
        if kind == "platt":
            return cls.platt(data["a"], data["b"])
        if kind == "isotonic":
            return cls.isotonic(data["x"], data["y"])
        raise ValueError(f"unknown calibration kind {kind!r}")


def fit_calibration(
    raw: npt.NDArray[np.float64],
    y: npt.NDArray[np.int_],
    *,
    kind: Literal["auto", "isotonic", "platt"] = "auto",
    pos_weight: float = 1.0,
) -> Calibration:
    """Fits on held-out raw scores; ``pos_weight`` is the training ``scale_pos_weight``."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return Calibration.platt(1.0, -math.log(pos_weight))
    if kind == "auto":
        enough = min(positives, negatives) >= ISOTONIC_MIN_PER_CLASS
        kind = "isotonic" if enough else "platt"
    if kind == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return Calibration.isotonic(iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
    from sklearn.linear_model import LogisticRegression

    # Nearly unregularised: one feature, and the fit must follow the data, not shrink to 0.5.
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return Calibration.platt(float(lr.coef_[0, 0]), float(lr.intercept_[0]))
