"""One compiled function per event type: the whole online update for events of that type.

The function reads each key and field the type needs once, into local variables (plain
attribute paths inline, using what the contract says the type carries; anything else through
the getters of fields.py), evaluates each distinct filter once, runs the inlined update of every
group whose lanes the type can match (see compiled.py), reads the other groups, and remembers
the event's keys for labels on events (see labels.py).

>>> from rampart.features.spec import parse_feature_specs
>>> from rampart.features.online import OnlineFeatures
>>> specs, _ = parse_feature_specs([{"name": "n", "agg": "count", "keys": ["user"],
...     "window": "1h", "where": {"event.type": "account.login", "event.props.success": False}}],
...     "doc")
>>> source = OnlineFeatures(specs).source("account.login")
>>> print(source[: source.index("        else:")])
def on_event(accepted, ts, now, out):
    event = accepted.event
    derived = accepted.derived
    v0 = event.user_id
    v1 = event.props.success
    f0 = v1 in condition_0_0
    bucket_0 = ts // 60.0
    lowest_0 = now // 60.0 - 59
    # user 1h: 1 features
    if v0 is not None:
        bucket = bucket_0
        lowest = lowest_0
        state = g0_states_get(v0)
        if not (f0) or bucket < lowest:
            if state is not None:
                ids = state.ids
                if ids[-1] >= lowest:
                    if ids[0] < lowest:
                        evict(state, lowest, 1)
                    totals = state.totals
                    out['features.n'] = totals[0]
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import cache
from itertools import count
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Final, Union, get_args, get_origin, get_type_hints

import msgspec
from msgspec import UNSET, UnsetType

from rampart.contract.events import EVENT_CLASSES
from rampart.features.compiled import (
    HELPERS,
    Source,
    compile_function,
    group_namespace,
    read_code,
    update_code,
)
from rampart.features.fields import (
    ENTITY_KINDS,
    PLAIN_ENTITY_PATHS,
    entity_getter,
    event_getter,
)
from rampart.features.labels import LABELLED_EVENT_TYPES
from rampart.features.lanes import Filter
from rampart.features.windows import Geometry

if TYPE_CHECKING:
    from rampart.features.groups import SpecGroup
    from rampart.features.labels import LabelledEvents
    from rampart.ingest.privacy import Accepted

EventFunction = Callable[["Accepted", float, float, dict[str, Any]], None]
Ratio = tuple[str, str, str]  # the qualified names of a ratio, its numerator, its denominator
KEY_SEPARATOR: Final = "\x1f"  # joins the parts of a composite key: never inside an id
GLOBAL_KEY: Final = "*"
_CLASS_OF: Final = {str(cls.__struct_config__.tag): cls for cls in EVENT_CLASSES}


def key_name(kinds: tuple[str, ...]) -> str:
    """How a group's key is named among an event's values: ``device+user``, or ``*``."""
    return "+".join(kinds) if kinds else GLOBAL_KEY


class _Values:
    """The local variable of each value an event type's function reads, and how it is set."""

    def __init__(self, event_type: str, code: Source, namespace: dict[str, Any]) -> None:
        self.event_type = event_type
        self.cls = _CLASS_OF[event_type]
        self.code = code
        self.namespace = namespace
        self.names: dict[str, str] = {}
        self.variables = count()

    def __call__(self, name: str) -> str:
        """The expression of value ``name`` (an entity kind, key name or event path)."""
        if name == GLOBAL_KEY:
            return repr(GLOBAL_KEY)
        if name == "event.type":
            return repr(self.event_type)
        if name == "event.ts":
            return "ts"
        if name not in self.names:
            self.names[name] = self._assign(name, f"v{next(self.variables)}")
        return self.names[name]

    def _assign(self, name: str, variable: str) -> str:
        """Set ``variable`` to value ``name``; the expression to read it by (``"None"`` when
        the event type never carries it: then nothing is set)."""
        code = self.code
        if "+" in name:  # a composite key: every part, or None
            parts = [self(kind) for kind in name.split("+")]
            if "None" in parts:
                return "None"
            missing = " or ".join(f"{part} is None" for part in parts)
            joined = f" + {KEY_SEPARATOR!r} + ".join(parts)
            code.add(f"{variable} = None if {missing} else {joined}")
        elif name in PLAIN_ENTITY_PATHS:
            return self._assign(PLAIN_ENTITY_PATHS[name], variable)
        elif name in ENTITY_KINDS:
            self.namespace[f"get_{name}"] = entity_getter(name)
            code.add(f"{variable} = get_{name}(accepted)")
        elif name.startswith("event.derived."):
            code.add(f"{variable} = derived.{name.rsplit('.', 1)[1]}")
        else:
            computed = name.startswith("event.order.")  # figures fields.py computes
            steps = None if computed else _attribute_steps(self.cls, name.split(".")[1:])
            if steps is None:  # computed (event.order.*), or not plain attributes
                getter = f"get_{variable}"
                self.namespace[getter] = event_getter(name)
                code.add(f"{variable} = {getter}(accepted)")
            elif not steps:
                return "None"
            else:
                _attribute_chain(variable, steps, code)
        return variable


def _attribute_chain(variable: str, steps: list[tuple[str, bool]], code: Source) -> None:
    """``variable = event.<steps>``, None as soon as a step is unset (fields.py semantics).

    A step that is always set (``props``, a required field) needs no check before the next.
    """
    expression, opened = "event", 0
    for position, (step, optional) in enumerate(steps):
        expression += f".{step}"
        if optional and position < len(steps) - 1:
            code.add(f"{variable} = {expression}", f"if {variable} is UNSET:")
            code.add(f"    {variable} = None", f"elif {variable} is not None:")
            code.depth += 1
            opened += 1
            expression = variable
    code.add(f"{variable} = {expression}")
    if steps[-1][1]:
        code.add(f"if {variable} is UNSET:", f"    {variable} = None")
    code.depth -= opened


def _attribute_steps(cls: type[Any], steps: list[str]) -> list[tuple[str, bool]] | None:
    """The attribute steps of a path on events of ``cls``, each with whether it may be unset:
    [] when the path can never be set, None when it is not a chain of struct attributes (then
    the getter of fields.py reads it)."""
    current: Any = cls
    chain = []
    for position, step in enumerate(steps):
        if step not in current.__struct_fields__:
            return []
        annotation = _hints(current)[step]
        chain.append((step, _may_be_unset(annotation)))
        if position < len(steps) - 1:
            current = _struct_of(annotation)
            if current is None:
                return None
    return chain


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


def _options(annotation: Any) -> tuple[Any, ...]:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)


def _may_be_unset(annotation: Any) -> bool:
    return any(option in (UnsetType, type(None)) for option in _options(annotation))


def _struct_of(annotation: Any) -> type[msgspec.Struct] | None:
    """The one Struct class an annotation allows (besides unset), if any."""
    structs = [
        a for a in _options(annotation) if isinstance(a, type) and issubclass(a, msgspec.Struct)
    ]
    return structs[0] if len(structs) == 1 else None


class _EventSource:
    """Writes the function of one event type, part by part."""

    def __init__(self, event_type: str, namespace: dict[str, Any]) -> None:
        self.event_type = event_type
        self.namespace = namespace
        self.code = Source()
        self.code.add("def on_event(accepted, ts, now, out):")
        self.code.depth = 1
        self.code.add("event = accepted.event", "derived = accepted.derived")
        self.values = _Values(event_type, self.code, namespace)
        self.flags: dict[Filter, str] = {}
        self.geometries: dict[Geometry, int] = {}
        self.clock_names: set[str] = set()

    def clock_of(self, what: str, geometry: Geometry) -> str:
        """The variable holding the event's bucket (``what="bucket"``) or the window's lowest
        bucket (``"lowest"``) for a geometry: computed once per event, shared by its groups."""
        number = self.geometries.setdefault(geometry, len(self.geometries))
        name = f"{what}_{number}"
        if name not in self.clock_names:
            self.clock_names.add(name)
            width, span = geometry
            expression = (
                f"ts // {width!r}" if what == "bucket" else f"now // {width!r} - {span - 1}"
            )
            self.code.add(f"{name} = {expression}")
        return name

    def flag_of(self, conditions: Filter) -> str | None:
        """The local variable saying whether a filter holds (evaluated once), or None."""
        if not conditions:
            return None
        if conditions not in self.flags:
            flag = self.flags[conditions] = f"f{len(self.flags)}"
            tests = []
            for position, (path, allowed) in enumerate(conditions):
                allowed_name = f"condition_{flag[1:]}_{position}"
                self.namespace[allowed_name] = allowed
                tests.append(f"{self.values(path)} in {allowed_name}")
            self.code.add(f"{flag} = {' and '.join(tests)}")
        return self.flags[conditions]

    def update(self, prefix: str, group: SpecGroup) -> None:
        """The inlined update of a group some of whose lanes the type can match."""
        self.namespace.update(group_namespace(group, prefix))
        key = self.values(group.key_name)
        matching = [lane for lane in group.lanes if lane.can_match(self.event_type)]
        lane_flags = [(lane, self.flag_of(lane.conditions)) for lane in matching]
        keyed = key != repr(GLOBAL_KEY)
        if key == "None":
            return  # the type never carries this key
        clock = (self.clock_of("bucket", group.geometry), self.clock_of("lowest", group.geometry))
        block = Source()
        block.depth = self.code.depth + keyed
        update_code(group, prefix, key, self.values, lane_flags, block, clock)
        self.code.add(f"# {group.key_name} {group.specs[0].window}: {len(group.specs)} features")
        if keyed:
            self.code.add(f"if {key} is not None:")
        self.code.lines += block.lines

    def read(self, prefix: str, group: SpecGroup) -> None:
        """The inlined read of a group the type cannot match (or a label-fed one)."""
        code = self.code
        self.namespace.update(group_namespace(group, prefix))
        key = self.values(group.key_name)
        if key == "None":
            return  # the type never carries this key
        lowest = self.clock_of("lowest", group.geometry)
        if key == repr(GLOBAL_KEY):
            code.add(f"state = {prefix}states_get({key})")
        else:
            code.add(f"state = {prefix}states_get({key}) if {key} is not None else None")
        code.add("if state is not None:")
        code.depth += 1
        read_code(group, code, lowest=lowest)
        code.depth -= 1

    def remember(self, label_groups: list[SpecGroup]) -> None:
        """Keep the event's keys for labels on it, per label-fed group whose filter it passes."""
        remembered = []
        for group in label_groups:
            (lane,) = group.lanes
            default = lane.types is None and self.event_type not in LABELLED_EVENT_TYPES
            if default or not lane.can_match(self.event_type):
                remembered.append("None")
                continue
            flag = self.flag_of(lane.conditions)
            key = self.values(group.key_name)
            remembered.append(key if flag is None else f"({key} if {flag} else None)")
        self.namespace["NO_KEYS"] = (None,) * len(label_groups)
        if any(key != "None" for key in remembered):
            self.code.add(f"keys = ({', '.join(remembered)},)")
            self.code.add("if keys != NO_KEYS:", "    remember(event.event_id, ts, keys)")
            self.code.add("expire(now)")

    def ratios(self, ratios: list[Ratio]) -> None:
        for name, numerator, denominator in ratios:
            self.code.add(f"top, bottom = out[{numerator!r}], out[{denominator!r}]")
            self.code.add(f"out[{name!r}] = top / bottom if bottom and top is not None else None")


def event_function_source(
    event_type: str,
    groups: list[SpecGroup],
    label_groups: list[SpecGroup],
    ratios: list[Ratio],
    namespace: dict[str, Any],
    needed: Collection[str] | None = None,
) -> str:
    """The source of the update for events of ``event_type``; fills ``namespace``.

    With ``needed`` (qualified names), groups the type does not update are read only if one of
    their features is needed, and only needed ratios are computed: the groups it updates still
    write all their features (they are at hand).
    """
    source = _EventSource(event_type, namespace)
    can_match = [any(lane.can_match(event_type) for lane in group.lanes) for group in groups]

    def wanted(group: SpecGroup) -> bool:
        return needed is None or any(spec.qualified_name in needed for spec in group.specs)

    for number, group in enumerate(groups):
        if can_match[number]:
            source.update(f"g{number}_", group)
    for number, group in enumerate(groups):
        if not can_match[number] and wanted(group):
            source.read(f"g{number}_", group)
    for number, group in enumerate(label_groups):
        if wanted(group):
            source.read(f"l{number}_", group)
    source.remember(label_groups)
    source.ratios([r for r in ratios if needed is None or r[0] in needed])
    return source.code.text()


def compile_event_function(
    event_type: str,
    groups: list[SpecGroup],
    label_groups: list[SpecGroup],
    ratios: list[Ratio],
    labelled: LabelledEvents,
    distinct_cap: int,
    needed: Collection[str] | None = None,
) -> tuple[EventFunction, str]:
    """The compiled update for events of ``event_type``, and its source."""
    namespace: dict[str, Any] = {
        **HELPERS,
        "UNSET": UNSET,
        "CAP": distinct_cap,
        "remember": labelled.remember,
        "expire": labelled.expire,
    }
    source = event_function_source(event_type, groups, label_groups, ratios, namespace, needed)
    function: EventFunction = compile_function(source, "on_event", event_type, namespace)
    return function, source


def compile_values(event_type: str, names: list[str]) -> Callable[[Accepted], dict[str, Any]]:
    """A function reading ``names`` (entity kinds, key names, event paths) from events of
    ``event_type`` exactly as the compiled updates do (for what-if reads and for tests)."""
    code = Source()
    code.add("def values_of(accepted):")
    code.depth = 1
    code.add("event = accepted.event", "derived = accepted.derived", "ts = event.ts.timestamp()")
    namespace: dict[str, Any] = {"UNSET": UNSET}
    values = _Values(event_type, code, namespace)
    expressions = {name: values(name) for name in names}
    code.add("return {" + ", ".join(f"{n!r}: {e}" for n, e in expressions.items()) + "}")
    function: Callable[[Accepted], dict[str, Any]] = compile_function(
        code.text(), "values_of", event_type, namespace
    )
    return function
