"""Process settings for a long scoring loop.

The online state is millions of small lists and dicts that live for the whole run. CPython's
cycle collector is triggered by allocations and walks the young generations often and the old
one whenever it grew by a quarter: on the scoring path that was 12–15% of the time (measured on
the demo world), spent finding no garbage, since the state holds no reference cycles. During a
run the loaded pack, models and restored state are frozen out of the collector's view, and it
runs after many more allocations; it still runs, so a cycle made by a bug is still freed.

>>> import gc
>>> before = gc.get_threshold()
>>> with scoring_gc():
...     gc.get_threshold()[0] == SCORING_GC_THRESHOLD[0]
True
>>> gc.get_threshold() == before
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["SCORING_GC_THRESHOLD", "scoring_gc"]

# Allocations before a young collection, and young / middle collections before an older one.
SCORING_GC_THRESHOLD: Final = (100_000, 20, 20)


@contextmanager
def scoring_gc() -> Iterator[None]:
    """Freeze what exists now and collect cycles rarely until the block ends."""
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SCORING_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
