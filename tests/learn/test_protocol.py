"""The classic protocol end to end on simulated card payments (issue 5 §2), in two commands:

1. ``rampart train --events E --labels L --until T0 --pack packs/payments --format csv
   --mapping M --out DIR`` (labels dated a 7-day delay after their payment);
2. ``rampart score --events E --labels L --model DIR ...`` over the whole stream (so 30-day
   features are warm), then ``rampart evaluate --ranking --since T1`` on the test window that
   starts a label delay after T0.

Two seeds; the bars are "far above chance", not figures tuned to a seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.learn.payment_stream import (
    StreamConfig,
    Written,
    evaluate_args,
    score_args,
    train_args,
    write_protocol,
)
from typer.testing import CliRunner

from rampart.cli import app

runner = CliRunner()
TOP_K = 10


def _invoke(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _protocol(stream: Written, out: Path) -> dict[str, Any]:
    model = out / "model"
    _invoke(train_args(stream, model))
    decisions, verdicts = out / "decisions.jsonl", out / "verdicts.jsonl"
    _invoke(score_args(stream, decisions, verdicts, model))
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["created_from"]["until"] == stream.train_until.isoformat()
    report: dict[str, Any] = json.loads(_invoke(evaluate_args(stream, decisions, verdicts, TOP_K)))
    return report


@pytest.mark.parametrize("seed", [11, 23])
def test_the_classic_protocol_ranks_fraud_far_above_chance(seed: int, tmp_path: Path) -> None:
    stream = write_protocol(StreamConfig(seed=seed), tmp_path / "stream")
    report = _protocol(stream, tmp_path)
    whole = report["figures"][0]
    assert whole["area"] == "all"
    assert report["events_without_decision"] == 0
    assert len(whole["days"]) == 7
    assert whole["positive_events"] > 20
    # Chance: an AUC of 0.5, an average precision of the fraud rate, a daily precision of the
    # share of positive customers among those active that day.
    fraud_rate = whole["positive_events"] / whole["events"]
    chance_at_k = min(1.0, whole["positive_entity_days"] / whole["entity_days"])
    assert whole["auc_roc"] >= 0.75
    assert whole["average_precision"] >= 10 * fraud_rate
    assert whole["precision_at_k"] >= 4 * chance_at_k
