"""Snapshot and restore of the online state, as compact msgpack.

A snapshot holds the clock, every *live* key of every group (keys already forgotten read the
same as absent ones, so they are left out), in dictionary order, with their buckets, totals,
queues, distinct members (stale ones included: they decide when the next sweep runs) and latest
values, and the labelled-event memory. The specs are stored too, and restoring with other specs
fails: state laid out for one set of features means nothing for another (rebuild it from the
event log).

Restoring and replaying the events after the snapshot gives the same state and the same feature
values as a run that was never interrupted; the sweep queues are rebuilt from the keys, which
changes only when forgotten keys are freed, never what anything reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import msgspec

from rampart.features.groups import SpecGroup
from rampart.features.windows import KeyState

if TYPE_CHECKING:
    from rampart.features.online import OnlineFeatures

SNAPSHOT_VERSION: Final = 1


class _Snapshot(msgspec.Struct, array_like=True):
    version: int
    specs: bytes
    clock: float
    groups: list[list[list[Any]]]
    labelled: list[list[Any]]


def encode_state(online: OnlineFeatures) -> bytes:
    groups = [_encode_group(group, online.clock) for group in _all_groups(online)]
    memory = online.labelled
    labelled = [
        [ts, event_id, list(memory.entries[event_id])]
        for ts, event_id in zip(memory.order_times, memory.order_ids, strict=True)
        if event_id in memory.entries
    ]
    snapshot = _Snapshot(
        version=SNAPSHOT_VERSION,
        specs=msgspec.msgpack.encode(online.specs),
        clock=online.clock,
        groups=groups,
        labelled=labelled,
    )
    return msgspec.msgpack.encode(snapshot)


def decode_state(online: OnlineFeatures, data: bytes) -> None:
    """Fill a fresh ``online`` with the state in ``data``."""
    snapshot = msgspec.msgpack.decode(data, type=_Snapshot)
    if snapshot.version != SNAPSHOT_VERSION:
        raise ValueError(
            f"snapshot version {snapshot.version}; this build reads {SNAPSHOT_VERSION}"
        )
    if snapshot.specs != msgspec.msgpack.encode(online.specs):
        raise ValueError("the snapshot was taken with other feature specs; rebuild from events")
    online.clock = snapshot.clock
    for group, states in zip(_all_groups(online), snapshot.groups, strict=True):
        _decode_group(group, states)
    for ts, event_id, keys in snapshot.labelled:
        online.labelled.remember(event_id, ts, tuple(keys))


def _all_groups(online: OnlineFeatures) -> list[SpecGroup]:
    return [*online.groups, *online.label_groups]


def _encode_group(group: SpecGroup, clock: float) -> list[list[Any]]:
    lowest = group.lowest(clock)
    encoded = []
    for key, state in group.states.items():
        if state.ids[-1] < lowest:
            continue
        members = None
        if state.members is not None:
            members = [[x for pair in m.items() for x in pair] for m in state.members]
        encoded.append(
            [
                key,
                state.ids,
                state.rows,
                state.totals,
                state.queues,
                members,
                state.levels,
                state.latest,
            ]
        )
    return encoded


def _decode_group(group: SpecGroup, states: list[list[Any]]) -> None:
    for key, ids, rows, totals, queues, members, levels, latest in states:
        if members is not None:
            members = [dict(zip(flat[::2], flat[1::2], strict=True)) for flat in members]
        group.states[key] = KeyState(
            ids=ids,
            rows=rows,
            totals=totals,
            queues=queues,
            members=members,
            levels=levels,
            latest=latest,
        )
    if group.windowed:
        newest = sorted(group.states.items(), key=lambda entry: entry[1].ids[-1])
        group.expiry_buckets.extend(state.ids[-1] for _, state in newest)
        group.expiry_keys.extend(key for key, _ in newest)
