"""Named allow and deny lists whose entries expire, read by ``in_list(value, "name")``.

An entry maps a value (a user id, a device id, an email domain...) to the epoch second at which
it expires, or None for never. Membership is judged at the event's time (``event.ts``), so a
replay of last month sees the lists as they were meant to apply then, not as of today.

Compiled rules keep a reference to the store and read it at each evaluation, so adding or
removing an entry takes effect on the next event without recompiling; the vectorised form reads
the contents once, when it is built (a snapshot).

>>> lists = ListStore({"vip_users": {"u1": None, "u2": 1_000.0}})
>>> lists.contains("vip_users", "u1", ts=5_000.0), lists.contains("vip_users", "u2", ts=999.0)
(True, True)
>>> lists.contains("vip_users", "u2", ts=1_000.0), lists.contains("vip_users", "u3", ts=0.0)
(False, False)
>>> lists.add("vip_users", "u3"); lists.contains("vip_users", "u3", ts=0.0)
True
"""

from __future__ import annotations

from collections.abc import Mapping

Expiry = float | None


def active(expires_at: Expiry, ts: float | None) -> bool | None:
    """Whether an entry expiring at ``expires_at`` applies at ``ts`` (None when ts is unknown)."""
    if expires_at is None:
        return True
    if ts is None:
        return None
    return ts < expires_at


class ListStore:
    """Named lists of ``value -> expires_at`` (epoch seconds, None = never)."""

    def __init__(self, lists: Mapping[str, Mapping[str, Expiry]] | None = None) -> None:
        self._lists: dict[str, dict[str, Expiry]] = {
            name: dict(entries) for name, entries in (lists or {}).items()
        }

    def names(self) -> frozenset[str]:
        return frozenset(self._lists)

    def declare(self, name: str) -> None:
        """Make ``name`` a known list (empty if it did not exist)."""
        self._lists.setdefault(name, {})

    def entries(self, name: str) -> Mapping[str, Expiry]:
        """The live entries of ``name`` (declared on first use); later changes show through."""
        return self._lists.setdefault(name, {})

    def add(self, name: str, value: str, expires_at: Expiry = None) -> None:
        self._lists.setdefault(name, {})[value] = expires_at

    def remove(self, name: str, value: str) -> bool:
        """Remove ``value`` from ``name``; False when it was not there."""
        entries = self._lists.get(name, {})
        if value not in entries:
            return False
        del entries[value]
        return True

    def replace(self, name: str, entries: Mapping[str, Expiry]) -> None:
        """Replace the contents of ``name`` in place, so compiled rules see the new contents."""
        current = self._lists.setdefault(name, {})
        current.clear()
        current.update(entries)

    def prune(self, ts: float) -> int:
        """Drop entries already expired at ``ts``; returns how many went."""
        dropped = 0
        for entries in self._lists.values():
            expired = [v for v, at in entries.items() if at is not None and at <= ts]
            for value in expired:
                del entries[value]
            dropped += len(expired)
        return dropped

    def contains(self, name: str, value: str | None, ts: float | None) -> bool | None:
        """Three-valued membership: None when ``value`` is null or the expiry cannot be judged."""
        if value is None:
            return None
        entries = self._lists.get(name, _EMPTY)
        if value not in entries:
            return False
        return active(entries[value], ts)

    def snapshot(self) -> ListStore:
        """A copy unaffected by later changes (what a backtest or vectorised rule reads)."""
        return ListStore(self._lists)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._lists.values())

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(e)}" for name, e in sorted(self._lists.items()))
        return f"ListStore({{{sizes}}})"


_EMPTY: Mapping[str, Expiry] = {}
