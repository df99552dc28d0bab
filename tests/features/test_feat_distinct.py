"""Distinct counts: exact up to the cap, sampled beyond it within a few percent, and expiring.

Beyond the cap the count is the live members a level-L sample keeps, times 2**L: checked exactly
on random streams below; its error (about 1/sqrt(cap/2)) is checked on large streams.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.features.conftest import make_event, specs_of

from rampart.features.distinct import DEFAULT_DISTINCT_CAP, is_sampled, member_hash
from rampart.features.online import OnlineFeatures

SPECS = specs_of(
    [
        {"name": "users_on_device_24h", "agg": "distinct_count", "keys": ["device"],
         "field": "user", "window": "24h"},
        {"name": "users_on_device", "agg": "distinct_count", "keys": ["device"], "field": "user"},
    ]
)  # fmt: skip


def test_exact_up_to_the_cap() -> None:
    online = OnlineFeatures(SPECS)
    for n in range(DEFAULT_DISTINCT_CAP):
        out = online.update(make_event("login", n, event_id=f"e{n}", user=f"u{n}", device="d"))
    assert out["features.users_on_device_24h"] == DEFAULT_DISTINCT_CAP
    assert out["features.users_on_device"] == DEFAULT_DISTINCT_CAP


@pytest.mark.parametrize("seed", range(5))
def test_sampled_beyond_the_cap_within_ten_percent(seed: int) -> None:
    online = OnlineFeatures(SPECS)
    members = 20_000
    for n in range(members):
        user = f"s{seed}u{n}"
        out = online.update(make_event("login", n, event_id=f"e{n}", user=user, device="d"))
    for name in ("features.users_on_device_24h", "features.users_on_device"):
        assert abs(out[name] - members) / members < 0.10, (name, out[name])
    state = online.groups[0].states["d"]
    assert state.members is not None
    assert all(len(members) <= 2 * DEFAULT_DISTINCT_CAP + 16 for members in state.members)


def test_sampled_members_still_expire_with_the_window() -> None:
    online = OnlineFeatures(SPECS, distinct_cap=64)
    for n in range(2_000):
        online.update(make_event("login", n, event_id=f"e{n}", user=f"u{n}", device="d"))
    for n in range(10):  # the key stays busy, so it keeps its sampling level
        online.update(make_event("login", 50_000 + n, event_id=f"m{n}", user=f"m{n}", device="d"))
    out = online.update(make_event("login", 90_000, event_id="last", user="m0", device="d"))
    state = online.groups[0].states["d"]
    assert state.levels is not None
    level = state.levels[online.groups[0].layout.distinct_reads[0][1]]
    assert level > 0
    # Only sampled members of the 10 recent users are left, read at 2**level each.
    assert out["features.users_on_device_24h"] % (1 << level) == 0
    assert out["features.users_on_device_24h"] <= 10 << level
    assert out["features.users_on_device"] > 1_000  # the lifetime count keeps them all


def test_after_the_key_is_forgotten_counting_is_exact_again() -> None:
    online = OnlineFeatures(SPECS, distinct_cap=16)
    for n in range(100):
        online.update(make_event("login", n, event_id=f"e{n}", user=f"u{n}", device="d"))
    start = 3 * 86_400
    for n in range(10):
        out = online.update(
            make_event("login", start + n, event_id=f"f{n}", user=f"v{n}", device="d")
        )
    assert out["features.users_on_device_24h"] == 10


def test_member_hash_is_stable_across_processes() -> None:
    # BLAKE2b of the repr, not Python's salted hash: a fixed value.
    assert member_hash("u1") == member_hash("u1")
    assert member_hash("u1") == int.from_bytes(
        __import__("hashlib").blake2b(b"'u1'", digest_size=8).digest(), "little"
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 1, 5, 20, 60, 200]), st.integers(0, 29)),
        min_size=1,
        max_size=80,
    )
)
def test_beyond_the_cap_the_count_is_the_sample_times_its_rate(
    steps: list[tuple[int, int]],
) -> None:
    cap = 4
    spec = specs_of(
        [{"name": "users", "agg": "distinct_count", "keys": ["device"], "field": "user",
          "window": "97s"}]
    )  # fmt: skip
    online = OnlineFeatures(spec, distinct_cap=cap)
    group = online.groups[0]
    width, span = group.geometry
    seen: list[tuple[float, str]] = []
    seconds = 0.0
    for position, (delta, user_number) in enumerate(steps):
        seconds += delta
        user = f"u{user_number}"
        accepted = make_event("login", seconds, event_id=f"e{position}", user=user, device="d")
        out = online.update(accepted)
        ts = accepted.event.ts.timestamp()
        seen.append((ts, user))
        lowest = ts // width - (span - 1)
        live = {member for at, member in seen if at // width >= lowest}
        state = group.states["d"]
        assert state.levels is not None
        level = state.levels[0]
        sampled = {member for member in live if is_sampled(member, level)}
        assert out["features.users"] == len(sampled) << level
        assert len(sampled) <= cap
        if len(live) <= cap and level == 0:
            assert out["features.users"] == len(live)
