"""Put a scoring run together from its parts: privacy, intake, pack, features, engine, outputs."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypedDict, Unpack, cast

from rampart.decide.experiment import Experiment, ExperimentEngine
from rampart.decide.policy import SignalMode
from rampart.detect.models.anomaly import AnomalyModel
from rampart.detect.models.registry import load_models
from rampart.detect.models.view import ModelView, default_view_names
from rampart.detect.rules.pack import load_pack
from rampart.detect.rules.pack_model import LoadedPack
from rampart.detect.stages import default_stages
from rampart.engine import Engine, ScopedModel, feature_reads
from rampart.features.online import OnlineFeatures
from rampart.ingest.pii import MissingSecretError, Pseudonymizer
from rampart.ingest.pipeline import Intake
from rampart.ingest.privacy import EventPrivacy
from rampart.ingest.rejects import RejectSink
from rampart.ingest.sources.base import Source
from rampart.ingest.sources.formats import open_source
from rampart.logs.schema import row_columns
from rampart.logs.writer import LogWriter
from rampart.packs import DEFAULT_PACK
from rampart.service.checkpoint import CheckpointStore
from rampart.service.scoring import (
    DEFAULT_CHECKPOINT_EVERY,
    RunStats,
    ScoringRun,
    load_labels,
    rejects_for_resume,
)


class OpenedScoring(NamedTuple):
    run: ScoringRun
    source: Source
    rejects: Path | None


def choose_privacy(
    *,
    demo: bool,
    config: Path | None,
    store: CheckpointStore | None,
    warn: Callable[[str], None],
) -> EventPrivacy:
    """The operator's key; without one, a per-run key (pseudonyms then differ between runs).

    Decisions and verdicts name entities as the caller sent them, so scoring does not need
    pseudonyms that are stable across runs; what Rampart keeps (checkpoints) must not hold raw
    PII, so a key is always used.
    """
    try:
        return EventPrivacy.from_config(demo=demo, config_path=config)
    except MissingSecretError:
        secret = os.urandom(32) if store is None else store.ephemeral_secret()
        warn(
            "no pseudonymisation secret configured (RAMPART_PSEUDONYM_SECRET): using a key for "
            "this run only"
        )
        return EventPrivacy(Pseudonymizer(secret))


def open_scoring(
    *,
    events: Path,
    decisions: Path,
    verdicts: Path,
    labels: Path | None,
    pack: Path,
    rejects: Path | None,
    source_format: str | None,
    mapping: Path | None,
    checkpoint: Path | None,
    checkpoint_every: int,
    demo: bool,
    config: Path | None,
    warn: Callable[[str], None],
    models: Path | None = None,
    logs: Path | None = None,
    model_mode: SignalMode = "live",
    experiment: Experiment | None = None,
    challenger_pack: Path | None = None,
    challenger_models: Path | None = None,
) -> OpenedScoring:
    """Everything a `rampart score` run needs, resumed from its checkpoint when there is one.

    With an ``experiment``, a challenger engine (``challenger_pack``, else the pack, with
    ``challenger_models``) scores every event beside the champion (see
    :mod:`rampart.decide.experiment`); such runs are not checkpointed.
    """
    if experiment is not None and checkpoint is not None:
        raise ValueError("an experiment run cannot be checkpointed; leave out --checkpoint")
    store = CheckpointStore(checkpoint) if checkpoint is not None else None
    privacy = choose_privacy(demo=demo, config=config, store=store, warn=warn)
    loaded = load_pack(pack)
    source = open_source(events, source_format, mapping)
    resuming = store is not None and store.load() is not None
    rejects_for_resume(rejects, store)
    sink = RejectSink(rejects, privacy.scrub_raw, append=resuming)
    intake = Intake(privacy, sink)
    specs = list(loaded.features)
    opened = open_models(models, loaded) if models else None
    view = opened.view if opened else None
    # Logged runs compute every feature, so that a backtest or a training set built from the
    # log has them all; otherwise only what the rules on each event type read.
    reads = feature_reads(loaded.rules, view) if logs is None else None
    # ... and the event fields of the default model view, on every event: a training set built
    # from the log has the same columns as one built by replaying the events.
    logged_paths = (
        ModelView(default_view_names(loaded.catalogue, (r.name for r in loaded.rules))).row_paths
        if logs is not None
        else ()
    )
    engine = Engine(
        loaded.rules,
        OnlineFeatures(specs, reads=reads),
        pseudonymize_ip=lambda ip: privacy.pseudonymizer.token("ip", ip),
        stages=default_stages(),
        view=view,
        models=opened.models if opened else (),
        anomalies=opened.anomalies if opened else (),
        model_mode=model_mode,
        row_paths=logged_paths,
    )
    options = [str(rejects), str(source_format), opened.version if opened else "-"]
    if model_mode != "live":
        options.append(f"model_mode={model_mode}")
    scorer = engine
    if experiment is not None:
        challenger = _challenger_engine(challenger_pack or pack, challenger_models, privacy)
        options.append(f"experiment={experiment}")
        # ScoringRun uses process and apply_label only, since the run is not checkpointed.
        scorer = cast(Engine, ExperimentEngine(experiment, engine, challenger))
    writer = None
    if logs is not None:
        options.append(f"logs={logs}")
        columns = row_columns(
            loaded.catalogue,
            [rule.paths for rule in loaded.active_rules],
            (*(view.row_paths if view is not None else ()), *logged_paths),
        )
        writer = LogWriter(
            logs,
            columns,
            pack_fingerprint=loaded.fingerprint,
            pseudonymize_ip=lambda ip: privacy.pseudonymizer.token("ip", ip),
            every_event=logged_paths,
        )
    run = ScoringRun(
        intake=intake,
        engine=scorer,
        decisions=decisions,
        verdicts=verdicts,
        labels=load_labels(labels, lambda problem: warn(f"label skipped: {problem}"))
        if labels is not None
        else (),
        checkpoints=store,
        checkpoint_every=checkpoint_every,
        run_fingerprint=run_fingerprint(
            loaded.fingerprint,
            privacy,
            inputs=[events, labels, mapping],
            options=options,
        ),
        restore_features=lambda data: OnlineFeatures.restore(specs, data, reads=reads),
        logs=writer,
    )
    return OpenedScoring(run, source, rejects)


class FileOptions(TypedDict, total=False):
    """What :func:`open_files` and :func:`score_files` take besides the files they write."""

    labels: Path | None
    logs: Path | None
    models: Path | None
    pack: Path
    demo: bool
    checkpoint: Path | None
    checkpoint_every: int
    warn: Callable[[str], None]
    experiment: Experiment | None
    challenger_pack: Path | None


def _quiet(message: str) -> None:
    """Warnings nobody reads."""


def open_files(
    events: Path, *, decisions: Path, verdicts: Path, **options: Unpack[FileOptions]
) -> OpenedScoring:
    """:func:`open_scoring` with no rejects file, no mapping and no config file.

    Left out, the options are those of ``rampart score --demo`` with the default pack, no
    labels, no log, no models and no checkpoint; warnings are dropped.
    """
    return open_scoring(
        events=events,
        decisions=decisions,
        verdicts=verdicts,
        labels=options.get("labels"),
        pack=options.get("pack", DEFAULT_PACK),
        rejects=None,
        source_format=None,
        mapping=None,
        checkpoint=options.get("checkpoint"),
        checkpoint_every=options.get("checkpoint_every", DEFAULT_CHECKPOINT_EVERY),
        demo=options.get("demo", True),
        config=None,
        warn=options.get("warn", _quiet),
        models=options.get("models"),
        logs=options.get("logs"),
        experiment=options.get("experiment"),
        challenger_pack=options.get("challenger_pack"),
    )


def score_files(
    events: Path, *, decisions: Path, verdicts: Path, **options: Unpack[FileOptions]
) -> RunStats:
    """Score ``events`` to the end as ``rampart score`` does (without its progress bar).

    The options are those of :func:`open_files`.
    """
    opened = open_files(events, decisions=decisions, verdicts=verdicts, **options)
    with opened.run as run:
        return run.run(opened.source, str(events), None)


def _challenger_engine(pack: Path, models: Path | None, privacy: EventPrivacy) -> Engine:
    """The challenger arm of an experiment: its own pack and models, its own state."""
    loaded = load_pack(pack)
    opened = open_models(models, loaded) if models else None
    view = opened.view if opened else None
    return Engine(
        loaded.rules,
        OnlineFeatures(list(loaded.features), reads=feature_reads(loaded.rules, view)),
        pseudonymize_ip=lambda ip: privacy.pseudonymizer.token("ip", ip),
        stages=default_stages(),
        view=view,
        models=opened.models if opened else (),
        anomalies=opened.anomalies if opened else (),
    )


class OpenedModels(NamedTuple):
    view: ModelView
    models: list[ScopedModel]
    anomalies: list[AnomalyModel]
    version: str


def open_models(directory: Path, pack: LoadedPack) -> OpenedModels:
    """The models of a model directory, scoped to their event types, and the view they read.

    Every model must read the same view, and every rule it reads hits of must be in ``pack``.
    """
    model_set = load_models(directory)
    views = {model.feature_names for model in model_set.models.values()}
    if len(views) != 1:
        raise ValueError(f"{directory}: the models read different inputs; train them together")
    view = ModelView(views.pop())
    rules = {rule.name for rule in pack.rules}
    missing = sorted(set(view.rule_names) - rules)
    if missing:
        raise ValueError(
            f"{directory}: the models read rules the pack does not have: {', '.join(missing)} "
            "(retrain them with this pack)"
        )
    scoped = []
    for area, model in sorted(model_set.models.items()):
        types = model_set.reports.get(area, {}).get("event_types")
        scoped.append(ScopedModel(model, frozenset(types) if types is not None else None))
    return OpenedModels(view, scoped, list(model_set.anomaly.values()), model_set.version)


def run_fingerprint(
    pack: str, privacy: EventPrivacy, *, inputs: list[Path | None], options: list[str]
) -> str:
    """What a checkpoint may only be resumed with: the same pack, inputs, options and key.

    Inputs are named by path and size (a hash of gigabytes would cost a second read); the key
    by a pseudonym of a fixed string, which identifies it without revealing it.
    """
    parts = [pack, privacy.pseudonymizer.token("value", "rampart-checkpoint"), *options]
    for path in inputs:
        parts.append(f"{path}:{path.stat().st_size}" if path is not None else "-")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def count_lines(path: Path) -> int | None:
    """Lines in a plain file (fast, for a progress bar); None for compressed input."""
    if path.suffix == ".gz":
        return None
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count
