"""The online feature state: one event in, every feature as of that event out.

>>> from rampart.contract.events import decode_event
>>> from rampart.ingest.privacy import EventPrivacy
>>> from rampart.features.spec import parse_feature_specs
>>> specs, _ = parse_feature_specs([
...     {"name": "accounts_on_device_24h", "agg": "distinct_count", "keys": ["device"],
...      "field": "user", "window": "24h"},
...     {"name": "link_age", "agg": "age", "keys": ["device", "user"], "window": "90d"},
... ], "doc")
>>> online = OnlineFeatures(specs)
>>> def login(user, minute):
...     raw = ('{"event_id":"e%s%d","type":"account.login","ts":"2026-03-01T10:%02d:00Z",'
...            '"user_id":"%s","device":{"id":"d1"},"props":{"success":true}}'
...            % (user, minute, minute, user))
...     return EventPrivacy.for_demo().protect(decode_event(raw))
>>> online.update(login("u1", 0))
{'features.accounts_on_device_24h': 1, 'features.link_age': 0.0}
>>> online.update(login("u2", 5))
{'features.accounts_on_device_24h': 2, 'features.link_age': 0.0}
>>> online.update(login("u1", 9))
{'features.accounts_on_device_24h': 2, 'features.link_age': 540.0}

The clock is event time: the latest event (or label) time seen, never the wall clock. What each
aggregation includes "as of this event" is in spec.py; windows and their edge in windows.py;
distinct counts beyond their cap in distinct.py; forgetting and sweeping in groups.py.

Memory: per key and group at most 64 buckets of a few numbers each, a distinct count at most
``2 * distinct_cap + 16`` members (live ones and stale ones not yet swept), so one hot key (a
carrier NAT address behind 100,000 events) takes a few KB per group, and ~100-250 KB for a
distinct count at the default cap of 1,024 (tested in test_feat_memory.py). Keys with nothing in
their window are freed by a sweep driven by event time; lifetime features keep their keys.
:meth:`OnlineFeatures.stats` estimates what is held.

How it stays fast: features sharing keys and window share one state per key, each filter a lane
in it (:mod:`rampart.features.groups`, :mod:`rampart.features.lanes`); per event type one
compiled function reads each key and field once, evaluates each distinct filter once, updates
the groups the type can match and reads the others (:mod:`rampart.features.dispatch`).
:meth:`OnlineFeatures.source` shows that function.

Label-fed features (``source: labels``) count positive labels given to :meth:`apply_label`
at the label's time (the caller interleaves labels and events by time). A label on an entity
(``user``, ``seller``, ``device``, ``ip``, ``item``, ``instrument``) counts for features keyed by
exactly that kind and without a ``where``; an ``ip`` label must carry the same pseudonym events
do (the caller pseudonymises label ids first). A label on an event counts for the keys that
event had, if it passed the feature's ``where`` (see :mod:`rampart.features.labels`).
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import msgspec

from rampart.contract.events import EVENT_TYPES
from rampart.contract.outputs import Label
from rampart.features.compiled import compile_label_update
from rampart.features.dispatch import (
    GLOBAL_KEY,
    EventFunction,
    compile_event_function,
    compile_values,
    key_name,
)
from rampart.features.distinct import DEFAULT_DISTINCT_CAP
from rampart.features.groups import SpecGroup, empty_value
from rampart.features.labels import DEFAULT_LABELLED_EVENT_CAP, LabelledEvents
from rampart.features.lanes import split_where
from rampart.features.spec import FeatureSpec
from rampart.features.windows import KeyState
from rampart.ingest.privacy import Accepted


class FeatureStats(msgspec.Struct, frozen=True, kw_only=True):
    """How much the online state holds."""

    keys: int
    keys_by_group: dict[str, int]
    labelled_events: int
    memory_bytes: int  # an estimate from sys.getsizeof of the containers and their contents
    clock: float | None


class OnlineFeatures:
    """Online state for a list of feature specs (validated by ``parse_feature_specs``)."""

    def __init__(
        self,
        specs: Iterable[FeatureSpec],
        *,
        distinct_cap: int = DEFAULT_DISTINCT_CAP,
        labelled_event_cap: int = DEFAULT_LABELLED_EVENT_CAP,
        reads: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """``reads``: per event type, the features (``features.<name>``) its readers need; the
        other groups are then not read on that type (still updated). None reads every feature.
        """
        self.specs = list(specs)
        self.reads = reads
        self.distinct_cap = distinct_cap
        self.clock = float("-inf")
        self.groups: list[SpecGroup] = []
        self.label_groups: list[SpecGroup] = []
        self._ratios = [
            (s.qualified_name, f"features.{s.numerator}", f"features.{s.denominator}")
            for s in self.specs
            if s.agg == "ratio"
        ]
        self._empty = {s.qualified_name: empty_value(s) for s in self.specs}
        self._build_groups([s for s in self.specs if s.agg != "ratio"])
        windows = [s.window_seconds for s in self.specs if s.source == "labels"]
        keep = None if None in windows else float(max((w or 0 for w in windows), default=0))
        self.labelled = LabelledEvents(keep, labelled_event_cap)
        self._label_updates = [compile_label_update(group) for group in self.label_groups]
        key_names = sorted({group.key_name for group in (*self.groups, *self.label_groups)})
        self._keys_of = {t: compile_values(t, key_names) for t in EVENT_TYPES}
        self._on_event: dict[str, EventFunction] = {}
        self._sources: dict[str, str] = {}
        self._empty_of: dict[str, dict[str, Any]] = {}
        self.set_reads(reads)

    def set_reads(self, reads: Mapping[str, Collection[str]] | None) -> None:
        """Read ``reads`` per event type from the next event on (the state stays as it is).

        Every per-type function is compiled before any is swapped in: a failure changes nothing.
        """
        on_event: dict[str, EventFunction] = {}
        sources: dict[str, str] = {}
        empty_of: dict[str, dict[str, Any]] = {}
        for event_type in EVENT_TYPES:
            needed = self._needed(event_type, reads)
            function, source = compile_event_function(
                event_type,
                self.groups,
                self.label_groups,
                self._ratios,
                self.labelled,
                self.distinct_cap,
                needed,
            )
            on_event[event_type] = function
            sources[event_type] = source
            empty_of[event_type] = self._empty_for(event_type, needed)
        self.reads = reads
        self._on_event, self._sources, self._empty_of = on_event, sources, empty_of

    def _needed(
        self, event_type: str, reads: Mapping[str, Collection[str]] | None
    ) -> frozenset[str] | None:
        """What events of the type must read: what their readers need, and the parts of ratios."""
        if reads is None:
            return None
        needed = set(reads.get(event_type, ()))
        for name, numerator, denominator in self._ratios:
            if name in needed:
                needed.update((numerator, denominator))
        return frozenset(needed)

    def _empty_for(self, event_type: str, needed: frozenset[str] | None) -> dict[str, Any]:
        """The features an event of the type answers, empty: the needed ones and all those of
        the groups it updates (written anyway)."""
        if needed is None:
            return self._empty
        updated = {
            spec.qualified_name
            for group in self.groups
            if any(lane.can_match(event_type) for lane in group.lanes)
            for spec in group.specs
        }
        return {name: v for name, v in self._empty.items() if name in needed or name in updated}

    def _build_groups(self, specs: list[FeatureSpec]) -> None:
        """Event features group by keys and window; label-fed ones also by filter and area."""
        by_signature: dict[tuple[Any, ...], list[FeatureSpec]] = {}
        for spec in specs:
            signature: tuple[Any, ...] = (tuple(sorted(spec.keys)), spec.window_seconds)
            if spec.source == "labels":
                signature += ("labels", split_where(spec.where), spec.label_area)
            by_signature.setdefault(signature, []).append(spec)
        for (kinds, *_), members in by_signature.items():
            group = SpecGroup(members, kinds, key_name(kinds), self.distinct_cap)
            (self.label_groups if members[0].source == "labels" else self.groups).append(group)

    def peek_key(self, kinds: tuple[str, ...], key: str) -> dict[str, Any]:
        """The features keyed by exactly ``kinds`` for ``key``, read at the clock (no change).

        Ratios whose parts are both among them are computed too. Nothing is updated or swept.
        """
        out: dict[str, Any] = {}
        if self.clock == float("-inf"):
            return out
        for group in (*self.groups, *self.label_groups):
            if group.kinds == kinds:
                for spec in group.specs:
                    out[spec.qualified_name] = self._empty[spec.qualified_name]
                group.peek(key, self.clock, out)
        for name, numerator, denominator in self._ratios:
            if numerator in out and denominator in out:
                top, bottom = out[numerator], out[denominator]
                out[name] = top / bottom if bottom and top is not None else None
        return out

    def source(self, event_type: str) -> str:
        """The generated update for events of ``event_type`` (see dispatch.py)."""
        return self._sources[event_type]

    # --- per event -------------------------------------------------------------------------

    def update(self, accepted: Accepted) -> dict[str, Any]:
        """Apply one accepted event, then return its features as of it (``features.<name>``):
        every feature, or with ``reads`` those its type needs and those it updates."""
        event = accepted.event
        ts = event.ts.timestamp()
        now = self.clock
        if ts > now:
            now = self.clock = ts
        kind = event.type
        out = self._empty_of[kind].copy()
        self._on_event[kind](accepted, ts, now, out)
        return out

    def read(self, accepted: Accepted) -> dict[str, Any]:
        """Every feature for this event's keys as of its time, without applying it (what-if)."""
        now = max(self.clock, accepted.event.ts.timestamp())
        keys = self._keys_of[accepted.event.type](accepted)
        out = self._empty.copy()
        for group in (*self.groups, *self.label_groups):
            key = keys[group.key_name]
            if key is not None:
                group.peek(key, now, out)
        if self._ratios:
            _ratios(self._ratios, out)
        return out

    def apply_label(self, label: Label, ts: float) -> None:
        """Count a positive label at ``ts`` (epoch seconds) for the label-fed features it fits."""
        now = self.clock
        if ts > now:
            now = self.clock = ts
        self.labelled.expire(now)
        if label.label != 1:
            return
        event_keys = None
        if label.entity_type == "event":
            event_keys = self.labelled.keys_of(label.entity_id)
            if event_keys is None:
                return
        scratch: dict[str, Any] = {}
        for position, group in enumerate(self.label_groups):
            if group.label_area is not None and label.area != group.label_area:
                continue
            (lane,) = group.lanes
            if event_keys is not None:
                key = event_keys[position]
            elif lane.types is not None or lane.conditions:
                continue  # a filter on events cannot hold for a label on an entity
            elif group.kinds == (label.entity_type,):
                key = label.entity_id
            elif not group.kinds:
                key = GLOBAL_KEY
            else:
                continue
            if key is not None:
                self._label_updates[position](key, ts, now, scratch)

    # --- state as a whole ------------------------------------------------------------------

    def stats(self) -> FeatureStats:
        """Keys held per group and an estimate of the memory they take (O(state) to compute)."""
        keys_by_group = {}
        memory = 0
        for group in (*self.groups, *self.label_groups):
            keys_by_group[describe(group)] = len(group.states)
            memory += sys.getsizeof(group.states) + _deque_bytes(len(group.expiry_keys))
            for key, state in group.states.items():
                memory += sys.getsizeof(key) + state_bytes(state)
        labelled = self.labelled
        memory += sys.getsizeof(labelled.entries) + _deque_bytes(len(labelled.order_ids))
        for event_id, keys in labelled.entries.items():
            memory += sys.getsizeof(event_id) + sys.getsizeof(keys) + 64  # + the order entry
        return FeatureStats(
            keys=sum(keys_by_group.values()),
            keys_by_group=keys_by_group,
            labelled_events=len(labelled),
            memory_bytes=memory,
            clock=None if self.clock == float("-inf") else self.clock,
        )

    def snapshot(self) -> bytes:
        """All live state as compact msgpack (see :mod:`rampart.features.snapshot`)."""
        from rampart.features.snapshot import encode_state

        return encode_state(self)

    @classmethod
    def restore(
        cls,
        specs: Iterable[FeatureSpec],
        data: bytes,
        *,
        distinct_cap: int = DEFAULT_DISTINCT_CAP,
        labelled_event_cap: int = DEFAULT_LABELLED_EVENT_CAP,
        reads: Mapping[str, Collection[str]] | None = None,
    ) -> OnlineFeatures:
        """The state a snapshot holds; ``specs`` must be the ones it was taken with."""
        from rampart.features.snapshot import decode_state

        online = cls(
            specs, distinct_cap=distinct_cap, labelled_event_cap=labelled_event_cap, reads=reads
        )
        decode_state(online, data)
        return online


def describe(group: SpecGroup) -> str:
    """A readable name for a group: ``device+user 24h`` (``labels:<area>`` and filter if fed so)."""
    first = group.specs[0]
    parts = [group.key_name, first.window]
    if first.source == "labels":
        parts += [f"labels:{first.label_area or 'any'}", f"where {first.where}"]
    return " ".join(parts)


def state_bytes(state: KeyState) -> int:
    """Estimated bytes one key's state takes (containers and the numbers they hold)."""
    size = sys.getsizeof(state) + _list_bytes(state.ids) + _list_bytes(state.rows)
    size += _list_bytes(state.totals)
    for queue in state.queues or ():
        size += _list_bytes(queue)
    for members in state.members or ():
        size += sys.getsizeof(members) + sum(sys.getsizeof(m) + 24 for m in members)
    if state.latest is not None:
        size += _list_bytes(state.latest)
    return size


def _list_bytes(values: list[Any]) -> int:
    # Small ints are shared by CPython; floats and large numbers take 24-32 bytes each.
    return sys.getsizeof(values) + sum(24 for v in values if isinstance(v, float))


def _deque_bytes(length: int) -> int:
    return 2 * 624 + length * (8 + 8 + 24)  # two deques: a bucket (float) and a key per entry


def _ratios(ratios: list[tuple[str, str, str]], out: dict[str, Any]) -> None:
    for name, numerator, denominator in ratios:
        top, bottom = out[numerator], out[denominator]
        out[name] = top / bottom if bottom and top is not None else None
