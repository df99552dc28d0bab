"""The compiled updates read events exactly as the getters of fields.py do."""

from __future__ import annotations

from collections import defaultdict

import msgspec
import pytest

from rampart.contract.events import EVENT_TYPES, decode_event
from rampart.features.dispatch import KEY_SEPARATOR, compile_values
from rampart.features.fields import (
    ENTITY_KINDS,
    EVENT_FIELDS,
    PLAIN_ENTITY_PATHS,
    entity_getter,
    event_getter,
)
from rampart.ingest.privacy import Accepted, EventPrivacy
from rampart.simulate import simulate, world_config


@pytest.fixture(scope="module")
def events_by_type() -> dict[str, list[Accepted]]:
    world = simulate(world_config("tiny", "hard", seed=11))
    privacy = EventPrivacy.for_demo()
    grouped: dict[str, list[Accepted]] = defaultdict(list)
    for raw in world.events:
        accepted = privacy.protect(decode_event(msgspec.json.encode(raw)))
        grouped[accepted.event.type].append(accepted)
    return grouped


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_inline_reads_equal_the_getters(
    event_type: str, events_by_type: dict[str, list[Accepted]]
) -> None:
    names = [*EVENT_FIELDS, *ENTITY_KINDS]
    read = compile_values(event_type, names)
    events = events_by_type[event_type]
    assert events, f"the tiny world has no {event_type}"
    for accepted in events:
        values = read(accepted)
        for path in EVENT_FIELDS:
            assert values[path] == event_getter(path)(accepted), (event_type, path)
        for kind in ENTITY_KINDS:
            assert values[kind] == entity_getter(kind)(accepted), (event_type, kind)


def test_plain_entity_paths_are_catalogued_paths() -> None:
    assert set(PLAIN_ENTITY_PATHS) <= set(ENTITY_KINDS)
    assert set(PLAIN_ENTITY_PATHS.values()) <= set(EVENT_FIELDS)


@pytest.mark.parametrize("event_type", ["order.created", "page.view", "engagement"])
def test_composite_keys_join_their_parts(
    event_type: str, events_by_type: dict[str, list[Accepted]]
) -> None:
    composites = ["item+user", "device+user", "seller+user", "country+user"]
    read = compile_values(event_type, [*composites, "user"])  # composites asked for first
    for accepted in events_by_type[event_type]:
        values = read(accepted)
        for name in composites:
            parts = [entity_getter(kind)(accepted) for kind in name.split("+")]
            expected = None if None in parts else KEY_SEPARATOR.join(parts)
            assert values[name] == expected, (event_type, name)
