"""Alerts kept with the log they are about: ``<logs>/alerts.jsonl``, append-only.

One JSON object per line, an :class:`~rampart.learn.monitor.Alert`:

| field | type | meaning |
|---|---|---|
| ``day`` | ``YYYY-MM-DD`` | the event-time day (UTC) measured |
| ``kind`` | ``rule_rate``, ``decision_mix``, ``null_spike``, ``feature_psi`` | what left its band |
| ``subject`` | string | what: see below |
| ``value`` | number | the day's hit rate, action share, null share or PSI |
| ``band`` | [low, high] | where ``value`` should have been |
| ``reference`` | number | the same measure over the reference window (0 for PSI) |
| ``reference_window`` | ``YYYY-MM-DD/YYYY-MM-DD`` | the reference days, inclusive |
| ``count`` | integer or null | the day's hits, decisions or rows behind ``value`` |
| ``p_value`` | number or null | the rate test's p-value (rates only) |
| ``detail`` | string | one line for people |

``subject`` is ``rule:<name>`` or ``shadow:rule:<name>`` for rates, ``<area>:<action>`` for the
decision mix (area ``all``: every decision), a log column (``features.device_users_24h``) for
features.

Running the monitor again appends only alerts not yet recorded (same day, kind, subject and
reference window), so the file grows by what is new. Lines are appended whole and fsynced; a
torn last line (a crash mid-write) is skipped when reading and completed by the next append.

>>> import tempfile
>>> from datetime import date
>>> root = Path(tempfile.mkdtemp())
>>> alert = Alert(day=date(2026, 3, 3), kind="rule_rate", subject="rule:x", value=0.2,
...               band=(0.0, 0.06), reference=0.02, reference_window="2026-03-02/2026-03-02")
>>> len(append_alerts(root, [alert])), len(append_alerts(root, [alert])), len(read_alerts(root))
(1, 0, 1)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import msgspec

from rampart.durable import sync_file
from rampart.learn.monitor import Alert

ALERTS_FILE: Final = "alerts.jsonl"

_DECODER = msgspec.json.Decoder(Alert)
_ENCODER = msgspec.json.Encoder()


def alerts_path(logs: Path) -> Path:
    return logs / ALERTS_FILE


def read_alerts(logs: Path) -> list[Alert]:
    """Every alert recorded for the log folder ``logs``, in file order."""
    path = alerts_path(logs)
    if not path.exists():
        return []
    alerts = []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            alerts.append(_DECODER.decode(line))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # a torn line from a crash mid-append
    return alerts


def append_alerts(logs: Path, alerts: Iterable[Alert]) -> list[Alert]:
    """Append the alerts not recorded yet; the ones appended."""
    known = {alert.key for alert in read_alerts(logs)}
    new = []
    for alert in alerts:
        if alert.key not in known:
            known.add(alert.key)
            new.append(alert)
    if not new:
        return new
    path = alerts_path(logs)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        if handle.tell() > 0 and not _ends_with_newline(path):
            handle.write(b"\n")  # close a torn line so it stays one bad line
        handle.write(b"".join(_ENCODER.encode(alert) + b"\n" for alert in new))
        sync_file(handle)
    return new


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
