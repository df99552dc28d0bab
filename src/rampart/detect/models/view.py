"""The model view: the named numbers a learned detector reads for one event, in a fixed order.

A model is trained on, and scores, the same vector: every pack feature (``features.*``), the
event's numeric and boolean fields (``event.*``, without its time and coordinates: a model must
learn behaviour, not when or where the simulator put someone), its type one-hot
(``event.type=order.created``), which rules hit it (``rule.<name>``: models combine the
analysts' rules with everything else) and which areas its own entities were already flagged in
(``flagged.<area>``). Missing values are NaN, booleans 0/1, as LightGBM reads them.

>>> view = ModelView(("features.n", "event.props.total", "event.type=order.created",
...                   "rule.big", "flagged.scalper"))
>>> view.vector({"features.n": 3, "event.props.total": None}, "order.created",
...             {"rule.big"}, {"scalper"})
[3.0, nan, 1.0, 1.0, 1.0]
>>> view.row_paths
('event.props.total', 'features.n')
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final

from rampart.contract.events import EVENT_TYPES
from rampart.contract.outputs import AREAS
from rampart.detect.rules import valuetypes as t

__all__ = ["ModelView", "default_view_names"]

NAN: Final = float("nan")
TYPE_PREFIX: Final = "event.type="
RULE_PREFIX: Final = "rule."
FLAGGED_PREFIX: Final = "flagged."
# Event fields a model must not read: absolute time and place identify a world, not a behaviour.
EXCLUDED_EVENT_FIELDS: Final = frozenset({"event.ts", "event.geo.lat", "event.geo.lon"})
_NUMERIC: Final = frozenset({t.BOOL, t.INT, t.FLOAT})


def default_view_names(catalogue: Mapping[str, str], rule_names: Iterable[str]) -> tuple[str, ...]:
    """Every input a pack offers a model: numeric features and event fields, type, rules, flags.

    >>> default_view_names({"features.n": "int", "event.props.total": "float",
    ...                     "event.props.currency": "str"}, ["big"])[:3]
    ('features.n', 'event.props.total', 'event.type=account.created')
    """
    features = sorted(
        p for p, kind in catalogue.items() if p.startswith(("features.", "graph.", "content."))
    )
    events = sorted(
        p
        for p, kind in catalogue.items()
        if p.startswith("event.") and kind in _NUMERIC and p not in EXCLUDED_EVENT_FIELDS
    )
    return (
        *(p for p in features if catalogue[p] in _NUMERIC),
        *events,
        *(f"{TYPE_PREFIX}{kind}" for kind in EVENT_TYPES),
        *(f"{RULE_PREFIX}{name}" for name in sorted(rule_names)),
        *(f"{FLAGGED_PREFIX}{area}" for area in AREAS),
    )


class ModelView:
    """Builds the vector for ``names`` from the engine's row, the event type, hits and flags.

    The vector is laid out as [row values..., type one-hot..., rule hits..., flags...] in the
    order of ``names``; it is built in four slices because per-name dispatch costs several
    microseconds per event on the scoring path.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(names)
        if len(set(self.names)) != len(self.names):
            raise ValueError("a model view names each input once")
        self.row_paths = tuple(sorted(n for n in self.names if _kind(n) == "row"))
        self._types = tuple(n[len(TYPE_PREFIX) :] for n in self.names if _kind(n) == "type")
        self._rules = tuple(n for n in self.names if _kind(n) == "rule")
        self._flags = tuple(n[len(FLAGGED_PREFIX) :] for n in self.names if _kind(n) == "flag")
        layout = [
            *self.row_paths,
            *(TYPE_PREFIX + x for x in self._types),
            *self._rules,
            *(FLAGGED_PREFIX + x for x in self._flags),
        ]
        position = {name: i for i, name in enumerate(layout)}
        # Where each of ``names`` sits in the layout (identity when names are in layout order).
        self._order = tuple(position[n] for n in self.names)
        self._identity = self._order == tuple(range(len(layout)))
        self._type_slices = {
            kind: tuple(1.0 if kind == x else 0.0 for x in self._types) for kind in EVENT_TYPES
        }
        self._no_type = tuple(0.0 for _ in self._types)
        self._rule_index = {name: i for i, name in enumerate(self._rules)}
        self._flag_index = {area: i for i, area in enumerate(self._flags)}

    @property
    def rule_names(self) -> tuple[str, ...]:
        """The rules this view reads hits of (without the ``rule.`` prefix)."""
        return tuple(n[len(RULE_PREFIX) :] for n in self._rules)

    def vector(
        self,
        row: Mapping[str, Any],
        event_type: str,
        hits: Collection[str],
        flagged: Collection[str],
    ) -> list[float]:
        """The inputs for one event; ``hits`` are ``rule.<name>`` of the rules that hit."""
        get = row.get
        values = [NAN if (v := get(p)) is None else float(v) for p in self.row_paths]
        values.extend(self._type_slices.get(event_type, self._no_type))
        rules = [0.0] * len(self._rules)
        for hit in hits:
            i = self._rule_index.get(hit)
            if i is not None:
                rules[i] = 1.0
        values.extend(rules)
        flags = [0.0] * len(self._flags)
        for area in flagged:
            j = self._flag_index.get(area)
            if j is not None:
                flags[j] = 1.0
        values.extend(flags)
        if self._identity:
            return values
        return [values[i] for i in self._order]


def _kind(name: str) -> str:
    if name.startswith(TYPE_PREFIX):
        return "type"
    if name.startswith(RULE_PREFIX):
        return "rule"
    if name.startswith(FLAGGED_PREFIX):
        return "flag"
    return "row"
