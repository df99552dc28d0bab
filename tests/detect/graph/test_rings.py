"""Tests for rampart.detect.graph.rings: incremental rings equal a recomputation from scratch."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TypeAlias

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.detect.graph.rings import LinkageRings, RingInfo, RingsConfig, RingsState

ACCOUNTS = [f"a{i}" for i in range(8)]
KINDS = ["device", "phone"]
VALUES = ["v0", "v1", "v2", "v3"]

Op: TypeAlias = tuple[str, float, str, str, str]  # (op, dt, account, kind or other account, value)


@dataclass
class Reference:
    """The definition, computed naively: streaks while calls come, components by BFS on demand."""

    config: RingsConfig
    join: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    links: dict[tuple[str, str, str], tuple[float, float]] = field(default_factory=dict)
    referrals: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def _touch(self, account: str, ts: float) -> None:
        last = self.last.get(account)
        if last is None or last < ts - self.config.horizon:
            self.join[account] = ts
        self.last[account] = ts

    def _streak(self, span: tuple[float, float] | None, ts: float) -> tuple[float, float]:
        if span is None or span[1] < ts - self.config.horizon:
            return (ts, ts)
        return (span[0], ts)

    def link(self, account: str, kind: str, value: str, ts: float) -> None:
        self._touch(account, ts)
        key = (account, kind, value)
        self.links[key] = self._streak(self.links.get(key), ts)

    def refer(self, referrer: str, referee: str, ts: float) -> None:
        self._touch(referrer, ts)
        self._touch(referee, ts)
        if referrer != referee:
            pair = (min(referrer, referee), max(referrer, referee))
            self.referrals[pair] = self._streak(self.referrals.get(pair), ts)

    def component(self, account: str, ts: float) -> tuple[set[str], float, int]:
        """(members, earliest first time of a live link, shared values) of the ring of account."""
        cutoff = ts - self.config.horizon
        holders: dict[tuple[str, str], list[tuple[str, float]]] = {}
        for (a, kind, value), (first, last) in self.links.items():
            if last >= cutoff:
                holders.setdefault((kind, value), []).append((a, first))
        linking = {attr: held for attr, held in holders.items() if len(held) <= self.config.hub_cap}
        neighbours: dict[str, set[str]] = {}
        for held in linking.values():
            for a, _ in held:
                neighbours.setdefault(a, set()).update(b for b, _ in held)
        for (a, b), (_, last) in self.referrals.items():
            if last >= cutoff:
                neighbours.setdefault(a, set()).add(b)
                neighbours.setdefault(b, set()).add(a)
        members = {account}
        queue = deque([account])
        while queue:
            for other in neighbours.get(queue.popleft(), ()):
                if other not in members:
                    members.add(other)
                    queue.append(other)
        firsts = [f for held in linking.values() if len(held) >= 2 for a, f in held if a in members]
        firsts += [
            first
            for (a, _), (first, last) in self.referrals.items()
            if last >= cutoff and a in members
        ]
        shared = sum(1 for held in linking.values() if len(held) >= 2 and held[0][0] in members)
        return members, min(firsts, default=float("inf")), shared

    def ring(self, account: str, ts: float) -> RingInfo:
        members, first, shared = self.component(account, ts)
        floor = ts - self.config.growth_window
        return RingInfo(
            ring_id=min(members),
            size=len(members),
            growth=sum(1 for m in members if self.join.get(m, float("-inf")) >= floor),
            age=ts - first if first <= ts else 0.0,
            shared=shared,
        )


@st.composite
def op_lists(draw: st.DrawFn) -> list[Op]:
    """Calls over a universe of random size: small ones make sparse, long-lived rings."""
    accounts = st.sampled_from(ACCOUNTS[: draw(st.integers(2, len(ACCOUNTS)))])
    values = st.sampled_from(VALUES[: draw(st.integers(1, len(VALUES)))])
    gaps = st.sampled_from([0.0, 0.5, 1.0, 3.0, 7.0, 25.0][: draw(st.integers(2, 6))])
    op = st.one_of(
        st.tuples(st.just("link"), gaps, accounts, st.sampled_from(KINDS), values),
        st.tuples(st.just("refer"), gaps, accounts, accounts, st.just("")),
        st.tuples(st.just("ring"), gaps, accounts, st.just(""), st.just("")),
    )
    return draw(st.lists(op, max_size=60))


config_strategy = st.builds(
    RingsConfig,
    horizon=st.sampled_from([10.0, 20.0]),
    hub_cap=st.sampled_from([1, 1, 2, 3]),
    growth_window=st.sampled_from([2.0, 5.0, 10.0]),
    max_ring_size=st.just(1_000),
)


def apply(rings: LinkageRings, op: Op, ts: float) -> RingInfo | None:
    name, _, account, second, value = op
    if name == "link":
        rings.link(account, second, value, ts)
    elif name == "refer":
        rings.refer(account, second, ts)
    else:
        return rings.ring(account, ts)
    return None


def apply_reference(reference: Reference, op: Op, ts: float) -> RingInfo | None:
    name, _, account, second, value = op
    if name == "link":
        reference.link(account, second, value, ts)
    elif name == "refer":
        reference.refer(account, second, ts)
    else:
        return reference.ring(account, ts)
    return None


@settings(max_examples=600, deadline=None)
@given(config=config_strategy, ops=op_lists())
def test_incremental_equals_recomputation(config: RingsConfig, ops: list[Op]) -> None:
    rings = LinkageRings(config)
    reference = Reference(config)
    ts = 0.0
    for op in ops:
        ts += op[1]
        expected = apply_reference(reference, op, ts)
        assert apply(rings, op, ts) == expected
        if expected is not None:
            members = reference.component(op[2], ts)[0]
            assert rings.members(op[2], ts, limit=3) == sorted(members)[:3]
    ts += 1.0
    for account in ACCOUNTS:  # every ring at the end, in an order unrelated to the calls
        assert rings.ring(account, ts) == reference.ring(account, ts)


@settings(max_examples=150, deadline=None)
@given(
    config=config_strategy,
    max_ring_size=st.integers(1, 4),
    recheck=st.sampled_from([0.0, 3.0, 50.0]),
    ops=op_lists(),
)
def test_rings_up_to_max_size_stay_exact(
    config: RingsConfig, max_ring_size: int, recheck: float, ops: list[Op]
) -> None:
    config = msgspec.structs.replace(config, max_ring_size=max_ring_size, recheck=recheck)
    rings = LinkageRings(config)
    reference = Reference(config)
    ts = 0.0
    for op in ops:
        ts += op[1]
        expected = apply_reference(reference, op, ts)
        got = apply(rings, op, ts)
        if got is not None and got.size <= max_ring_size:
            assert got == expected


@settings(max_examples=100, deadline=None)
@given(
    config=config_strategy,
    max_ring_size=st.sampled_from([2, 1_000]),
    ops=op_lists(),
    cut=st.integers(0, 60),
)
def test_restore_then_replay_answers_like_an_uninterrupted_run(
    config: RingsConfig, max_ring_size: int, ops: list[Op], cut: int
) -> None:
    config = msgspec.structs.replace(config, max_ring_size=max_ring_size)
    rings = LinkageRings(config)
    times: list[float] = []
    ts = 0.0
    for op in ops:
        ts += op[1]
        times.append(ts)
    for op, at in zip(ops[:cut], times, strict=False):
        apply(rings, op, at)
    state = rings.state()
    decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(state), type=RingsState)
    assert decoded == state
    restored = LinkageRings(config)
    restored.load_state(decoded)
    assert restored.state() == state
    for op, at in zip(ops[cut:], times[cut:], strict=True):
        assert apply(restored, op, at) == apply(rings, op, at)
    end = ts + 1.0
    for account in ACCOUNTS:
        assert restored.ring(account, end) == rings.ring(account, end)
        assert restored.members(account, end) == rings.members(account, end)
    assert restored.state() == rings.state()


def test_a_popular_value_links_nobody_until_it_cools_down() -> None:
    rings = LinkageRings(RingsConfig(horizon=100.0, hub_cap=2, growth_window=10.0))
    rings.link("a", "device", "wifi", 0.0)
    rings.link("b", "device", "wifi", 1.0)
    assert rings.ring("a", 1.0).size == 2
    rings.link("c", "device", "wifi", 2.0)  # three holders: a hub
    assert [rings.ring(x, 2.0).size for x in "abc"] == [1, 1, 1]
    assert rings.ring("b", 100.5).size == 2  # a aged out: b and c are linked by it again
    assert rings.ring("b", 100.5).ring_id == "b"


def test_a_latecomer_to_a_hub_is_linked_when_it_cools_down() -> None:
    rings = LinkageRings(RingsConfig(horizon=100.0, hub_cap=2, growth_window=10.0))
    for ts, account in enumerate("bcda"):  # the hub forms with d; a comes when it already is one
        rings.link(account, "address", "warehouse", float(ts))
    assert rings.ring("a", 100.0).size == 1
    info = rings.ring("a", 101.5)  # b and c aged out: d and a share the address
    assert (info.ring_id, info.size, info.shared) == ("a", 2, 1)


def test_a_ring_splits_when_its_oldest_link_ages_out() -> None:
    rings = LinkageRings(RingsConfig(horizon=10.0, growth_window=5.0))
    rings.link("a", "device", "x", 0.0)
    rings.link("b", "device", "x", 5.0)
    assert rings.ring("b", 10.0).size == 2
    assert rings.ring("b", 10.5) == RingInfo(ring_id="b", size=1, growth=0, age=0.0, shared=0)


def test_growth_counts_fresh_accounts_only() -> None:
    rings = LinkageRings(RingsConfig(horizon=100.0, growth_window=10.0))
    rings.link("old", "address", "x", 0.0)
    rings.link("new", "address", "x", 50.0)
    info = rings.ring("old", 55.0)
    assert (info.size, info.growth, info.age, info.shared) == (2, 1, 55.0, 1)
    assert rings.ring("old", 61.0).growth == 0


def test_an_account_never_seen_is_its_own_ring() -> None:
    rings = LinkageRings()
    assert rings.ring("ghost", 5.0) == RingInfo(ring_id="ghost", size=1, growth=0, age=0, shared=0)
    assert rings.members("ghost", 5.0) == ["ghost"]


def test_members_are_bounded_smallest_first() -> None:
    rings = LinkageRings()
    for i in range(10):
        rings.refer("hub", f"u{i}", float(i))
    assert rings.ring("u3", 10.0).size == 11
    assert rings.members("u3", 10.0, limit=4) == ["hub", "u0", "u1", "u2"]


def test_the_clock_never_goes_back() -> None:
    rings = LinkageRings(RingsConfig(horizon=10.0, growth_window=5.0))
    rings.link("a", "phone", "p", 20.0)
    rings.link("b", "phone", "p", 3.0)  # late: taken as at 20.0
    assert rings.ring("a", 0.0) == RingInfo(ring_id="a", size=2, growth=2, age=0.0, shared=1)


def test_forgotten_accounts_free_their_memory() -> None:
    rings = LinkageRings(RingsConfig(horizon=10.0, growth_window=5.0))
    for i in range(100):
        rings.link(f"u{i}", "device", f"d{i // 2}", float(i))
    state = rings.state()
    assert len(state.accounts) <= 12
    assert len(state.holders) <= 7


@pytest.mark.parametrize(
    "bad",
    [
        {"horizon": 0.0},
        {"hub_cap": 0},
        {"growth_window": 0.0},
        {"horizon": 10.0, "growth_window": 11.0},
        {"max_ring_size": 0},
        {"recheck": -1.0},
    ],
)
def test_bad_config_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RingsConfig(**bad)  # type: ignore[arg-type]
