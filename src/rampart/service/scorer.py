"""One event at a time, from the caller's bytes to a decision: the core of the HTTP API.

A :class:`Scorer` puts the intake (validate, dedupe, late events, pseudonymise) in front of the
engine, behind one lock, so many request threads can share it. An accepted event is appended to
the write-ahead log (:mod:`rampart.service.wal`) and fsynced before it is scored and answered;
opening a scorer on the same data folder replays the log through a fresh intake and engine, which
are deterministic, so the online state and the answers to re-sent ids are those of a run that was
never stopped. Labels go through the same log, in the order they arrived among the events.

>>> import tempfile
>>> scorer = Scorer.open(Path(tempfile.mkdtemp()), demo=True)
>>> raw = (b'{"event_id":"e1","type":"account.login","ts":"2026-03-01T10:00:00Z",'
...        b'"user_id":"u1","props":{"success":true}}')
>>> scorer.score(raw).answer.action
'allow'
>>> scorer.score(raw).duplicate
True
>>> print(scorer.score(b'{"event_id":"e2","type":"account.login"}').error)
line 1, event e2: ts: is required
>>> scorer.close()
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, NamedTuple, TypeVar

import msgspec

from rampart.contract.outputs import Decision, Label, Verdict
from rampart.contract.validate import ContractError, parse_line
from rampart.detect.rules.pack import load_pack
from rampart.detect.stages import default_stages
from rampart.engine import Engine, feature_reads
from rampart.features.online import OnlineFeatures
from rampart.ingest.pipeline import Intake
from rampart.ingest.privacy import Accepted, EventPrivacy
from rampart.ingest.rejects import RejectKind, RejectSink
from rampart.ingest.sources.base import SourceRecord
from rampart.packs import DEFAULT_PACK
from rampart.service.assemble import choose_privacy
from rampart.service.changes import apply_change, check_change
from rampart.service.checkpoint import CheckpointStore
from rampart.service.runtime import scoring_gc
from rampart.service.wal import RecordKind, WriteAheadLog

R = TypeVar("R")

# Answers kept for re-sent ids and `GET /v1/decisions/{event_id}` (encoded, ~100 bytes each).
DEFAULT_DECISION_MEMORY: Final = 500_000

RejectionKind = Literal["invalid", "late", "duplicate"]


class Answer(Decision, kw_only=True, omit_defaults=True):
    """The contract decision, with the entity verdicts this event made Rampart find."""

    verdicts: list[Verdict] = msgspec.field(default_factory=list)


class EventResult(NamedTuple):
    """An event scored now, or a re-sent one answered with its stored decision."""

    answer: Answer
    duplicate: bool = False


class Rejection(NamedTuple):
    """Why an event or a label was not taken; nothing was changed."""

    error: ContractError
    kind: RejectionKind


class ScorerUnavailableError(RuntimeError):
    """The log could not be written: the scorer stops taking events until it is restarted."""


class _LastReject(RejectSink):
    """Keeps the intake's reject of the record in hand instead of writing it anywhere."""

    def __init__(self) -> None:
        super().__init__(None, lambda raw: "")
        self.last: Rejection | None = None

    def add(self, source: str, error: ContractError, raw: bytes, kind: RejectKind) -> None:
        self.count += 1
        self.last = Rejection(error, kind)

    def clear(self) -> None:
        self.last = None


class Scorer:
    """Thread-safe scoring of single events and labels with a write-ahead log."""

    def __init__(
        self,
        engine: Engine,
        privacy: EventPrivacy,
        wal: WriteAheadLog,
        *,
        decision_memory: int = DEFAULT_DECISION_MEMORY,
        observers: Sequence[Callable[[Accepted, Answer], None]] = (),
    ) -> None:
        self.engine = engine
        self._sink = _LastReject()
        self.intake = Intake(privacy, self._sink)
        self.wal = wal
        self.decision_memory = decision_memory
        self.failure: str | None = None
        self.replayed = 0
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        # Called with each event scored (replayed ones included), under the scorer's lock:
        # indexes of what was decided (recent decisions per entity) hang here.
        self.observers = list(observers)
        self._lock = threading.Lock()
        self._encode = msgspec.json.Encoder().encode
        self._decode_decision = msgspec.json.Decoder(Decision).decode
        self._decode_label = msgspec.json.Decoder(Label).decode
        self._replay()

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        pack: Path = DEFAULT_PACK,
        demo: bool = False,
        config: Path | None = None,
        warn: Callable[[str], None] = lambda message: None,
        decision_memory: int = DEFAULT_DECISION_MEMORY,
        observers: Sequence[Callable[[Accepted, Answer], None]] = (),
    ) -> Scorer:
        """A scorer for ``data_dir`` (created if new), its log replayed.

        Without a configured pseudonymisation secret, a random one is kept under
        ``data_dir/state`` so that the replayed state is the one the answers came from.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        privacy = choose_privacy(
            demo=demo, config=config, store=CheckpointStore(data_dir / "state"), warn=warn
        )
        return cls(
            build_engine(pack, privacy),
            privacy,
            WriteAheadLog(data_dir / "wal", key=privacy.pseudonymizer.derive_key("wal")),
            decision_memory=decision_memory,
            observers=observers,
        )

    # --- events --------------------------------------------------------------------------------

    def score(self, raw: bytes) -> EventResult | Rejection:
        """Score one event given as JSON bytes; durable in the log before it returns."""
        return self.score_many([raw])[0]

    def score_many(self, raws: Sequence[bytes]) -> list[EventResult | Rejection]:
        """Score events in order with one fsync for all; a result each (``line``: index + 1)."""
        with self._lock:
            self._check()
            taken: list[Accepted | Rejection | str] = []
            for line, raw in enumerate(raws, start=1):
                item = self._take(raw, line)
                if isinstance(item, Accepted):
                    self._log("event", raw)
                taken.append(item)
            if any(isinstance(item, Accepted) for item in taken):
                self._sync()
            results = [self._process(i) if isinstance(i, Accepted) else None for i in taken]
            # Re-sent ids are answered last: an id sent twice in one batch gets its first answer.
            return [
                result if result is not None else self._resent(item, line)
                for line, (item, result) in enumerate(zip(taken, results, strict=True), start=1)
            ]

    def read(self, call: Callable[[Scorer], R]) -> R:
        """``call`` on this scorer under its lock: a consistent view between two events."""
        with self._lock:
            return call(self)

    def decision(self, event_id: str) -> Decision | None:
        """The decision given to ``event_id``, while it is held."""
        with self._lock:
            stored = self._answers.get(event_id)
        return self._decode_decision(stored) if stored is not None else None

    def _take(self, raw: bytes, line: int) -> Accepted | Rejection | str:
        """The intake's verdict on one record: accepted, rejected, or the id of a re-sent one."""
        self._sink.clear()
        for accepted in self.intake.run([SourceRecord(line, raw)], "http"):
            if accepted.event.event_id in self._answers:
                return accepted.event.event_id
            return accepted
        if (rejected := self._sink.last) is not None:
            return rejected
        # The intake dropped a re-sent id; the line is valid, so it parses.
        event = parse_line(raw, line)
        assert not isinstance(event, ContractError)
        return event.event_id

    def _process(self, accepted: Accepted) -> EventResult:
        scored = self.engine.process(accepted)
        event_id = accepted.event.event_id
        if scored.duplicate:
            return EventResult(Answer(**msgspec.structs.asdict(scored.decision)), duplicate=True)
        self._remember(event_id, scored.decision)
        answer = Answer(**msgspec.structs.asdict(scored.decision), verdicts=scored.verdicts)
        for observer in self.observers:
            observer(accepted, answer)
        return EventResult(answer)

    def _resent(self, item: Accepted | Rejection | str, line: int) -> EventResult | Rejection:
        if isinstance(item, Rejection):
            return item
        assert isinstance(item, str)
        stored = self._answers.get(item)
        if stored is None:
            error = ContractError(
                line=line,
                event_id=item,
                path="event_id",
                reason=(
                    "was scored before, and its decision is older than the "
                    f"{self.decision_memory} held"
                ),
            )
            return Rejection(error, "duplicate")
        decision = self._decode_decision(stored)
        return EventResult(Answer(**msgspec.structs.asdict(decision)), duplicate=True)

    def _remember(self, event_id: str, decision: Decision) -> None:
        self._answers[event_id] = self._encode(decision)
        if len(self._answers) > self.decision_memory:
            self._answers.popitem(last=False)

    # --- labels --------------------------------------------------------------------------------

    def label(self, raw: bytes) -> Label | Rejection:
        """Apply one contract label; without a ``ts`` it is known as of the latest event time."""
        try:
            label = self._decode_label(raw)
        except msgspec.DecodeError as exc:
            return Rejection(_label_error(exc), "invalid")
        with self._lock:
            self._check()
            if label.ts is None:
                watermark = self.intake.late_policy.watermark
                if watermark == float("-inf"):
                    error = ContractError(
                        line=1, event_id=None, path="ts", reason="is required before any event"
                    )
                    return Rejection(error, "invalid")
                label = msgspec.structs.replace(label, ts=_moment(watermark))
            self._log("label", self._encode(label))
            self._sync()
            self.engine.apply_label(label)
        return label

    # --- changes to what scores (rule packs, lists, models) ----------------------------------

    def change(self, payload: bytes) -> None:
        """Apply one change to the engine (see :mod:`rampart.service.changes`), logged first.

        A change takes effect between two events and is replayed in its place, so a restart
        gives the decisions the running server gave. ``payload`` is checked before it is logged:
        a bad one raises ``ValueError`` and changes nothing.
        """
        check_change(payload)
        with self._lock:
            self._check()
            self._log("change", payload)
            self._sync()
            apply_change(self.engine, payload)

    # --- the log -------------------------------------------------------------------------------

    def _replay(self) -> None:
        with self._lock, scoring_gc():
            for kind, payload in self.wal.records():
                if kind == "label":
                    self.engine.apply_label(self._decode_label(payload))
                    continue
                if kind == "change":
                    apply_change(self.engine, payload)
                    continue
                item = self._take(payload, 1)
                if isinstance(item, Accepted):
                    self._process(item)
                self.replayed += 1

    def _log(self, kind: RecordKind, payload: bytes) -> None:
        try:
            self.wal.append(kind, payload)
        except OSError as exc:
            self._fail(exc)

    def _sync(self) -> None:
        try:
            self.wal.sync()
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        # The intake has taken what the log could not keep: answering more would drift from
        # what a restart replays.
        self.failure = f"the write-ahead log could not be written ({exc.strerror or exc})"
        raise ScorerUnavailableError(self.failure) from exc

    def _check(self) -> None:
        if self.failure is not None:
            raise ScorerUnavailableError(self.failure)

    def close(self) -> None:
        with self._lock:
            self.wal.close()

    def __enter__(self) -> Scorer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def build_engine(pack: Path, privacy: EventPrivacy) -> Engine:
    """The engine of ``rampart score`` for ``pack`` (no models), computing what its rules read."""
    loaded = load_pack(pack)
    return Engine(
        loaded.rules,
        OnlineFeatures(list(loaded.features), reads=feature_reads(loaded.rules, None)),
        pseudonymize_ip=lambda ip: privacy.pseudonymizer.token("ip", ip),
        stages=default_stages(),
    )


def _label_error(exc: msgspec.DecodeError) -> ContractError:
    """msgspec's message as a path and a reason (``Expected ... - at `$.area```)."""
    message = str(exc)
    path = ""
    if " - at `$" in message:
        message, _, where = message.rpartition(" - at `$")
        path = where.rstrip("`").lstrip(".")
    if not isinstance(exc, msgspec.ValidationError):
        message = f"the body is not valid JSON ({message.removeprefix('JSON is malformed: ')})"
    return ContractError(line=1, event_id=None, path=path or None, reason=message)


def _moment(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
