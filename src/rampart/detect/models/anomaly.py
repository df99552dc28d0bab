"""Unsupervised anomaly score per entity type: an Isolation Forest, compiled.

For abuse no label has seen yet. scikit-learn's ``IsolationForest`` is fitted offline on
unlabelled feature vectors of one entity type; its trees are then turned into a
:class:`~rampart.detect.models._trees.TreeEnsemble` whose leaf value is the isolation path
length (depth + the expected depth of the samples left in the leaf), so the same code generator
as the supervised models scores an event in a few µs, and the stored model is plain numbers.

The score is scikit-learn's ``-score_samples``: ``2 ** (-mean path length / c(max_samples))``
in (0, 1]; about 0.5 and below is ordinary, close to 1 is isolated fast. Missing values (NaN)
are replaced by the training median of the feature (scikit-learn would need a missing-value
rule per split); the replacement is baked into the compiled splits, so it costs nothing.

Reasons: Saabas contributions on path length. A split whose branch shortens the expected path
is credited to its feature; reasons list the features that shortened it most, as
(``anomaly:<entity_type>:<feature>``, splits saved on average per tree).

scikit-learn compares float32 copies of the features; :func:`float32_threshold` moves each
threshold so that comparing the float64 value gives the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rampart.detect.models._codegen import compile_contributions, compile_raw
from rampart.detect.models._trees import Split, Tree, TreeEnsemble, from_json, to_json
from rampart.detect.models.compiled import Reason, top_reasons

__all__ = [
    "AnomalyModel",
    "average_path_length",
    "float32_threshold",
    "train_anomaly",
]

FORMAT: Final = "rampart-isolation-forest/1"


def average_path_length(n: float) -> float:
    """Expected depth of an unsuccessful search in a binary search tree of ``n`` keys
    (scikit-learn's ``_average_path_length``).

    >>> average_path_length(1), average_path_length(2), round(average_path_length(256), 4)
    (0.0, 1.0, 10.2448)
    """
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n


def float32_threshold(t: float) -> float:
    """The largest float64 ``u`` such that, for every float64 ``x`` in float32 range,
    ``x <= u`` exactly when ``float32(x) <= t`` (round to nearest, ties to even).

    >>> u = float32_threshold(0.1)
    >>> f32 = lambda v: float(np.float32(v))  # float() or numpy would compare in float32
    >>> f32(u) <= 0.1, f32(math.nextafter(u, 1.0)) <= 0.1
    (True, False)
    """
    t32 = np.float32(t)
    if float(t32) > t:
        t32 = np.nextafter(t32, np.float32(-np.inf))
    up = np.nextafter(t32, np.float32(np.inf))
    if not np.isfinite(up):
        return math.inf
    mid = (float(t32) + float(up)) / 2.0  # exact: float32 values have 24-bit mantissas
    even = int(np.array(t32, dtype=np.float32).view(np.uint32)) & 1 == 0
    return mid if even else math.nextafter(mid, -math.inf)


def _from_sklearn_tree(tree: Any, fill: Sequence[float]) -> Tree:
    t = tree.tree_
    left, right = t.children_left.tolist(), t.children_right.tolist()
    feature, threshold = t.feature.tolist(), t.threshold.tolist()
    counts = t.n_node_samples.tolist()
    splits: list[Split | None] = [None] * t.node_count
    values = [0.0] * t.node_count

    def walk(i: int, depth: int) -> float:
        if left[i] == -1:
            values[i] = depth + average_path_length(counts[i])
            return values[i]
        u = float32_threshold(threshold[i])
        f = feature[i]
        splits[i] = Split(f, u, fill[f] <= u, False, left[i], right[i])
        lv, rv = walk(left[i], depth + 1), walk(right[i], depth + 1)
        values[i] = (lv * counts[left[i]] + rv * counts[right[i]]) / counts[i]
        return values[i]

    walk(0, 0)
    return Tree(tuple(splits), tuple(values))


class AnomalyModel:
    """A compiled Isolation Forest for one entity type; see the module docstring."""

    __slots__ = (
        "_contrib",
        "_denominator",
        "_raw",
        "_reason_codes",
        "ensemble",
        "entity_type",
        "feature_names",
        "fill",
        "max_samples",
    )

    def __init__(
        self,
        entity_type: str,
        ensemble: TreeEnsemble,
        feature_names: Sequence[str],
        fill: Sequence[float],
        max_samples: int,
    ) -> None:
        if not (ensemble.n_features == len(feature_names) == len(fill)):
            raise ValueError("anomaly model: trees, feature names and fill values disagree")
        self.entity_type = entity_type
        self.ensemble = ensemble
        self.feature_names = tuple(feature_names)
        self.fill = tuple(float(v) for v in fill)
        self.max_samples = int(max_samples)
        self._denominator = len(ensemble.trees) * average_path_length(self.max_samples)
        self._raw = compile_raw(ensemble, f"anomaly:{entity_type}")
        self._contrib = compile_contributions(ensemble, f"anomaly:{entity_type}:contributions")
        self._reason_codes = tuple(f"anomaly:{entity_type}:{f}" for f in self.feature_names)

    def score(self, row: Sequence[float]) -> float:
        """Anomaly score in (0, 1]; ``row`` in feature order, NaN for missing."""
        d = self._denominator
        return 2.0 ** (-self._raw(row) / d) if d else 1.0

    def explain(self, row: Sequence[float], k: int = 3) -> list[Reason]:
        """Up to ``k`` features that isolated the row fastest."""
        _, c = self._contrib(row)
        n = len(self.ensemble.trees)
        return [(code, v / n) for code, v in top_reasons(c, self._reason_codes, k, sign=-1.0)]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "entity_type": self.entity_type,
            "feature_names": list(self.feature_names),
            "fill": list(self.fill),
            "max_samples": self.max_samples,
            "ensemble": to_json(self.ensemble),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnomalyModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not an anomaly model in format {FORMAT}: {data.get('format')!r}")
        return cls(
            data["entity_type"],
            from_json(data["ensemble"]),
            data["feature_names"],
            data["fill"],
            data["max_samples"],
        )


def impute(x: npt.NDArray[np.float64], fill: Sequence[float]) -> npt.NDArray[np.float64]:
    """``x`` with NaN replaced by the column's fill value (what the compiled model does)."""
    return np.where(np.isnan(x), np.asarray(fill, dtype=np.float64), x)


def train_anomaly(
    x: npt.ArrayLike,
    feature_names: Sequence[str],
    *,
    entity_type: str,
    n_estimators: int = 64,
    max_samples: int = 128,
    seed: int = 0,
) -> AnomalyModel:
    """Fits an Isolation Forest on unlabelled rows (NaN for missing) and compiles it.

    Defaults keep scoring near 5 µs: 64 trees at most 7 splits deep (``max_samples`` 128).
    """
    from sklearn.ensemble import IsolationForest

    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != len(feature_names) or len(xs) < 2:
        raise ValueError(f"x must be (rows >= 2, {len(feature_names)} features), got {xs.shape}")
    # An all-missing column gets 0.0 (nanmedian would warn and return NaN).
    med = np.nanmedian(np.where(np.isnan(xs).all(axis=0), 0.0, xs), axis=0)
    fill = [float(v) for v in med]
    # max_features stays 1.0: every tree sees every feature in its original column order.
    forest = IsolationForest(
        n_estimators=n_estimators, max_samples=min(max_samples, len(xs)), random_state=seed
    ).fit(impute(xs, fill))
    trees = tuple(_from_sklearn_tree(t, fill) for t in forest.estimators_)
    return AnomalyModel(
        entity_type, TreeEnsemble(trees, xs.shape[1]), feature_names, fill, forest.max_samples_
    )
