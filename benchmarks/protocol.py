"""The classic fraud-detection protocol (issue 5 §2) on handbook-style card payments, end to end.

A stream in the style of the fraud-detection handbook's simulator
(``tests/learn/payment_stream.py``: customers, terminals, three fraud scenarios, labels known
7 days after the payment) is written as CSV, then exactly these commands run (the payments
pack, the handbook mapping)::

    rampart train --events E --labels L --until T0 --pack P --format csv --mapping M --out DIR
    rampart score --events E --labels L [--model DIR] --pack P --format csv --mapping M \\
        --decisions D --verdicts V --demo
    rampart evaluate --ranking --events E --format csv --mapping M --decisions D --verdicts V \\
        --labels L --since T1 --until T2 --top-k 100 --json

with T1 = T0 + the 7-day label delay and [T1, T2) the test week. The stream is scored whole,
so features over 30 days are warm when the test week starts; only the test week is ranked.
Rows: the pack's rules alone, rules + model (the model's probability reaches the decision only
at or above its operating point), and the model's own probability on every event (read from
the same point-in-time replay, for comparison).

    uv run python benchmarks/protocol.py [--seeds 1 2] [--customers 5000 --terminals 10000]
        [--days 51] [--top-k 100]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.learn.payment_stream import (
    MAPPING,
    StreamConfig,
    Written,
    evaluate_args,
    score_args,
    train_args,
    write_protocol,
)

from rampart.cli import app
from rampart.detect.models.registry import load_models
from rampart.learn.inputs import read_lines
from rampart.learn.ranking import Ranking, rank_stream
from rampart.learn.trainset import build_training_set
from rampart.packs import PAYMENTS_PACK

AREA = "malicious_activity"
runner = CliRunner()


def _run(args: list[str]) -> str:
    started = time.perf_counter()
    result = runner.invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(f"rampart {' '.join(args)} failed:\n{result.output}")
    print(f"  rampart {args[0]}: {time.perf_counter() - started:.0f} s", flush=True)
    return result.output


def _evaluate(stream: Written, decisions: Path, verdicts: Path, top_k: int) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(_run(evaluate_args(stream, decisions, verdicts, top_k)))
    return report


def _score(stream: Written, out: Path, model: Path | None) -> tuple[Path, Path]:
    decisions, verdicts = out / "decisions.jsonl", out / "verdicts.jsonl"
    _run(score_args(stream, decisions, verdicts, model))
    return decisions, verdicts


def _uncut(stream: Written, model: Path, decisions: Path, top_k: int) -> dict[str, Any]:
    """The model's probability on every event, from the same point-in-time replay."""
    started = time.perf_counter()
    replay = build_training_set(
        stream.events, stream.labels, pack=PAYMENTS_PACK, source_format="csv", mapping=MAPPING
    )
    compiled = load_models(model).models[AREA]
    ids = [json.loads(line)["event_id"] for line in read_lines(decisions)]
    assert len(ids) == len(replay.ts)  # one decision per event, in stream order
    scored = [
        {"event_id": i, "action": "allow", "score": p, "areas": {AREA: p}, "reasons": []}
        for i, p in zip(ids, (compiled.probability(row.tolist()) for row in replay.x), strict=True)
    ]
    events = (line for line in _csv_events(stream))
    ranking: Ranking = rank_stream(
        events,
        scored,
        read_lines(stream.labels),
        top_k=top_k,
        since=stream.test_since,
        until=stream.test_until,
    )
    print(f"  model replay: {time.perf_counter() - started:.0f} s", flush=True)
    report: dict[str, Any] = json.loads(ranking.to_json())
    return report


def _csv_events(stream: Written) -> Any:
    from rampart.ingest.sources.base import SourceRecord
    from rampart.ingest.sources.formats import open_source

    for record in open_source(stream.events, "csv", MAPPING):
        if isinstance(record, SourceRecord):
            yield record.raw


def _row(name: str, report: dict[str, Any]) -> str:
    whole = report["figures"][0]
    return (
        f"| {name} | {whole['auc_roc']:.3f} | {whole['average_precision']:.3f} "
        f"| {whole['precision_at_k']:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--terminals", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=51, help="30 warm-up + train, delay, test")
    parser.add_argument("--top-k", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    keep = tempfile.TemporaryDirectory()
    root = args.out or Path(keep.name)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, python {sys.version[:6]}")
    lines = []
    for seed in args.seeds:
        config = StreamConfig(
            seed=seed,
            customers=args.customers,
            terminals=args.terminals,
            days=args.days,
            # The handbook's rates: 2 of 10,000 terminals and 3 of 5,000 customers a day.
            compromised_terminals_per_day=2 * args.terminals / 10_000,
            compromised_customers_per_day=3 * args.customers / 5_000,
        )
        out = root / f"seed-{seed}"
        stream = write_protocol(config, out / "stream")
        print(f"seed {seed}: train until {stream.train_until}, test {stream.test_since} → "
              f"{stream.test_until}", flush=True)  # fmt: skip
        model = out / "model"
        _run([*train_args(stream, model), "--overwrite"])
        rules = _evaluate(stream, *_score(stream, _fresh(out / "rules"), None), args.top_k)
        decisions, verdicts = _score(stream, _fresh(out / "rules+model"), model)
        both = _evaluate(stream, decisions, verdicts, args.top_k)
        alone = _uncut(stream, model, decisions, args.top_k)
        whole = rules["figures"][0]
        lines.append(
            f"seed {seed}: {rules['events']:,} test events, {whole['positive_events']} fraud, "
            f"{whole['entity_days']:,} customer-days ({whole['positive_entity_days']} positive)"
        )
        lines += [
            _row(f"seed {seed} rules", rules),
            _row(f"seed {seed} rules + model", both),
            _row(f"seed {seed} model probability", alone),
        ]
        print("\n".join(lines[-4:]), flush=True)
    print(f"\n| run | AUC ROC | average precision | precision@{args.top_k} per day |")
    print("|---|---|---|---|")
    print("\n".join(line for line in lines if line.startswith("|")))
    print("\n".join(line for line in lines if not line.startswith("|")))


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


if __name__ == "__main__":
    main()
