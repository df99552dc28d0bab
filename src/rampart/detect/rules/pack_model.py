"""What a loaded rule pack holds: compiled rules with their metadata, features, catalogue.

A :class:`Rule` satisfies what the engine asks of a rule (``rampart.engine.EngineRule``):
``evaluate(row)`` is the compiled per-event closure itself, ``paths`` the row keys it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from rampart.contract.outputs import Area, EntityType, VerdictAction
from rampart.detect.rules.compile_python import Evaluator, Row
from rampart.detect.rules.expression import Expression
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.prefilter import event_types
from rampart.features.spec import FeatureSpec

Mode = Literal["live", "shadow", "off"]
# ``score``: contribute weight to the areas' scores without asking for an action by itself.
RuleAction = Literal["allow", "challenge", "review", "block", "score"]


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """When the rule hits, flag these entities of the event in each of the rule's areas.

    A rule names the entities its evidence is about: a takeover rule flags the attacker's
    device and address, not the victim's account the event belongs to.
    """

    entities: tuple[EntityType, ...]
    action: VerdictAction
    # Also the cards the event's device tried / the accounts it created in the last day.
    device_history: tuple[EntityType, ...] = ()


class Rule:
    """A compiled rule and its metadata."""

    __slots__ = (
        "action",
        "areas",
        "description",
        "evaluate",
        "event_types",
        "expression",
        "file",
        "line",
        "mode",
        "name",
        "owner",
        "paths",
        "verdict",
        "version",
        "weight",
    )

    def __init__(
        self,
        *,
        name: str,
        areas: tuple[Area, ...],
        expression: Expression,
        action: RuleAction,
        weight: float,
        mode: Mode,
        description: str = "",
        owner: str = "",
        version: int | str = 1,
        verdict: RuleVerdict | None = None,
        file: str = "",
        line: int = 0,
    ) -> None:
        self.name = name
        self.areas = areas
        self.expression = expression
        self.action = action
        self.weight = weight
        self.mode = mode
        self.description = description
        self.owner = owner
        self.version = version
        self.verdict = verdict
        self.file = file
        self.line = line
        # The closure itself, not a method wrapping it: one call less per rule per event.
        self.evaluate: Evaluator = expression.evaluate
        self.paths: frozenset[str] = expression.paths
        # The event types the rule can hit (None: any), so the engine skips it on the others.
        self.event_types: frozenset[str] | None = event_types(expression.tree)

    def hits(self, row: Row) -> bool:
        """Whether the rule hits ``row``: its expression is True (not False, not null)."""
        return self.evaluate(row) is True

    def polars(self, lists: ListStore | None = None) -> pl.Expr:
        """The vectorised form, named after the rule (three-valued: null where unknown)."""
        return self.expression.polars(lists).alias(self.name)

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, {self.mode}, {self.action}, {self.expression.source!r})"


class LoadedPack:
    """A validated pack: its features, compiled rules and the catalogue they were checked against.

    ``fingerprint`` hashes the files' names and contents; ``version`` is pack.yaml's version.
    ``lists`` is the list store the rules read (the one given to the loader, or the pack's own).
    """

    __slots__ = (
        "_by_name",
        "catalogue",
        "description",
        "features",
        "files",
        "fingerprint",
        "lists",
        "name",
        "path",
        "rules",
        "version",
    )

    def __init__(
        self,
        *,
        path: Path,
        name: str,
        version: Any,
        description: str,
        fingerprint: str,
        files: tuple[str, ...],
        features: list[FeatureSpec],
        rules: list[Rule],
        catalogue: Mapping[str, str],
        lists: ListStore,
    ) -> None:
        self.path = path
        self.name = name
        self.version = version
        self.description = description
        self.fingerprint = fingerprint
        self.files = files
        self.features = features
        self.rules = rules
        self.catalogue = dict(catalogue)
        self.lists = lists
        self._by_name = {rule.name: rule for rule in rules}

    def rule(self, name: str) -> Rule:
        return self._by_name[name]

    @property
    def active_rules(self) -> list[Rule]:
        """Rules in ``live`` or ``shadow`` mode (``off`` rules are loaded but never run)."""
        return [rule for rule in self.rules if rule.mode != "off"]

    def polars(self, lists: ListStore | None = None) -> list[pl.Expr]:
        """The vectorised form of every active rule, each named after its rule."""
        snapshot = (lists if lists is not None else self.lists).snapshot()
        return [rule.polars(snapshot) for rule in self.active_rules]

    def __repr__(self) -> str:
        return (
            f"LoadedPack({self.name!r}, version={self.version!r}, rules={len(self.rules)}, "
            f"features={len(self.features)}, fingerprint={self.fingerprint[:12]!r})"
        )
