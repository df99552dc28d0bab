"""Distinct counts in a window: exact up to a cap of members per key, then sampled.

Each member is stored with the bucket it was last seen in, and the row of that bucket counts
it (one distinct slot), so the count in the window is a running total that loses a member
exactly when the bucket it was last seen in leaves the window.

Beyond ``cap`` live members a key switches to *adaptive distinct sampling* (Gibbons 2001): at
level ``L`` only members whose 64-bit hash has its low ``L`` bits zero are kept, and the count
reads ``kept * 2**L``. Each time the kept members exceed the cap, the level rises by one and
about half of them are dropped. The estimate is unbiased, with a relative standard error of
about ``1 / sqrt(kept)`` (kept is between ``cap / 2`` and ``cap`` while the key stays busy:
about 4% at the default cap of 1,024); it is exact again only once the key's whole state has
expired. Memory per key is at most ``cap`` live members, plus stale ones up to the same number
before they are swept.

The hash is BLAKE2b of the member's ``repr``: stable across processes (Python's ``hash`` of a
string is salted per process), so replays and restored snapshots sample the same members.
"""

from __future__ import annotations

from collections.abc import Hashable
from hashlib import blake2b
from typing import Final

from rampart.features.windows import KeyState, find_row

DEFAULT_DISTINCT_CAP: Final = 1024


def member_hash(member: Hashable) -> int:
    """A 64-bit hash of a member that is the same in every process.

    >>> member_hash("u1") == member_hash("u1") != member_hash("u2")
    True
    """
    digest = blake2b(repr(member).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def is_sampled(member: Hashable, level: int) -> bool:
    return level == 0 or member_hash(member) & ((1 << level) - 1) == 0


def observe(
    state: KeyState,
    index: int,
    slot: int,
    member: Hashable,
    bucket: float,
    row: int,
    lowest: float,
    slots: int,
    cap: int,
) -> None:
    """Record ``member`` seen in ``bucket`` (its row at ``row``) for distinct feature ``index``.

    The caller has evicted buckets older than ``lowest``, so a member last seen before
    ``lowest`` is stale: its bucket already gave its count back, and it counts as new.
    """
    members = state.members[index]  # type: ignore[index]
    seen = members.get(member)
    rows = state.rows
    if seen is None or seen < lowest:
        levels = state.levels
        assert levels is not None
        if levels[index] and not is_sampled(member, levels[index]):
            return
        members[member] = bucket
        rows[row + slot] += 1
        state.totals[slot] += 1
        if state.totals[slot] > cap:
            _raise_level(state, index, slot, lowest, slots, cap)
        elif len(members) > 2 * state.totals[slot] + 16:
            _sweep_stale(members, lowest)
        return
    if seen >= bucket:
        return  # already counted in this bucket or a newer one
    old_row = find_row(state, seen, slots)
    rows[old_row + slot] -= 1
    rows[row + slot] += 1
    members[member] = bucket


def estimate(live: float, level: int) -> int:
    """The distinct count read from ``live`` kept members at sampling ``level``."""
    return int(live) << level


def _sweep_stale(members: dict[Hashable, float], lowest: float) -> None:
    stale = [member for member, bucket in members.items() if bucket < lowest]
    for member in stale:
        del members[member]


def _raise_level(
    state: KeyState, index: int, slot: int, lowest: float, slots: int, cap: int
) -> None:
    """Halve the sample until it fits the cap again, dropping the members no longer sampled."""
    members = state.members[index]  # type: ignore[index]
    levels = state.levels
    assert levels is not None
    _sweep_stale(members, lowest)
    while state.totals[slot] > cap:
        levels[index] += 1
        level = levels[index]
        dropped = [(m, b) for m, b in members.items() if not is_sampled(m, level)]
        for member, bucket in dropped:
            del members[member]
            state.rows[find_row(state, bucket, slots) + slot] -= 1
            state.totals[slot] -= 1
