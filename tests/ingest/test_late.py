"""The late-event policy: on time, within the allowed lateness, beyond it."""

from __future__ import annotations

import pytest

from rampart.ingest.late import LatePolicy


def test_watermark_advances_only_forward() -> None:
    policy = LatePolicy(allowed_lateness_s=60)
    assert policy.lateness(100.0) is None
    assert policy.lateness(50.0) is None  # 50 s behind: within the allowance
    assert policy.watermark == 100.0
    assert policy.lateness(39.0) == 61.0  # beyond: reported with how late it is
    assert policy.watermark == 100.0


def test_zero_lateness_accepts_ties_only() -> None:
    policy = LatePolicy(allowed_lateness_s=0)
    assert policy.lateness(10.0) is None
    assert policy.lateness(10.0) is None
    assert policy.lateness(9.5) == 0.5


def test_negative_lateness_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        LatePolicy(allowed_lateness_s=-1)
