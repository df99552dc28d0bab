"""Peeling kernels: the guessed-core shortcut gives exactly the plain peeling's blocks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.detect.graph.dense_peel import (
    Degrees,
    extract_blocks,
    peel_best,
    peel_densest,
    prune_to_core,
    weighted_degrees,
)

Adjacency = tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]

graphs = st.dictionaries(
    st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("pqrstuvw")),
    st.sampled_from([1, 2, 3, 5, 8]),
    min_size=1,
    max_size=40,
)


def adjacency(edges: dict[tuple[str, str], int]) -> Adjacency:
    src_adj: dict[str, dict[str, int]] = {}
    tgt_adj: dict[str, dict[str, int]] = {}
    for (s, t), w in edges.items():
        src_adj.setdefault(s, {})[t] = w
        tgt_adj.setdefault(t, {})[s] = w
    return src_adj, tgt_adj


def all_degrees(
    src_adj: dict[str, dict[str, int]], tgt_adj: dict[str, dict[str, int]]
) -> Degrees[str]:
    return weighted_degrees(src_adj, tgt_adj, set(src_adj), set(tgt_adj))


@settings(max_examples=300, deadline=None)
@given(edges=graphs, guess=st.integers(0, 30))
def test_peeling_from_any_guessed_core_gives_the_plain_peeling(
    edges: dict[tuple[str, str], int], guess: int
) -> None:
    src_adj, tgt_adj = adjacency(edges)
    degrees = all_degrees(src_adj, tgt_adj)
    assert peel_densest(src_adj, tgt_adj, degrees, guess) == peel_best(tgt_adj, degrees)


@settings(max_examples=200, deadline=None)
@given(
    edges=graphs,
    k=st.integers(1, 12),
    guesses=st.lists(st.integers(0, 30), max_size=3),
)
def test_density_hints_do_not_change_the_blocks(
    edges: dict[tuple[str, str], int], k: int, guesses: list[int]
) -> None:
    src_adj, tgt_adj = adjacency(edges)
    core = prune_to_core(src_adj, tgt_adj, all_degrees(src_adj, tgt_adj), k)
    plain = extract_blocks(src_adj, tgt_adj, core, k, 3)
    assert extract_blocks(src_adj, tgt_adj, core, k, 3, guesses) == plain
    assert core == prune_to_core(src_adj, tgt_adj, all_degrees(src_adj, tgt_adj), k)
