"""Changes to what a served engine scores with: rules of its pack, and the lists rules read.

A change is a small JSON document, tagged by ``kind``, that the scorer logs in its write-ahead
log and applies between two events (:meth:`rampart.service.scorer.Scorer.change`); replay
applies it again in the same place, so a restart gives the decisions the running server gave.

| kind | what it does |
|---|---|
| ``rule.put`` | add a rule to the served pack, or replace the one of that name |
| ``rule.mode`` | move a rule between ``live``, ``shadow`` and ``off`` |
| ``list.add`` / ``list.remove`` | put a value on a list ``in_list`` reads, or take it off |

:func:`check_change` validates a change without touching anything: the shape, and the rule's
expression type-checked against the feature catalogue (the engine's when given, else that of
the built-in pack), so a rule reading a feature that does not exist is refused with the rule
language's own error (line, column, suggestion). :func:`apply_change` applies a checked change;
it computes everything first and swaps it in last, so a change it refuses changes nothing.

>>> payload = encode_change(PutRule(pack="default", rule="big_order", definition=RuleDefinition(
...     expression='event.type == "order.created" and event.props.total > 900',
...     areas=["scalper"], action="review", weight=0.6, mode="shadow")))
>>> check_change(payload)
>>> bad = encode_change(PutRule(pack="default", rule="typo", definition=RuleDefinition(
...     expression="features.user_since_carts > 3", areas=["scalper"], action="review",
...     weight=0.5)))
>>> try:
...     check_change(bad)
... except ChangeError as refused:
...     print(refused.problems[0].message, refused.problems[0].suggestion)
unknown name 'features.user_since_carts' features.user_since_cart
>>> check_change(b'{"kind": "rule.delete"}')
Traceback (most recent call last):
...
rampart.service.changes.ChangeError: not a change: Invalid value 'rule.delete' - at `$.kind`
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Final, Literal

import msgspec

from rampart.contract.outputs import AREAS, Area, EntityType, VerdictAction
from rampart.detect.content.online import CONTENT_FIELDS
from rampart.detect.graph.online import GRAPH_FIELDS
from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.errors import ExpressionError
from rampart.detect.rules.expression import compile_expression
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.pack import load_pack
from rampart.detect.rules.pack_model import LoadedPack, Mode, Rule, RuleAction, RuleVerdict
from rampart.engine import Engine, feature_reads
from rampart.features.fields import EVENT_FIELDS
from rampart.features.online import OnlineFeatures
from rampart.features.spec import FeatureSpec, feature_catalogue
from rampart.packs import DEFAULT_PACK

NAME_PATTERN: Final = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$"
MAX_EXPRESSION: Final = 4_000
MAX_DESCRIPTION: Final = 1_000
MAX_LIST_VALUE: Final = 256
# The name a served pack goes by when it is not the built-in one (the engine does not keep it).
SERVED_PACK: Final = "served"

Name = Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]
_NAME: Final = re.compile(NAME_PATTERN)


class ChangeError(ValueError):
    """A change refused; ``problems`` are the rule language's (line and column in the
    expression) when the expression is at fault, else empty."""

    def __init__(self, message: str, *, rule: str | None = None, problems: Sequence[Any] = ()):
        self.rule = rule
        self.problems = tuple(problems)
        super().__init__(message)


class VerdictDefinition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The event's entities a hit flags (a pack rule's ``verdict``)."""

    entities: Annotated[list[EntityType], msgspec.Meta(min_length=1, max_length=6)]
    action: VerdictAction
    device_history: Annotated[list[Literal["instrument", "user"]], msgspec.Meta(max_length=2)] = (
        msgspec.field(default_factory=list)
    )


class RuleDefinition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A rule as an analyst writes it (the pack's YAML fields, the name aside)."""

    expression: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EXPRESSION)]
    areas: Annotated[list[Area], msgspec.Meta(min_length=1, max_length=len(AREAS))]
    action: RuleAction
    weight: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
    mode: Mode = "shadow"
    description: Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION)] = ""
    verdict: VerdictDefinition | None = None


class PutRule(msgspec.Struct, frozen=True, kw_only=True, tag="rule.put", tag_field="kind"):
    pack: Name
    rule: Name
    definition: RuleDefinition


class SetRuleMode(msgspec.Struct, frozen=True, kw_only=True, tag="rule.mode", tag_field="kind"):
    pack: Name
    rule: Name
    mode: Mode


class AddListEntry(msgspec.Struct, frozen=True, kw_only=True, tag="list.add", tag_field="kind"):
    """``value`` as rules compare it (an address, an e-mail or a phone: its pseudonym)."""

    list_name: Name
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LIST_VALUE)]
    expires_at: float | None = None


class RemoveListEntry(
    msgspec.Struct, frozen=True, kw_only=True, tag="list.remove", tag_field="kind"
):
    list_name: Name
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LIST_VALUE)]


Change = PutRule | SetRuleMode | AddListEntry | RemoveListEntry

_decode: Final = msgspec.json.Decoder(Change).decode


def encode_change(change: Change) -> bytes:
    return msgspec.json.encode(change)


def decode_change(payload: bytes) -> Change:
    """The change in ``payload``; :class:`ChangeError` naming the field when it is not one."""
    try:
        change: Change = _decode(payload)
    except msgspec.DecodeError as exc:
        raise ChangeError(f"not a change: {exc}") from None
    return change


def definition_hash(definition: RuleDefinition) -> str:
    """The version of a rule: SHA-256 of its definition without its mode (a mode change is a
    promotion of the same version, not a new one).

    >>> a = RuleDefinition(expression="event.props.total > 1", areas=["scalper"],
    ...                    action="review", weight=0.5)
    >>> definition_hash(a) == definition_hash(msgspec.structs.replace(a, mode="live"))
    True
    """
    document = msgspec.structs.asdict(definition)
    document.pop("mode")
    return hashlib.sha256(msgspec.json.encode(document, order="sorted")).hexdigest()


def rule_definition(rule: Rule) -> RuleDefinition:
    """What a compiled rule was written as."""
    verdict = rule.verdict
    return RuleDefinition(
        expression=rule.expression.source,
        areas=list(rule.areas),
        action=rule.action,
        weight=rule.weight,
        mode=rule.mode,
        description=rule.description,
        verdict=(
            VerdictDefinition(
                entities=list(verdict.entities),
                action=verdict.action,
                device_history=[e for e in verdict.device_history if e in ("instrument", "user")],
            )
            if verdict is not None
            else None
        ),
    )


# --- what an engine serves ---------------------------------------------------------------------


@dataclass
class ServedRules:
    """The rules of a served engine, ``off`` ones included, with what they are checked against.

    The engine keeps only the rules that run; this keeps all of them, and the list store and
    catalogue new rules compile against.
    """

    pack: str
    rules: dict[str, Rule]
    lists: ListStore
    catalogue: dict[str, str]
    # Event paths the engine reads beyond its rules' (a model view's, row_paths).
    extra_paths: frozenset[str] = field(default_factory=frozenset)


_SERVED: weakref.WeakKeyDictionary[Engine, ServedRules] = weakref.WeakKeyDictionary()


def engine_catalogue(specs: Sequence[FeatureSpec]) -> dict[str, str]:
    """What rules may read on an engine computing ``specs`` (the pack loader's catalogue)."""
    catalogue: dict[str, str] = dict(EVENT_FIELDS)
    catalogue.update(feature_catalogue(specs))
    catalogue.update({f"scores.{name}": t.FLOAT for name in AREAS})
    catalogue.update(GRAPH_FIELDS)
    catalogue.update(CONTENT_FIELDS)
    return catalogue


@lru_cache(maxsize=1)
def _builtin_pack() -> LoadedPack:
    return load_pack(DEFAULT_PACK)


def serve_pack(engine: Engine, pack: LoadedPack) -> None:
    """Record that ``engine`` runs ``pack``: changes then name it, and see its ``off`` rules."""
    _SERVED[engine] = _served(engine, pack)


def served_rules(engine: Engine) -> ServedRules:
    """The rules ``engine`` serves (as :func:`serve_pack` said, or found out from it).

    An engine no pack was registered for is known by its rules when it runs the built-in pack:
    it then serves the pack's ``off`` rules too (they can be switched on) under the pack's name.
    """
    served = _SERVED.get(engine)
    if served is not None:
        return served
    running = {r.name: r for r in engine.running_rules if isinstance(r, Rule)}
    builtin = _builtin_pack()
    by_name = {r.name: r for r in builtin.rules}
    is_builtin = running and all(
        name in by_name and by_name[name].expression.source == rule.expression.source
        for name, rule in running.items()
    )
    served = _served(engine, builtin if is_builtin else None)
    _SERVED[engine] = served
    return served


def _served(engine: Engine, pack: LoadedPack | None) -> ServedRules:
    running = engine.running_rules
    lists = next(
        (r.expression.lists for r in running if isinstance(r, Rule)),
        ListStore(),
    )
    specs = engine.features.specs if isinstance(engine.features, OnlineFeatures) else []
    rules = {r.name: r for r in running if isinstance(r, Rule)}
    if pack is not None:
        # Pack order, with the engine's own compiled rules where it runs them.
        rules = {r.name: rules.get(r.name, r) for r in pack.rules}
    return ServedRules(
        pack=pack.name if pack is not None else SERVED_PACK,
        rules=rules,
        lists=lists,
        catalogue=engine_catalogue(specs),
        extra_paths=frozenset(engine.extra_paths),
    )


# --- check and apply ---------------------------------------------------------------------------


def check_change(payload: bytes, engine: Engine | None = None) -> None:
    """Raise :class:`ChangeError` (a ``ValueError``) with a precise reason if ``payload`` is not
    a valid change (for ``engine`` when given, else for the built-in pack's features)."""
    change = decode_change(payload)
    if engine is not None:
        _plan_change(served_rules(engine), change)
        return
    if isinstance(change, PutRule):
        catalogue = _builtin_pack().catalogue
        _compile(change.rule, change.definition, catalogue, ListStore())


def apply_change(engine: Engine, payload: bytes) -> None:
    """Apply a change that :func:`check_change` accepted; a refused one changes nothing."""
    served = served_rules(engine)
    change = decode_change(payload)
    rules = _plan_change(served, change)
    if isinstance(change, AddListEntry):
        served.lists.add(change.list_name, change.value, change.expires_at)
    elif isinstance(change, RemoveListEntry):
        served.lists.remove(change.list_name, change.value)
    elif rules is not None:
        _install(engine, served, rules)


def _plan_change(served: ServedRules, change: Change) -> dict[str, Rule] | None:
    """The served rules after ``change`` (None: the rules do not change); raises when refused."""
    if isinstance(change, AddListEntry | RemoveListEntry):
        return None
    if change.pack != served.pack:
        raise ChangeError(f"the served pack is {served.pack!r}, not {change.pack!r}")
    if isinstance(change, PutRule):
        rule = _compile(change.rule, change.definition, served.catalogue, served.lists)
        return {**served.rules, change.rule: rule}
    current = served.rules.get(change.rule)
    if current is None:
        raise ChangeError(f"pack {served.pack!r} has no rule {change.rule!r}", rule=change.rule)
    definition = msgspec.structs.replace(rule_definition(current), mode=change.mode)
    # Compiled afresh against the served lists: an off rule of the pack may come from elsewhere.
    rule = _compile(change.rule, definition, served.catalogue, served.lists)
    return {**served.rules, change.rule: rule}


def _compile(
    name: str, definition: RuleDefinition, catalogue: Mapping[str, str], lists: ListStore
) -> Rule:
    if not _NAME.match(name):
        raise ChangeError(f"rule name {name!r} must be letters, digits, _ . - (up to 100)")
    if len(set(definition.areas)) != len(definition.areas):
        raise ChangeError(f"rule {name!r}: areas: an area is listed twice", rule=name)
    verdict = definition.verdict
    if verdict is not None and not set(verdict.device_history) <= set(verdict.entities):
        raise ChangeError(
            f"rule {name!r}: verdict: device_history lists entities of the verdict", rule=name
        )
    try:
        # Any list name goes: a list is made by its first entry, and reads as empty until then.
        expression = compile_expression(
            definition.expression, catalogue, lists=lists, check_lists=False
        )
    except ExpressionError as exc:
        shown = "; ".join(str(problem) for problem in exc.problems)
        raise ChangeError(f"rule {name!r}: {shown}", rule=name, problems=exc.problems) from None
    except RecursionError:
        raise ChangeError(f"rule {name!r}: the expression nests too deeply", rule=name) from None
    return Rule(
        name=name,
        areas=tuple(definition.areas),
        expression=expression,
        action=definition.action,
        weight=definition.weight,
        mode=definition.mode,
        description=definition.description,
        verdict=(
            RuleVerdict(
                tuple(dict.fromkeys(verdict.entities)),
                verdict.action,
                tuple(verdict.device_history),
            )
            if verdict is not None
            else None
        ),
        file="(admin)",
    )


def _install(engine: Engine, served: ServedRules, rules: dict[str, Rule]) -> None:
    """Make ``engine`` run ``rules``, its features computing what they read.

    A failure leaves the engine as it was: the features' functions are swapped back if the
    rules cannot be prepared.
    """
    active = [rule for rule in rules.values() if rule.mode != "off"]
    features = engine.features
    reads = feature_reads(active, engine.view)
    if isinstance(features, OnlineFeatures) and reads != features.reads:
        # A rule reading a feature the engine did not compute before gets it from now on.
        previous = features.reads
        features.set_reads(reads)
        try:
            engine.replace_rules(active)
        except BaseException:
            features.set_reads(previous)
            raise
    else:
        engine.replace_rules(active)
    served.rules = rules
