"""One event at a time, from the caller's bytes to a decision: the core of the HTTP API.

A :class:`Scorer` puts the intake (validate, dedupe, late events, pseudonymise) in front of the
engine, behind one lock, so many request threads can share it. A valid event is appended to the
journal (:mod:`rampart.service.journal`: the local write-ahead log, or a log in Redis shared by
replicas), applied in the journal's order, and answered once the journal holds it durably
(concurrent requests share one fsync). Opening a scorer starts from the journal's latest
snapshot and applies the records after it through a fresh intake and engine, which are
deterministic, so the online state and the answers to re-sent ids are those of a run that was
never stopped. Labels and changes go through the same journal, in the order they arrived among
the events.

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

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, NamedTuple, Protocol, TypeVar

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
from rampart.service.changes import apply_change, check_change, serve_pack
from rampart.service.checkpoint import CheckpointStore, IntakeCheckpoint
from rampart.service.journal import (
    DEFAULT_SNAPSHOT_GAP,
    Applied,
    Journal,
    JournalUnavailableError,
    LocalJournal,
)
from rampart.service.runtime import scoring_gc
from rampart.service.snapshot import ScorerState, decode_scorer_state, encode_scorer_state
from rampart.service.wal import RecordKind

R = TypeVar("R")

# Answers kept for re-sent ids and `GET /v1/decisions/{event_id}` (encoded, ~100 bytes each).
DEFAULT_DECISION_MEMORY: Final = 500_000
# Records between two snapshots: what a restart replays at most (about a minute at 5k/s).
DEFAULT_SNAPSHOT_EVERY: Final = 250_000

RejectionKind = Literal["invalid", "late", "duplicate"]


class Answer(Decision, kw_only=True, omit_defaults=True):
    """The contract decision, with the entity verdicts this event made Rampart find."""

    verdicts: list[Verdict] = msgspec.field(default_factory=list)


class Observer(Protocol):
    """Told of each event scored (replayed ones included), under the scorer's lock.

    What it holds goes into the scorer's snapshots, so a scorer restored from one has it too.
    """

    def add(self, accepted: Accepted, answer: Answer) -> None: ...

    def state(self) -> bytes: ...

    def load_state(self, data: bytes) -> None: ...


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
    """Thread-safe scoring of single events and labels through a journal.

    Every record (event, label, change) is checked without touching the state, appended to the
    journal, then applied in the journal's order; the answer waits until the journal holds the
    record durably. With the local journal the order is this process's; with the shared one it
    is the order of the log all replicas append to, and each applies the others' records too.
    """

    def __init__(
        self,
        engine: Engine,
        privacy: EventPrivacy,
        journal: Journal,
        *,
        decision_memory: int = DEFAULT_DECISION_MEMORY,
        observers: Sequence[Observer] = (),
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
    ) -> None:
        self.engine = engine
        self._sink = _LastReject()
        self.intake = Intake(privacy, self._sink)
        self.journal = journal
        self.decision_memory = decision_memory
        self.snapshot_every = snapshot_every
        self.failure: str | None = None
        self.replayed = 0
        self.restored = False
        self._since_snapshot = 0
        self._snapshotting: threading.Thread | None = None
        self._changes: list[bytes] = []
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        # Indexes of what was decided (recent decisions per entity) hang here.
        self.observers = list(observers)
        self._lock = threading.Lock()
        self._encode = msgspec.json.Encoder().encode
        self._decode_decision = msgspec.json.Decoder(Decision).decode
        self._decode_answer = msgspec.json.Decoder(Answer).decode
        self._decode_label = msgspec.json.Decoder(Label).decode
        self._start()

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
        observers: Sequence[Observer] = (),
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        redis_url: str | None = None,
        namespace: str = "default",
        snapshot_gap: float = DEFAULT_SNAPSHOT_GAP,
    ) -> Scorer:
        """A scorer for ``data_dir`` (created if new), started from its snapshot and log.

        Without a configured pseudonymisation secret, a random one is kept under
        ``data_dir/state`` so that the replayed state is the one the answers came from (replicas
        sharing Redis must all be given the same secret). With ``redis_url`` the journal is the
        log shared by every replica of ``namespace`` (:mod:`rampart.service.shared`), which keeps
        one snapshot per ``snapshot_gap`` seconds at most.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        privacy = choose_privacy(
            demo=demo, config=config, store=CheckpointStore(data_dir / "state"), warn=warn
        )
        derive = privacy.pseudonymizer.derive_key
        journal: Journal
        if redis_url is not None:
            from rampart.service.shared import SharedJournal

            journal = SharedJournal.connect(
                redis_url,
                namespace,
                key=derive("wal"),
                snapshot_key=derive("snapshot"),
                snapshot_gap=snapshot_gap,
                warn=warn,
            )
        else:
            journal = LocalJournal(data_dir, wal_key=derive("wal"), snapshot_key=derive("snapshot"))
        return cls(
            build_engine(pack, privacy),
            privacy,
            journal,
            decision_memory=decision_memory,
            observers=observers,
            snapshot_every=snapshot_every,
        )

    # --- events --------------------------------------------------------------------------------

    def score(self, raw: bytes) -> EventResult | Rejection:
        """Score one event given as JSON bytes; durable in the journal before it returns."""
        return self.score_many([raw])[0]

    def score_many(self, raws: Sequence[bytes]) -> list[EventResult | Rejection]:
        """Score events in order, durable together; a result each (``line``: index + 1)."""
        results: list[EventResult | Rejection | None] = [None] * len(raws)
        valid: list[tuple[int, str]] = []
        for index, raw in enumerate(raws):
            # Checked before the journal: an invalid line is never logged, never applied.
            parsed = parse_line(raw, index + 1)
            if isinstance(parsed, ContractError):
                results[index] = Rejection(parsed, "invalid")
            else:
                valid.append((index, parsed.event_id))
        with self._lock:
            self._check()
            # An id answered before is answered again without touching the journal.
            fresh: list[int] = []
            for index, event_id in valid:
                stored = self._answers.get(event_id)
                if stored is not None:
                    results[index] = EventResult(self._decode_answer(stored), duplicate=True)
                else:
                    fresh.append(index)
            ticket = 0
            if fresh:
                records: list[tuple[RecordKind, bytes]] = [("event", raws[i]) for i in fresh]
                outcomes, ticket = self._record(records, [index + 1 for index in fresh])
                for index, outcome in zip(fresh, outcomes, strict=True):
                    assert isinstance(outcome, EventResult | Rejection)
                    results[index] = outcome
            snapshot = self._snapshot_due()
        self._settle(ticket, snapshot)
        answered = [result for result in results if result is not None]
        assert len(answered) == len(raws)
        return answered

    def read(self, call: Callable[[Scorer], R]) -> R:
        """``call`` on this scorer under its lock, caught up with the journal."""
        with self._lock:
            self._catch_up()
            return call(self)

    def follow(self, every: float = 1.0) -> Callable[[], None]:
        """Catch up with the journal every ``every`` s in the background; returns the stop.

        A replica that takes few events still applies the others' records as they come, so its
        reads are fresh and it never falls behind the shared log's trimmed part.
        """
        stop = threading.Event()

        def catch_up() -> None:
            while not stop.wait(every):
                # Unavailable: the next request and /readyz report it.
                with contextlib.suppress(ScorerUnavailableError):
                    self.read(lambda scorer: None)

        threading.Thread(target=catch_up, name="rampart-follow", daemon=True).start()
        return stop.set

    def unready(self) -> str | None:
        """Why this scorer cannot take events now (None: it can); catches up to find out."""
        if self.failure is not None:
            return self.failure
        try:
            self.read(lambda scorer: None)
        except ScorerUnavailableError as exc:
            return str(exc)
        return None

    def decision(self, event_id: str) -> Decision | None:
        """The decision given to ``event_id``, while it is held."""
        stored = self.read(lambda scorer: scorer._answers.get(event_id))
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
        return _event_id(raw)

    def _process(self, accepted: Accepted) -> EventResult:
        scored = self.engine.process(accepted)
        event_id = accepted.event.event_id
        if scored.duplicate:
            return EventResult(Answer(**msgspec.structs.asdict(scored.decision)), duplicate=True)
        answer = Answer(**msgspec.structs.asdict(scored.decision), verdicts=scored.verdicts)
        self._remember(event_id, answer)
        for observer in self.observers:
            observer.add(accepted, answer)
        return EventResult(answer)

    def _resent(self, event_id: str, line: int) -> EventResult | Rejection:
        stored = self._answers.get(event_id)
        if stored is None:
            error = ContractError(
                line=line,
                event_id=event_id,
                path="event_id",
                reason=(
                    "was scored before, and its decision is older than the "
                    f"{self.decision_memory} held"
                ),
            )
            return Rejection(error, "duplicate")
        return EventResult(self._decode_answer(stored), duplicate=True)

    def _remember(self, event_id: str, answer: Answer) -> None:
        # With its verdicts: a re-sent event (a redelivery after a crash that lost what was
        # published) gets the whole answer again.
        self._answers[event_id] = self._encode(answer)
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
            (result,), ticket = self._record([("label", self._encode(label))], [1])
            snapshot = self._snapshot_due()
        self._settle(ticket, snapshot)
        assert isinstance(result, Label | Rejection)
        return result

    def _apply_label(self, payload: bytes) -> Label | Rejection:
        label = self._decode_label(payload)
        if label.ts is None:
            # Known as of the latest event time when applied: the same point on every replay.
            watermark = self.intake.late_policy.watermark
            if watermark == float("-inf"):
                error = ContractError(
                    line=1, event_id=None, path="ts", reason="is required before any event"
                )
                return Rejection(error, "invalid")
            label = msgspec.structs.replace(label, ts=_moment(watermark))
        self.engine.apply_label(label)
        return label

    # --- changes to what scores (rule packs, lists, models) ----------------------------------

    def change(self, payload: bytes) -> None:
        """Apply one change to the engine (see :mod:`rampart.service.changes`), logged first.

        A change takes effect between two events and is replayed in its place, so a restart
        gives the decisions the running server gave. ``payload`` is checked before it is logged:
        a bad one raises ``ValueError`` and changes nothing.
        """
        with self._lock:
            self._check()
            check_change(payload, self.engine)
            _, ticket = self._record([("change", payload)], [1])
        self._settle(ticket, None)

    # --- the journal ---------------------------------------------------------------------------

    def _start(self) -> None:
        state, records = self.journal.start()
        with self._lock, scoring_gc():
            if state is not None:
                self._restore(state)
                self.restored = True
            for kind, payload in records:
                self._apply(kind, payload, 1)
                self.replayed += kind == "event"

    def _apply(
        self, kind: RecordKind, payload: bytes, line: int
    ) -> EventResult | Rejection | Label | None:
        """Apply one journal record: the only place the state changes."""
        self._since_snapshot += 1
        if kind == "label":
            return self._apply_label(payload)
        if kind == "change":
            apply_change(self.engine, payload)
            self._changes.append(payload)
            return None
        item = self._take(payload, line)
        if isinstance(item, Accepted):
            return self._process(item)
        if isinstance(item, Rejection):
            return item
        return self._resent(item, line)

    def _record(
        self, records: Sequence[tuple[RecordKind, bytes]], lines: Sequence[int]
    ) -> tuple[list[EventResult | Rejection | Label | None], int]:
        """Append ``records`` and apply, in the journal's order, all it hands back (other
        replicas' records too): this call's outcomes, in order, and the durability ticket.

        Called under the lock; :meth:`_settle` waits for the ticket once the lock is let go.
        """
        applied, ticket = self._exchange(records)
        outcomes: list[EventResult | Rejection | Label | None] = [None] * len(records)
        for kind, payload, mine in applied:
            outcome = self._apply(kind, payload, lines[mine] if mine is not None else 1)
            if mine is not None:
                outcomes[mine] = outcome
        return outcomes, ticket

    def _settle(self, ticket: int, snapshot: tuple[str, bytes] | None) -> None:
        """Outside the lock: return once the records are durable, then save a snapshot encoded
        inline (without ``fork``) if one was due."""
        self._wait(ticket)
        if snapshot is not None:
            self._save_snapshot(*snapshot)

    def _exchange(self, records: Sequence[tuple[RecordKind, bytes]]) -> tuple[list[Applied], int]:
        try:
            return self.journal.exchange(records)
        except JournalUnavailableError as exc:
            self._unavailable(exc)
            raise AssertionError from exc  # not reached: _unavailable raises

    def _catch_up(self) -> None:
        """Apply what other replicas appended (nothing, with the local journal)."""
        if self.failure is None:
            for kind, payload, _ in self._exchange([])[0]:
                self._apply(kind, payload, 1)

    def _wait(self, ticket: int) -> None:
        try:
            self.journal.wait_durable(ticket)
        except JournalUnavailableError as exc:
            with self._lock:
                self._unavailable(exc)

    def _unavailable(self, exc: JournalUnavailableError) -> None:
        if exc.lasting:
            self.failure = str(exc)
        raise ScorerUnavailableError(str(exc)) from exc

    def _check(self) -> None:
        if self.failure is not None:
            raise ScorerUnavailableError(self.failure)

    # --- snapshots -----------------------------------------------------------------------------

    def _snapshot_due(self) -> tuple[str, bytes] | None:
        """Start a snapshot when one is due (called under the lock).

        Encoding the whole state takes seconds for millions of keys, so it is not done under
        the lock: a child process forked here, a copy-on-write image of this moment, encodes and
        saves it while this process goes on scoring (as Redis does its BGSAVE). Without
        ``fork`` the state is encoded now and returned for the caller to save.
        """
        due = self._since_snapshot >= self.snapshot_every
        if not due or self.failure is not None or self._snapshotting is not None:
            return None
        self._since_snapshot = 0
        position = self.journal.mark()
        if position is None:
            return None
        if not hasattr(os, "fork"):
            return position, self.state()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child, which never returns
            saved = 1
            try:
                self.journal.save_snapshot(position, self.state())
                saved = 0
            finally:
                os._exit(saved)
        self._snapshotting = threading.Thread(
            target=self._reap, args=(child,), name="rampart-snapshot", daemon=True
        )
        self._snapshotting.start()
        return None

    def _reap(self, child: int) -> None:
        _, status = os.waitpid(child, 0)
        with self._lock:
            self._snapshotting = None
            if os.waitstatus_to_exitcode(status) != 0:
                # The log still holds every record: the next call tries again.
                self._since_snapshot = self.snapshot_every

    def _save_snapshot(self, position: str, state: bytes) -> None:
        # Written outside the lock: events keep flowing while the snapshot goes to disk.
        try:
            self.journal.save_snapshot(position, state)
        except (OSError, JournalUnavailableError):
            # The log still holds every record: the next snapshot will try again.
            with self._lock:
                self._since_snapshot = self.snapshot_every

    def wait_for_snapshot(self) -> None:
        """Return once no snapshot is being written (one started before the call is done)."""
        running = self._snapshotting
        if running is not None:
            running.join()

    def state(self) -> bytes:
        """Everything this scorer holds, as :class:`~rampart.service.snapshot.ScorerState`."""
        return encode_scorer_state(
            ScorerState(
                intake=IntakeCheckpoint.of(self.intake),
                engine=self.engine.state(),
                features=self.engine.features.snapshot(),
                answers=list(self._answers.items()),
                changes=list(self._changes),
                observers=[observer.state() for observer in self.observers],
            )
        )

    def _restore(self, data: bytes) -> None:
        state = decode_scorer_state(data)
        for change in state.changes:
            apply_change(self.engine, change)
        self._changes = list(state.changes)
        state.intake.restore(self.intake)
        self.engine.load_state(state.engine)
        features = self.engine.features
        assert isinstance(features, OnlineFeatures)
        self.engine.features = OnlineFeatures.restore(
            features.specs, state.features, reads=features.reads
        )
        self._answers = OrderedDict(state.answers)
        if len(state.observers) == len(self.observers):
            for observer, data in zip(self.observers, state.observers, strict=True):
                observer.load_state(data)

    def close(self) -> None:
        self.wait_for_snapshot()
        with self._lock:
            self.journal.close()

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
    engine = Engine(
        loaded.rules,
        OnlineFeatures(list(loaded.features), reads=feature_reads(loaded.rules, None)),
        pseudonymize_ip=lambda ip: privacy.pseudonymizer.token("ip", ip),
        stages=default_stages(),
    )
    serve_pack(engine, loaded)
    return engine


def _event_id(raw: bytes) -> str:
    """The id of a line that parsed before."""
    event = parse_line(raw, 1)
    assert not isinstance(event, ContractError)
    return event.event_id


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
