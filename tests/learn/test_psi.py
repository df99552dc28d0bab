"""PSI against a naive, loop-by-loop reference implementation."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rampart.learn import psi

values = st.lists(
    st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(math.nan), st.integers(0, 5)),
    min_size=1,
    max_size=200,
)


def naive_psi(reference: list[float], actual: list[float], bins: int, epsilon: float) -> float:
    """The textbook recipe, one value at a time: edges at reference quantiles, missing apart."""
    present = sorted(v for v in reference if not math.isnan(v))
    edges: list[float] = []
    for k in range(1, bins):
        if present:
            # inverted CDF: the smallest value with at least k/bins of the sample at or below it
            edge = present[max(0, math.ceil(k * len(present) / bins) - 1)]
            if edge not in edges:
                edges.append(edge)

    def bin_of(value: float) -> int:
        if math.isnan(value):
            return len(edges) + 1
        for i, edge in enumerate(edges):
            if value <= edge:
                return i
        return len(edges)

    def shares(sample: list[float]) -> list[float]:
        counts = [0] * (len(edges) + 2)
        for value in sample:
            counts[bin_of(value)] += 1
        return [max(c / len(sample), epsilon) for c in counts]

    expected, observed = shares(reference), shares(actual)
    return sum((a - e) * math.log(a / e) for a, e in zip(observed, expected, strict=True))


@settings(max_examples=200, deadline=None)
@given(reference=values, actual=values, bins=st.integers(2, 12))
# 3/5 as a float probability is a hair above 0.6: the quantile must be taken in integers.
@example(reference=[0.0, 0.0, 1.0, 2.0, 2], actual=[math.nan], bins=5)
def test_psi_matches_the_naive_recipe(
    reference: list[float], actual: list[float], bins: int
) -> None:
    edges = psi.quantile_edges(reference, bins)
    got = float(psi.psi(psi.bin_counts(reference, edges), psi.bin_counts(actual, edges)))
    assert math.isclose(got, naive_psi(reference, actual, bins, psi.EPSILON), abs_tol=1e-9)


@given(reference=values)
def test_psi_of_a_sample_against_itself_is_zero(reference: list[float]) -> None:
    counts = psi.bin_counts(reference, psi.quantile_edges(reference))
    assert float(psi.psi(counts, counts)) == 0.0


@given(
    expected=st.lists(st.integers(0, 50), min_size=2, max_size=8),
    seed=st.integers(0, 2**32 - 1),
)
def test_psi_is_symmetric_and_not_negative(expected: list[int], seed: int) -> None:
    actual = np.random.default_rng(seed).permutation(np.asarray(expected))
    forward, backward = float(psi.psi(expected, actual)), float(psi.psi(actual, expected))
    assert forward >= 0.0
    assert math.isclose(forward, backward, abs_tol=1e-12)


def test_going_null_moves_mass_to_the_missing_bin() -> None:
    reference = np.arange(1000.0)
    edges = psi.quantile_edges(reference)
    nulled = psi.bin_counts(np.full(1000, np.nan), edges)
    assert nulled[-1] == 1000
    assert psi.band(float(psi.psi(psi.bin_counts(reference, edges), nulled))) == "alert"
