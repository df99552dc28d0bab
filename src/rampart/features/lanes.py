"""Where each feature's numbers live inside a group's per-key state.

A group holds every feature with the same keys and window (and source); its features are split
into *lanes*, one per filter (``where``). A lane owns a count slot, a sum slot per summed field,
a presence slot per averaged field, a monotonic queue per (field, max|min), a member set and a
distinct slot per counted field, a latest-value pair per last_value field, and its own recency
(first and last time it matched). All lanes of a key share the bucket ids and rows, so an event
that several lanes match costs one lookup and one bucket.
"""

from __future__ import annotations

from typing import Any

from rampart.features.fields import EVENT_FIELDS
from rampart.features.spec import FeatureSpec
from rampart.features.windows import NEVER

Condition = tuple[str, frozenset[Any]]
Filter = tuple[Condition, ...]


def split_where(where: dict[str, Any]) -> tuple[frozenset[str] | None, Filter]:
    """The event types a filter allows (None: any) and its other conditions, canonical.

    >>> split_where({"event.type": "account.login", "event.props.success": False})
    (frozenset({'account.login'}), (('event.props.success', frozenset({False})),))
    """
    types: frozenset[str] | None = None
    conditions = []
    for path, allowed in where.items():
        options = frozenset(allowed if isinstance(allowed, list) else [allowed])
        if path == "event.type":
            types = options
        else:
            conditions.append((path, options))
    return types, tuple(sorted(conditions, key=lambda c: c[0]))


class Lane:
    """The features of one filter in a group, and the parts of the state they own."""

    def __init__(self, position: int, where: dict[str, Any]) -> None:
        self.position = position  # its first/last seen times: Layout.first_seen_at(position)
        self.types, self.conditions = split_where(where)
        self.count_slot = 0
        self.sum_fields: list[tuple[int, str]] = []
        self.presence_fields: list[tuple[int, str]] = []
        self.queue_fields: list[tuple[int, str, bool]] = []
        self.distinct_fields: list[tuple[int, int, str]] = []
        self.latest_fields: list[tuple[int, str]] = []
        # Whether the lane keeps first/last-seen times: only what reads them (or must start
        # again when the lane is forgotten: member sets, latest values) pays for them.
        self.tracks_recency = False

    def can_match(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


class Layout:
    """Slots, queues, member sets and latest pairs of all lanes of a group, and how to read them.

    Slots are numbered across lanes; each ``*_reads`` list says which feature reads what.
    """

    def __init__(self, specs: list[FeatureSpec]) -> None:
        self.lanes: list[Lane] = []
        self.slots = 0
        self.queues = 0
        self.member_sets = 0
        self.latest_pairs = 0
        self.zeros: list[float] = []  # each slot's empty total (0, or 0.0 for a float sum)
        # A new key's totals: the slots' zeros, then each lane's first and last seen (never).
        self.initial_totals: list[float] = []
        self.recency_base = 0  # where the lanes' times start in the totals
        self.total_reads: list[tuple[str, int]] = []
        self.mean_reads: list[tuple[str, int, int]] = []
        self.extreme_reads: list[tuple[str, int, bool]] = []
        self.distinct_reads: list[tuple[str, int, int]] = []
        self.age_reads: list[tuple[str, int]] = []
        self.first_seen_reads: list[tuple[str, int]] = []
        self.since_last_reads: list[tuple[str, int]] = []
        self.latest_reads: list[tuple[str, int, int]] = []
        lanes: dict[tuple[Any, ...], list[FeatureSpec]] = {}
        for spec in specs:
            lanes.setdefault(split_where(spec.where), []).append(spec)
        for lane_specs in lanes.values():
            self._add_lane(lane_specs)
        self.recency_base = self.slots
        self.initial_totals = self.zeros + [NEVER, NEVER] * len(self.lanes)
        timed = {
            p
            for reads in (self.age_reads, self.first_seen_reads, self.since_last_reads)
            for _, p in reads
        }
        for lane in self.lanes:
            lane.tracks_recency = bool(
                lane.position in timed or lane.distinct_fields or lane.latest_fields
            )
        self.fields = sorted({spec.field for spec in specs if spec.field is not None})

    def first_seen_at(self, position: int) -> int:
        """Where lane ``position``'s first-seen time is in the totals (its last seen follows)."""
        return self.recency_base + 2 * position

    def _slot(self, zero: float = 0) -> int:
        self.zeros.append(zero)
        self.slots += 1
        return self.slots - 1

    def _add_lane(self, specs: list[FeatureSpec]) -> None:
        lane = Lane(len(self.lanes), specs[0].where)
        self.lanes.append(lane)
        lane.count_slot = self._slot()
        sums: dict[str, int] = {}
        presences: dict[str, int] = {}
        queues: dict[tuple[str, bool], int] = {}
        members: dict[str, tuple[int, int]] = {}
        latest: dict[str, int] = {}
        position = lane.position
        for spec in specs:
            name, field = spec.qualified_name, spec.field or ""
            if spec.agg in ("sum", "mean") and field not in sums:
                sums[field] = self._slot(0.0 if EVENT_FIELDS.get(field) == "float" else 0)
                lane.sum_fields.append((sums[field], field))
            if spec.agg == "mean" and field not in presences:
                presences[field] = self._slot()
                lane.presence_fields.append((presences[field], field))
            if spec.agg in ("max", "min") and (field, spec.agg == "min") not in queues:
                queues[field, spec.agg == "min"] = self.queues
                lane.queue_fields.append((self.queues, field, spec.agg == "min"))
                self.queues += 1
            if spec.agg == "distinct_count" and field not in members:
                members[field] = (self.member_sets, self._slot())
                lane.distinct_fields.append((*members[field], field))
                self.member_sets += 1
            if spec.agg == "last_value" and field not in latest:
                latest[field] = self.latest_pairs
                lane.latest_fields.append((self.latest_pairs, field))
                self.latest_pairs += 1
            match spec.agg:
                case "count":
                    self.total_reads.append((name, lane.count_slot))
                case "sum":
                    self.total_reads.append((name, sums[field]))
                case "mean":
                    self.mean_reads.append((name, sums[field], presences[field]))
                case "max" | "min":
                    self.extreme_reads.append(
                        (name, queues[field, spec.agg == "min"], spec.agg == "min")
                    )
                case "distinct_count":
                    self.distinct_reads.append((name, *members[field]))
                case "age":
                    self.age_reads.append((name, position))
                case "first_seen":
                    self.first_seen_reads.append((name, position))
                case "time_since_last":
                    self.since_last_reads.append((name, position))
                case "last_value":
                    self.latest_reads.append((name, latest[field], position))
