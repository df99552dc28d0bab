"""Intake: source records in, accepted (validated, deduplicated, pseudonymised) events out.

One pass, one record at a time, bounded memory. A bad record goes to the rejects sink with its
precise error and the stream carries on; a re-sent ``event_id`` is dropped and counted; an event
beyond the allowed lateness is rejected as ``late`` (see :mod:`rampart.ingest.late`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rampart.contract.events import Event, unknown_fields
from rampart.contract.validate import ContractError, parse_line
from rampart.ingest.dedupe import EventIdDeduper
from rampart.ingest.late import LatePolicy
from rampart.ingest.privacy import Accepted, EventPrivacy
from rampart.ingest.rejects import RejectSink
from rampart.ingest.sources.base import SourceItem


@dataclass
class IntakeStats:
    """Counts an operator reads after (or during) a run."""

    read: int = 0
    accepted: int = 0
    invalid: int = 0
    late: int = 0
    duplicates: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class Intake:
    """Validate, drop duplicates and late events, pseudonymise: the edge of Rampart."""

    def __init__(
        self,
        privacy: EventPrivacy,
        rejects: RejectSink,
        *,
        late_policy: LatePolicy | None = None,
        deduper: EventIdDeduper | None = None,
        keep_unknown: bool = False,
    ) -> None:
        self.privacy = privacy
        self.rejects = rejects
        self.late_policy = late_policy or LatePolicy()
        self.deduper = deduper or EventIdDeduper(
            horizon_s=max(24 * 3600.0, self.late_policy.allowed_lateness_s * 2)
        )
        if self.deduper.horizon_s < self.late_policy.allowed_lateness_s:
            raise ValueError("the dedupe horizon must cover the allowed lateness")
        self.keep_unknown = keep_unknown
        self.stats = IntakeStats()

    def run(self, records: Iterable[SourceItem], source: str = "-") -> Iterator[Accepted]:
        """Yield accepted events in arrival order; everything else is counted or rejected.

        With ``keep_unknown`` the fields the contract does not define ride along, scrubbed of
        PII (that costs a second parse of each line, so it is off on the scoring path).
        """
        privacy = self.privacy
        for event, raw in self._accepted(records, source):
            accepted = privacy.protect(event)
            if self.keep_unknown and (extra := unknown_fields(raw)):
                accepted = accepted._replace(extra=privacy.scrub_extra(extra))
            yield accepted

    def validated(self, records: Iterable[SourceItem], source: str = "-") -> Iterator[Event]:
        """The same pass without pseudonymisation (for `rampart validate` and benchmarks)."""
        for event, _ in self._accepted(records, source):
            yield event

    def _accepted(
        self, records: Iterable[SourceItem], source: str
    ) -> Iterator[tuple[Event, bytes]]:
        stats = self.stats
        by_type = stats.by_type
        for record in records:
            stats.read += 1
            if isinstance(record, ContractError):
                stats.invalid += 1
                self.rejects.add(source, record, b"", "invalid")
                continue
            parsed = parse_line(record.raw, record.line)
            if isinstance(parsed, ContractError):
                stats.invalid += 1
                self.rejects.add(source, parsed, record.raw, "invalid")
                continue
            # A re-sent id is a duplicate before anything else: it must not move the watermark.
            if parsed.event_id in self.deduper:
                stats.duplicates += 1
                continue
            ts = parsed.ts.timestamp()
            behind = self.late_policy.lateness(ts)
            if behind is not None:
                stats.late += 1
                late = ContractError(
                    line=record.line,
                    event_id=parsed.event_id,
                    path="ts",
                    reason=(
                        f"late by {behind:.0f} s, beyond the allowed lateness of "
                        f"{self.late_policy.allowed_lateness_s:.0f} s"
                    ),
                )
                self.rejects.add(source, late, record.raw, "late")
                continue
            if self.deduper.seen_before(parsed.event_id, ts):
                stats.duplicates += 1
                continue
            stats.accepted += 1
            kind = parsed.type
            by_type[kind] = by_type.get(kind, 0) + 1
            yield parsed, record.raw
