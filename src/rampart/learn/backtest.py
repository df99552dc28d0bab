"""Backtests: how rules would have done on logged history, per rule, per day and per area.

A backtest runs a pack's rules (or one expression) over the decision log that ``rampart score
--logs`` wrote, the rules compiled to SQL (:mod:`~rampart.detect.rules.compile_sql`), in
DuckDB over the Parquet parts here and in Spark SQL in :mod:`rampart.learn.backtest_spark` --
the same query text (:mod:`rampart.learn.backtest_sql`), so both give the same numbers.

Per rule and scope (the whole window, each of the rule's areas, each day) it counts:

* ``hits``: events the rule is True on; ``users``/``devices``/``ips``: their distinct entities.
* ``precision`` = flagged entities labelled abusive in the scope's areas / flagged entities,
  where a hit flags its own account, device and ip (SCORING.md rule (b); an unlabelled entity
  counts as legitimate); ``recall`` = labelled-abusive entities of the scope's areas the rule
  flagged / those that acted (as an event's account, device or ip) in the scope -- a rule can
  only flag what it sees, so entities absent from the window are not held against it;
  ``event_recall`` = labelled-abusive events hit / labelled-abusive events in the scope.
* ``legit_users_touched``: legitimate users (no abusive label in any area) the rule hit on one
  of their own legitimate events (not labelled abusive), and ``friction`` = those / legitimate
  users who sent an event in the scope: SCORING.md's user friction for this rule alone.

Labels are resolved as ``rampart evaluate`` resolves them (:class:`~rampart.learn.labelbook.
LabelBook`: the latest label per entity and area wins; user and seller ids are one account).
The log keeps ips as pseudonyms, so ip labels are matched through the operator's pseudonymiser
(``pseudonymize_ip``); without it they are left out and counted (``ip_labels_skipped``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb
import msgspec
import polars as pl

from rampart.contract.outputs import AREAS, Label
from rampart.detect.rules import valuetypes as t
from rampart.detect.rules.compile_sql import DUCKDB, Dialect, compile_sql
from rampart.detect.rules.errors import ExpressionError, PackError, PackProblem
from rampart.detect.rules.expression import compile_expression
from rampart.detect.rules.lists import ListStore
from rampart.detect.rules.pack_model import LoadedPack
from rampart.detect.rules.parse import Node
from rampart.detect.rules.prefilter import event_types
from rampart.learn.backtest_sql import COUNT_COLUMNS, EVENT_TYPE, BacktestQuery, backtest_query
from rampart.learn.entities import ACCOUNT, KIND_OF
from rampart.learn.inputs import Undecodable, decode_labels, read_lines
from rampart.logs.layout import day_folders, part_number
from rampart.logs.reader import Instant, _bounds
from rampart.logs.schema import read_schema

__all__ = [
    "Backtest",
    "BacktestError",
    "BacktestPlan",
    "BacktestRow",
    "LabelTables",
    "PlannedRule",
    "assemble",
    "backtest",
    "expression_rule",
    "label_tables",
    "pack_rules",
    "plan_backtest",
    "run_duckdb",
]

RULE_FILE: Final = "--rule"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
RULE_NAME: Final = "rule"
ENTITY_COLUMNS: Final = ("event_id", "day", "user_id", "device_id", "ip")
SQL_TYPES: Final[dict[str, str]] = {
    t.BOOL: "BOOLEAN",
    t.INT: "BIGINT",
    t.FLOAT: "DOUBLE",
    t.STR: "STRING",
    t.LIST_STR: "ARRAY<STRING>",
}
_DUCKDB_TYPES: Final = {**SQL_TYPES, t.LIST_STR: "VARCHAR[]"}


class BacktestError(ValueError):
    """A backtest that cannot run as asked (no log, a column the log lacks)."""


@dataclass(frozen=True, slots=True)
class PlannedRule:
    """A checked rule to backtest: its metadata and its tree (compiled per dialect)."""

    name: str
    areas: tuple[str, ...]
    action: str
    mode: str
    source: str
    tree: Node
    paths: frozenset[str]
    catalogue: Mapping[str, str]
    lists: ListStore

    def sql(self, dialect: Dialect = DUCKDB) -> str:
        return compile_sql(self.tree, lists=self.lists, dialect=dialect, rule=self.name)

    def event_types(self) -> frozenset[str] | None:
        """The event types the rule can be True on (None: any); see ``prefilter``."""
        return event_types(self.tree)


def pack_rules(pack: LoadedPack) -> list[PlannedRule]:
    """Every rule of a pack (``off`` ones too: a backtest is how one decides to turn it on)."""
    lists = pack.lists.snapshot()
    return [
        PlannedRule(
            name=rule.name,
            areas=tuple(rule.areas),
            action=rule.action,
            mode=rule.mode,
            source=rule.expression.source,
            tree=rule.expression.tree,
            paths=rule.paths,
            catalogue=pack.catalogue,
            lists=lists,
        )
        for rule in pack.rules
    ]


def expression_rule(
    source: str,
    catalogue: Mapping[str, str],
    *,
    areas: Sequence[str] = (),
    lists: ListStore | None = None,
    name: str = RULE_NAME,
) -> PlannedRule:
    """One expression checked against a pack's catalogue; problems raise :class:`PackError`
    exactly as a pack's rule would (position, message, suggestion). No areas: all of them.

    >>> expression_rule("features.nop > 1", {"features.no": "int"})
    Traceback (most recent call last):
    ...
    rampart.detect.rules.errors.PackError: rule pack has 1 problem:
      --rule:1:1: rule 'rule': expression: unknown name 'features.nop' (did you mean 'features.no'?)
    """
    problems = [
        PackProblem(RULE_FILE, f"areas: unknown risk area {area!r}", rule=name)
        for area in areas
        if area not in AREAS
    ]
    try:
        expression = compile_expression(source, catalogue, lists=lists, check_lists=False)
    except ExpressionError as error:
        problems += [
            PackProblem(
                RULE_FILE,
                f"expression: {p.message}",
                rule=name,
                line=p.line,
                column=p.column,
                suggestion=p.suggestion,
            )
            for p in error.problems
        ]
    if problems:
        raise PackError(problems)
    return PlannedRule(
        name=name,
        areas=tuple(areas) or tuple(AREAS),
        action="review",
        mode="shadow",
        source=source,
        tree=expression.tree,
        paths=expression.paths,
        catalogue=catalogue,
        lists=expression.lists.snapshot(),
    )


@dataclass(frozen=True, slots=True)
class LabelTables:
    """The winning abusive labels as the query's relations (ips as the log's pseudonyms), as
    frames (``event_labels``, ``entity_labels``, ``abusive_accounts``) and as rows."""

    event_labels: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"event_id": pl.String, "area": pl.String})
    )
    entity_labels: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"kind": pl.String, "entity_id": pl.String, "area": pl.String}
        )
    )
    abusive_accounts: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"entity_id": pl.String})
    )
    ip_labels_skipped: int = 0

    @property
    def events(self) -> list[tuple[str, str]]:
        """(event_id, area), sorted."""
        return self.event_labels.rows()

    @property
    def entities(self) -> list[tuple[str, str, str]]:
        """(kind, entity_id, area), sorted."""
        return self.entity_labels.rows()

    @property
    def accounts(self) -> list[str]:
        """Accounts labelled abusive in some area, sorted."""
        return self.abusive_accounts["entity_id"].to_list()


def label_tables(
    labels: Iterable[Label], pseudonymize_ip: Callable[[str], str] | None = None
) -> LabelTables:
    """Resolve ``labels`` as evaluation does and keep what a rule's hits can be matched to.

    >>> from rampart.contract.outputs import Label
    >>> tables = label_tables([
    ...     Label(entity_type="seller", entity_id="s7", area="brushing", label=1),
    ...     Label(entity_type="ip", entity_id="10.0.0.1", area="brushing", label=1),
    ...     Label(entity_type="event", entity_id="e9", area="scalper", label=1),
    ...     Label(entity_type="item", entity_id="i1", area="scalper", label=1)])
    >>> tables.entities, tables.events, tables.accounts, tables.ip_labels_skipped
    ([('account', 's7', 'brushing')], [('e9', 'scalper')], ['s7'], 1)
    """
    resolved = _winning_abusive(labels)
    events = resolved.filter(pl.col("kind") == "event").select("entity_id", "area").sort(pl.all())
    entities = resolved.filter(pl.col("kind").is_in([ACCOUNT, "device", "ip"]))
    # Items, instruments: flagged by verdicts only, never by a hit.
    ips = entities.filter(pl.col("kind") == "ip")
    skipped = 0
    if pseudonymize_ip is None:
        skipped = ips.height
        entities = entities.filter(pl.col("kind") != "ip")
    elif ips.height:
        addresses = ips["entity_id"].unique().to_list()
        tokens = pl.DataFrame(
            {"entity_id": addresses, "token": [pseudonymize_ip(a) for a in addresses]},
            schema={"entity_id": pl.String, "token": pl.String},
        )
        entities = entities.join(tokens, on="entity_id", how="left").with_columns(
            entity_id=pl.when(pl.col("kind") == "ip")
            .then(pl.col("token"))
            .otherwise(pl.col("entity_id"))
        )
    # Two addresses written differently can share a pseudonym: keep each entity once.
    entities = entities.select("kind", "entity_id", "area").unique().sort(pl.all())
    accounts = resolved.filter(pl.col("kind") == ACCOUNT)["entity_id"].unique().sort()
    return LabelTables(
        events.rename({"entity_id": "event_id"}),
        entities,
        accounts.to_frame("entity_id"),
        skipped,
    )


_UNDATED_US: Final = -(2**63)  # before any dated label (LabelBook ranks undated ones first)
_KINDS: Final = {"event": "event", **KIND_OF}


def _winning_abusive(labels: Iterable[Label]) -> pl.DataFrame:
    """(kind, entity_id, area) of the winning labels that say abusive, resolved as
    :class:`~rampart.learn.labelbook.LabelBook` resolves them: per (kind, id, area) the latest
    ``ts`` wins, undated labels rank first, file order breaks ties; user and seller ids are one
    account."""
    listed = labels if isinstance(labels, list) else list(labels)
    frame = pl.DataFrame(
        {
            "kind": [label.entity_type for label in listed],
            "entity_id": [label.entity_id for label in listed],
            "area": [label.area for label in listed],
            "label": [label.label for label in listed],
            "ts": [
                None if label.ts is None else (label.ts - _EPOCH) // _MICROSECOND
                for label in listed
            ],
        },
        schema={
            "kind": pl.String,
            "entity_id": pl.String,
            "area": pl.String,
            "label": pl.Int8,
            "ts": pl.Int64,
        },
    )
    return (
        frame.with_columns(
            kind=pl.col("kind").replace_strict(_KINDS, return_dtype=pl.String),
            ts=pl.col("ts").fill_null(_UNDATED_US),
        )
        .with_row_index("index")
        .sort("ts", "index")
        .unique(subset=["kind", "entity_id", "area"], keep="last", maintain_order=False)
        .filter(pl.col("label") == 1)
        .select("kind", "entity_id", "area")
    )


def read_labels(path: Path) -> list[Label]:
    """Labels from a JSON Lines file (gzip or plain); undecodable lines are an error here."""
    bad = Undecodable()
    labels = list(decode_labels(read_lines(path), bad))
    if bad.count:
        raise BacktestError(f"{path}: {bad.count} line(s) are not contract labels")
    return labels


@dataclass(frozen=True, slots=True)
class BacktestPlan:
    """What to run: the rules, the log's parts by day, the window, the columns, the labels."""

    logs: Path
    rules: list[PlannedRule]
    files: dict[str, list[Path]]  # day (YYYY-MM-DD) -> part files
    columns: dict[str, str]  # log column a rule reads -> the language's type
    start_us: int | None
    end_us: int | None
    labels: LabelTables | None
    since: str | None = None
    until: str | None = None

    def query(self, dialect: Dialect = DUCKDB) -> BacktestQuery:
        # Each rule is evaluated only on the event types it can hit (when the log has types).
        types = [rule.event_types() for rule in self.rules] if EVENT_TYPE in self.columns else None
        return backtest_query([rule.sql(dialect) for rule in self.rules], dialect, types)

    def area_rows(self) -> list[tuple[int, str, int]]:
        """The ``rule_areas`` relation: (rule, area, the number of the rule's set of areas)."""
        sets: dict[frozenset[str], int] = {}
        return [
            (i, area, sets.setdefault(frozenset(rule.areas), len(sets)))
            for i, rule in enumerate(self.rules)
            for area in rule.areas
        ]


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - _EPOCH) // _MICROSECOND


def plan_backtest(
    logs: Path,
    rules: Sequence[PlannedRule],
    *,
    labels: LabelTables | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
) -> BacktestPlan:
    """Check that the log holds what the rules read, compile them, list the parts to read."""
    if not rules:
        raise BacktestError("no rules to backtest")
    schema = read_schema(logs)
    if schema is None:
        raise BacktestError(f"{logs} holds no decision log (no _schema.json); score with --logs")
    missing: dict[str, list[str]] = {}
    columns: dict[str, str] = {}
    for rule in rules:
        for path in sorted(rule.paths):
            logged = schema.decisions.get(path)
            if logged is None:
                missing.setdefault(path, []).append(rule.name)
            else:
                columns[path] = logged
    if missing:
        lacking = "; ".join(f"{p} (read by {', '.join(names)})" for p, names in missing.items())
        raise BacktestError(
            f"the log in {logs} has no column {lacking}: score again with --logs and a pack "
            "that computes it"
        )
    for rule in rules:
        rule.sql()  # a function with no SQL form fails here, naming the rule
    start, end, first, last = _bounds(since, until)
    files = {
        day.isoformat(): sorted(
            (p for p in folder.iterdir() if part_number(p) is not None),
            key=lambda p: part_number(p) or 0,
        )
        for day, folder in day_folders(logs, "decisions")
        if (first is None or day >= first) and (last is None or day <= last)
    }
    return BacktestPlan(
        logs=logs,
        rules=list(rules),
        files={day: paths for day, paths in files.items() if paths},
        columns=columns,
        start_us=_micros(start),
        end_us=_micros(end),
        labels=labels,
        since=None if since is None else str(since),
        until=None if until is None else str(until),
    )


# --- results -----------------------------------------------------------------------------


class BacktestRow(msgspec.Struct, kw_only=True, frozen=True):
    """One rule in one scope: ``all`` (the window), ``area`` (one of its areas) or ``day``."""

    rule: str
    scope_kind: str
    scope: str
    hits: int
    users: int
    devices: int
    ips: int
    flagged_entities: int
    true_positives: int
    labelled_entities: int
    hit_labelled_events: int
    labelled_events: int
    legit_users_touched: int
    legit_users: int
    precision: float | None
    recall: float | None
    event_recall: float | None
    friction: float | None


class RuleSummary(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    areas: list[str]
    action: str
    mode: str
    expression: str
    sql: str


class Backtest(msgspec.Struct, kw_only=True, frozen=True):
    """Every row of a backtest, with what it ran on."""

    engine: str
    logs: str
    since: str | None
    until: str | None
    events: int
    days: list[str]
    labelled: bool
    ip_labels_skipped: int
    rules: list[RuleSummary]
    rows: list[BacktestRow]

    def to_json(self, indent: int = 2) -> str:
        return msgspec.json.format(msgspec.json.encode(self), indent=indent).decode()


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_SCOPE_ORDER: Final = {"all": 0, "area": 1, "day": 2}


def assemble(
    plan: BacktestPlan, counts: Iterable[Sequence[Any]], events: int, engine: str
) -> Backtest:
    """The result from the query's rows (rule index, scope kind, scope, counts...)."""
    labelled = plan.labels is not None
    rows: list[BacktestRow] = []
    for index, scope_kind, scope, *values in counts:
        c = dict(zip(COUNT_COLUMNS, (int(v) for v in values), strict=True))
        rows.append(
            BacktestRow(
                rule=plan.rules[int(index)].name,
                scope_kind=str(scope_kind),
                scope=str(scope),
                **c,
                precision=_ratio(c["true_positives"], c["flagged_entities"]) if labelled else None,
                recall=_ratio(c["true_positives"], c["labelled_entities"]) if labelled else None,
                event_recall=(
                    _ratio(c["hit_labelled_events"], c["labelled_events"]) if labelled else None
                ),
                friction=_ratio(c["legit_users_touched"], c["legit_users"]),
            )
        )
    order = {rule.name: i for i, rule in enumerate(plan.rules)}
    rows.sort(key=lambda r: (order[r.rule], _SCOPE_ORDER[r.scope_kind], r.scope))
    return Backtest(
        engine=engine,
        logs=str(plan.logs),
        since=plan.since,
        until=plan.until,
        events=events,
        days=sorted({r.scope for r in rows if r.scope_kind == "day"}),
        labelled=labelled,
        ip_labels_skipped=plan.labels.ip_labels_skipped if plan.labels else 0,
        rules=[
            RuleSummary(
                name=r.name,
                areas=list(r.areas),
                action=r.action,
                mode=r.mode,
                expression=r.source,
                sql=r.sql(),
            )
            for r in plan.rules
        ],
        rows=rows,
    )


# --- the embedded engine -------------------------------------------------------------------


def _window(plan: BacktestPlan, epoch_us: str) -> str:
    bounds = []
    if plan.start_us is not None:
        bounds.append(f"{epoch_us}(ts) >= {plan.start_us}")
    if plan.end_us is not None:
        bounds.append(f"{epoch_us}(ts) < {plan.end_us}")
    return " AND ".join(bounds) or "TRUE"


def _label_frames(labels: LabelTables | None) -> dict[str, pl.DataFrame]:
    tables = labels or LabelTables()
    return {
        "event_labels": tables.event_labels,
        "entity_labels": tables.entity_labels,
        "abusive_accounts": tables.abusive_accounts,
    }


def run_duckdb(
    plan: BacktestPlan, *, threads: int | None = None
) -> tuple[list[tuple[Any, ...]], int]:
    """Run the plan in an in-process DuckDB over the Parquet parts: (count rows, events)."""
    connection = duckdb.connect(config={"threads": threads or os.cpu_count() or 1})
    try:
        for name, frame in _label_frames(plan.labels).items():
            connection.register(name, frame.to_arrow())
        areas = pl.DataFrame(
            plan.area_rows(),
            schema={"rule": pl.Int64, "area": pl.String, "area_set": pl.Int64},
            orient="row",
        )
        connection.register("rule_areas", areas.to_arrow())
        q = DUCKDB.identifier
        files = [str(p) for paths in plan.files.values() for p in paths]
        if files:
            source = f"read_parquet({files!r}, hive_partitioning = true, union_by_name = true)"
            present = {
                row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            }
            selected = ["event_id", "CAST(day AS VARCHAR) AS day", "user_id", "device_id", "ip"]
            selected += [
                q(name) if name in present else f"CAST(NULL AS {_DUCKDB_TYPES[kind]}) AS {q(name)}"
                for name, kind in plan.columns.items()
            ]
            where = _window(plan, "epoch_us")
        else:
            source = "(SELECT 1) AS nothing"
            selected = [f"CAST(NULL AS VARCHAR) AS {c}" for c in ENTITY_COLUMNS] + [
                f"CAST(NULL AS {_DUCKDB_TYPES[kind]}) AS {q(name)}"
                for name, kind in plan.columns.items()
            ]
            where = "FALSE"
        connection.execute(
            f"CREATE VIEW logs AS SELECT {', '.join(selected)} FROM {source} WHERE {where}"
        )
        query = plan.query(DUCKDB)
        for name, stage in query.stages:
            connection.execute(f"CREATE TEMP TABLE {name} AS {stage}")
        counts = connection.execute(query.final).fetchall()
        events_row = connection.execute("SELECT COUNT(*) FROM logs").fetchone()
        return counts, int(events_row[0]) if events_row else 0
    finally:
        connection.close()


def backtest(
    logs: Path,
    rules: Sequence[PlannedRule],
    *,
    labels: Iterable[Label] | None = None,
    pseudonymize_ip: Callable[[str], str] | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    threads: int | None = None,
) -> Backtest:
    """Backtest ``rules`` on the log in ``logs`` with the embedded engine (DuckDB)."""
    tables = None if labels is None else label_tables(labels, pseudonymize_ip)
    plan = plan_backtest(logs, rules, labels=tables, since=since, until=until)
    counts, events = run_duckdb(plan, threads=threads)
    return assemble(plan, counts, events, "duckdb")
