"""Snapshot and restore: replaying from a snapshot gives the same state and the same values."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec
import pytest
from tests.features.conftest import REALISTIC_PACK, make_event, specs_of

from rampart.contract.events import decode_event
from rampart.contract.outputs import Label
from rampart.features.online import OnlineFeatures
from rampart.features.spec import FeatureSpec
from rampart.ingest.privacy import Accepted, EventPrivacy
from rampart.simulate import simulate, world_config

Step = tuple[float, int, Accepted | Label]


@pytest.fixture(scope="module")
def stream() -> list[Step]:
    """A simulated world's events and labels, interleaved by time as the scorer applies them."""
    world = simulate(world_config("tiny", "hard", seed=5))
    privacy = EventPrivacy.for_demo()
    events: list[Step] = []
    for position, raw in enumerate(world.events):
        accepted = privacy.protect(decode_event(msgspec.json.encode(raw)))
        events.append((accepted.event.ts.timestamp(), position, accepted))
    labels: list[Step] = []
    for position, raw in enumerate(world.labels):
        label = msgspec.convert(raw, Label)
        if label.entity_type == "ip":  # labels name addresses; the state holds pseudonyms
            pseudonym = privacy.pseudonymizer.token("ip", label.entity_id)
            label = msgspec.structs.replace(label, entity_id=pseudonym)
        assert label.ts is not None
        labels.append((label.ts.timestamp(), position, label))
    labels.sort(key=lambda step: step[0])
    return list(heapq.merge(events, labels, key=lambda step: step[0]))


def replay(online: OnlineFeatures, steps: list[Step]) -> Iterator[dict[str, Any]]:
    for ts, _, item in steps:
        if isinstance(item, Label):
            online.apply_label(item, ts)
        else:
            yield online.update(item)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_replay_from_a_snapshot_equals_an_uninterrupted_run(stream: list[Step], cut: float) -> None:
    specs = specs_of(REALISTIC_PACK)
    split = int(len(stream) * cut)
    whole = OnlineFeatures(specs)
    expected = list(replay(whole, stream))
    first = OnlineFeatures(specs)
    before = list(replay(first, stream[:split]))
    resumed = OnlineFeatures.restore(specs, first.snapshot())
    after = list(replay(resumed, stream[split:]))
    assert before + after == expected
    assert resumed.snapshot() == whole.snapshot()
    # A snapshot leaves forgotten keys out, so the resumed state may hold fewer not yet swept.
    assert resumed.stats().keys <= whole.stats().keys
    labelled = ("features.seller_fraud_orders_30d", "features.user_labels_90d")
    assert all(any(out[name] for out in expected) for name in labelled)  # labels took part


def test_the_snapshot_is_compact(stream: list[Step]) -> None:
    online = OnlineFeatures(specs_of(REALISTIC_PACK))
    for _ in replay(online, stream):
        pass
    data = online.snapshot()
    assert len(data) < 300 * online.stats().keys  # bytes per key held


def test_restoring_with_other_specs_fails() -> None:
    specs = specs_of(REALISTIC_PACK)
    online = OnlineFeatures(specs)
    online.update(make_event("login", 0, event_id="e0"))
    other: list[FeatureSpec] = specs[:-1]
    with pytest.raises(ValueError, match="other feature specs"):
        OnlineFeatures.restore(other, online.snapshot())


def test_a_snapshot_holds_the_clock() -> None:
    online = OnlineFeatures(specs_of(REALISTIC_PACK))
    online.update(make_event("login", 100, event_id="e0"))
    restored = OnlineFeatures.restore(online.specs, online.snapshot())
    assert restored.clock == online.clock
    assert isinstance(datetime.fromtimestamp(restored.clock), datetime)
