"""The late-event policy: how far behind the stream an event may arrive and still be scored.

The watermark is the latest event time accepted so far. An event whose ``ts`` is at most
``allowed_lateness_s`` behind the watermark is accepted and scored where it arrives (its features
apply at its own ``ts``). An event further behind is not scored: it goes to the rejects file with
the reason ``late`` and how late it was, so it is counted and can be replayed in a backfill, but
it can no longer change decisions already given (replaying it would break "the same events give
the same decisions"). Events from the future are accepted as they are: clocks at the marketplace
are the only clock Rampart has, and a skewed producer is visible in the watermark.

>>> policy = LatePolicy(allowed_lateness_s=300)
>>> policy.lateness(1000.0), policy.lateness(900.0), policy.lateness(600.0)
(None, None, 400.0)
"""

from __future__ import annotations

from typing import Final

DEFAULT_ALLOWED_LATENESS_S: Final = 3600.0


class LatePolicy:
    """Tracks the watermark and says how far beyond the allowed lateness an event is."""

    def __init__(self, allowed_lateness_s: float = DEFAULT_ALLOWED_LATENESS_S) -> None:
        if allowed_lateness_s < 0:
            raise ValueError("allowed_lateness_s must not be negative")
        self.allowed_lateness_s = allowed_lateness_s
        self.watermark = float("-inf")

    def lateness(self, ts: float) -> float | None:
        """``None`` when the event is on time (and advance the watermark), else seconds behind."""
        if ts >= self.watermark - self.allowed_lateness_s:
            if ts > self.watermark:
                self.watermark = ts
            return None
        return self.watermark - ts
