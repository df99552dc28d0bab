"""A small seeded card-transaction stream in the style of the fraud-detection handbook's simulator.

Le Borgne et al., *Reproducible Machine Learning for Credit Card Fraud Detection - Practical
Handbook* (chapter 3.2) simulate customers and terminals on a 100 x 100 square; a customer pays
at the terminals within ``radius`` of home, a Poisson number of times a day (mean drawn in
[0, 4)), at a normal time of day, a normal amount around their own mean (drawn in [5, 100),
standard deviation half of it). Three fraud scenarios:

1. every payment above 220 is fraud;
2. each day, compromised terminals are drawn: all their payments of the next 28 days are fraud;
3. each day, compromised customers are drawn: in the next 14 days a third of their payments are
   fraud, with the amount multiplied by 5.

The handbook draws 2 terminals and 3 customers a day out of 10,000 and 5,000; here the rates are
Poisson means so that a small world keeps a realistic fraud rate (about 1 %). The stream is
written as the handbook's CSV columns (``TRANSACTION_ID``, ``TX_DATETIME``, ``CUSTOMER_ID``,
``TERMINAL_ID``, ``TX_AMOUNT``, ``TX_FRAUD``, ``TX_FRAUD_SCENARIO``), read through
``rampart/packs/payments/handbook.mapping.toml``, and the labels as the contract's label stream:
one ``event`` label per fraudulent payment, known ``label_delay_days`` after it.

Written for the tests and `benchmarks/protocol.py` (no detector may import it).

>>> stream = generate(StreamConfig(seed=1, customers=50, terminals=100, days=5))
>>> len(stream.rows) > 100, stream.rows[0].tx_id, stream.fraud_rate < 0.2
(True, 'T000000', True)
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import numpy as np

from rampart.packs import PAYMENTS_PACK

START: Final = datetime(2018, 4, 1, tzinfo=UTC)
COLUMNS: Final = (
    "TRANSACTION_ID",
    "TX_DATETIME",
    "CUSTOMER_ID",
    "TERMINAL_ID",
    "TX_AMOUNT",
    "TX_FRAUD",
    "TX_FRAUD_SCENARIO",
)
AREA: Final = "malicious_activity"


@dataclass(frozen=True)
class StreamConfig:
    seed: int
    customers: int = 500
    terminals: int = 1_000
    days: int = 42
    radius: float = 5.0
    compromised_terminals_per_day: float = 0.5
    compromised_customers_per_day: float = 0.5
    label_delay_days: int = 7
    start: datetime = START


@dataclass(frozen=True)
class Transaction:
    tx_id: str
    at: datetime
    customer: str
    terminal: str
    amount: float
    fraud: int
    scenario: int


@dataclass(frozen=True)
class Stream:
    config: StreamConfig
    rows: list[Transaction]

    @property
    def fraud_rate(self) -> float:
        return sum(row.fraud for row in self.rows) / len(self.rows)

    def day_start(self, day: int) -> datetime:
        return self.config.start + timedelta(days=day)


def generate(config: StreamConfig) -> Stream:
    rng = np.random.default_rng(config.seed)
    home = rng.uniform(0, 100, size=(config.customers, 2))
    mean_amount = rng.uniform(5, 100, size=config.customers)
    per_day = rng.uniform(0, 4, size=config.customers)
    where = rng.uniform(0, 100, size=(config.terminals, 2))
    distance = np.linalg.norm(home[:, None, :] - where[None, :, :], axis=2)
    available = [np.flatnonzero(row < config.radius) for row in distance]

    # (seconds since the start, customer, terminal, amount) of every payment
    raw: list[tuple[float, int, int, float]] = []
    for customer in range(config.customers):
        near = available[customer]
        if not len(near):
            continue
        for day in range(config.days):
            for _ in range(rng.poisson(per_day[customer])):
                second = rng.normal(43_200, 20_000)
                if not 0 < second < 86_400:
                    continue
                mean = mean_amount[customer]
                amount = rng.normal(mean, mean / 2)
                if amount < 0:
                    amount = rng.uniform(0, mean * 2)
                terminal = int(rng.choice(near))
                raw.append((day * 86_400 + int(second), customer, terminal, round(amount, 2)))
    raw.sort()
    seconds = np.array([r[0] for r in raw])
    customers = np.array([r[1] for r in raw])
    terminals = np.array([r[2] for r in raw])
    amounts = np.array([r[3] for r in raw])
    fraud = np.zeros(len(raw), dtype=np.int8)
    scenario = np.zeros(len(raw), dtype=np.int8)

    big = amounts > 220
    fraud[big], scenario[big] = 1, 1
    for day in range(config.days):
        start = day * 86_400
        drawn = rng.choice(config.terminals, rng.poisson(config.compromised_terminals_per_day))
        hit = np.isin(terminals, drawn) & (seconds >= start) & (seconds < start + 28 * 86_400)
        fraud[hit], scenario[hit] = 1, 2
        drawn = rng.choice(config.customers, rng.poisson(config.compromised_customers_per_day))
        window = np.flatnonzero(
            np.isin(customers, drawn) & (seconds >= start) & (seconds < start + 14 * 86_400)
        )
        chosen = rng.choice(window, len(window) // 3, replace=False) if len(window) else window
        amounts[chosen] = np.round(amounts[chosen] * 5, 2)
        fraud[chosen], scenario[chosen] = 1, 3

    rows = [
        Transaction(
            tx_id=f"T{i:06d}",
            at=config.start + timedelta(seconds=int(seconds[i])),
            customer=f"C{customers[i]:05d}",
            terminal=f"P{terminals[i]:05d}",
            amount=float(amounts[i]),
            fraud=int(fraud[i]),
            scenario=int(scenario[i]),
        )
        for i in range(len(raw))
    ]
    return Stream(config, rows)


def write_csv(rows: list[Transaction], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(
                (
                    row.tx_id,
                    row.at.strftime("%Y-%m-%d %H:%M:%S"),
                    row.customer,
                    row.terminal,
                    f"{row.amount:.2f}",
                    row.fraud,
                    row.scenario,
                )
            )


def write_labels(stream: Stream, path: Path) -> int:
    """One label per fraudulent payment, dated ``label_delay_days`` later; returns the count."""
    delay = timedelta(days=stream.config.label_delay_days)
    # Time order, like a chargeback feed (transaction ids break ties).
    labels = sorted(
        ((row.at + delay, row) for row in stream.rows if row.fraud),
        key=lambda p: (p[0], p[1].tx_id),
    )
    with path.open("w") as handle:
        for known, row in labels:
            campaign = (
                f"terminal-{row.terminal}"
                if row.scenario == 2
                else f"customer-{row.customer}"
                if row.scenario == 3
                else "large-amount"
            )
            label = {
                "entity_type": "event",
                "entity_id": row.tx_id,
                "area": AREA,
                "label": 1,
                "ts": known.isoformat().replace("+00:00", "Z"),
                "source": "chargeback",
                "campaign": campaign,
            }
            handle.write(json.dumps(label) + "\n")
    return len(labels)


@dataclass(frozen=True)
class Written:
    events: Path  # every transaction: `rampart train --until` and `rampart score` both read it
    labels: Path
    train_until: datetime  # the training cut-off
    test_since: datetime  # the test window starts a label delay after the cut-off
    test_until: datetime


def write_protocol(config: StreamConfig, out: Path, *, test_days: int = 7) -> Written:
    """The classic protocol's files: train on the days before ``days - test_days - delay``,
    wait the label delay, test on the last ``test_days`` days."""
    stream = generate(config)
    out.mkdir(parents=True, exist_ok=True)
    test_since = stream.day_start(config.days - test_days)
    train_until = test_since - timedelta(days=config.label_delay_days)
    events, labels = out / "transactions.csv", out / "labels.jsonl"
    write_csv(stream.rows, events)
    write_labels(stream, labels)
    return Written(events, labels, train_until, test_since, stream.day_start(config.days))


# The protocol's commands, as ``rampart`` arguments: the payments pack, the handbook mapping.
MAPPING: Final = PAYMENTS_PACK / "handbook.mapping.toml"
CSV: Final = ["--pack", str(PAYMENTS_PACK), "--format", "csv", "--mapping", str(MAPPING)]


def train_args(stream: Written, model: Path) -> list[str]:
    """``rampart train`` on the labels known at the cut-off, into ``model``."""
    return [
        "train",
        "--events",
        str(stream.events),
        "--labels",
        str(stream.labels),
        "--until",
        stream.train_until.isoformat(),
        *CSV,
        "--out",
        str(model),
    ]


def score_args(stream: Written, decisions: Path, verdicts: Path, model: Path | None) -> list[str]:
    """``rampart score`` over the whole stream (rules alone without a ``model``)."""
    return (
        ["score", "--events", str(stream.events), "--labels", str(stream.labels), *CSV]
        + (["--model", str(model)] if model is not None else [])
        + ["--decisions", str(decisions), "--verdicts", str(verdicts), "--demo"]
    )


def evaluate_args(stream: Written, decisions: Path, verdicts: Path, top_k: int) -> list[str]:
    """``rampart evaluate --ranking --json`` on the test window."""
    return [
        "evaluate",
        "--ranking",
        "--json",
        "--events",
        str(stream.events),
        "--format",
        "csv",
        "--mapping",
        str(MAPPING),
        "--labels",
        str(stream.labels),
        "--decisions",
        str(decisions),
        "--verdicts",
        str(verdicts),
        "--since",
        stream.test_since.isoformat(),
        "--until",
        stream.test_until.isoformat(),
        "--top-k",
        str(top_k),
    ]
