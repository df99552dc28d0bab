"""Event time: integer milliseconds since the Unix epoch, formatted only when written.

>>> fmt_ts(0)
'1970-01-01T00:00:00.000Z'
>>> fmt_ts(parse_ts("2026-03-02T13:04:05.678Z"))
'2026-03-02T13:04:05.678Z'
>>> weekday(parse_ts("2026-03-02T00:00:00Z"))  # Monday
0
"""

from __future__ import annotations

from datetime import UTC, datetime

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR

# Share of a day's sessions starting in each local hour: quiet nights, a lunch bump and the
# evening peak that SEA marketplaces see after work.
DIURNAL: tuple[float, ...] = (
    2.2, 1.3, 0.8, 0.5, 0.4, 0.6, 1.4, 2.6, 3.6, 4.0, 4.4, 5.0,
    5.9, 5.4, 4.6, 4.4, 4.5, 4.7, 5.0, 5.9, 7.0, 7.6, 7.0, 4.6,
)  # fmt: skip
# Monday..Sunday: weekends and Friday evenings are busier.
WEEKLY: tuple[float, ...] = (0.94, 0.93, 0.96, 0.98, 1.05, 1.12, 1.08)

_day_prefix: dict[int, str] = {}


def parse_ts(text: str) -> int:
    """RFC 3339 → epoch ms."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def fmt_ts(ms: int) -> str:
    """Epoch ms → RFC 3339 UTC with milliseconds; cheap, as it runs once per event."""
    day, rem = divmod(ms, DAY)
    prefix = _day_prefix.get(day)
    if prefix is None:
        prefix = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
        _day_prefix[day] = prefix
    h, rem = divmod(rem, HOUR)
    m, rem = divmod(rem, MIN)
    s, milli = divmod(rem, SEC)
    return f"{prefix}{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


def weekday(ms: int) -> int:
    """0 = Monday (the epoch was a Thursday)."""
    return (ms // DAY + 3) % 7


def yymmdd(ms: int) -> str:
    return fmt_ts(ms)[2:10].replace("-", "")


def utc_hour_weights(tz_hours: int) -> list[float]:
    """DIURNAL re-indexed by UTC hour for a country ``tz_hours`` ahead of UTC, normalised."""
    w = [DIURNAL[(h + tz_hours) % 24] for h in range(24)]
    total = sum(w)
    return [x / total for x in w]


def local_hour(ms: int, tz_hours: int) -> int:
    return ((ms // HOUR) + tz_hours) % 24
