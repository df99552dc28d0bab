"""The readout of a champion/challenger experiment (`rampart experiment report`).

Inputs: the events, the decisions of an experiment run (``rampart score --experiment``), and the
labels. Each decision names the arm that did *not* act in its ``shadow`` list
(``experiment:<name>:<arm>``, see :mod:`rampart.decide.experiment`), so the acting arm of every
event is read from the decisions, and every unit (the experiment's unit entity: a user by
default, else a device or an ip) belongs to the arm its events were decided by. Events without
a unit (a page view with no user) went to the champion and are left out of the readout.

Per arm, over its units (labels resolved exactly as ``rampart evaluate`` resolves them:
:class:`~rampart.learn.labelbook.LabelBook`, the latest label of an (entity, area) stands, users
and sellers are one account namespace):

* **catch rate** = labelled-abusive units (an abusive label in any area) with at least one of
  their own events actioned (action not ``allow``) / labelled-abusive units of the arm.
* **precision** = actioned units that are labelled abusive / actioned units (a unit without an
  abusive label counts as legitimate, as in SCORING.md).
* **friction** = legitimate units with at least one of their own legitimate events (not labelled
  abusive) actioned / legitimate units that sent a legitimate event (SCORING.md's user friction,
  for the unit kind).
* **prevented loss** = the sum of ``props.total`` of the arm's ``order.created`` events labelled
  abusive (an ``event`` label, any area) whose decision was ``block`` or ``review`` (``review``
  holds fulfilment for a human; a ``challenge`` is a step-up the attacker may pass and is not
  counted). Amounts are converted with ``rates`` (currency → units per one reference unit, e.g.
  ``{"USD": 1, "IDR": 15900}``; orders in a currency without a rate are left out and counted);
  without rates, a stream in one currency is summed as it is, and a stream mixing currencies
  gets no money figures (they would add rupiah to dollars). It is shown as a sum, per 1,000
  units of the arm (comparable between arms of different sizes) and as the share of the arm's
  abusive order amount it prevented.

Confidence intervals are 95%: Wilson score intervals for the per-arm proportions; for prevented
loss and for every difference challenger − champion, a percentile bootstrap over units,
resampled within each arm (seeded: the same inputs and seed give the same intervals).

Late labels count: every label in the file is used whatever its ``ts``, and the readout says how
many arrived after the experiment's last event (``labels_after_last_event``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from rampart.contract.outputs import ACTION_PRIORITY, AREAS, Label
from rampart.learn.entities import ACCOUNT, KIND_OF
from rampart.learn.inputs import (
    DeviceView,
    Undecodable,
    decode_decisions,
    decode_labels,
    read_lines,
)
from rampart.learn.labelbook import LabelBook

__all__ = [
    "Estimate",
    "ExperimentReport",
    "experiment_report",
    "experiment_report_files",
    "markdown",
    "table_rows",
    "wilson",
]

Z95: Final = 1.959963984540054  # the 97.5% quantile of the standard normal
PREVENTING: Final = frozenset({ACTION_PRIORITY["block"], ACTION_PRIORITY["review"]})
ARMS: Final = ("champion", "challenger")
_PREFIX: Final = "experiment:"

# Columns of the per-unit matrix the bootstrap resamples.
_BAD, _ACTIONED, _HIT, _LEGIT, _FRICTION, _BAD_AMOUNT, _PREVENTED = range(7)


class Estimate(msgspec.Struct, kw_only=True, frozen=True):
    """A figure with its 95% confidence interval (None: undefined, a zero denominator)."""

    value: float | None = None
    low: float | None = None
    high: float | None = None


class ArmFigures(msgspec.Struct, kw_only=True, frozen=True):
    arm: str
    units: int
    events: int
    abusive_units: int
    abusive_units_actioned: int
    actioned_units: int
    legitimate_units: int
    legitimate_units_with_friction: int
    abusive_orders: int
    abusive_order_amount: float
    prevented_orders: int
    catch_rate: Estimate
    precision: Estimate
    friction: Estimate
    prevented_loss: Estimate
    prevented_loss_per_1k_units: Estimate
    prevented_share: Estimate


class Difference(msgspec.Struct, kw_only=True, frozen=True):
    """Challenger − champion for one figure, with its bootstrap interval."""

    metric: str
    value: float | None = None
    low: float | None = None
    high: float | None = None


class ExperimentReport(msgspec.Struct, kw_only=True, frozen=True):
    experiment: str
    unit: str
    arms: list[ArmFigures]
    differences: list[Difference]
    labels: int
    labels_without_ts: int
    labels_after_last_event: int
    last_event_ts: str | None
    events: int
    events_without_unit: int
    events_without_arm: int
    units_in_both_arms: int
    currencies: list[str]
    # Money figures are left out: several currencies and no rates to convert them.
    mixed_currencies: bool = False
    orders_without_rate: int = 0
    bootstrap: int
    seed: int
    confidence: float = 0.95
    undecodable: int = 0


def wilson(successes: int, trials: int, z: float = Z95) -> Estimate:
    """The Wilson score interval of a proportion (None when there are no trials).

    >>> e = wilson(8, 10)
    >>> round(e.value, 4), round(e.low, 4), round(e.high, 4)
    (0.8, 0.4902, 0.9433)
    """
    if trials <= 0:
        return Estimate()
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return Estimate(value=p, low=max(0.0, centre - half), high=min(1.0, centre + half))


class _OrderProps(msgspec.Struct):
    total: float | None = None
    currency: str | None = None


class _Event(msgspec.Struct):
    """The fields of an event the readout reads (everything else is skipped on decode)."""

    event_id: str
    type: str
    ts: datetime
    user_id: str | None = None
    device: DeviceView | None = None
    ip: str | None = None
    props: _OrderProps | None = None


_MONEY: Final = frozenset({"prevented_loss", "prevented_loss_per_1k_units", "prevented_share"})
_EVENT_DECODER: Final = msgspec.json.Decoder(_Event)


def _decode_events(items: Iterable[Any], bad: Undecodable) -> Iterable[_Event]:
    for item in items:
        try:
            if isinstance(item, bytes | bytearray | str):
                if not item.strip():
                    continue
                yield _EVENT_DECODER.decode(item)
            else:
                yield msgspec.convert(item, _Event)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError):
            bad.count += 1


def _arm_entry(shadow: Sequence[dict[str, Any]]) -> tuple[str, str, str] | None:
    """(experiment, acting arm, unit) from a decision's ``shadow`` list, if it has an entry."""
    for entry in shadow:
        name = entry.get("name")
        if isinstance(name, str) and name.startswith(_PREFIX):
            _, experiment, other = name.split(":", 2)
            if other in ARMS:
                acting = ARMS[1 - ARMS.index(other)]
                return experiment, acting, str(entry.get("unit", "user"))
    return None


def _unit_of(event: _Event, unit: str) -> str | None:
    if unit == "user":
        return event.user_id
    if unit == "device":
        return event.device.id if event.device is not None else None
    return event.ip


def experiment_report(
    events: Iterable[Any],
    decisions: Iterable[Any],
    labels: Iterable[Any],
    *,
    experiment: str | None = None,
    bootstrap: int = 2000,
    seed: int = 0,
    rates: Mapping[str, float] | None = None,
) -> ExperimentReport:
    """The readout of one experiment. Inputs are iterables of JSON lines (or mappings / decoded
    objects); ``experiment`` picks one when the decisions hold several; ``rates`` convert order
    amounts to one reference currency."""
    bad = Undecodable()
    # event id -> (action priority, arm index); the first decision of an event stands.
    decided: dict[str, tuple[int, int]] = {}
    names: set[str] = set()
    unit = "user"
    for decision in decode_decisions(decisions, bad):
        found = _arm_entry(decision.shadow)
        if found is None or decision.event_id in decided:
            continue
        name, acting, unit_kind = found
        if experiment is not None and name != experiment:
            continue
        names.add(name)
        unit = unit_kind
        decided[decision.event_id] = (ACTION_PRIORITY[decision.action], ARMS.index(acting))
    if len(names) > 1:
        raise ValueError(
            f"the decisions hold several experiments ({', '.join(sorted(names))}); pick one"
        )
    if unit not in ("user", "device", "ip"):
        raise ValueError(f"unknown experiment unit {unit!r}")
    name = names.pop() if names else (experiment or "-")

    label_list: list[Label] = list(decode_labels(labels, bad))
    book = LabelBook(label_list)
    kind = ACCOUNT if unit == "user" else KIND_OF[unit]
    abusive_units = (
        book.abusive_accounts
        if kind == ACCOUNT
        else {
            entity_id
            for area in range(len(AREAS))
            for k, entity_id in book.abusive[area]
            if k == kind
        }
    )
    abusive_events = book.abusive_events

    # unit -> [arm, bad, actioned, hit, legit event seen, friction, bad amount, prevented]
    units: dict[str, list[float]] = {}
    arm_events = [0, 0]
    seen: set[str] = set()
    n_events = without_unit = without_arm = both_arms = 0
    last_ts: datetime | None = None
    currencies: set[str] = set()
    abusive_orders = [0, 0]
    prevented_orders = [0, 0]
    without_rate = 0
    for event in _decode_events(events, bad):
        if event.event_id in seen:
            continue  # a resend is scored once
        seen.add(event.event_id)
        n_events += 1
        if last_ts is None or event.ts > last_ts:
            last_ts = event.ts
        unit_id = _unit_of(event, unit)
        if not unit_id:
            without_unit += 1
            continue
        acted = decided.get(event.event_id)
        if acted is None:
            without_arm += 1
            continue
        action, arm = acted
        row = units.get(unit_id)
        if row is None:
            bad_unit = float(unit_id in abusive_units)
            row = units[unit_id] = [float(arm), bad_unit, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        elif row[0] != arm:
            both_arms += 1  # inconsistent split (merged runs): the unit keeps its first arm
            arm = int(row[0])
        arm_events[arm] += 1
        labelled_abusive = event.event_id in abusive_events
        if action:
            row[2] = 1.0
        if not row[1] and not labelled_abusive:
            row[4] = 1.0
            if action:
                row[5] = 1.0
        if labelled_abusive and event.type == "order.created" and event.props is not None:
            amount = event.props.total or 0.0
            currency = event.props.currency
            if currency:
                currencies.add(currency)
            if rates is not None:
                rate = rates.get(currency or "")
                if not rate:
                    without_rate += 1
                    continue
                amount /= rate
            row[6] += amount
            abusive_orders[arm] += 1
            if action in PREVENTING:
                row[7] += amount
                prevented_orders[arm] += 1
    for row in units.values():
        row[3] = float(row[1] and row[2])

    rng = np.random.default_rng(seed)
    matrices: list[npt.NDArray[np.float64]] = []
    for arm in range(2):
        rows = [units[u][1:] for u in sorted(units) if units[u][0] == arm]
        matrices.append(np.array(rows, dtype=np.float64).reshape(-1, 7))
    # Columns now: bad, actioned, hit, legit, friction, bad amount, prevented.
    samples = [_bootstrap(m, bootstrap, rng) for m in matrices]
    arms = [
        _arm(
            ARMS[arm],
            matrices[arm],
            samples[arm],
            arm_events[arm],
            abusive_orders[arm],
            prevented_orders[arm],
        )
        for arm in range(2)
    ]
    differences = [
        _difference(metric, matrices, samples)
        for metric in (
            "catch_rate",
            "precision",
            "friction",
            "prevented_loss_per_1k_units",
            "prevented_share",
        )
    ]
    mixed = rates is None and len(currencies) > 1
    if mixed:
        arms = [
            msgspec.structs.replace(
                a,
                abusive_order_amount=0.0,
                prevented_loss=Estimate(),
                prevented_loss_per_1k_units=Estimate(),
                prevented_share=Estimate(),
            )
            for a in arms
        ]
        differences = [
            Difference(metric=d.metric) if d.metric in _MONEY else d for d in differences
        ]
    late = sum(
        1
        for label in label_list
        if label.ts is not None and last_ts is not None and label.ts > last_ts
    )
    return ExperimentReport(
        experiment=name,
        unit=unit,
        arms=arms,
        differences=differences,
        labels=len(label_list),
        labels_without_ts=sum(1 for label in label_list if label.ts is None),
        labels_after_last_event=late,
        last_event_ts=last_ts.isoformat() if last_ts is not None else None,
        events=n_events,
        events_without_unit=without_unit,
        events_without_arm=without_arm,
        units_in_both_arms=both_arms,
        currencies=sorted(currencies),
        mixed_currencies=mixed,
        orders_without_rate=without_rate,
        bootstrap=bootstrap,
        seed=seed,
        undecodable=bad.count,
    )


def _metric(sums: npt.NDArray[np.float64], n: npt.NDArray[np.float64] | float, metric: str) -> Any:
    """A figure from column sums (works on one row of sums or a (replicates, 7) matrix)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "catch_rate":
            return sums[..., _HIT] / sums[..., _BAD]
        if metric == "precision":
            return sums[..., _HIT] / sums[..., _ACTIONED]
        if metric == "friction":
            return sums[..., _FRICTION] / sums[..., _LEGIT]
        if metric == "prevented_loss":
            return sums[..., _PREVENTED]
        if metric == "prevented_loss_per_1k_units":
            return 1000.0 * sums[..., _PREVENTED] / n
        if metric == "prevented_share":
            return sums[..., _PREVENTED] / sums[..., _BAD_AMOUNT]
    raise ValueError(metric)


def _bootstrap(
    matrix: npt.NDArray[np.float64], replicates: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Column sums of ``replicates`` resamples (with replacement) of the rows of ``matrix``."""
    n = matrix.shape[0]
    out = np.zeros((replicates, matrix.shape[1]))
    if n == 0:
        return out
    for i in range(replicates):
        counts = np.bincount(rng.integers(0, n, size=n), minlength=n)
        out[i] = counts @ matrix
    return out


def _interval(values: Any) -> tuple[float | None, float | None]:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return None, None
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def _value(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _arm(
    arm: str,
    matrix: npt.NDArray[np.float64],
    sample: npt.NDArray[np.float64],
    events: int,
    abusive_orders: int,
    prevented_orders: int,
) -> ArmFigures:
    sums = matrix.sum(axis=0)
    n = matrix.shape[0]
    counts = [round(float(x)) for x in sums[:5]]
    bad, actioned, hit, legit, friction = counts

    def booted(metric: str) -> Estimate:
        low, high = _interval(_metric(sample, n, metric)) if n else (None, None)
        value = _value(_metric(sums, n, metric)) if n else None
        return Estimate(value=value, low=low, high=high)

    return ArmFigures(
        arm=arm,
        units=n,
        events=events,
        abusive_units=bad,
        abusive_units_actioned=hit,
        actioned_units=actioned,
        legitimate_units=legit,
        legitimate_units_with_friction=friction,
        abusive_orders=abusive_orders,
        abusive_order_amount=float(sums[_BAD_AMOUNT]),
        prevented_orders=prevented_orders,
        catch_rate=wilson(hit, bad),
        precision=wilson(hit, actioned),
        friction=wilson(friction, legit),
        prevented_loss=booted("prevented_loss"),
        prevented_loss_per_1k_units=booted("prevented_loss_per_1k_units"),
        prevented_share=booted("prevented_share"),
    )


def _difference(
    metric: str,
    matrices: list[npt.NDArray[np.float64]],
    samples: list[npt.NDArray[np.float64]],
) -> Difference:
    sizes = [m.shape[0] for m in matrices]
    if not all(sizes):
        return Difference(metric=metric)
    point = [
        _value(_metric(m.sum(axis=0), n, metric)) for m, n in zip(matrices, sizes, strict=True)
    ]
    champion, challenger = point
    value = challenger - champion if champion is not None and challenger is not None else None
    spread = _metric(samples[1], sizes[1], metric) - _metric(samples[0], sizes[0], metric)
    low, high = _interval(spread)
    return Difference(metric=metric, value=value, low=low, high=high)


# --- presentation -------------------------------------------------------------------------------

_LABELS: Final = {
    "catch_rate": "catch rate",
    "precision": "precision",
    "friction": "friction",
    "prevented_loss_per_1k_units": "prevented loss / 1k units",
    "prevented_share": "prevented share of abusive order amount",
}


def _shown(e: Estimate | Difference, money: bool) -> str:
    if e.value is None:
        return "–"
    if money:
        text = f"{e.value:,.0f}"
        ci = f" [{e.low:,.0f}, {e.high:,.0f}]" if e.low is not None and e.high is not None else ""
    else:
        text = f"{e.value:.3f}"
        ci = f" [{e.low:.3f}, {e.high:.3f}]" if e.low is not None and e.high is not None else ""
    return text + ci


def table_rows(report: ExperimentReport) -> list[tuple[str, str, str, str]]:
    """(figure, champion, challenger, challenger − champion), each with its 95% interval."""
    champion, challenger = report.arms
    by_metric = {d.metric: d for d in report.differences}
    rows: list[tuple[str, str, str, str]] = [
        ("units", f"{champion.units:,}", f"{challenger.units:,}", ""),
        ("events", f"{champion.events:,}", f"{challenger.events:,}", ""),
        (
            "abusive units (actioned)",
            f"{champion.abusive_units:,} ({champion.abusive_units_actioned:,})",
            f"{challenger.abusive_units:,} ({challenger.abusive_units_actioned:,})",
            "",
        ),
    ]
    for metric, label in _LABELS.items():
        money = metric == "prevented_loss_per_1k_units"
        rows.append(
            (
                label,
                _shown(getattr(champion, metric), money),
                _shown(getattr(challenger, metric), money),
                _shown(by_metric[metric], money),
            )
        )
    rows.append(
        (
            "prevented loss (sum)",
            _shown(champion.prevented_loss, True),
            _shown(challenger.prevented_loss, True),
            "",
        )
    )
    return rows


def markdown(report: ExperimentReport) -> str:
    """The readout as a Markdown table with its footnote (for RESULTS.md)."""
    lines = [
        "| figure | champion | challenger | challenger − champion |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table_rows(report)),
        "",
        footer(report),
    ]
    return "\n".join(lines)


def footer(report: ExperimentReport) -> str:
    currencies = ", ".join(report.currencies) or "-"
    if report.mixed_currencies:
        currencies += " (mixed, no --rates: no money figures)"
    elif report.orders_without_rate:
        currencies += f" ({report.orders_without_rate:,} abusive orders without a rate left out)"
    return (
        f"Experiment `{report.experiment}`, unit {report.unit}; 95% intervals (Wilson for the "
        f"arms' proportions, bootstrap over units, {report.bootstrap} resamples, seed "
        f"{report.seed}, for prevented loss and differences). Labels {report.labels:,}, of "
        f"which {report.labels_after_last_event:,} arrived after the last event "
        f"({report.last_event_ts}) and count; events without a unit "
        f"{report.events_without_unit:,}, without an arm {report.events_without_arm:,}; "
        f"currency {currencies}."
    )


Source = str | os.PathLike[str] | Iterable[Any]


def _items(source: Source) -> Iterable[Any]:
    if isinstance(source, str | os.PathLike):
        return read_lines(source)
    return source


def experiment_report_files(
    events: Source,
    decisions: Source,
    labels: Source,
    *,
    experiment: str | None = None,
    bootstrap: int = 2000,
    seed: int = 0,
    rates: Mapping[str, float] | None = None,
) -> ExperimentReport:
    """:func:`experiment_report` over files (JSON Lines, plain or gzip) or iterables."""
    return experiment_report(
        _items(events),
        _items(decisions),
        _items(labels),
        experiment=experiment,
        bootstrap=bootstrap,
        seed=seed,
        rates=rates,
    )
