"""Per API key rate limits: a token bucket per key, thread-safe and a few hundred ns a call.

A key's bucket holds at most ``burst`` tokens and refills at ``rate`` tokens a second; a call
costs one token per event (a batch its events, any other call one). A call the bucket cannot pay
takes nothing and learns how long to wait until it could (``Retry-After``). Buckets start full.

>>> limits = RateLimiter(rate=10, burst=20)
>>> limits.take("k1", 20, now=0.0), limits.take("k1", 1, now=0.0)  # the burst, then a wait
(0.0, 0.1)
>>> limits.take("k1", 5, now=0.5), limits.take("k2", 20, now=0.5)  # 5 tokens back; keys apart
(0.0, 0.0)

No library was used: the Litestar ones (``RateLimitConfig``) count requests per client address
in fixed windows, while a key's limit here counts events and must be asked after the body is
read (a batch's cost is its length). The state is a dict of two-item lists behind one lock: the
number of buckets is the number of valid keys (a key is checked before it is limited), so it
stays small.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

# Events a second per key when the operator says nothing: far above what one server scores, so
# the limit only stops a runaway client, never a normal producer.
DEFAULT_RATE: Final = 20_000.0


class RateLimiter:
    """Token buckets by key; ``rate`` tokens a second up to ``burst`` (``rate`` 0: no limit)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 0 or (burst is not None and burst < 1):
            raise ValueError("the rate must be 0 (off) or more, and the burst at least 1")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(rate, 1.0))
        self._clock = clock
        # key -> [tokens, time of the last refill]
        self._buckets: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, cost: int = 1, now: float | None = None) -> float:
        """Take ``cost`` tokens from ``key``'s bucket: 0.0 when granted, else the seconds to
        wait until the bucket holds them (nothing is taken). A cost over the burst is never
        granted (its wait is ``inf``): the caller tells it apart and says so."""
        if self.rate <= 0:
            return 0.0
        if cost > self.burst:
            return float("inf")
        if now is None:
            now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = [self.burst, now]
            tokens, last = bucket
            if now > last:  # a clock read before the lock may be older than the last one
                tokens = min(self.burst, tokens + (now - last) * self.rate)
                bucket[1] = now
            if tokens >= cost:
                bucket[0] = tokens - cost
                return 0.0
            bucket[0] = tokens
            return (cost - tokens) / self.rate
