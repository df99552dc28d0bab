"""Streams of events and labels for scorer tests, and the answers as a caller sees them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import msgspec

from rampart.service.scorer import EventResult, Rejection, Scorer


def answers(results: list[EventResult | Rejection]) -> list[bytes]:
    """Decisions as the caller sees them, without verdicts, rejects as their error text."""
    shown = []
    for result in results:
        if isinstance(result, Rejection):
            shown.append(str(result.error).encode())
        else:
            answer = msgspec.structs.replace(result.answer, verdicts=[])
            shown.append(msgspec.json.encode(answer))
    return shown


def stream(world: Path) -> Iterator[tuple[list[bytes], list[bytes]]]:
    """Batches of 400 events, each with the labels known before its first event."""
    events = (world / "events.jsonl").read_bytes().splitlines()
    labels = sorted(
        (world / "labels.jsonl").read_bytes().splitlines(), key=lambda line: json.loads(line)["ts"]
    )
    taken = 0
    for start in range(0, len(events), 400):
        batch = events[start : start + 400]
        first_ts = json.loads(batch[0])["ts"]
        known = [line for line in labels[taken:] if json.loads(line)["ts"] < first_ts]
        taken += len(known)
        yield known, batch


def feed(scorer: Scorer, labels: list[bytes], events: list[bytes]) -> list[bytes]:
    for label in labels:
        assert not isinstance(scorer.label(label), Rejection)
    return answers(scorer.score_many(events))


def uninterrupted(world: Path, folder: Path) -> list[list[bytes]]:
    """The answers of one embedded scorer fed the whole stream of ``world``: the reference."""
    with Scorer.open(folder, demo=True) as scorer:
        return [feed(scorer, labels, events) for labels, events in stream(world)]
