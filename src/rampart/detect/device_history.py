"""What a device did recently: the cards it tried and the accounts it created, for a day.

A rule catches a card tester at its fourth card and a sign-up farm at its second account; the
cards and accounts before that are the same abuse. A rule whose verdict says
``device_history: true`` names them too (see :mod:`rampart.engine`). Memory is bounded: the
most recent :data:`MAX_PER_DEVICE` values per device and kind, the :data:`MAX_DEVICES` most
recently active devices.

>>> history = DeviceHistory()
>>> history.note("d1", "user", "u1", 0.0)
>>> history.note("d1", "user", "u2", 60.0)
>>> history.earlier("d1", "user", now=120.0)
['u1', 'u2']
>>> history.earlier("d1", "user", now=90_000.0)  # a day later: forgotten
[]
"""

from __future__ import annotations

from typing import Final, Literal

from rampart.detect.recent import RecentValues

__all__ = ["HISTORY_KINDS", "DeviceHistory", "HistoryKind"]

HistoryKind = Literal["instrument", "user"]
HISTORY_KINDS: Final[tuple[HistoryKind, ...]] = ("instrument", "user")
MAX_PER_DEVICE: Final = 32
MAX_DEVICES: Final = 200_000
MEMORY_SECONDS: Final = 86_400.0


class DeviceHistory:
    def __init__(self) -> None:
        self._seen = RecentValues[tuple[str, str]](per_key=MAX_PER_DEVICE, max_keys=MAX_DEVICES)

    def note(self, device: str, kind: HistoryKind, value: str, ts: float) -> None:
        self._seen.note((device, kind), value, ts)

    def earlier(self, device: str, kind: HistoryKind, *, now: float) -> list[str]:
        """Values of ``kind`` seen with ``device`` within the last day, oldest first."""
        since = now - MEMORY_SECONDS
        return [v for v, seen in self._seen.get((device, kind)).items() if seen >= since]

    def state(self) -> list[tuple[str, str, dict[str, float]]]:
        return [(device, kind, values) for (device, kind), values in self._seen.values.items()]

    def load_state(self, state: list[tuple[str, str, dict[str, float]]]) -> None:
        self._seen.values = {(device, kind): dict(values) for device, kind, values in state}
