"""Changes to what a served engine scores with: rule packs, lists, models.

A change is a small document (JSON bytes) that the scorer logs in its write-ahead log and applies
between two events (:meth:`rampart.service.scorer.Scorer.change`); replay applies it again in
the same place. :func:`check_change` validates a change without touching anything;
:func:`apply_change` applies a checked one to an engine.
"""

from __future__ import annotations

from rampart.engine import Engine


def check_change(payload: bytes) -> None:
    """Raise ``ValueError`` with a precise reason if ``payload`` is not a valid change."""
    raise ValueError("no kind of change is supported yet")


def apply_change(engine: Engine, payload: bytes) -> None:
    """Apply a change that :func:`check_change` accepted."""
    raise ValueError("no kind of change is supported yet")
