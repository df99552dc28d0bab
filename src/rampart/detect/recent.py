"""Per key, its most recent values and when each was last seen; bounded both ways.

Each key keeps its ``per_key`` most recently seen values; beyond ``max_keys`` keys, the least
recently touched key is forgotten. Insertion order carries recency (a touched entry is moved
last), so both bounds cost O(1).

>>> recent = RecentValues[str](per_key=2, max_keys=2)
>>> for value, ts in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
...     recent.note("d1", value, ts)
>>> dict(recent.get("d1"))  # "a" was the oldest of three
{'b': 2.0, 'c': 3.0}
>>> recent.note("d2", "x", 4.0); recent.note("d3", "y", 5.0)
>>> dict(recent.get("d1"))  # the least recently touched key went
{}
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Generic, TypeVar

__all__ = ["RecentValues"]

K = TypeVar("K", bound=Hashable)

_EMPTY: Mapping[str, float] = {}


class RecentValues(Generic[K]):
    def __init__(self, *, per_key: int, max_keys: int) -> None:
        self.per_key = per_key
        self.max_keys = max_keys
        self.values: dict[K, dict[str, float]] = {}

    def note(self, key: K, value: str, ts: float) -> None:
        values = self.values.pop(key, None) or {}
        values.pop(value, None)
        values[value] = ts
        if len(values) > self.per_key:
            del values[next(iter(values))]
        self.values[key] = values
        if len(self.values) > self.max_keys:
            del self.values[next(iter(self.values))]

    def get(self, key: K) -> Mapping[str, float]:
        """The key's values (oldest first) with the time each was last seen."""
        return self.values.get(key, _EMPTY)
