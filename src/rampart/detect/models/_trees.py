"""A plain, library-free description of a tree ensemble, and its reading from LightGBM.

Both the supervised models (LightGBM) and the anomaly model (scikit-learn's Isolation Forest)
are turned into a :class:`TreeEnsemble` so one code generator (:mod:`._codegen`) serves both.
Every split is numerical, ``x <= threshold`` goes left, and where a missing value goes is
decided here, once, from LightGBM's rules, so the generated code needs no per-event checks:

* ``missing_type: None``: LightGBM replaces NaN by 0.0, so NaN goes where 0.0 goes;
* ``missing_type: NaN``: NaN goes to the default child (``default_left``);
* ``missing_type: Zero``: NaN and values within ±1e-35 go to the default child;
* values within ±1e-35 are read as 0.0 by LightGBM's predict (see :func:`_threshold`).

Node expected values (the count-weighted mean of the leaves below) are computed here too: the
Saabas contribution of a split is the change of expected value from a node to its child.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

__all__ = [
    "ZERO_THRESHOLD",
    "Split",
    "Tree",
    "TreeEnsemble",
    "UnsupportedModelError",
    "from_json",
    "from_lightgbm",
    "to_json",
]

# LightGBM's kZeroThreshold is the float literal 1e-35f widened to double.
ZERO_THRESHOLD: Final = float(np.float32(1e-35))


class UnsupportedModelError(ValueError):
    """The model uses something the compiler does not support (categorical splits, ...)."""


@dataclass(frozen=True, slots=True)
class Split:
    """One internal node: ``left``/``right`` are indices into the tree's node list."""

    feature: int
    threshold: float
    nan_left: bool  # where NaN goes
    zero_is_missing: bool  # LightGBM's missing_type Zero: |x| <= 1e-35 goes where NaN goes
    left: int
    right: int


@dataclass(frozen=True, slots=True)
class Tree:
    """Nodes, root first. ``values[i]`` is a leaf's output, or for a split its
    expected value (count-weighted mean of the leaves below); ``splits[i]`` is None at leaves.
    """

    splits: tuple[Split | None, ...]
    values: tuple[float, ...]

    def depth(self) -> int:
        """Number of splits on the longest root-to-leaf path."""

        def walk(i: int) -> int:
            s = self.splits[i]
            return 0 if s is None else 1 + max(walk(s.left), walk(s.right))

        return walk(0)


@dataclass(frozen=True, slots=True)
class TreeEnsemble:
    """The raw output is the sum of the trees' leaf values, in tree order."""

    trees: tuple[Tree, ...]
    n_features: int

    @property
    def bias(self) -> float:
        """Sum of the root expected values: the raw score before any split is seen."""
        return math.fsum(t.values[0] for t in self.trees)


class _TreeBuilder:
    """Flattens a nested node description into pre-order lists, computing expected values."""

    def __init__(self) -> None:
        self.splits: list[Split | None] = []
        self.values: list[float] = []

    def leaf(self, value: float) -> int:
        self.splits.append(None)
        self.values.append(value)
        return len(self.values) - 1

    def reserve(self) -> int:
        self.splits.append(None)
        self.values.append(0.0)
        return len(self.values) - 1

    def tree(self) -> Tree:
        return Tree(tuple(self.splits), tuple(self.values))


# LightGBM writes an infinite threshold (a split of NaN from every number) as ±1e300.
_AVOID_INF: Final = 1e300


def _threshold(t: float) -> float:
    """The threshold a plain ``x <= t`` needs to decide as LightGBM's predict does.

    * ±1e300 stands for an infinite threshold: ``x = inf`` must go where the trained booster
      sends it (a booster re-read from text would compare inf with 1e300 instead).
    * LightGBM's predict reads rows sparsely and drops values with ``|x| <= 1e-35``: they are
      compared as 0.0. Only a threshold inside that band tells them from 0.0 (LightGBM puts
      thresholds at ±1e-35, between its zero bin and its neighbours); moving it to the band's
      edge makes ``x <= t`` answer as 0.0 would.

    >>> _threshold(-ZERO_THRESHOLD) < -ZERO_THRESHOLD, _threshold(0.0) == ZERO_THRESHOLD
    (True, True)
    >>> _threshold(1e300), _threshold(0.5)
    (inf, 0.5)
    """
    if abs(t) >= _AVOID_INF:
        return math.copysign(math.inf, t)
    if -ZERO_THRESHOLD <= t < 0.0:
        return math.nextafter(-ZERO_THRESHOLD, -math.inf)
    if 0.0 <= t < ZERO_THRESHOLD:
        return ZERO_THRESHOLD
    return t


def _lightgbm_node(node: dict[str, Any], b: _TreeBuilder) -> tuple[int, float, float]:
    """Adds ``node`` and its subtree; returns (index, expected value, count)."""
    if "leaf_value" in node:
        if "leaf_coeff" in node or "leaf_features" in node:
            raise UnsupportedModelError("linear trees are not supported")
        count = float(node.get("leaf_count", 1) or 0)
        value = float(node["leaf_value"])
        return b.leaf(value), value, count
    if node.get("decision_type") != "<=":
        raise UnsupportedModelError(
            f"only numerical '<=' splits are supported, got decision_type "
            f"{node.get('decision_type')!r} (categorical features are not supported)"
        )
    missing = node.get("missing_type", "None")
    if missing not in ("None", "NaN", "Zero"):
        raise UnsupportedModelError(f"unknown missing_type {missing!r}")
    threshold = _threshold(float(node["threshold"]))
    default_left = bool(node["default_left"])
    nan_left = (threshold >= 0.0) if missing == "None" else default_left
    index = b.reserve()
    left, lv, lc = _lightgbm_node(node["left_child"], b)
    right, rv, rc = _lightgbm_node(node["right_child"], b)
    count = lc + rc
    # A child with no training rows (possible with bagging) weighs nothing; if both are empty
    # the plain mean keeps the expected value defined.
    expected = (lv * lc + rv * rc) / count if count > 0 else (lv + rv) / 2
    b.splits[index] = Split(
        int(node["split_feature"]), threshold, nan_left, missing == "Zero", left, right
    )
    b.values[index] = expected
    return index, expected, count


def from_lightgbm(dump: dict[str, Any]) -> TreeEnsemble:
    """Reads ``Booster.dump_model()``; refuses what the code generator cannot reproduce."""
    if dump.get("num_tree_per_iteration", 1) != 1 or dump.get("num_class", 1) != 1:
        raise UnsupportedModelError("only single-output models (binary, regression) are supported")
    if dump.get("average_output", False):
        raise UnsupportedModelError("averaged outputs (random forest mode) are not supported")
    trees = []
    for info in dump["tree_info"]:
        if info.get("num_cat", 0):
            raise UnsupportedModelError("categorical splits are not supported")
        builder = _TreeBuilder()
        _lightgbm_node(info["tree_structure"], builder)
        trees.append(builder.tree())
    return TreeEnsemble(tuple(trees), int(dump["max_feature_idx"]) + 1)


def to_json(ensemble: TreeEnsemble) -> dict[str, Any]:
    """Column lists per tree (leaves have feature -1): plain numbers, no pickles.

    >>> tree = Tree((Split(0, 1.5, True, False, 1, 2), None, None), (0.5, 0.0, 1.0))
    >>> e = TreeEnsemble((tree,), 1)
    >>> from_json(to_json(e)) == e
    True
    """
    trees = []
    for t in ensemble.trees:
        cols: dict[str, list[Any]] = {
            k: [] for k in ("feature", "threshold", "nan_left", "zero_is_missing", "left", "right")
        }
        for s in t.splits:
            row = (
                (-1, 0.0, False, False, -1, -1)
                if s is None
                else (s.feature, s.threshold, s.nan_left, s.zero_is_missing, s.left, s.right)
            )
            for key, v in zip(cols, row, strict=True):
                cols[key].append(v)
        trees.append({**cols, "value": list(t.values)})
    return {"n_features": ensemble.n_features, "trees": trees}


def from_json(data: dict[str, Any]) -> TreeEnsemble:
    """Inverse of :func:`to_json`."""
    trees = []
    for t in data["trees"]:
        splits = tuple(
            None if f < 0 else Split(int(f), float(th), bool(nl), bool(z), int(lo), int(hi))
            for f, th, nl, z, lo, hi in zip(
                t["feature"],
                t["threshold"],
                t["nan_left"],
                t["zero_is_missing"],
                t["left"],
                t["right"],
                strict=True,
            )
        )
        trees.append(Tree(splits, tuple(float(v) for v in t["value"])))
    return TreeEnsemble(tuple(trees), int(data["n_features"]))
