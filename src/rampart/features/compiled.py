"""Each group's update and read, written out as Python source for its layout.

Why: a generic update walks lists of lanes and slots and calls a helper per step; at ~60
features and 30,000 events per second that interpretation costs more than the arithmetic. The
generated code does the same steps as straight-line code: the lanes an event type can match are
unrolled, slots and widths are constants, field values are local variables. Only rarer paths
(eviction, a new key, a late bucket, distinct members, max/min queues, a lane starting again)
call helpers.

:func:`update_code` writes one group's update as a block of statements that dispatch.py inlines
into the function of an event type; :func:`compile_read` and :func:`compile_label_update` make
stand-alone functions. Every name a block uses for its group is prefixed (``g3_states``), and
:func:`group_namespace` binds them.

>>> from rampart.features.spec import parse_feature_specs
>>> from rampart.features.groups import SpecGroup
>>> specs, _ = parse_feature_specs([{"name": "n", "agg": "count", "keys": ["ip"],
...     "window": "1h", "where": {"event.type": "account.login"}}], "doc")
>>> group = SpecGroup(specs, ("ip",), "ip", 1024)
>>> code = Source()
>>> update_code(group, "g0_", "key", lambda field: field, [(group.lanes[0], None)], code)
>>> print(code.text()[code.text().index("    rows = state.rows"):])
    rows = state.rows
    totals = state.totals
    rows[row + 0] += 1
    totals[0] += 1
    out['features.n'] = totals[0]
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any, Final

from rampart.features import distinct
from rampart.features.fields import EVENT_FIELDS
from rampart.features.windows import evict, push_extreme, row_of

if TYPE_CHECKING:
    from rampart.features.groups import SpecGroup
    from rampart.features.lanes import Lane
    from rampart.features.windows import KeyState

ReadFunction = Callable[["KeyState", float, dict[str, Any]], None]
LabelUpdate = Callable[[str, float, float, dict[str, Any]], None]
# How a block reads a field's value: an expression (a local variable, or ``values[...]``).
ValueOf = Callable[[str], str]

_compiled: dict[tuple[str, str], CodeType] = {}
_COMPILED_KEPT: Final = 4096


class Source:
    """Lines of Python with indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def add(self, *lines: str) -> None:
        self.lines += ["    " * self.depth + line for line in lines]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def compile_function(source: str, name: str, label: str, namespace: dict[str, Any]) -> Any:
    """Compile ``source`` defining ``name``; ``label`` names it in tracebacks and profiles.

    The same specs give the same sources, so their code objects are kept (restoring a snapshot,
    or a test building many states, compiles nothing twice).
    """
    code = _compiled.get((source, label))
    if code is None:
        if len(_compiled) >= _COMPILED_KEPT:
            _compiled.clear()
        code = _compiled[source, label] = compile(source, f"<{name} {label}>", "exec")
    exec(code, namespace)
    return namespace[name]


def group_namespace(group: SpecGroup, prefix: str) -> dict[str, Any]:
    """The names a group's generated code uses, each with the group's ``prefix``."""
    return {
        f"{prefix}states_get": group.states.get,
        f"{prefix}locate": group.locate,
        f"{prefix}restart_lane": group.restart_lane,
        f"{prefix}lanes": group.lanes,
    }


HELPERS: dict[str, Any] = {
    "evict": evict,
    "row_of": row_of,
    "push_extreme": push_extreme,
    "observe": distinct.observe,
}


def previous_code(group: SpecGroup, code: Source) -> None:
    """time_since_last and last_value, from each lane's latest events before this one."""
    width = group.geometry.width
    layout = group.layout
    for name, position in layout.since_last_reads:
        last = f"state.totals[{layout.first_seen_at(position) + 1}]"
        code.add(f"out[{name!r}] = now - {last} if {last} // {width!r} >= lowest else None")
    for name, index, _ in layout.latest_reads:
        value, seen = f"state.latest[{2 * index}]", f"state.latest[{2 * index + 1}]"
        code.add(f"out[{name!r}] = {value} if {seen} // {width!r} >= lowest else None")


def reads_code(group: SpecGroup, code: Source) -> None:
    """Write every feature of the group from ``state`` and ``totals`` (buckets evicted)."""
    layout = group.layout
    width = group.geometry.width
    for name, slot in layout.total_reads:
        code.add(f"out[{name!r}] = totals[{slot}]")
    for name, sum_slot, presence_slot in layout.mean_reads:
        code.add(f"present = totals[{presence_slot}]")
        code.add(f"out[{name!r}] = totals[{sum_slot}] / present if present else None")
    for name, queue, negate in layout.extreme_reads:
        top = "-queue[1]" if negate else "queue[1]"  # the front is in the window once evicted
        code.add(f"queue = state.queues[{queue}]", f"out[{name!r}] = {top} if queue else None")
    for name, index, slot in layout.distinct_reads:
        code.add(f"out[{name!r}] = totals[{slot}] << state.levels[{index}]")
    for name, position in layout.age_reads:
        first = layout.first_seen_at(position)
        code.add(
            f"out[{name!r}] = (now - totals[{first}]"
            f" if totals[{first + 1}] // {width!r} >= lowest else None)"
        )
    for name, position in layout.first_seen_reads:
        first = layout.first_seen_at(position)
        code.add(
            f"out[{name!r}] = (totals[{first}]"
            f" if totals[{first + 1}] // {width!r} >= lowest else None)"
        )


def read_code(
    group: SpecGroup, code: Source, *, lowest_known: bool = False, lowest: str | None = None
) -> None:
    """Statements reading an existing ``state`` at clock ``now`` into ``out``.

    Buckets that left the window are dropped; a forgotten key writes nothing (``out`` holds
    every feature's empty value already). ``lowest`` names a variable already holding the
    window's lowest bucket, if any.
    """
    width, span = group.geometry
    if lowest is not None:
        code.add(f"lowest = {lowest}")
    elif not lowest_known:
        code.add(f"lowest = now // {width!r} - {span - 1}")
    code.add("ids = state.ids")
    code.add("if ids[-1] >= lowest:")
    code.depth += 1
    code.add("if ids[0] < lowest:", f"    evict(state, lowest, {group.slots})")
    previous_code(group, code)
    code.add("totals = state.totals")
    reads_code(group, code)
    code.depth -= 1


def compile_read(group: SpecGroup) -> ReadFunction:
    """The group's read of a key's state at the engine's clock (drops expired buckets)."""
    code = Source()
    code.add("def read(state, now, out):")
    code.depth = 1
    read_code(group, code)
    namespace = dict(HELPERS)
    function: ReadFunction = compile_function(code.text(), "read", group.key_name, namespace)
    return function


def compile_label_update(group: SpecGroup) -> LabelUpdate:
    """Count a label for ``key`` at ``ts`` in a label-fed group (its only lane, unfiltered)."""
    code = Source()
    code.add("def update(key, ts, now, out):")
    code.depth = 1
    update_code(group, "", "key", repr, [(group.lanes[0], None)], code)
    namespace = {**HELPERS, **group_namespace(group, ""), "CAP": group.distinct_cap}
    function: LabelUpdate = compile_function(code.text(), "update", group.key_name, namespace)
    return function


def update_code(
    group: SpecGroup,
    prefix: str,
    key: str,
    value_of: ValueOf,
    lane_flags: list[tuple[Lane, str | None]],
    code: Source,
    clock: tuple[str, str] | None = None,
) -> None:
    """Statements applying an event to ``key``'s state in the lanes whose flag holds.

    ``lane_flags`` pairs each lane the event's type can match with the expression saying
    whether its filter passed (None: no filter). Uses ``ts``, ``now`` and ``out``; ``clock``
    names variables already holding the event's bucket and the window's lowest, if any.
    """
    slots = group.slots
    width, span = group.geometry
    flags = [flag for _, flag in lane_flags]
    if clock is not None:
        code.add(f"bucket = {clock[0]}", f"lowest = {clock[1]}")
    else:
        code.add(f"bucket = ts // {width!r}", f"lowest = now // {width!r} - {span - 1}")
    code.add(f"state = {prefix}states_get({key})")
    skip = "bucket < lowest"  # too late: its bucket has left the window
    if all(flag is not None for flag in flags):
        skip = f"not ({' or '.join(str(flag) for flag in flags)}) or {skip}"
    code.add(f"if {skip}:", "    if state is not None:")
    code.depth += 2
    read_code(group, code, lowest_known=True)
    code.depth -= 2
    code.add("else:")
    code.depth += 1
    # The common cases inline: the key is known and this bucket is its newest, or a new newest
    # bucket opens (maybe evicting old ones). New, forgotten keys and late buckets: locate().
    locate = f"state, row = {prefix}locate({key}, state, bucket, lowest)"
    code.add("if state is None:", f"    {locate}", "else:", "    ids = state.ids")
    code.add("    if ids[-1] == bucket and ids[0] >= lowest:")
    code.add(f"        row = len(ids) * {slots} - {slots}")
    code.add("    elif bucket > ids[-1] >= lowest:")
    code.add("        if ids[0] < lowest:", f"            evict(state, lowest, {slots})")
    code.add("        ids.append(bucket)", f"        state.rows.extend({[0] * slots!r})")
    code.add(f"        row = len(ids) * {slots} - {slots}")
    code.add("    else:", f"        {locate}")
    previous_code(group, code)
    code.add("rows = state.rows", "totals = state.totals")
    for lane, flag in lane_flags:
        checked = flag is not None and len(lane_flags) > 1  # one lane: checked above
        if checked:
            code.add(f"if {flag}:")
            code.depth += 1
        _lane_code(group, prefix, lane, value_of, code)
        if checked:
            code.depth -= 1
    reads_code(group, code)
    code.depth -= 1


def _lane_code(group: SpecGroup, prefix: str, lane: Lane, value_of: ValueOf, code: Source) -> None:
    width = group.geometry.width
    if lane.tracks_recency:
        first = group.layout.first_seen_at(lane.position)
        last = first + 1
        code.add(f"if totals[{last}] // {width!r} < lowest:  # the lane starts again")
        code.add(f"    {prefix}restart_lane({prefix}lanes[{lane.position}], state, ts)", "else:")
        code.add(f"    if ts > totals[{last}]:", f"        totals[{last}] = ts")
        code.add(f"    if ts < totals[{first}]:", f"        totals[{first}] = ts")
    code.add(f"rows[row + {lane.count_slot}] += 1", f"totals[{lane.count_slot}] += 1")
    for slot, field in lane.sum_fields:
        code.add(f"value = {value_of(field)}", "if value is not None:")
        code.add(f"    rows[row + {slot}] += value", f"    totals[{slot}] += value")
    for slot, field in lane.presence_fields:
        code.add(f"if {value_of(field)} is not None:")
        code.add(f"    rows[row + {slot}] += 1", f"    totals[{slot}] += 1")
    for queue, field, negate in lane.queue_fields:
        value = "-value" if negate else "value"
        code.add(f"value = {value_of(field)}", "if value is not None:")
        code.add(f"    push_extreme(state.queues[{queue}], bucket, {value})")
    for index, slot, field in lane.distinct_fields:
        call = f"observe(state, {index}, {slot}, {{}}, bucket, row, lowest, {group.slots}, CAP)"
        code.add(f"value = {value_of(field)}", "if value is not None:")
        if EVENT_FIELDS.get(field) == "list[str]":
            code.add("    for member in value:", "        " + call.format("member"))
        else:  # a member already seen in this bucket changes nothing
            code.add(f"    if state.members[{index}].get(value) != bucket:")
            code.add("        " + call.format("value"))
    for index, field in lane.latest_fields:
        code.add(f"value = {value_of(field)}")
        code.add(f"if value is not None and ts >= state.latest[{2 * index + 1}]:")
        code.add(
            f"    state.latest[{2 * index}] = value", f"    state.latest[{2 * index + 1}] = ts"
        )
