"""Configuration, answers and checkpoint of :mod:`rampart.detect.graph.rings` (msgspec Structs).

The checkpoint is a faithful copy of the internal state, dictionary and heap orders included, so
restoring it and replaying the events after it gives the very same answers as a run that was never
interrupted, also for the rings over ``max_ring_size`` whose answers depend on when they were last
re-examined. Encode it with ``msgspec.msgpack`` (it holds infinities, which JSON cannot carry).
"""

from __future__ import annotations

import msgspec

_DAY = 86_400.0


class RingsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Parameters of :class:`~rampart.detect.graph.rings.LinkageRings` (seconds, counts).

    >>> RingsConfig(hub_cap=0)
    Traceback (most recent call last):
    ...
    ValueError: hub_cap must be at least 1, got 0
    """

    horizon: float = 30 * _DAY
    """A link not seen again for longer than this no longer joins anything."""
    hub_cap: int = 20
    """An attribute value held by more than this many accounts (a public wifi, a warehouse
    address) links nobody while that lasts."""
    growth_window: float = _DAY
    """``RingInfo.growth`` counts the members first seen within this window."""
    max_ring_size: int = 1_000
    """Rings up to this size are exact; bigger ones are re-examined at most once per ``recheck``
    (see the module docstring of ``rings``)."""
    recheck: float = _DAY

    def __post_init__(self) -> None:
        if not self.horizon > 0:
            raise ValueError(f"horizon must be positive, got {self.horizon}")
        if self.hub_cap < 1:
            raise ValueError(f"hub_cap must be at least 1, got {self.hub_cap}")
        if not 0 < self.growth_window <= self.horizon:
            raise ValueError(f"growth_window must be in (0, horizon], got {self.growth_window}")
        if self.max_ring_size < 1:
            raise ValueError(f"max_ring_size must be at least 1, got {self.max_ring_size}")
        if not self.recheck >= 0:
            raise ValueError(f"recheck must be non-negative, got {self.recheck}")


class RingInfo(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An account's ring as of a moment."""

    ring_id: str
    """The smallest account id in the ring: stable while the ring keeps that member."""
    size: int
    """Accounts in the ring, the account itself included (an unlinked account: 1)."""
    growth: int
    """Members whose activity streak began within ``growth_window`` (fresh accounts)."""
    age: float
    """Seconds since the oldest live link holding the ring together began (0 with none)."""
    shared: int
    """Attribute values (not hubs) held by two or more live members."""


class RingRecord(msgspec.Struct, array_like=True):
    """One internal ring, verbatim (``nodes`` may list members that have since left it)."""

    nodes: list[str]
    min_member: str
    first: float
    min_last: float
    shared: int
    recheck_at: float
    joins: list[float]


class RingsState(msgspec.Struct, array_like=True):
    """Checkpoint of a :class:`~rampart.detect.graph.rings.LinkageRings`."""

    now: float
    accounts: list[tuple[str, float, float]]
    """(account, start of its activity streak, last activity)"""
    edges: list[tuple[str, str, str, float, float]]
    """(account, kind, value, first, last) of each account–attribute link"""
    holders: list[tuple[str, str, list[tuple[str, float]]]]
    """(kind, value, [(account, last), ...] oldest first): the latest ``hub_cap + 1`` holders"""
    referrals: list[tuple[str, str, float, float]]
    """(account, other, first, last), stored once per direction"""
    rings: list[RingRecord]
    membership: list[tuple[str, int]]
    """(account, index into ``rings``)"""
    sweep_accounts: list[tuple[float, str]]
    sweep_holders: list[tuple[float, str, str]]
