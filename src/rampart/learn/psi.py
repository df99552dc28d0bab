"""Population stability index (PSI): how far a day's distribution moved from a reference one.

``PSI = Σ (a_i − e_i) · ln(a_i / e_i)`` over bins, with ``e`` the reference shares and ``a`` the
day's. Bins come from the reference: its quantiles for numbers (:func:`quantile_edges`), its
categories for strings and booleans; missing values are always a bin of their own, so a feature
that goes null moves mass into a bin the reference left (nearly) empty. An empty bin would make
the logarithm infinite: shares are floored at ``epsilon`` first (the usual fix; no
renormalisation, so the floor adds at most ``bins × epsilon`` to either side).

The usual reading (Siddiqi, *Credit Risk Scorecards*): below 0.1 stable, 0.1–0.25 worth watching,
above 0.25 a real shift. :data:`WATCH` and :data:`ALERT` are those defaults.

>>> edges = quantile_edges(np.arange(100.0), bins=4)
>>> edges
array([24., 49., 74.])
>>> reference = bin_counts(np.arange(100.0), edges)
>>> reference
array([25, 25, 25, 25,  0])
>>> float(psi(reference, reference))
0.0
>>> shifted = bin_counts(np.arange(50.0, 150.0), edges)
>>> shifted
array([ 0,  0, 25, 75,  0])
>>> round(float(psi(reference, shifted)), 3)
4.46
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

WATCH: Final = 0.1
ALERT: Final = 0.25
EPSILON: Final = 1e-4
BINS: Final = 10

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def quantile_edges(reference: npt.ArrayLike, bins: int = BINS) -> FloatArray:
    """Inner bin edges at the reference's quantiles, duplicates dropped (NaN ignored).

    A count feature that is 0 on most events has many equal quantiles: they collapse into one
    edge, so its bins are fewer (here: 0, 1, more, missing).

    >>> quantile_edges([0, 0, 0, 0, 0, 0, 0, 1, 2, 9], bins=5)
    array([0., 1.])
    >>> quantile_edges([np.nan, np.nan]).size
    0
    """
    values = np.asarray(reference, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0 or bins < 2:
        return np.empty(0, dtype=np.float64)
    # Edges are values the reference holds (no interpolation): a count feature keeps whole edges.
    # The inverted CDF in integer arithmetic: the smallest value with at least k/bins of the
    # sample at or below it (np.quantile's float probabilities put 3/5 a hair above 0.6).
    values.sort()
    ranks = (np.arange(1, bins, dtype=np.int64) * values.size + bins - 1) // bins - 1
    return np.unique(values[np.maximum(ranks, 0)])


def bin_index(values: npt.ArrayLike, edges: FloatArray) -> IntArray:
    """The bin of each value: ``0..len(edges)`` for numbers (right-closed), ``len(edges) + 1``
    for NaN (the missing bin).

    >>> bin_index([-1.0, 1.0, 1.5, 2.0, 5.0, np.nan], np.array([1.0, 2.0]))
    array([0, 0, 1, 1, 2, 3])
    """
    array = np.asarray(values, dtype=np.float64)
    index = np.searchsorted(edges, array, side="left").astype(np.int64)
    index[np.isnan(array)] = edges.size + 1
    return index


def bin_counts(values: npt.ArrayLike, edges: FloatArray) -> IntArray:
    """Counts per bin, the missing bin last (``len(edges) + 2`` bins)."""
    return np.bincount(bin_index(values, edges), minlength=edges.size + 2).astype(np.int64)


def shares(counts: npt.ArrayLike, epsilon: float = EPSILON) -> FloatArray:
    """Counts as shares of their row total, floored at ``epsilon`` (all-zero rows: all epsilon).

    >>> shares([[3, 1, 0]], epsilon=0.01)
    array([[0.75, 0.25, 0.01]])
    """
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, array / np.where(total > 0, total, 1.0), 0.0)
    return np.maximum(share, epsilon)


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, epsilon: float = EPSILON) -> Any:
    """PSI of ``actual`` counts against ``expected`` counts over the same bins (last axis).

    ``actual`` may be a matrix (one row per day): the result is then one PSI per row.

    >>> psi([50, 50], [[50, 50], [90, 10]]).round(4)
    array([0.    , 0.8789])
    """
    reference = shares(expected, epsilon)
    observed = shares(actual, epsilon)
    return np.sum((observed - reference) * np.log(observed / reference), axis=-1)


def band(value: float, watch: float = WATCH, alert: float = ALERT) -> str:
    """``stable``, ``watch`` or ``alert``.

    >>> [band(v) for v in (0.05, 0.1, 0.2, 0.25, 0.3)]
    ['stable', 'watch', 'watch', 'watch', 'alert']
    """
    if value > alert:
        return "alert"
    if value >= watch:
        return "watch"
    return "stable"
