"""Rule packs: a folder of YAML files holding features and rules, validated and loaded together.

Every ``*.yaml`` / ``*.yml`` file under the folder (sorted by path; hidden files skipped) may
hold ``features:`` (feature spec mappings, see :mod:`rampart.features.spec`) and ``rules:``. An
optional ``pack.yaml`` at the top holds ``name``, ``version`` and ``description``. A rule::

    - name: new_device_high_value_order        # unique in the pack; reason code rule:<name>
      areas: [account_integrity]               # one or more risk areas
      expression: >                            # the rule language, a bool
        event.type == "order.created" and event.props.total > 500
        and features.user_device_age < 3600
      action: review                           # allow | challenge | review | block | score
      weight: 0.6                              # 0..1, contribution to its areas' scores
      mode: shadow                             # live | shadow | off (default shadow)
      description: big first order from a device seen for under an hour
      owner: ato-team
      version: 3                               # int or str
      verdict: {entity: device, action: review}  # optional: flag this entity (or a list of
                                                 # them, e.g. [device, ip]) of the event;
                                                 # device_history: [instrument] also names the cards
                                                 # the event's device tried ([user]: the accounts
                                                 # it created) in the last day

``allow`` marks an allow-list rule that wins over everything; ``score`` only contributes weight
to its areas. ``weight`` is required except for ``allow`` rules. A rule left without a ``mode``
runs in shadow: it can only ever be promoted to act on purpose.

Loading is all-or-nothing: :func:`load_pack` raises :class:`PackError` carrying every problem
(file, rule, line, column, message, suggestion); :func:`check_pack` returns them instead.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "ato.yaml").write_text('''
... rules:
...   - name: disposable_signup
...     areas: [account_integrity]
...     expression: event.type == "account.created" and event.derived.email_disposable
...     action: challenge
...     weight: 0.5
...     mode: live
... ''')
>>> pack = load_pack(folder)
>>> rule = pack.rule("disposable_signup")
>>> rule.evaluate({"event.type": "account.created", "event.derived.email_disposable": True})
True
>>> _ = (folder / "ato.yaml").write_text("rules:\\n  - name: x\\n    areas: [scalpers]\\n")
>>> for problem in check_pack(folder):
...     print(problem)
ato.yaml:3:12: rule 'x': areas: unknown risk area 'scalpers' (did you mean 'scalper'?)
ato.yaml:2:5: rule 'x': expression: required
ato.yaml:2:5: rule 'x': action: required, one of allow, challenge, review, block, score
ato.yaml:2:5: rule 'x': weight: required, a number from 0 to 1
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple, cast, get_args

import yaml

from rampart.contract.outputs import AREAS, ENTITY_TYPES, EntityType, VerdictAction
from rampart.detect.content.online import CONTENT_FIELDS
from rampart.detect.graph.online import GRAPH_FIELDS
from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.errors import ExpressionError, PackError, PackProblem, closest
from rampart.detect.rules.expression import compile_expression
from rampart.detect.rules.functions import FUNCTIONS, FunctionRegistry
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.pack_model import LoadedPack, Mode, Rule, RuleAction, RuleVerdict
from rampart.detect.rules.yamlfile import (
    Entry,
    YamlDocument,
    YamlSyntaxError,
    entries,
    items,
    load_yaml,
    position,
    repeated_keys,
    scalar_origin,
)
from rampart.features.fields import EVENT_FIELDS
from rampart.features.spec import FeatureSpec, SpecError, feature_catalogue, parse_feature_specs

PACK_FILE: Final = "pack.yaml"
MAX_FILE_BYTES: Final = 2_000_000
MODES: Final[tuple[str, ...]] = get_args(Mode)
RULE_ACTIONS: Final[tuple[str, ...]] = get_args(RuleAction)
VERDICT_ACTIONS: Final[tuple[str, ...]] = get_args(VerdictAction)
_RULE_KEYS: Final = (
    "name",
    "areas",
    "expression",
    "action",
    "weight",
    "mode",
    "description",
    "owner",
    "version",
    "verdict",
)
_FILE_KEYS: Final = ("features", "rules")
_PACK_KEYS: Final = ("name", "version", "description")
_RULE_NAME: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")


def pack_file_paths(path: Path) -> list[Path]:
    """The YAML files of a pack, sorted (a single file is a pack of one; hidden ones skipped)."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def read_pack_files(path: Path) -> dict[str, bytes]:
    """The contents of a pack's files by path relative to the pack."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in pack_file_paths(path)}


def fingerprint(files: Mapping[str, bytes]) -> str:
    """A hash of the pack's file names and contents: equal fingerprints, equal packs."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


class _RawRule(NamedTuple):
    """A rule whose metadata checked out, waiting for the catalogue to compile against."""

    file: str
    line: int
    fields: dict[str, Any]
    name: yaml.Node
    expression: yaml.Node


class _FileReader:
    """Checks one file's structure and rule metadata, collecting every problem."""

    def __init__(self, file: str, doc: YamlDocument, problems: list[PackProblem]) -> None:
        self.file = file
        self.doc = doc
        self.problems = problems

    def fail(
        self,
        message: str,
        node: yaml.Node | None = None,
        *,
        rule: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        line, column = position(node) if node is not None else (None, None)
        self.problems.append(PackProblem(self.file, message, rule, line, column, suggestion))

    def sections(self) -> dict[str, tuple[Any, yaml.Node]]:
        """The file's top-level sections; an empty file has none."""
        data, root = self.doc.data, self.doc.root
        if data is None or root is None:
            return {}
        found = entries(root)
        if not isinstance(data, dict) or found is None:
            self.fail("a pack file must be a mapping with 'features' and/or 'rules'", root)
            return {}
        self.unknown_keys(root, _FILE_KEYS, None)
        return {key: (data[key], found[key].value) for key in _FILE_KEYS if key in found}

    def unknown_keys(self, node: yaml.Node, known: Iterable[str], rule: str | None) -> None:
        known = tuple(known)
        for name, entry in (entries(node) or {}).items():
            if name not in known:
                where = "" if rule is None else "in a rule "
                suggestion = closest(name, known)
                self.fail(
                    f"unknown key {where}{name!r}", entry.key, rule=rule, suggestion=suggestion
                )
        for key in repeated_keys(node):
            self.fail(f"key {key.value!r} is repeated (YAML keeps only the last)", key, rule=rule)

    def rules(self, data: Any, node: yaml.Node) -> list[_RawRule]:
        if not isinstance(data, list):
            self.fail("'rules' must be a list of rule mappings", node)
            return []
        raw = []
        for index, (item, item_node) in enumerate(zip(data, items(node), strict=True), start=1):
            checked = self.rule(item, item_node, index)
            if checked is not None:
                raw.append(checked)
        return raw

    def rule(self, item: Any, node: yaml.Node, index: int) -> _RawRule | None:
        if not isinstance(item, dict):
            self.fail(f"rule #{index} must be a mapping", node)
            return None
        found = entries(node) or {}
        raw_name = item.get("name")
        label = raw_name if isinstance(raw_name, str) else f"#{index}"
        before = len(self.problems)

        def fail(key: str, message: str, suggestion: str | None = None) -> None:
            where = found[key].value if key in found else node
            self.fail(f"{key}: {message}", where, rule=label, suggestion=suggestion)

        self.unknown_keys(node, _RULE_KEYS, label)
        if not isinstance(raw_name, str) or not _RULE_NAME.match(raw_name):
            shape = "letters, digits, _ . - (up to 100)"
            fail(
                "name",
                f"required: {shape}" if raw_name is None else f"{raw_name!r} must be {shape}",
            )
        areas = item.get("areas")
        if not isinstance(areas, list) or not areas:
            fail("areas", "required: a list of one or more risk areas, such as [scalper]")
        else:
            for area in areas:
                if area not in AREAS:
                    suggestion = closest(str(area), AREAS)
                    fail("areas", f"unknown risk area {area!r}", suggestion)
            if len(set(map(str, areas))) != len(areas):
                fail("areas", "an area is listed twice")
        expression = item.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            fail("expression", "required" if expression is None else "must be a string")
        action = item.get("action")
        if action not in RULE_ACTIONS:
            message = f"required, one of {', '.join(RULE_ACTIONS)}"
            if action is not None:
                message = f"unknown action {action!r}; one of {', '.join(RULE_ACTIONS)}"
            fail("action", message, closest(str(action), RULE_ACTIONS) if action else None)
        weight = item.get("weight", 0.0 if action == "allow" else None)
        if weight is None:
            fail("weight", "required, a number from 0 to 1")
        elif (
            isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1
        ):
            fail("weight", f"{weight!r} is not a number from 0 to 1")
        mode = item.get("mode", "shadow")
        if mode is False:  # YAML 1.1 reads a bare `off` as false
            mode = "off"
        if mode not in MODES:
            fail(
                "mode",
                f"unknown mode {mode!r}; one of {', '.join(MODES)}",
                closest(str(mode), MODES),
            )
        for key in ("description", "owner"):
            if not isinstance(item.get(key, ""), str):
                fail(key, "must be a string")
        version = item.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int | str):
            fail("version", f"{version!r} must be an integer or a string")
        verdict = self.verdict(item.get("verdict"), found.get("verdict"), label)
        if len(self.problems) > before or weight is None:
            return None
        fields = dict(item, weight=float(weight), mode=mode, version=version, verdict=verdict)
        return _RawRule(
            self.file, position(node)[0], fields, found["name"].value, found["expression"].value
        )

    def verdict(self, value: Any, entry: Entry | None, rule: str) -> RuleVerdict | None:
        if value is None or entry is None:
            return None
        node = entry.value
        if not isinstance(value, dict):
            self.fail("verdict: must be a mapping {entity: ..., action: ...}", node, rule=rule)
            return None
        self.unknown_keys(node, ("entity", "action", "device_history"), rule)
        # ``entity`` is one entity type or a list of them.
        entity = value.get("entity")
        entities = entity if isinstance(entity, list) and entity else [entity]
        checks: list[tuple[str, Any, tuple[str, ...]]] = [
            ("entity", e, ENTITY_TYPES) for e in entities
        ]
        checks.append(("action", value.get("action"), VERDICT_ACTIONS))
        ok = True
        for key, given, choices in checks:
            if given not in choices:
                ok = False
                message = f"verdict: {key} {given!r} is not one of {', '.join(choices)}"
                suggestion = closest(str(given), choices)
                self.fail(message, node, rule=rule, suggestion=suggestion)
        history = value.get("device_history", [])
        if not isinstance(history, list) or not set(history) <= set(entities) & {
            "instrument",
            "user",
        }:
            ok = False
            message = (
                "verdict: device_history lists entities of the verdict the device's earlier "
                "ones are named of (instrument: cards it tried, user: accounts it created)"
            )
            self.fail(message, node, rule=rule)
        if not ok:
            return None
        return RuleVerdict(
            tuple(cast(EntityType, e) for e in dict.fromkeys(entities)),
            cast(VerdictAction, value["action"]),
            tuple(cast(EntityType, e) for e in history),
        )

    def features(
        self, data: Any, node: yaml.Node
    ) -> tuple[list[FeatureSpec], dict[str, yaml.Node]]:
        """Valid specs, and where every declared feature (valid or not) is named."""
        if not isinstance(data, list):
            self.fail("'features' must be a list of feature mappings", node)
            return [], {}
        specs, errors = parse_feature_specs(data, self.file)
        for error in errors:
            self.feature_problem(error, node)
        names: dict[str, yaml.Node] = {}
        for item in items(node):
            found = entries(item) or {}
            if "name" in found:
                names.setdefault(str(found["name"].value.value), found["name"].value)
        return specs, names

    def feature_problem(self, error: SpecError, node: yaml.Node) -> None:
        where: yaml.Node = node
        for index, item in enumerate(items(node), start=1):
            found = entries(item) or {}
            name = found["name"].value.value if "name" in found else None
            if error.feature in (name, f"#{index}"):
                part = (error.key or "").split(".", 1)[0]
                where = found[part].value if part in found else item
                break
        key = f"`{error.key}`: " if error.key else ""
        message = f"feature {error.feature!r}: {key}{error.reason}"
        self.fail(message, where)


def _pack_info(docs: Mapping[str, YamlDocument], problems: list[PackProblem]) -> dict[str, Any]:
    doc = docs.get(PACK_FILE)
    if doc is None or doc.data is None:
        return {}
    reader = _FileReader(PACK_FILE, doc, problems)
    if not isinstance(doc.data, dict):
        reader.fail("pack.yaml must be a mapping of name, version, description", doc.root)
        return {}
    if doc.root is not None:
        reader.unknown_keys(doc.root, _PACK_KEYS, None)
    return {key: doc.data[key] for key in _PACK_KEYS if key in doc.data}


def build_pack(
    path: Path,
    files: Mapping[str, bytes],
    *,
    score_names: Iterable[str] = AREAS,
    lists: ListStore | None = None,
    functions: FunctionRegistry = FUNCTIONS,
    check_lists: bool | None = None,
) -> tuple[LoadedPack | None, list[PackProblem]]:
    """Validate and compile a pack from its files' contents: the pack, or None and every problem.

    List names are checked against ``lists`` when it is given, unless ``check_lists=False``.
    """
    problems: list[PackProblem] = []
    if not files:
        problems.append(PackProblem(str(path), "no .yaml files in the pack"))
    docs: dict[str, YamlDocument] = {}
    for name, content in files.items():
        if len(content) > MAX_FILE_BYTES:
            problems.append(PackProblem(name, f"file larger than {MAX_FILE_BYTES} bytes"))
            continue
        try:
            docs[name] = load_yaml(content.decode("utf-8"))
        except UnicodeDecodeError as error:
            problems.append(PackProblem(name, f"not UTF-8 text ({error.reason})"))
        except YamlSyntaxError as error:
            problems.append(
                PackProblem(name, f"invalid YAML: {error}", None, error.line, error.column)
            )
    info = _pack_info(docs, problems)
    specs: list[FeatureSpec] = []
    declared: dict[str, str] = {}
    raw_rules: list[_RawRule] = []
    readers = {}
    for name, doc in docs.items():
        if name == PACK_FILE:
            continue
        reader = readers[name] = _FileReader(name, doc, problems)
        sections = reader.sections()
        if "features" in sections:
            file_specs, names = reader.features(*sections["features"])
            for feature in sorted(names.keys() & declared.keys()):
                message = f"feature {feature!r} is also declared in {declared[feature]}"
                reader.fail(message, names[feature])
            declared.update(dict.fromkeys(names, name))
            specs.extend(file_specs)
        if "rules" in sections:
            raw_rules.extend(reader.rules(*sections["rules"]))
    catalogue: dict[str, str] = dict(EVENT_FIELDS)
    # Features that failed their own checks are reported once; rules naming them stay quiet.
    catalogue.update({f"features.{n}": t.ERROR for n in declared})
    catalogue.update(feature_catalogue(specs))
    catalogue.update({f"scores.{n}": t.FLOAT for n in score_names})
    catalogue.update(GRAPH_FIELDS)
    catalogue.update(CONTENT_FIELDS)
    store = lists if lists is not None else ListStore()
    check = lists is not None if check_lists is None else check_lists
    rules = _compile_rules(raw_rules, readers, catalogue, functions, store, check, problems)
    if problems:
        return None, problems
    pack = LoadedPack(
        path=path,
        name=str(info.get("name", path.name)),
        version=info.get("version"),
        description=str(info.get("description", "")),
        fingerprint=fingerprint(files),
        files=tuple(sorted(files)),
        features=specs,
        rules=rules,
        catalogue=catalogue,
        lists=store,
    )
    return pack, []


def _compile_rules(
    raw_rules: list[_RawRule],
    readers: Mapping[str, _FileReader],
    catalogue: Mapping[str, str],
    functions: FunctionRegistry,
    lists: ListStore,
    check_lists: bool,
    problems: list[PackProblem],
) -> list[Rule]:
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for raw in raw_rules:
        name = raw.fields["name"]
        reader = readers[raw.file]
        if name in seen:
            reader.fail(f"name {name!r} is already used in {seen[name]}", raw.name, rule=name)
            continue
        seen[name] = f"{raw.file}:{raw.line}"
        try:
            expression = compile_expression(
                raw.fields["expression"],
                catalogue,
                functions=functions,
                lists=lists,
                check_lists=check_lists,
            )
        except ExpressionError as error:
            origin = scalar_origin(raw.expression, reader.doc.lines)
            for problem in error.problems:
                line, column = origin(problem.line, problem.column)
                message = f"expression: {problem.message}"
                problems.append(
                    PackProblem(raw.file, message, name, line, column, problem.suggestion)
                )
            continue
        fields = raw.fields
        rules.append(
            Rule(
                name=name,
                areas=tuple(fields["areas"]),
                expression=expression,
                action=fields["action"],
                weight=fields["weight"],
                mode=fields["mode"],
                description=fields.get("description", ""),
                owner=fields.get("owner", ""),
                version=fields["version"],
                verdict=fields["verdict"],
                file=raw.file,
                line=raw.line,
            )
        )
    return rules


def load_pack(
    path: Path,
    *,
    score_names: Iterable[str] = AREAS,
    lists: ListStore | None = None,
    functions: FunctionRegistry = FUNCTIONS,
) -> LoadedPack:
    """Load the pack at ``path`` (a folder, or one YAML file); raises :class:`PackError`.

    ``score_names`` become ``scores.<name>`` (float) in the catalogue. With ``lists`` given,
    ``in_list`` may name only lists the store knows and rules read that store; without, any
    list name is accepted and the pack gets an empty store of its own (``pack.lists``).
    """
    pack, problems = build_pack(
        path, _read(path), score_names=score_names, lists=lists, functions=functions
    )
    if pack is None:
        raise PackError(problems)
    return pack


def check_pack(
    path: Path, *, score_names: Iterable[str] = AREAS, lists: ListStore | None = None
) -> list[PackProblem]:
    """Every problem in the pack at ``path``; empty when it loads (for ``rampart rules check``)."""
    try:
        files = _read(path)
    except PackError as error:
        return list(error.problems)
    return build_pack(path, files, score_names=score_names, lists=lists)[1]


def _read(path: Path) -> dict[str, bytes]:
    if not path.exists():
        raise PackError([PackProblem(str(path), "no such file or folder")])
    try:
        return read_pack_files(path)
    except OSError as error:
        raise PackError([PackProblem(str(path), f"cannot read: {error.strerror}")]) from None
