"""Score a stream of events from files, in order, with labels applied at their time.

One decision per accepted event goes to the decisions file and every entity verdict to the
verdicts file as it is found; with a log folder, each decision with the row the detectors saw,
and each verdict, also go to the Parquet log (:mod:`rampart.logs`). With a checkpoint folder the
run survives a kill: it resumes from the last checkpoint and ends with exactly the files an
uninterrupted run writes (and a log holding each event once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final

import msgspec

from rampart.contract.outputs import Label
from rampart.durable import sync_file
from rampart.engine import Engine, FeatureState
from rampart.ingest.pipeline import Intake
from rampart.ingest.sources.base import SourceItem
from rampart.logs.writer import LogWriter
from rampart.service.checkpoint import Checkpoint, CheckpointStore, IntakeCheckpoint
from rampart.service.runtime import scoring_gc

DEFAULT_CHECKPOINT_EVERY: Final = 50_000


class OutputFile:
    """An append-only output whose length can be made durable and rolled back to."""

    def __init__(self, path: Path, resume_at: int | None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume_at is None:
            self._handle: BinaryIO = path.open("wb")
        else:
            self._handle = path.open("r+b")
            self._handle.truncate(resume_at)
            self._handle.seek(resume_at)

    def write(self, data: bytes) -> None:
        self._handle.write(data)

    def durable_size(self) -> int:
        """Flush and fsync, then give the length that is now on disk."""
        return sync_file(self._handle)

    def close(self) -> None:
        self._handle.close()


@dataclass
class RunStats:
    events_scored: int = 0
    duplicates: int = 0
    verdicts: int = 0
    labels_applied: int = 0
    resumed_from: int = 0


def load_labels(path: Path, on_problem: Callable[[str], None] | None = None) -> list[Label]:
    """Labels that carry a time, ordered by it (a label without ``ts`` cannot be placed in time).

    A line that is not a contract label is reported to ``on_problem`` with its line number and
    reason, and the others are kept; without ``on_problem`` it raises ``ValueError``.
    """
    decoder = msgspec.json.Decoder(Label)
    labels = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                label = decoder.decode(line)
            except msgspec.DecodeError as exc:  # ValidationError included
                problem = f"{path.name} line {number}: {exc}"
                if on_problem is None:
                    raise ValueError(problem) from exc
                on_problem(problem)
                continue
            if label.ts is not None:
                labels.append(label)
    labels.sort(key=lambda label: label.ts.timestamp() if label.ts else 0.0)
    return labels


class ScoringRun:
    """Reads events once in order and writes decisions and verdicts, with optional checkpoints."""

    def __init__(
        self,
        *,
        intake: Intake,
        engine: Engine,
        decisions: Path,
        verdicts: Path,
        labels: Sequence[Label] = (),
        checkpoints: CheckpointStore | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        run_fingerprint: str = "",
        restore_features: Callable[[bytes], FeatureState] | None = None,
        logs: LogWriter | None = None,
    ) -> None:
        self.intake = intake
        self.engine = engine
        self.labels = labels
        self.checkpoints = checkpoints
        self.checkpoint_every = checkpoint_every
        self.fingerprint = run_fingerprint
        self.stats = RunStats()
        self._restore_features = restore_features
        self._consumed = 0
        self._labels_applied = 0
        resume = checkpoints.load() if checkpoints is not None else None
        if resume is not None and resume.run_fingerprint != run_fingerprint:
            raise ValueError(
                "the checkpoint was written for another run (rule pack, inputs, options or "
                "pseudonymisation key differ); remove the checkpoint folder to start over"
            )
        sizes = resume.output_sizes if resume is not None else {}
        self._outputs = {
            "decisions": OutputFile(decisions, sizes.get("decisions")),
            "verdicts": OutputFile(verdicts, sizes.get("verdicts")),
        }
        self.logs = logs
        if resume is not None:
            self._restore(resume)
        elif logs is not None and checkpoints is not None:
            # A first point before any part is written: a run killed before its first
            # checkpoint resumes from here and drops the parts it wrote.
            self.checkpoint()
        self._encode = msgspec.json.Encoder().encode

    def _restore(self, checkpoint: Checkpoint) -> None:
        checkpoint.intake.restore(self.intake)
        self.engine.load_state(checkpoint.engine)
        self._consumed = checkpoint.records_consumed
        self._labels_applied = checkpoint.labels_applied
        self.stats.resumed_from = checkpoint.records_consumed
        if self._restore_features is None:
            raise ValueError("a checkpoint was found but these features cannot be restored")
        self.engine.features = self._restore_features(checkpoint.features)
        if self.logs is not None:
            if checkpoint.logs is None:
                raise ValueError("the checkpoint was written by a run without a log folder")
            self.logs.rollback(checkpoint.logs)

    def run(
        self, records: Iterable[SourceItem], source: str, progress: Callable[[int], None] | None
    ) -> RunStats:
        """Score every record after the resume point; returns the run's counts."""
        engine = self.engine
        decisions = self._outputs["decisions"]
        verdicts = self._outputs["verdicts"]
        encode = self._encode
        log = self.logs.append if self.logs is not None else None
        with scoring_gc():
            since_checkpoint = 0
            for accepted in self.intake.run(self._counted(records), source):
                self._apply_labels_until(accepted.event.ts.timestamp())
                scored = engine.process(accepted)
                if scored.duplicate:
                    self.stats.duplicates += 1
                    continue
                decisions.write(encode(scored.decision) + b"\n")
                for verdict in scored.verdicts:
                    verdicts.write(encode(verdict) + b"\n")
                if log is not None:
                    log(accepted, scored)
                self.stats.events_scored += 1
                self.stats.verdicts += len(scored.verdicts)
                since_checkpoint += 1
                if since_checkpoint >= self.checkpoint_every:
                    since_checkpoint = 0
                    self.checkpoint()
                    if progress is not None:
                        progress(self._consumed)
            self._apply_labels_until(float("inf"))
            self.checkpoint()
            if progress is not None:
                progress(self._consumed)
        return self.stats

    def _counted(self, records: Iterable[SourceItem]) -> Iterator[SourceItem]:
        skip = self._consumed
        for position, record in enumerate(records, start=1):
            if position <= skip:
                continue
            self._consumed = position
            yield record

    def _apply_labels_until(self, ts: float) -> None:
        """Apply every label known before ``ts``."""
        labels = self.labels
        while self._labels_applied < len(labels):
            label = labels[self._labels_applied]
            assert label.ts is not None
            # Strictly earlier labels only: an event never sees what became known at its own
            # instant (or later).
            if label.ts.timestamp() >= ts:
                break
            self.engine.apply_label(label)
            self._labels_applied += 1
            self.stats.labels_applied += 1

    def checkpoint(self) -> None:
        """Make the outputs durable and, with a checkpoint folder, record this point."""
        sizes = {name: output.durable_size() for name, output in self._outputs.items()}
        if self.logs is not None:
            self.logs.flush()
        if self.checkpoints is None:
            return
        rejects = self.intake.rejects
        if rejects.path is not None:
            sizes["rejects"] = rejects.durable_size()
        self.checkpoints.save(
            Checkpoint(
                run_fingerprint=self.fingerprint,
                records_consumed=self._consumed,
                labels_applied=self._labels_applied,
                output_sizes=sizes,
                intake=IntakeCheckpoint.of(self.intake),
                engine=self.engine.state(),
                features=self.engine.features.snapshot(),
                logs=self.logs.state() if self.logs is not None else None,
            )
        )

    def close(self) -> None:
        for output in self._outputs.values():
            output.close()
        if self.logs is not None:
            self.logs.close()
        self.intake.rejects.close()

    def __enter__(self) -> ScoringRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def rejects_for_resume(path: Path | None, store: CheckpointStore | None) -> None:
    """Roll the rejects file back to the last checkpoint before it is reopened for appending."""
    if path is None or store is None or not path.exists():
        return
    checkpoint = store.load()
    if checkpoint is None:
        path.unlink()
        return
    size = checkpoint.output_sizes.get("rejects")
    if size is not None:
        with path.open("r+b") as handle:
            handle.truncate(size)
