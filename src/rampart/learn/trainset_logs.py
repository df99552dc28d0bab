"""Training sets from the decision log: each event's model view as it was at decision time.

:func:`build_training_set_from_logs` builds the matrix :func:`~rampart.learn.trainset.
build_training_set` builds by replaying the events, but reads it from the Parquet log a
``rampart score --logs`` run wrote, without running the engine again:

- ``features.*``, ``graph.*``, ``content.*`` and ``event.*`` inputs are the logged row's values
  (null: NaN; booleans 0/1), exactly what the detectors read when the event was scored;
- ``event.type=<kind>`` is the logged event type;
- ``rule.<name>`` is 1 when the decision names the rule, in ``reasons`` (live rules) or in
  ``shadow`` (rules in shadow): the hits the engine saw;
- ``flagged.<area>`` is 1 when one of the event's own entities (its user, device or ip) was
  flagged in the area by an event scored before it: by a verdict (the verdicts log, placed at the
  event that found it) or by an earlier event of that entity that was actioned with the area's
  score at least :data:`~rampart.engine.MARK_SCORE`. Events are placed in the order they were
  scored: by part file, then by row.

**Time, labels and the delay.** ``until`` is the moment the training happens (TS); ``label_delay``
D is how long labels take to arrive. The rows are the events with ``ts`` ≤ TS − D, and their
targets are the labels known at TS (``ts`` ≤ TS): the standard protocol, where every row had at
least D for its label to come in, and an event labelled only after TS is a negative, as it was for
anyone training at TS. Nothing with a time after TS is read: log days after TS − D are never
opened, log rows and verdicts are cut at TS − D, labels are cut at TS. A delay needs a cut-off.
The label-fed features in the rows are those of the scoring run (``rampart score --labels``),
which applied each label at its ``ts``: they are point in time by construction.

**What the log must hold (one choice: a precise error, never a silent guess).**

- Every part read must have been written with this pack (the fingerprint in each part's
  metadata): another pack may compute a feature of the same name differently, or hit other
  rules. A part from another pack raises :class:`LogTrainingError` naming the fingerprints and
  suggesting a replay (``rampart train --events``) or scoring the events again with ``--logs``.
- Every feature of the view (``features.*``, ``graph.*``, ``content.*``) must be a logged column:
  a logged run computes every feature of its pack, so a missing one is a feature newer than the
  log; the error names the columns and suggests the same. Replaying for only those columns would
  mean replaying the whole history through the engine (features are state): that *is*
  ``rampart train --events``, so the log path does not hide one inside it.
- Event fields (``event.*``) are not state; a run logs those its rules read, on the event types
  those rules run on, and (since schema field ``every_event``) the default view's on every event.
  The view keeps the event fields logged on every event type and leaves the others out
  (``TrainingSet.omitted``, written to the model's metadata and printed by ``rampart train``):
  a model must not learn a field that reads null wherever no rule happened to read it, since
  scoring fills it on every event.
- A pack with live ``allow`` rules: an allow-listed decision names only the allow rules, so the
  hits of the others on it are not in the log; a window holding such a decision is refused.

The parity with the replay is tested: the same rows in the same order, the same value in every
column of the view, the same targets (``tests/learn/test_trainset_logs.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from rampart.contract.events import EVENT_TYPES
from rampart.contract.outputs import AREAS
from rampart.detect.models.view import (
    FLAGGED_PREFIX,
    RULE_PREFIX,
    TYPE_PREFIX,
    ModelView,
    default_view_names,
)
from rampart.detect.rules.pack import load_pack
from rampart.detect.rules.pack_model import LoadedPack
from rampart.engine import MARK_SCORE
from rampart.learn.trainset import TrainingSet, entity_features, event_targets
from rampart.logs.layout import parts
from rampart.logs.schema import LogSchema, read_schema
from rampart.service.scoring import load_labels

__all__ = ["LogTrainingError", "build_training_set_from_logs", "log_view_names"]

_STATE_PREFIXES: Final = ("features.", "graph.", "content.")
# Decision columns naming the event's own entities, as the engine keys its flags.
_OWN: Final = {"user_id": "user", "device_id": "device", "ip": "ip"}
_SHADOW_DTYPE: Final = pl.List(pl.Struct({"name": pl.String()}))
_FINGERPRINT_KEY: Final = "rampart.pack_fingerprint"


class LogTrainingError(ValueError):
    """The log cannot give this training set as it was at decision time (and why)."""


def _suggestion(logs: Path) -> str:
    return (
        "train by replaying the events instead (rampart train --events EVENTS ...), or score "
        f"them again with this pack and --logs to a new folder than {logs}"
    )


def _event_fields_logged_everywhere(pack: LoadedPack, schema: LogSchema) -> set[str]:
    """The ``event.*`` columns the log holds on every event type: rules read them there, or
    the runs that wrote it filled them everywhere (``LogSchema.every_event``)."""
    active = pack.active_rules
    logged: set[str] | None = None
    for kind in EVENT_TYPES:
        read = {
            path
            for rule in active
            if rule.event_types is None or kind in rule.event_types
            for path in rule.paths
            if path.startswith("event.")
        }
        logged = read if logged is None else logged & read
    everywhere = (logged or set()) | set(schema.every_event)
    return {p for p in everywhere if p in schema.decisions}


def log_view_names(
    logs: Path, pack: LoadedPack, names: Sequence[str] | None = None
) -> tuple[tuple[str, ...], list[str]]:
    """The view a training set from ``logs`` reads (default: the pack's), and the event fields
    left out of it because the log does not hold them on every event; raises
    :class:`LogTrainingError` when a feature of the view is not logged."""
    schema = read_schema(logs)
    if schema is None:
        raise LogTrainingError(f"{logs} holds no log (no _schema.json): score with --logs first")
    wanted = tuple(names or default_view_names(pack.catalogue, (r.name for r in pack.rules)))
    missing = [n for n in wanted if n.startswith(_STATE_PREFIXES) and n not in schema.decisions]
    if missing:
        raise LogTrainingError(
            f"the log {logs} has no column for {len(missing)} feature(s) of the view: "
            + ", ".join(missing)
            + " (features newer than the log); "
            + _suggestion(logs)
        )
    events = _event_fields_logged_everywhere(pack, schema)
    omitted = [n for n in wanted if n.startswith("event.") and "=" not in n and n not in events]
    kept = tuple(n for n in wanted if n not in set(omitted))
    return kept, omitted


def _check_parts(logs: Path, files: Sequence[Path], fingerprint: str) -> None:
    others: dict[str, Path] = {}
    for path in files:
        found = pl.read_parquet_metadata(path).get(_FINGERPRINT_KEY, "")
        if found != fingerprint:
            others.setdefault(found, path)
    if others:
        seen = ", ".join(
            f"{fp[:12] or '(none)'} (e.g. {p.relative_to(logs)})" for fp, p in others.items()
        )
        raise LogTrainingError(
            f"the log {logs} holds parts written with another pack ({seen}), not this pack "
            f"({fingerprint[:12]}): their features and rule hits may mean something else; "
            + _suggestion(logs)
        )


def _scan(
    logs: Path, schema: LogSchema, table: str, last_day: datetime
) -> tuple[pl.LazyFrame | None, list[Path]]:
    """The table's parts up to ``last_day`` in the order they were written (part number)."""
    files = sorted(
        ((number, path) for day, number, path in parts(logs, table) if day <= last_day.date()),
    )
    paths = [path for _, path in files]
    if not paths:
        return None, paths
    frame = pl.scan_parquet(
        [str(p) for p in paths],
        schema=schema.polars(table),
        missing_columns="insert",
        extra_columns="ignore",
    )
    return frame, paths


def _flags(
    decisions: pl.DataFrame, verdicts: pl.DataFrame, pack: LoadedPack, areas: Sequence[str]
) -> pl.DataFrame:
    """Per decision row (``_order``), 0/1 ``flagged.<area>`` for ``areas``: own entities flagged
    by an event scored before it."""
    acting = [
        f"rule:{r.name}"
        for r in pack.rules
        if r.mode == "live" and r.action not in ("score", "allow")
    ]
    acting += [f"model:{a}" for a in AREAS]
    reasons = pl.col("reasons")
    carried = reasons.list.eval(pl.element().str.starts_with("flagged:")).list.any()
    # The engine marks on the decision before carried signals join it: with no thresholds in
    # the policy, that one acted iff an acting signal is among its reasons.
    acted = (pl.col("action") != "allow") & (
        ~carried.fill_null(False) | reasons.list.eval(pl.element().is_in(acting)).list.any()
    )
    own = decisions.filter(acted.fill_null(False))
    marks = [
        own.filter(pl.col("areas").struct.field(area) >= MARK_SCORE).select(
            pl.lit(kind).alias("kind"),
            pl.col(column).alias("id"),
            pl.lit(area).alias("area"),
            pl.col("_order").alias("at"),
        )
        for area in areas
        for column, kind in _OWN.items()
    ]
    found = verdicts.filter(pl.col("entity_type").is_in(list(_OWN.values()))).join(
        decisions.select("event_id", "_order"), on="event_id", how="inner"
    )
    marks.append(
        found.select(
            pl.col("entity_type").alias("kind"),
            pl.col("entity_id").alias("id"),
            pl.col("area"),
            pl.col("_order").alias("at"),
        )
    )
    first = (
        pl.concat(marks)
        .filter(pl.col("id").is_not_null() & (pl.col("id") != "") & pl.col("area").is_in(areas))
        .group_by("kind", "id", "area")
        .agg(pl.col("at").min())
    )
    out = decisions.select("_order")
    for column, kind in _OWN.items():
        of_kind = first.filter(pl.col("kind") == kind)
        if not of_kind.height:
            continue
        wide = of_kind.pivot(on="area", index="id", values="at", aggregate_function="min")
        wide = wide.rename({a: f"{a}@{kind}" for a in wide.columns if a != "id"})
        joined = decisions.select(column).join(
            wide, left_on=column, right_on="id", how="left", maintain_order="left"
        )
        out = out.hstack(joined.drop(column))
    return out.select(
        "_order",
        *(
            pl.any_horizontal(
                [
                    (pl.col(c) < pl.col("_order")).fill_null(False)
                    for c in out.columns
                    if c.startswith(f"{area}@")
                ]
                or [pl.lit(False)]
            )
            .cast(pl.Float64)
            .alias(FLAGGED_PREFIX + area)
            for area in areas
        ),
    )


def build_training_set_from_logs(
    logs: Path,
    labels: Path,
    *,
    pack: Path,
    until: datetime | None = None,
    label_delay: timedelta = timedelta(0),
    names: Sequence[str] | None = None,
) -> TrainingSet:
    """The training set of the events in ``logs`` up to ``until`` − ``label_delay``, labelled
    as known at ``until`` (see the module's docstring); ``names``: the view (default: the
    pack's, less the event fields the log does not hold everywhere)."""
    if label_delay and until is None:
        raise ValueError("a label delay needs a cut-off (until): the moment labels are known")
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    loaded = load_pack(pack)
    view_names, omitted = log_view_names(logs, loaded, names)
    view = ModelView(view_names)
    schema = read_schema(logs)
    assert schema is not None  # log_view_names checked
    cutoff = until.timestamp() if until is not None else None
    last_event = until - label_delay if until is not None else datetime.max.replace(tzinfo=UTC)
    known = [
        label
        for label in load_labels(labels)
        if cutoff is None or (label.ts is not None and label.ts.timestamp() <= cutoff)
    ]
    decisions_scan, decision_files = _scan(logs, schema, "decisions", last_event)
    verdicts_scan, verdict_files = _scan(logs, schema, "verdicts", last_event)
    _check_parts(logs, [*decision_files, *verdict_files], loaded.fingerprint)
    row_paths = list(view.row_paths)
    rules = [n[len(RULE_PREFIX) :] for n in view.names if n.startswith(RULE_PREFIX)]
    flag_areas = [n[len(FLAGGED_PREFIX) :] for n in view.names if n.startswith(FLAGGED_PREFIX)]
    needed = ["event_id", "ts", "event_type", *_OWN, "action", "areas", "reasons", "shadow"]
    if decisions_scan is None:
        decisions = pl.DataFrame(schema={n: schema.polars("decisions")[n] for n in needed})
        decisions = decisions.with_columns(*(pl.lit(None).alias(p) for p in row_paths))
        decisions = decisions.with_row_index("_order")
    else:
        decisions = (
            decisions_scan.select(*needed, *row_paths)
            .with_row_index("_order")
            .filter(pl.col("ts") <= last_event)
            .collect()
        )
    verdicts = (
        verdicts_scan.select("event_id", "found_at", "entity_type", "entity_id", "area")
        .filter(pl.col("found_at") <= last_event)
        .collect()
        if verdicts_scan is not None
        else pl.DataFrame(
            schema={"event_id": pl.String(), "entity_type": pl.String(), "entity_id": pl.String(),
                    "area": pl.String(), "found_at": pl.Datetime("us", "UTC")}
        )
    )  # fmt: skip
    _refuse_allow_listed(decisions, loaded, logs)
    shadow_names = (
        pl.col("shadow").str.json_decode(_SHADOW_DTYPE).list.eval(pl.element().struct.field("name"))
    )
    frame = decisions.with_columns(
        pl.col("reasons").fill_null([]), shadow_names.fill_null([]).alias("_shadow")
    )
    columns: dict[str, pl.Expr] = {}
    for path in row_paths:
        columns[path] = pl.col(path).cast(pl.Float64).fill_null(float("nan"))
    for name in view.names:
        if name.startswith(TYPE_PREFIX):
            kind = name[len(TYPE_PREFIX) :]
            columns[name] = (pl.col("event_type") == kind).cast(pl.Float64).fill_null(0.0)
    for rule in rules:
        code = f"rule:{rule}"
        columns[RULE_PREFIX + rule] = (
            pl.col("reasons").list.contains(code) | pl.col("_shadow").list.contains(code)
        ).cast(pl.Float64)
    flags = _flags(decisions, verdicts, loaded, flag_areas)
    matrix = frame.select(
        *(columns[n].alias(n) for n in view.names if not n.startswith(FLAGGED_PREFIX))
    ).hstack(flags.drop("_order"))
    x = np.ascontiguousarray(matrix.select(view.names).to_numpy().astype(np.float32))
    ids = decisions["event_id"].to_list()
    per_area = event_targets(known, cutoff)
    id_series = decisions["event_id"]
    targets = {
        area: id_series.is_in(sorted(abusive)).to_numpy().astype(np.int8)
        for area, abusive in per_area.items()
    }
    micros = decisions["ts"].dt.epoch("us").to_numpy()
    return TrainingSet(
        names=view.names,
        x=x,
        ts=micros.astype(np.float64) / 1e6,
        event_types=decisions["event_type"].to_list(),
        targets=targets,
        pack_fingerprint=loaded.fingerprint,
        labels_used=len(known),
        entity_features=entity_features(loaded, view.names),
        event_ids=ids,
        omitted=omitted,
    )


def _refuse_allow_listed(decisions: pl.DataFrame, pack: LoadedPack, logs: Path) -> None:
    allow = [f"rule:{r.name}" for r in pack.rules if r.mode == "live" and r.action == "allow"]
    if not allow or not decisions.height:
        return
    listed = decisions.filter(
        pl.col("reasons").list.eval(pl.element().is_in(allow)).list.any().fill_null(False)
    )
    if listed.height:
        raise LogTrainingError(
            f"{listed.height} decision(s) in {logs} were allow-listed "
            f"(e.g. event {listed['event_id'][0]}): the log does not say which other rules hit "
            "them; " + _suggestion(logs)
        )
