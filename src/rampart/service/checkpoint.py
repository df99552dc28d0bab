"""Checkpoints of a scoring run: a killed run resumes with exactly the decisions it would give.

A checkpoint records, at one consistent point, how many input records were consumed, how many
labels were applied, the byte length of every output file, the decision log's next part
number, and the whole state (intake, engine,
features). It is written to a temporary file, fsynced and renamed over the previous one, so a
crash leaves either the old checkpoint or the new one, never half of one. Outputs are fsynced
before the checkpoint that names their length, and truncated back to it on resume (log parts
numbered past the checkpoint are deleted): what was written after the last checkpoint is written
again, identically, because the engine is
deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import msgspec

from rampart.durable import replace_file
from rampart.engine import EngineState
from rampart.ingest.dedupe import DeduperState
from rampart.ingest.pipeline import Intake
from rampart.logs.writer import LogState

CHECKPOINT_FILE: Final = "checkpoint.msgpack"
SECRET_FILE: Final = "ephemeral-secret"


class IntakeCheckpoint(msgspec.Struct, kw_only=True):
    watermark: float
    deduper: DeduperState
    read: int
    accepted: int
    invalid: int
    late: int
    duplicates: int
    by_type: dict[str, int]

    @classmethod
    def of(cls, intake: Intake) -> IntakeCheckpoint:
        """What ``intake`` holds now: its watermark, the ids it remembers and its counts."""
        stats = intake.stats
        return cls(
            watermark=intake.late_policy.watermark,
            deduper=intake.deduper.state(),
            read=stats.read,
            accepted=stats.accepted,
            invalid=stats.invalid,
            late=stats.late,
            duplicates=stats.duplicates,
            by_type=dict(stats.by_type),
        )

    def restore(self, intake: Intake) -> None:
        """Put this point back into a fresh ``intake``."""
        intake.late_policy.watermark = self.watermark
        intake.deduper.load_state(self.deduper)
        stats = intake.stats
        stats.read, stats.accepted, stats.invalid = self.read, self.accepted, self.invalid
        stats.late, stats.duplicates = self.late, self.duplicates
        stats.by_type = dict(self.by_type)


class Checkpoint(msgspec.Struct, kw_only=True):
    """One consistent point of a run."""

    run_fingerprint: str
    records_consumed: int
    labels_applied: int
    output_sizes: dict[str, int]
    intake: IntakeCheckpoint
    engine: EngineState
    features: bytes
    # The decision log's point (with ``--logs``): parts from ``next_part`` on are dropped.
    logs: LogState | None = None


class CheckpointStore:
    """Reads and atomically writes the checkpoint of one run in its folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / CHECKPOINT_FILE

    def load(self) -> Checkpoint | None:
        if not self.path.exists():
            return None
        return msgspec.msgpack.decode(self.path.read_bytes(), type=Checkpoint)

    def save(self, checkpoint: Checkpoint) -> None:
        replace_file(self.path, msgspec.msgpack.encode(checkpoint))

    def ephemeral_secret(self) -> bytes:
        """A random pseudonymisation key kept with this run's state (when none is configured).

        Pseudonyms must stay stable across a restart of the same run, so the key lives beside
        the checkpoint (readable by the owner only); it is never used for anything else.
        """
        path = self.folder / SECRET_FILE
        if path.exists():
            return path.read_bytes()
        secret = os.urandom(32)
        # Written whole to a private temporary file, then renamed: a kill leaves no empty key.
        replace_file(path, secret, private=True)
        return secret
