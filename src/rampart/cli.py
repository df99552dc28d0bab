"""`rampart ...`: the command line. Thin: parse options, call the core, show the result."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from rampart.contract.outputs import AREAS
from rampart.contract.validate import ContractError, parse_line
from rampart.decide.experiment import Experiment
from rampart.detect.models.registry import ModelDirectoryError, load_models
from rampart.detect.models.report import format_report
from rampart.detect.rules.errors import PackError
from rampart.detect.rules.pack import load_pack
from rampart.ingest.pii import MissingSecretError, Pseudonymizer, SecretError
from rampart.ingest.pipeline import Intake, IntakeStats
from rampart.ingest.privacy import EventPrivacy
from rampart.ingest.rejects import RejectSink
from rampart.ingest.sources.base import SourceRecord
from rampart.ingest.sources.formats import (
    SOURCE_FORMATS,
    SourceFormatError,
    guess_format,
    open_source,
)
from rampart.ingest.sources.mapping import MappingError
from rampart.learn.evaluate import evaluate_files, score_stream
from rampart.learn.experiment_report import experiment_report_files, footer, table_rows
from rampart.learn.inputs import read_lines
from rampart.learn.ranking import ENTITY_CHOICES, Ranking, rank_stream
from rampart.learn.report import render
from rampart.learn.training import train_models
from rampart.learn.trainset import build_training_set
from rampart.learn.trainset_logs import build_training_set_from_logs
from rampart.packs import DEFAULT_PACK
from rampart.records import EntityKeeper, LabelProblem, LabelRejects, Records, RecordsError
from rampart.records.base import Mode
from rampart.records.connect import records_url, shown_url
from rampart.records.intake import take_labels
from rampart.records.versions import rule_version_hash
from rampart.service.assemble import OpenedScoring, count_lines, open_scoring
from rampart.service.runtime import scoring_gc
from rampart.service.scoring import RunStats
from rampart.simulate import DIFFICULTIES, PRESETS, WorldSummary, world_config, write_world

if TYPE_CHECKING:
    from rampart.service.scorer import Observer, Scorer

app = typer.Typer(
    name="rampart",
    help="Rampart: real-time risk control for e-commerce marketplaces.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help=f"Input format, one of {', '.join(SOURCE_FORMATS)}; guessed from the file name "
        "when left out (.jsonl[.gz], .csv[.gz], .parquet, .log).",
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="Field-mapping file (YAML or TOML) that maps your CSV or Parquet columns onto the "
        "contract; required for csv and parquet.",
    ),
]


@contextmanager
def _counting(description: str) -> Iterator[Progress]:
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=errors, transient=True) as progress:
        yield progress


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@app.command()
def simulate(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for events.jsonl, labels.jsonl and truth.json (created if missing).",
        ),
    ],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    preset: Annotated[str, typer.Option(help=f"World size: {', '.join(PRESETS)}.")] = "demo",
    difficulty: Annotated[
        str, typer.Option(help=f"Attack camouflage and rates: {', '.join(DIFFICULTIES)}.")
    ] = "hard",
) -> None:
    """Simulate a marketplace under attack: contract events, labels and the truth behind them."""
    if preset not in PRESETS:
        raise _fail(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if difficulty not in DIFFICULTIES:
        raise _fail(f"unknown difficulty {difficulty!r}; choose one of {', '.join(DIFFICULTIES)}")
    summary = _simulate_with_progress(out, seed, preset, difficulty)
    _print_world(summary, out)


def _simulate_with_progress(out: Path, seed: int, preset: str, difficulty: str) -> WorldSummary:
    config = world_config(preset=preset, difficulty=difficulty, seed=seed)
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=errors) as progress:
        task = progress.add_task(f"simulating {preset}/{difficulty} seed {seed}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return write_world(config, out, progress=advance)


def _print_world(summary: WorldSummary, out: Path) -> None:
    console.print(
        f"[bold]Simulated world[/bold] {summary.window_start} → {summary.window_end}: "
        f"{summary.n_users:,} users ({summary.n_abusive_users:,} abusive), "
        f"{summary.n_events:,} events ({summary.n_abusive_events:,} abusive), "
        f"{summary.n_labels:,} labels → {out}"
    )
    by_type = Table(title="Events per type")
    by_type.add_column("type")
    by_type.add_column("events", justify="right")
    for kind, count in sorted(summary.events_by_type.items(), key=lambda kv: -kv[1]):
        by_type.add_row(kind, f"{count:,}")
    console.print(by_type)
    campaigns = Table(title="Attack campaigns")
    for column in ("campaign", "area", "tactic", "entities", "abusive events"):
        campaigns.add_column(column, justify="right" if column == "abusive events" else "left")
    for campaign in sorted(summary.campaigns, key=lambda c: (c.area, c.tactic, c.id)):
        entities = ", ".join(f"{n} {kind}" for kind, n in sorted(campaign.entities.items()))
        campaigns.add_row(
            campaign.id,
            " + ".join(campaign.areas),
            campaign.tactic,
            entities,
            f"{campaign.events:,}",
        )
    console.print(campaigns)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Events to check against contract v1.")],
    source_format: FormatOption = None,
    mapping: MappingOption = None,
    max_errors: Annotated[
        int, typer.Option(help="Print at most this many errors (all are counted).")
    ] = 100,
) -> None:
    """Check events against the contract; print each error with its line, event id, field and
    reason. Exits 1 when any line is invalid."""
    try:
        source = open_source(file, source_format, mapping)
    except (SourceFormatError, MappingError, OSError) as exc:
        raise _fail(str(exc)) from exc
    valid = invalid = 0
    with _counting(f"validating {file.name}") as progress:
        task = progress.add_task("", total=None)
        for record in source:
            result = (
                record if isinstance(record, ContractError) else parse_line(record.raw, record.line)
            )
            if isinstance(result, ContractError):
                invalid += 1
                if invalid <= max_errors:
                    console.print(f"[red]✗[/red] {escape(str(result))}", soft_wrap=True)
            else:
                valid += 1
            if (valid + invalid) % 10_000 == 0:
                progress.update(task, completed=valid + invalid)
    if invalid > max_errors:
        console.print(f"… and {invalid - max_errors:,} more errors")
    verdict = "[green]ok[/green]" if not invalid else "[red]invalid lines found[/red]"
    console.print(f"{file}: {valid:,} valid, {invalid:,} invalid: {verdict}", soft_wrap=True)
    if invalid:
        raise typer.Exit(1)


@app.command()
def ingest(
    events: Annotated[Path, typer.Option("--events", help="Events to take in.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Accepted events, pseudonymised, with their derived fields (JSON Lines)."
        ),
    ],
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Rejects file (JSON Lines: the error and the record with its PII scrubbed)."
        ),
    ] = None,
    source_format: FormatOption = None,
    mapping: MappingOption = None,
    demo: Annotated[
        bool, typer.Option(help="Use the public demo pseudonymisation key (simulated data only).")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Config file holding the pseudonymisation secret (else RAMPART_PSEUDONYM_SECRET)."
        ),
    ] = None,
) -> None:
    """Validate, deduplicate and pseudonymise events at the edge; write what was accepted."""
    try:
        privacy = EventPrivacy.from_config(demo=demo, config_path=config)
        source = open_source(events, source_format, mapping)
    except (SecretError, SourceFormatError, MappingError, OSError) as exc:
        raise _fail(str(exc)) from exc
    encoder = msgspec.json.Encoder()
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        RejectSink(rejects, privacy.scrub_raw) as sink,
        out.open("wb") as handle,
        _counting(f"ingesting {events.name}") as progress,
    ):
        intake = Intake(privacy, sink, keep_unknown=True)
        task = progress.add_task("", total=None)
        for n, accepted in enumerate(intake.run(source, source=str(events)), start=1):
            record: dict[str, object] = {"event": accepted.event, "derived": accepted.derived}
            if accepted.extra:
                record["extra"] = accepted.extra
            handle.write(encoder.encode(record))
            handle.write(b"\n")
            if n % 10_000 == 0:
                progress.update(task, completed=n)
    _print_intake(intake.stats, rejects)


def _print_intake(stats: IntakeStats, rejects: Path | None) -> None:
    console.print(
        f"read {stats.read:,}: accepted {stats.accepted:,}, invalid {stats.invalid:,}, "
        f"late {stats.late:,}, duplicates {stats.duplicates:,}"
        + (f" (rejects in {rejects})" if rejects and (stats.invalid or stats.late) else "")
    )


@app.command()
def score(
    events: Annotated[Path, typer.Option("--events", help="Events to score, in time order.")],
    decisions: Annotated[
        Path,
        typer.Option(
            "--decisions", help="Where one decision per valid event is written (JSON Lines)."
        ),
    ],
    verdicts: Annotated[
        Path,
        typer.Option(
            "--verdicts", help="Where entity verdicts are written as they are found (JSON Lines)."
        ),
    ],
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels", help="Labels to apply at their `ts` while scoring (label-fed features)."
        ),
    ] = None,
    pack: Annotated[
        Path | None,
        typer.Option(
            "--pack", help="Rule pack folder (default: the built-in pack covering all eight areas)."
        ),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects file for invalid or late records.")
    ] = None,
    source_format: FormatOption = None,
    mapping: MappingOption = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="Checkpoint folder: a killed run started "
            "again with the same arguments resumes "
            "where it left off."
        ),
    ] = None,
    checkpoint_every: Annotated[int, typer.Option(help="Events between checkpoints.")] = 50_000,
    demo: Annotated[bool, typer.Option(help="Use the public demo pseudonymisation key.")] = False,
    config: Annotated[
        Path | None, typer.Option(help="Config file holding the pseudonymisation secret.")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Model directory from `rampart train` (scored with the pack)."
        ),
    ] = None,
    logs: Annotated[
        Path | None,
        typer.Option(
            "--logs",
            help="Log folder: every decision with the features the detectors saw, and every "
            "verdict, appended as Parquet (pseudonymised) for backtests and training sets.",
        ),
    ] = None,
    model_mode: Annotated[
        str,
        typer.Option(
            "--model-mode",
            help="live: the --model acts; shadow: its signals go to the decisions' `shadow` "
            "field and never act.",
        ),
    ] = "live",
    experiment: Annotated[
        str | None,
        typer.Option(
            "--experiment",
            help="Run a champion/challenger experiment of this name: the pack and --model are "
            "the champion, --challenger-pack / --challenger-model the challenger.",
        ),
    ] = None,
    challenger_pack: Annotated[
        Path | None,
        typer.Option("--challenger-pack", help="The challenger's rule pack (default: --pack)."),
    ] = None,
    challenger_model: Annotated[
        Path | None,
        typer.Option("--challenger-model", help="The challenger's model directory."),
    ] = None,
    challenger_share: Annotated[
        float, typer.Option("--challenger-share", help="Share of units in the challenger arm.")
    ] = 0.5,
    experiment_unit: Annotated[
        str,
        typer.Option("--experiment-unit", help="What is split between arms: user, device, ip."),
    ] = "user",
    experiment_salt: Annotated[
        str | None,
        typer.Option("--experiment-salt", help="Salt of the arm hash (default: the name)."),
    ] = None,
    records: Annotated[
        str | None,
        typer.Option(
            "--records",
            help="Also store the --labels in the records (a SQLite file or a postgresql:// URL), "
            "as `rampart label` does: each label once, with its source and time.",
        ),
    ] = None,
) -> None:
    """Score events in order: one decision per valid event, entity verdicts as they are found."""
    for path in (events, labels):
        if path is not None and not path.is_file():
            raise _fail(f"{path} does not exist")
    if records is not None:
        if labels is None:
            raise _fail("--records stores the --labels: give --labels too")
        _store_labels(labels, records, rejects=None, actor="score", demo=demo, config=config)
    if model_mode not in ("live", "shadow"):
        raise _fail(f"--model-mode must be live or shadow, not {model_mode!r}")
    if (challenger_pack or challenger_model) and experiment is None:
        raise _fail("--challenger-pack / --challenger-model need --experiment NAME")
    if experiment is not None and not (challenger_pack or challenger_model):
        raise _fail("--experiment needs a --challenger-pack and/or a --challenger-model")
    try:
        split = (
            Experiment(
                name=experiment,
                salt=experiment_salt,
                challenger_share=challenger_share,
                unit=experiment_unit,  # type: ignore[arg-type]  # checked by Experiment
            )
            if experiment is not None
            else None
        )
        run = open_scoring(
            events=events,
            decisions=decisions,
            verdicts=verdicts,
            labels=labels,
            pack=pack or DEFAULT_PACK,
            rejects=rejects,
            source_format=source_format,
            mapping=mapping,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            demo=demo,
            config=config,
            warn=lambda message: errors.print(f"[yellow]{message}"),
            models=model,
            logs=logs,
            model_mode="shadow" if model_mode == "shadow" else "live",
            experiment=split,
            challenger_pack=challenger_pack,
            challenger_models=challenger_model,
        )
    except (
        PackError,
        SecretError,
        SourceFormatError,
        MappingError,
        ModelDirectoryError,
        OSError,
        ValueError,
    ) as exc:
        raise _fail(str(exc)) from exc
    stats = _score_with_progress(run, events)
    _print_scoring(stats, run, decisions, verdicts)


def _score_with_progress(opened: OpenedScoring, events: Path) -> RunStats:
    total = count_lines(events)
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with opened.run as run, Progress(*columns, console=errors) as progress:
        task = progress.add_task(f"scoring {events.name}", total=total)
        return run.run(
            opened.source, str(events), lambda done: progress.update(task, completed=done)
        )


def _print_scoring(stats: RunStats, opened: OpenedScoring, decisions: Path, verdicts: Path) -> None:
    intake = opened.run.intake.stats
    resumed = f" (resumed after {stats.resumed_from:,} records)" if stats.resumed_from else ""
    console.print(
        f"scored {stats.events_scored:,} events{resumed} → {decisions}; "
        f"{stats.verdicts:,} verdicts → {verdicts}; labels applied {stats.labels_applied:,}",
        soft_wrap=True,
    )
    _print_intake(intake, opened.rejects)


@app.command()
def train(
    labels: Annotated[Path, typer.Option("--labels", help="Labels (contract label stream).")],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    events: Annotated[
        Path | None,
        typer.Option(
            "--events", help="Events to learn from, in time order (replayed for the features)."
        ),
    ] = None,
    logs: Annotated[
        Path | None,
        typer.Option(
            "--logs",
            help="Log folder of `rampart score --logs`: features as they were at decision time "
            "(instead of --events).",
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until",
            help="Use only events and labels with ts at or before this time (ISO 8601).",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        ),
    ] = None,
    label_delay: Annotated[
        str | None,
        typer.Option(
            "--label-delay",
            help="Labels take this long to arrive (e.g. 7d, 12h): train on events up to "
            "--until minus the delay, labelled as known at --until.",
        ),
    ] = None,
    area: Annotated[
        list[str] | None, typer.Option("--area", help="Train only this area (repeatable).")
    ] = None,
    pack: Annotated[
        Path | None, typer.Option("--pack", help="Rule pack the models read (default: built-in).")
    ] = None,
    source_format: FormatOption = None,
    mapping: MappingOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing model directory.")] = False,
) -> None:
    """Train per-area models from labelled events (replayed) or a decision log, and write a
    versioned model directory."""
    if (events is None) == (logs is None):
        raise _fail("give the events to replay (--events FILE) or a decision log (--logs DIR)")
    for path in (events, labels):
        if path is not None and not path.is_file():
            raise _fail(f"{path} does not exist")
    if logs is not None and not logs.is_dir():
        raise _fail(f"{logs} is not a log folder")
    try:
        delay = _duration(label_delay) if label_delay is not None else timedelta(0)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if delay and until is None:
        raise _fail("--label-delay needs --until (the moment the labels are known)")
    unknown = sorted(set(area or ()) - set(AREAS))
    if unknown:
        raise _fail(f"unknown area {', '.join(unknown)} (one of {', '.join(AREAS)})")
    cutoff = until.replace(tzinfo=UTC) if until is not None and until.tzinfo is None else until
    try:
        if logs is not None:
            with errors.status("reading point-in-time features from the log"):
                training = build_training_set_from_logs(
                    logs, labels, pack=pack or DEFAULT_PACK, until=cutoff, label_delay=delay
                )
            if training.omitted:
                errors.print(
                    f"[yellow]left out {len(training.omitted)} event fields the log does not "
                    f"hold on every event: {', '.join(training.omitted)}",
                    soft_wrap=True,
                )
        else:
            assert events is not None
            with errors.status("replaying events for point-in-time features"):
                training = build_training_set(
                    events,
                    labels,
                    pack=pack or DEFAULT_PACK,
                    until=cutoff,
                    source_format=source_format,
                    mapping=mapping,
                    label_delay=delay,
                )
        with errors.status(f"training on {len(training.ts):,} events"):
            result = train_models(
                training,
                out,
                areas=area,
                overwrite=overwrite,
                metadata={
                    "events": events.name if events is not None else None,
                    "logs": str(logs) if logs is not None else None,
                    "labels": labels.name,
                    "until": cutoff.isoformat() if cutoff is not None else None,
                    "label_delay_s": delay.total_seconds(),
                },
            )
    except (PackError, SourceFormatError, MappingError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    for model in result.trained:
        console.print(format_report(model.report))
    for skipped_area, reason in result.skipped.items():
        console.print(f"[yellow]skipped {skipped_area}: {reason}")
    console.print(f"model directory {out} version {result.version[:12]}")


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``90m``, ``30s``, ``2w`` as a duration."""
    number, unit = text[:-1], text[-1:]
    if unit not in _DURATION_UNITS or not number.replace(".", "", 1).isdigit():
        raise ValueError(f"--label-delay {text!r}: a number and a unit (s, m, h, d, w), e.g. 7d")
    return timedelta(seconds=float(number) * _DURATION_UNITS[unit])


_TIME_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]


@app.command()
def evaluate(
    events: Annotated[Path, typer.Option("--events", help="The labelled stream's events.")],
    decisions: Annotated[Path, typer.Option("--decisions", help="Rampart's decisions.")],
    verdicts: Annotated[Path, typer.Option("--verdicts", help="Rampart's entity verdicts.")],
    labels: Annotated[Path, typer.Option("--labels", help="The labels (ground truth).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
    ranking: Annotated[
        bool,
        typer.Option(
            "--ranking",
            help="Report the ranking figures instead: AUC ROC and average precision over events, "
            "precision at top-k entities per day.",
        ),
    ] = False,
    top_k: Annotated[
        int, typer.Option("--top-k", min=1, help="With --ranking: entities checked per day.")
    ] = 100,
    entity: Annotated[
        str,
        typer.Option(
            "--entity",
            help=f"With --ranking: the entity ranked per day, one of {', '.join(ENTITY_CHOICES)} "
            "(user: the event's own account).",
        ),
    ] = "user",
    keep_detected: Annotated[
        bool,
        typer.Option(
            "--keep-detected",
            help="With --ranking: keep entities found in a day's top k in the next days' "
            "rankings (by default they are taken out, as in the handbook protocol).",
        ),
    ] = False,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            help="With --ranking: rank only events with ts at or after this time (ISO 8601).",
            formats=_TIME_FORMATS,
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until",
            help="With --ranking: rank only events with ts before this time (ISO 8601).",
            formats=_TIME_FORMATS,
        ),
    ] = None,
    source_format: FormatOption = None,
    mapping: MappingOption = None,
) -> None:
    """Score decisions and verdicts against labels, as SCORING.md defines (--ranking: the
    classic protocol's ranking figures)."""
    for path in (events, decisions, verdicts, labels):
        if not path.exists():
            raise _fail(f"{path} does not exist")
    if entity not in ENTITY_CHOICES:
        raise _fail(f"unknown entity {entity!r}; choose one of {', '.join(ENTITY_CHOICES)}")
    try:
        event_lines = _event_lines(events, source_format, mapping)
    except (SourceFormatError, MappingError, OSError) as exc:
        raise _fail(str(exc)) from exc
    if ranking:
        result = rank_stream(
            event_lines,
            read_lines(decisions),
            read_lines(labels),
            top_k=top_k,
            entity=entity,
            remove_detected=not keep_detected,
            since=_aware(since),
            until=_aware(until),
        )
        if as_json:
            sys.stdout.write(result.to_json(indent=2) + "\n")
        else:
            _print_ranking(result)
        return
    scorecard = score_stream(
        event_lines, read_lines(decisions), read_lines(verdicts), read_lines(labels)
    )
    if as_json:
        sys.stdout.write(scorecard.to_json(indent=2) + "\n")
    else:
        console.print(render(scorecard))


def _aware(moment: datetime | None) -> datetime | None:
    """A time given without an offset is UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _event_lines(path: Path, source_format: str | None, mapping: Path | None) -> Iterator[bytes]:
    """The events as contract JSON lines, whatever their format (CSV and Parquet through the
    mapping; rows that cannot be turned into JSON are left out, as undecodable lines are)."""
    chosen = source_format or guess_format(path)
    if chosen == "jsonl":
        return read_lines(path)
    source = open_source(path, chosen, mapping)
    return (record.raw for record in source if isinstance(record, SourceRecord))


def _print_ranking(result: Ranking) -> None:
    window = " ".join(
        part
        for part in (
            f"from {result.since.isoformat()}" if result.since else "",
            f"until {result.until.isoformat()}" if result.until else "",
        )
        if part
    )
    table = Table(
        title=f"Ranking: {result.events:,} events {window}; top {result.top_k} "
        f"{result.entity} entities per day"
        + ("" if result.remove_detected else " (detected ones kept)")
    )
    for column in ("score", "events", "pos.", "AUC ROC", "AP", "entity-days", "pos.",
                   f"P@{result.top_k}/day", "days"):  # fmt: skip
        table.add_column(column, justify="left" if column == "score" else "right")
    for row in result.figures:
        table.add_row(
            row.area,
            f"{row.events:,}",
            f"{row.positive_events:,}",
            _figure(row.auc_roc),
            _figure(row.average_precision),
            f"{row.entity_days:,}",
            f"{row.positive_entity_days:,}",
            _figure(row.precision_at_k),
            f"{len(row.days):,}",
        )
    console.print(table)
    console.print(
        f"events without a decision {result.events_without_decision:,}, without a "
        f"{result.entity} {result.events_without_entity:,}, outside the window "
        f"{result.events_outside_window:,}, resent {result.duplicate_events:,}; labels "
        f"{result.labels:,} ({result.superseded_labels:,} superseded); undecodable lines "
        f"{result.undecodable:,}",
        soft_wrap=True,
    )


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@app.command()
def backtest(
    logs: Annotated[
        Path, typer.Option("--logs", help="Log folder written by `rampart score --logs`.")
    ],
    rule: Annotated[
        str | None,
        typer.Option("--rule", help="One rule expression to backtest (checked like a pack's)."),
    ] = None,
    pack: Annotated[
        Path | None,
        typer.Option(
            "--pack",
            help="Backtest every rule of this pack (with --rule: the catalogue to check it "
            "against; default: the built-in pack).",
        ),
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option("--area", help="With --rule: its risk area(s) (default: all eight)."),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Labels (contract JSON Lines): precision and recall."),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since", help="First event time (ISO 8601, inclusive).", formats=_TIME_FORMATS
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until",
            help="Last event time (ISO 8601, inclusive; a date: its whole day).",
            formats=_TIME_FORMATS,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    demo: Annotated[
        bool, typer.Option(help="Match ip labels through the public demo pseudonymisation key.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(help="Config file holding the pseudonymisation secret (ip labels)."),
    ] = None,
) -> None:
    """Backtest rules on logged decisions: hits, precision and recall against labels, legitimate
    users touched, per rule, area and day (the rules compiled to SQL, run in DuckDB)."""
    from rampart.detect.rules import load_pack
    from rampart.detect.rules.compile_sql import SqlCompileError
    from rampart.learn import backtest as bt
    from rampart.learn.backtest_report import render_backtest

    if rule is None and pack is None:
        raise _fail("give --rule EXPR or --pack DIR")
    if area and rule is None:
        raise _fail("--area goes with --rule (a pack's rules name their own areas)")
    try:
        loaded = load_pack(pack or DEFAULT_PACK)
        planned = (
            [bt.expression_rule(rule, loaded.catalogue, areas=area or (), lists=loaded.lists)]
            if rule is not None
            else bt.pack_rules(loaded)
        )
        pseudonymize_ip = None
        if labels is not None and (demo or config is not None):
            keyed = Pseudonymizer.from_config(demo=demo, config_path=config)
            pseudonymize_ip = lambda ip: keyed.token("ip", ip)  # noqa: E731
        result = bt.backtest(
            logs,
            planned,
            labels=bt.read_labels(labels) if labels is not None else None,
            pseudonymize_ip=pseudonymize_ip,
            since=_aware(since),
            until=_aware(until),
        )
    except (PackError, SqlCompileError, bt.BacktestError, SecretError, OSError) as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
        return
    for table in render_backtest(result):
        console.print(table)
    if result.ip_labels_skipped:
        errors.print(
            f"[yellow]{result.ip_labels_skipped:,} ip labels left out: the log keeps ips as "
            "pseudonyms; give --demo or --config to match them"
        )


@app.command()
def label(
    file: Annotated[Path, typer.Argument(help="Labels: the contract's JSON Lines, plain or gzip.")],
    records: Annotated[
        str | None,
        typer.Option(
            "--records",
            help="Records database: a SQLite file or a postgresql:// URL (else "
            "RAMPART_RECORDS_URL, else rampart-records.sqlite).",
        ),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Rejects file (JSON Lines: the problem and the line scrubbed of PII); "
            "without one, problems are printed."
        ),
    ] = None,
    actor: Annotated[str, typer.Option(help="Who is storing these labels (audit trail).")] = "cli",
    demo: Annotated[
        bool, typer.Option(help="Use the public demo pseudonymisation key (simulated data only).")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Config file holding the pseudonymisation secret (else RAMPART_PSEUDONYM_SECRET)."
        ),
    ] = None,
) -> None:
    """Store a label stream in the records: validated, each label once, with source and time."""
    _store_labels(file, records, rejects=rejects, actor=actor, demo=demo, config=config)


def _store_labels(
    file: Path,
    records: str | None,
    *,
    rejects: Path | None,
    actor: str,
    demo: bool,
    config: Path | None,
) -> None:
    """`rampart label`'s work (also `rampart score --labels L --records URL`)."""
    if not file.is_file():
        raise _fail(f"{file} does not exist")
    try:
        keeper = EntityKeeper(Pseudonymizer.from_config(demo=demo, config_path=config))
    except MissingSecretError:
        # Most labels name users, sellers and events: they need no secret. Only ids that are
        # PII (an ip, an e-mail, a phone) do, and those lines are rejected, never stored raw.
        keeper = EntityKeeper(None)
    except SecretError as exc:
        raise _fail(str(exc)) from exc
    printed: list[LabelProblem] = []
    unprinted = 0

    def show(problem: LabelProblem, raw: bytes) -> None:
        nonlocal unprinted
        if len(printed) < 20:
            printed.append(problem)
            errors.print(f"[red]✗[/red] {escape(str(problem))}", soft_wrap=True)
        else:
            unprinted += 1

    try:
        url = records_url(records)
        with ExitStack() as stack:
            store = stack.enter_context(Records.open(url, keeper=keeper))
            sink = (
                stack.enter_context(LabelRejects(rejects, keeper, source=str(file)))
                if rejects
                else None
            )
            stats = take_labels(
                read_lines(file),
                store.labels,
                keeper,
                actor=actor,
                origin=file.name,
                on_problem=sink.add if sink is not None else show,
            )
    except (RecordsError, SQLAlchemyError) as exc:
        # The driver's own message: SQLAlchemy's wrapper adds the statement and a help link.
        detail = str(getattr(exc, "orig", None) or exc).strip()
        raise _fail(f"records at {shown_url(records)}: {detail}") from exc
    if unprinted:
        errors.print(f"… and {unprinted:,} more invalid lines")
    console.print(
        f"{file}: read {stats.read:,} label lines: stored {stats.stored:,} new, "
        f"{stats.duplicates:,} already stored, {stats.invalid:,} invalid"
        + (f" (rejects in {rejects})" if rejects and stats.invalid else ""),
        soft_wrap=True,
    )
    console.print(f"records: {shown_url(url)}", soft_wrap=True)


@app.command()
def monitor(
    logs: Annotated[Path, typer.Option(help="Log folder written by `rampart score --logs`.")],
    reference_days: Annotated[
        int | None,
        typer.Option(
            help="Reference window: the log's first N days (default 7, or the first half of a "
            "shorter log)."
        ),
    ] = None,
    reference_since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Reference window start day (inclusive)."),
    ] = None,
    reference_until: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Reference window end day (inclusive)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the HTML monitoring report (index.html).")
    ] = None,
    rate_factor: Annotated[
        float, typer.Option(help="A rule's hit rate alerts outside [reference / k, reference * k].")
    ] = 3.0,
    psi_alert: Annotated[float, typer.Option(help="A feature's PSI alerts above this.")] = 0.25,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the alerts as JSON instead of a table.")
    ] = False,
) -> None:
    """Drift per day against a reference window: decision mix, rule hit rates, score and feature
    distributions (PSI); new alerts are appended to LOGS/alerts.jsonl."""
    from rampart.learn.monitor import Bands, reference_window
    from rampart.learn.monitor import monitor as run_monitor
    from rampart.learn.monitor_report import write_monitor_report
    from rampart.learn.monitor_store import alerts_path, append_alerts
    from rampart.logs import read_logs

    if reference_days is not None and (reference_since or reference_until):
        raise _fail("give --reference-days or --reference-since/--reference-until, not both")
    if not logs.is_dir():
        raise _fail(f"no log folder at {logs}")
    frame = read_logs(logs)
    days = (
        frame.select("day").unique().collect().get_column("day").to_list()
        if frame.collect_schema()
        else []
    )
    if not days:
        raise _fail(f"no decisions logged in {logs}")
    try:
        window = reference_window(
            days,
            reference_days=reference_days,
            since=reference_since.date() if reference_since else None,
            until=reference_until.date() if reference_until else None,
        )
    except ValueError as error:
        raise _fail(str(error)) from error
    bands = Bands(rate_factor=rate_factor, psi_alert=psi_alert)
    result = run_monitor(frame, window, bands)
    new = append_alerts(logs, result.alerts)
    page = write_monitor_report(out, result, bands) if out is not None else None
    if as_json:
        payload = {
            "reference_window": str(window),
            "days": [d.isoformat() for d in result.days],
            "alerts": result.alerts,
            "new_alerts": len(new),
            "report": str(page) if page else None,
        }
        sys.stdout.write(
            msgspec.json.format(msgspec.json.encode(payload), indent=2).decode() + "\n"
        )
        return
    table = Table(title=f"Alerts against the reference {window}", title_justify="left")
    table.add_column("day", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("subject", overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("detail")
    for alert in result.alerts:
        value = f"{alert.value:.3f}" if alert.kind == "feature_psi" else f"{alert.value:.2%}"
        table.add_row(
            alert.day.isoformat(), alert.kind, escape(alert.subject), value, escape(alert.detail)
        )
    console.print(table)
    monitored = len(result.monitored_days)
    console.print(
        f"{len(result.alerts)} alerts over {monitored} monitored days "
        f"({len(new)} new → {alerts_path(logs)})"
    )
    if page is not None:
        console.print(f"report → {page}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where the demo world and Rampart's output go.")] = Path(
        "rampart-demo"
    ),
    report: Annotated[Path, typer.Option(help="Folder of the HTML report.")] = Path(
        "rampart-report"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 7,
    preset: Annotated[str, typer.Option(help=f"World size: {', '.join(PRESETS)}.")] = "demo",
    difficulty: Annotated[str, typer.Option(help="easy or hard.")] = "hard",
) -> None:
    """Rampart's main job on the embedded default: a simulated marketplace under attack, scored
    live with the default pack, then the scorecard and a report to look at."""
    summary = _simulate_with_progress(out, seed, preset, difficulty)
    _print_world(summary, out)
    events, labels = out / "events.jsonl", out / "labels.jsonl"
    decisions, verdicts = out / "decisions.jsonl", out / "verdicts.jsonl"
    opened = open_scoring(
        events=events,
        decisions=decisions,
        verdicts=verdicts,
        labels=labels,
        pack=DEFAULT_PACK,
        rejects=out / "rejects.jsonl",
        source_format=None,
        mapping=None,
        checkpoint=None,
        checkpoint_every=50_000,
        demo=True,
        config=None,
        warn=lambda message: errors.print(f"[yellow]{message}"),
    )
    stats = _score_with_progress(opened, events)
    _print_scoring(stats, opened, decisions, verdicts)
    scorecard = evaluate_files(events, decisions, verdicts, labels)
    console.print(render(scorecard))
    # Imported here: the report's charts (matplotlib) are a third of every command's start-up.
    from rampart.learn.html import write_report

    page = write_report(
        report,
        scorecard,
        decisions,
        events,
        verdicts_path=verdicts,
        world=dataclasses.asdict(summary),
        title=f"Rampart demo: {preset}/{difficulty} seed {seed}",
    )
    console.print(f"\n[bold]Report:[/bold] {page.resolve()}", soft_wrap=True)


experiment_app = typer.Typer(help="Champion/challenger experiments.", no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("report")
def experiment_report(
    events: Annotated[Path, typer.Option("--events", help="The events the experiment scored.")],
    decisions: Annotated[
        Path, typer.Option("--decisions", help="Decisions of `rampart score --experiment`.")
    ],
    labels: Annotated[
        Path, typer.Option("--labels", help="Labels, late ones included (all are counted).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the readout as JSON.")] = False,
    name: Annotated[
        str | None,
        typer.Option("--experiment", help="Which experiment, when the decisions hold several."),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples for intervals.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    rates: Annotated[
        Path | None,
        typer.Option(
            "--rates",
            help='JSON object: currency -> units per one reference unit (e.g. {"USD": 1, '
            '"IDR": 15900}), to add up order amounts in several currencies.',
        ),
    ] = None,
) -> None:
    """Readout per arm: catch rate, precision, friction, prevented loss, with 95% intervals."""
    for path in (events, decisions, labels):
        if not path.is_file():
            raise _fail(f"{path} does not exist")
    try:
        conversion = (
            msgspec.json.decode(rates.read_bytes(), type=dict[str, float]) if rates else None
        )
        with errors.status("reading the experiment"):
            report = experiment_report_files(
                events,
                decisions,
                labels,
                experiment=name,
                bootstrap=bootstrap,
                seed=seed,
                rates=conversion,
            )
    except (OSError, ValueError, msgspec.DecodeError) as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(report).decode()) + "\n")
        return
    table = Table(title=f"experiment {report.experiment} (unit: {report.unit})")
    for column in ("figure", "champion", "challenger", "challenger − champion"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in table_rows(report):
        table.add_row(*row)
    console.print(table)
    console.print(footer(report), soft_wrap=True)


@app.command()
def promote(
    to: Annotated[str, typer.Option("--to", help="The mode to put it in: live or shadow.")],
    actor: Annotated[str, typer.Option("--actor", help="Who makes the change (audit trail).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
    rule: Annotated[str | None, typer.Option("--rule", help="A rule of --pack, by name.")] = None,
    pack: Annotated[
        Path | None, typer.Option("--pack", help="The rule's pack (default: built-in).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="A model directory from `rampart train`.")
    ] = None,
    area: Annotated[
        list[str] | None, typer.Option("--area", help="With --model: only this area's model.")
    ] = None,
    records: Annotated[
        str | None,
        typer.Option(
            "--records",
            help="Records database: a SQLite file or a postgresql:// URL (else "
            "RAMPART_RECORDS_URL, else rampart-records.sqlite).",
        ),
    ] = None,
) -> None:
    """Put a rule version or a model version in live or shadow mode: a recorded, audited change.

    The version (the rule's expression as the pack has it; the model directory's version) is
    recorded first when the records do not know it yet, in the mode the pack gives it (models:
    shadow).
    """
    if to not in ("live", "shadow"):
        raise _fail(f"--to must be live or shadow, not {to!r}")
    mode: Mode = "live" if to == "live" else "shadow"
    if (rule is None) == (model is None):
        raise _fail("give either --rule NAME (with --pack) or --model DIR")
    try:
        with Records.open(records_url(records)) as store:
            if rule is not None:
                loaded = load_pack(pack or DEFAULT_PACK)
                try:
                    found = loaded.rule(rule)
                except KeyError:
                    raise _fail(f"{loaded.name} has no rule {rule!r}") from None
                expression = found.expression.source
                version = rule_version_hash(expression)
                if store.rules.find(loaded.name, rule, version) is None:
                    start: Mode = "live" if found.mode == "live" else "shadow"
                    store.rules.record(loaded.name, rule, expression, start, actor=actor)
                changes = [
                    (
                        f"rule {loaded.name}/{rule} {version[:12]}",
                        store.promote_rule(
                            loaded.name, rule, version, to=mode, actor=actor, reason=reason
                        ),
                    )
                ]
            else:
                assert model is not None
                models = load_models(model)
                chosen = sorted(set(area) if area else set(models.models))
                missing = sorted(set(chosen) - set(models.models))
                if missing:
                    raise _fail(f"{model} has no model for {', '.join(missing)}")
                changes = []
                for name in chosen:
                    if store.models.find(models.version, name) is None:
                        report = dict(models.reports.get(name, {}))
                        store.models.record(models.version, name, report, "shadow", actor=actor)
                    changes.append(
                        (
                            f"model {models.version[:12]} {name}",
                            store.promote_model(
                                models.version, name, to=mode, actor=actor, reason=reason
                            ),
                        )
                    )
    except (PackError, ModelDirectoryError, OSError) as exc:
        raise _fail(str(exc)) from exc
    except (RecordsError, SQLAlchemyError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip()
        raise _fail(f"records at {shown_url(records)}: {detail}") from exc
    for what, change in changes:
        if change.changed:
            off = f"; turned off {len(change.turned_off)} earlier live version(s)"
            console.print(
                f"{what}: {change.before} → {change.after} by {actor} (audited)"
                + (off if change.turned_off else ""),
                soft_wrap=True,
            )
        else:
            console.print(f"{what}: already {change.after}, nothing changed", soft_wrap=True)


DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir", help="The server's folder: write-ahead log, API keys (hashed), state."
    ),
]

RedisOption = Annotated[
    str | None,
    typer.Option(
        "--redis",
        help="Share state with other replicas through this Redis (redis://host:port/db) "
        "instead of the local write-ahead log.",
    ),
]
NamespaceOption = Annotated[
    str, typer.Option(help="With --redis: the replicas sharing one log and state.")
]

keys_app = typer.Typer(help="API keys for `rampart serve`.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="ingest, analyst, investigator or admin.")],
    data_dir: DataDirOption = Path("rampart-data"),
) -> None:
    """Create an API key with a role; it is printed once and only its hash is kept."""
    from rampart.service.keys import ROLES, KeyStore

    if role not in ROLES:
        raise _fail(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    key = KeyStore(data_dir).create(role)
    errors.print(f"A new `{role}` key (shown once; only its hash is kept in {data_dir}):")
    print(key)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDirOption = Path("rampart-data"),
    pack: Annotated[
        Path | None, typer.Option("--pack", help="Rule pack folder (default: the built-in pack).")
    ] = None,
    demo: Annotated[bool, typer.Option(help="Use the public demo pseudonymisation key.")] = False,
    config: Annotated[
        Path | None, typer.Option(help="Config file holding the pseudonymisation secret.")
    ] = None,
    redis_url: RedisOption = None,
    namespace: NamespaceOption = "default",
    records: Annotated[
        str | None,
        typer.Option(
            "--records",
            envvar="RAMPART_RECORDS_URL",
            help="Records for the admin endpoints (rule versions, lists, audit): a SQLite file "
            "or a postgresql:// URL (default: records.sqlite in --data-dir).",
        ),
    ] = None,
    rate_limit: Annotated[
        float,
        typer.Option(
            "--rate-limit",
            help="Events a second each API key may send (a batch counts its events); 0: no limit.",
        ),
    ] = 20_000.0,
    rate_burst: Annotated[
        float | None,
        typer.Option(
            "--rate-burst",
            help="Events a key may send at once (default: a second's worth, at least a batch).",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API embedded (no services needed), or as a replica sharing Redis.

    The state is rebuilt first: from the latest snapshot and the log after it.
    """
    import uvicorn

    from rampart.service.admin import reconcile_lists
    from rampart.service.entities import EntityIndex
    from rampart.service.http import create_app
    from rampart.service.keys import KeyStore

    if rate_limit < 0 or (rate_burst is not None and rate_burst < 1):
        raise _fail("--rate-limit must be 0 (no limit) or more, --rate-burst at least 1")
    # Fed while the log is replayed, so recent decisions per entity survive a restart.
    index = EntityIndex()
    scorer = _open_scorer(data_dir, pack, demo, config, redis_url, namespace, observers=[index])
    stop_following = scorer.follow() if redis_url else lambda: None
    # The cycle collector walks the whole state for nothing (no cycles): 9-28% of the CPU an
    # event costs in the server (benchmarks/RESULTS.md, "Serving: the scorer in process").
    with scorer, _serve_records(records, data_dir, scorer) as store, scoring_gc():
        added = reconcile_lists(scorer, store)
        if added:
            errors.print(f"{added} list entries from the records were missing: applied")
        try:
            api = create_app(
                scorer,
                KeyStore(data_dir),
                rate_limit=rate_limit,
                rate_burst=rate_burst,
                entities=index,
                records=store,
            )
            # httptools and uvloop: the pure-Python parser and loop cost more CPU a request than
            # scoring an event. No access log: a path can carry an address
            # (/v1/entities/ip/...); the API's own log keeps the route template, status, time.
            uvicorn.run(
                api, host=host, port=port, http="httptools", loop="uvloop", access_log=False
            )
        finally:
            stop_following()


@app.command()
def consume(
    nats_url: Annotated[str, typer.Option("--nats", help="NATS server URL.")],
    subject: Annotated[str, typer.Option("--subject", help="Subject the events arrive on.")],
    data_dir: DataDirOption = Path("rampart-data"),
    pack: Annotated[
        Path | None, typer.Option("--pack", help="Rule pack folder (default: the built-in pack).")
    ] = None,
    demo: Annotated[bool, typer.Option(help="Use the public demo pseudonymisation key.")] = False,
    config: Annotated[
        Path | None, typer.Option(help="Config file holding the pseudonymisation secret.")
    ] = None,
    batch: Annotated[int, typer.Option(help="Messages fetched and scored at once.")] = 64,
    redis_url: RedisOption = None,
    namespace: NamespaceOption = "default",
) -> None:
    """Score events from a NATS JetStream durable consumer; answers go to S.decisions,
    S.verdicts and S.rejects. At least once, idempotent by event_id; stops on SIGTERM/SIGINT."""
    import asyncio

    from rampart.service.consume import ConsumeError, ConsumeOptions, run

    try:
        options = ConsumeOptions(subject=subject, batch=batch, max_ack_pending=max(1024, batch))
    except ConsumeError as exc:
        raise _fail(str(exc)) from exc
    scorer = _open_scorer(data_dir, pack, demo, config, redis_url, namespace)
    errors.print(f"consuming {subject} (stream {options.stream}, consumer {options.durable})")
    with scorer, scoring_gc():
        try:
            stats = asyncio.run(run(nats_url, scorer, options))
        except ConsumeError as exc:
            raise _fail(str(exc)) from exc
    errors.print(
        f"stopped: {stats.messages} messages, {stats.decisions} decisions "
        f"({stats.duplicates} re-sent), {stats.verdicts} verdicts, {stats.rejects} rejects"
    )


@contextmanager
def _serve_records(target: str | None, data_dir: Path, scorer: Scorer) -> Iterator[Records]:
    """The records `serve`'s admin endpoints write (migrated first), closed after serving.

    List values are pseudonymised with the scorer's secret, so the records name what its
    rules compare. A database out of reach later only stops the admin endpoints (503s).
    """
    where = target if target is not None else str(data_dir / "records.sqlite")
    try:
        store = Records.open(
            records_url(where), keeper=EntityKeeper(scorer.intake.privacy.pseudonymizer)
        )
    except (RecordsError, SQLAlchemyError, OSError) as exc:
        # Only the kind of failure: the driver's message may name the host and the user.
        raise _fail(f"records at {shown_url(where)}: {type(exc).__name__}") from exc
    errors.print(f"records: {shown_url(where)}", soft_wrap=True)
    with store:
        yield store


def _open_scorer(
    data_dir: Path,
    pack: Path | None,
    demo: bool,
    config: Path | None,
    redis_url: str | None,
    namespace: str,
    *,
    observers: Sequence[Observer] = (),
) -> Scorer:
    """The scorer of `serve` and `consume`, its state rebuilt (said on stderr)."""
    from rampart.service.journal import JournalUnavailableError
    from rampart.service.scorer import Scorer

    def warn(message: str) -> None:
        errors.print(f"[yellow]warning:[/yellow] {message}")

    try:
        scorer = Scorer.open(
            data_dir,
            pack=pack or DEFAULT_PACK,
            demo=demo,
            config=config,
            warn=warn,
            redis_url=redis_url,
            namespace=namespace,
            observers=observers,
        )
    except (PackError, SecretError, OSError, JournalUnavailableError) as exc:
        raise _fail(str(exc)) from exc
    source = f"Redis namespace {namespace!r}" if redis_url else str(data_dir / "wal")
    start = "the snapshot and " if scorer.restored else ""
    errors.print(f"replayed {start}{scorer.replayed} events from {source}")
    return scorer


if __name__ == "__main__":
    app()
