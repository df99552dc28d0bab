"""Drift monitoring over the decision log: what each day looked like, against a reference window.

Per day (event time, UTC, the log's ``day`` partition):

- **decision mix** per area: counts and shares of each action among the decisions in which the
  area had a score (``all``: every decision);
- **reason rates**: the share of decisions carrying each live rule (``rule:<name>``), each rule
  in shadow (``shadow:rule:<name>``, from the ``shadow`` column) and each area's model reasons
  (``model:<area>``);
- **score distributions**: deciles of ``score`` and of each area's score, with their PSI;
- **feature distributions**: per numeric feature its null share, quantiles and PSI; per boolean
  or string feature its category shares and PSI (:mod:`rampart.learn.psi`).

A feature is measured only on the event types it is ever set on in the reference (an order
total is null on page views by design), so a change in traffic mix is not a null spike.

Alerts (:class:`Alert`), only for days outside the reference window:

- ``rule_rate``: a live or shadow rule's hit rate is out of its band (:mod:`.monitor_rates`);
- ``decision_mix``: an action's share within an area is out of its band (same test);
- ``null_spike``: a feature that was almost always set (null share below ``null_before``)
  is mostly null (above ``null_after``); reported instead of the PSI alert it also causes;
- ``feature_psi``: a feature's PSI is above ``psi_alert``.

Everything is computed with Polars and NumPy over whole columns; the loop is over features.

>>> from datetime import date
>>> frame = pl.DataFrame({"day": [date(2026, 3, 1)] * 2 + [date(2026, 3, 2)] * 2,
...     "event_type": ["x"] * 4, "action": ["allow", "block", "allow", "allow"],
...     "score": [0.1, 0.9, 0.2, 0.1], "reasons": [[], ["rule:r"], [], []],
...     "features.n": [1, 2, None, None]})
>>> result = monitor(frame, Window(date(2026, 3, 1), date(2026, 3, 1)), Bands(min_count=1))
>>> [(a.kind, a.subject, str(a.day)) for a in result.alerts]
[('null_spike', 'features.n', '2026-03-02')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt
import polars as pl

from rampart.contract.outputs import AREAS
from rampart.learn import psi
from rampart.learn.monitor_rates import ALPHA, FACTOR, MIN_COUNT, rate_bands

__all__ = ["ALERT_KINDS", "Alert", "Bands", "Monitoring", "Window", "monitor", "reference_window"]

ALERT_KINDS: Final = ("rule_rate", "decision_mix", "null_spike", "feature_psi")
ACTIONS: Final = ("allow", "challenge", "review", "block")
ALERTED_ACTIONS: Final = ("challenge", "review", "block")
ALL_AREAS: Final = "all"
FEATURE_PREFIXES: Final = ("features.", "graph.", "content.", "event.")
QUANTILES: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
OTHER: Final = "(other)"
MISSING: Final = "(missing)"
DEFAULT_REFERENCE_DAYS: Final = 7

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Bands:
    """Where a measure must stay, and how much evidence an alert needs."""

    psi_watch: float = psi.WATCH
    psi_alert: float = psi.ALERT
    bins: int = psi.BINS
    epsilon: float = psi.EPSILON
    # Most frequent reference categories of a string feature kept; the rest pooled.
    categories: int = 20
    rate_factor: float = FACTOR
    alpha: float = ALPHA
    min_count: int = MIN_COUNT
    null_before: float = 0.05
    null_after: float = 0.5
    # PSI of a sample of n rows is about (bins - 1) / n with no drift at all: a day (and the
    # reference) needs this many rows where the feature applies before its PSI can alert.
    min_rows: int = 200


@dataclass(frozen=True)
class Window:
    """Inclusive range of days."""

    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def __str__(self) -> str:
        return f"{self.first.isoformat()}/{self.last.isoformat()}"


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """One measure of one day out of its band, as written to ``<logs>/alerts.jsonl``.

    ``value`` should have been within ``band`` (``[low, high]``); ``reference`` is the same
    measure over ``reference_window``; ``count`` the day's count behind ``value`` (hits,
    decisions, rows) and ``p_value`` the rate test's, where there is one.
    """

    day: date
    kind: str
    subject: str
    value: float
    band: tuple[float, float]
    reference: float
    reference_window: str
    count: int | None = None
    p_value: float | None = None
    detail: str = ""

    @property
    def key(self) -> tuple[date, str, str, str]:
        return (self.day, self.kind, self.subject, self.reference_window)


@dataclass
class Monitoring:
    """What :func:`monitor` found: per-day tables (Polars) and the alerts."""

    reference: Window
    days: list[date]
    decisions: pl.DataFrame  # day, decisions
    decision_mix: pl.DataFrame  # day, area, action, count, total, share
    reasons: pl.DataFrame  # day, subject, source, hits, total, rate (+ band columns)
    scores: pl.DataFrame  # day, subject, count, q10..q90, psi
    features: pl.DataFrame  # day, feature, type, rows, null_share, q10, q50, q90, psi, band
    categories: pl.DataFrame  # day, feature, category, count, share
    alerts: list[Alert] = field(default_factory=list)

    @property
    def monitored_days(self) -> list[date]:
        return [d for d in self.days if d not in self.reference]


def reference_window(
    days: Sequence[date],
    *,
    reference_days: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Window:
    """The reference: ``since``..``until`` when given, else the first ``reference_days`` days.

    Without either, the first :data:`DEFAULT_REFERENCE_DAYS` days, or the first half of a
    shorter log (at least a day), so there is always something left to monitor.

    >>> days = [date(2026, 3, d) for d in range(1, 6)]
    >>> str(reference_window(days)), str(reference_window(days, reference_days=1))
    ('2026-03-01/2026-03-02', '2026-03-01/2026-03-01')
    >>> str(reference_window(days, since=date(2026, 3, 2), until=date(2026, 3, 3)))
    '2026-03-02/2026-03-03'
    """
    ordered = sorted(days)
    if since is not None or until is not None:
        first = since or (ordered[0] if ordered else until)
        last = until or (ordered[-1] if ordered else since)
        if first is None or last is None:  # pragma: no cover - one of them is set
            raise ValueError("no reference window")
        if last < first:
            raise ValueError(f"reference window ends ({last}) before it starts ({first})")
        return Window(first, last)
    if not ordered:
        raise ValueError("the log holds no decisions")
    if reference_days is None:
        reference_days = min(DEFAULT_REFERENCE_DAYS, max(1, len(ordered) // 2))
    if reference_days < 1:
        raise ValueError("the reference needs at least one day")
    return Window(ordered[0], ordered[min(reference_days, len(ordered)) - 1])


def _is_reference(window: Window) -> pl.Expr:
    return pl.col("day").is_between(window.first, window.last)


def _decision_mix(frame: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    """Actions per day and area (an area's decisions: those in which it had a score)."""
    areas = [a for a in AREAS if a in frame.schema.get("areas", pl.Struct([])).to_schema()]  # type: ignore[attr-defined]
    member = frame.select(
        "day",
        "action",
        pl.lit(True).alias(ALL_AREAS),
        *[pl.col("areas").struct.field(a).is_not_null().alias(a) for a in areas],
    )
    long = member.unpivot(index=["day", "action"], variable_name="area", value_name="in")
    counts = long.filter(pl.col("in")).group_by("day", "area", "action").len("count")
    grid = (
        days.select("day")
        .join(pl.DataFrame({"area": [ALL_AREAS, *areas]}), how="cross")
        .join(pl.DataFrame({"action": list(ACTIONS)}), how="cross")
    )
    mix = grid.join(counts, on=["day", "area", "action"], how="left").with_columns(
        pl.col("count").fill_null(0).cast(pl.Int64)
    )
    return mix.with_columns(total=pl.col("count").sum().over("day", "area")).with_columns(
        share=pl.when(pl.col("total") > 0).then(pl.col("count") / pl.col("total"))
    )


def _reason_hits(frame: pl.DataFrame) -> pl.DataFrame:
    """(day, subject, source) for each decision and each subject it carries, once."""
    indexed = frame.select("day", "reasons", "shadow").with_row_index("_row")
    reasons = (
        indexed.select("_row", "day", pl.col("reasons").alias("reason"))
        .explode("reason")
        .filter(
            pl.col("reason").str.starts_with("rule:") | pl.col("reason").str.starts_with("model:")
        )
        .with_columns(
            subject=pl.when(pl.col("reason").str.starts_with("model:"))
            .then(pl.lit("model:") + pl.col("reason").str.split(":").list.get(1, null_on_oob=True))
            .otherwise(pl.col("reason")),
            source=pl.when(pl.col("reason").str.starts_with("model:"))
            .then(pl.lit("model"))
            .otherwise(pl.lit("rule")),
        )
    )
    shadow_type = pl.List(pl.Struct({"name": pl.String()}))
    shadow = (
        indexed.filter(pl.col("shadow").is_not_null())
        .select("_row", "day", pl.col("shadow").str.json_decode(shadow_type).alias("entry"))
        .explode("entry")
        .filter(pl.col("entry").is_not_null())
        .select(
            "_row",
            "day",
            subject=pl.lit("shadow:") + pl.col("entry").struct.field("name"),
            source=pl.lit("shadow"),
        )
    )
    both = pl.concat([reasons.select("_row", "day", "subject", "source"), shadow])
    return both.unique(["_row", "subject"]).group_by("day", "subject", "source").len("hits")


def _reasons(frame: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    hits = _reason_hits(frame)
    subjects = hits.select("subject", "source").unique()
    grid = days.join(subjects, how="cross")
    table = grid.join(hits, on=["day", "subject", "source"], how="left")
    return (
        table.with_columns(pl.col("hits").fill_null(0).cast(pl.Int64))
        .rename({"decisions": "total"})
        .with_columns(rate=pl.col("hits") / pl.col("total"))
    )


def _numeric_psi(
    values: FloatArray, day_index: IntArray, reference_days: IntArray, n_days: int, bands: Bands
) -> tuple[IntArray, FloatArray]:
    """Counts per day and bin (reference-quantile bins, missing last) and PSI per day."""
    edges = psi.quantile_edges(values[np.isin(day_index, reference_days)], bands.bins)
    width = edges.size + 2
    bins = psi.bin_index(values, edges)
    counts = np.bincount(day_index * width + bins, minlength=n_days * width).reshape(n_days, width)
    return counts, psi.psi(counts[reference_days].sum(axis=0), counts, bands.epsilon)


def _category_counts(
    column: pl.Series, day_index: IntArray, reference_days: IntArray, n_days: int, limit: int
) -> tuple[list[str], IntArray]:
    """Counts per day and category: the reference's most frequent, then other, then missing."""
    text = column.cast(pl.String)
    in_reference = pl.Series(np.isin(day_index, reference_days))
    top = (
        text.filter(in_reference & text.is_not_null())
        .value_counts(sort=True)
        .head(limit)
        .get_column(text.name)
        .sort()
        .to_list()
    )
    labels = [*top, OTHER, MISSING]
    code = pl.Series(range(len(top)), dtype=pl.Int64)
    index = (
        text.replace_strict(top, code, default=len(top), return_dtype=pl.Int64)
        .fill_null(len(top) + 1)
        .to_numpy()
    )
    width = len(labels)
    counts = np.bincount(day_index * width + index, minlength=n_days * width)
    return labels, counts.reshape(n_days, width)


def _applicable_types(
    frame: pl.DataFrame, window: Window, features: list[str]
) -> dict[str, list[str]]:
    """Per feature, the event types it is set on at least once in the reference."""
    seen = (
        frame.filter(_is_reference(window))
        .group_by("event_type")
        .agg([pl.col(f).is_not_null().any() for f in features])
    )
    types = seen.get_column("event_type").to_list()
    return {
        f: [t for t, hit in zip(types, seen.get_column(f), strict=True) if hit] for f in features
    }


def _is_measured(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean() or dtype == pl.String()


def _day_index(frame: pl.DataFrame, days: list[date]) -> IntArray:
    position = pl.Series(range(len(days)), dtype=pl.Int64)
    return frame.get_column("day").replace_strict(days, position).to_numpy().astype(np.int64)


def _quantile_columns(column: str, quantiles: Sequence[float]) -> list[pl.Expr]:
    return [pl.col(column).quantile(q).alias(f"q{round(q * 100):d}") for q in quantiles]


def _scores(
    frame: pl.DataFrame, days: list[date], day_index: IntArray, reference: IntArray, bands: Bands
) -> pl.DataFrame:
    """Deciles and PSI of the overall score and of each area's score (null: no signal)."""
    area_fields = frame.schema["areas"].to_schema() if "areas" in frame.columns else {}  # type: ignore[attr-defined]
    columns = {"score": pl.col("score")} | {
        f"areas.{a}": pl.col("areas").struct.field(a) for a in AREAS if a in area_fields
    }
    tables = []
    for subject, expression in columns.items():
        values = frame.select(expression.cast(pl.Float64).alias("value"), "day")
        _, drift = _numeric_psi(
            values.get_column("value").to_numpy(), day_index, reference, len(days), bands
        )
        deciles = values.group_by("day").agg(
            pl.col("value").count().alias("count"), *_quantile_columns("value", QUANTILES)
        )
        tables.append(
            pl.DataFrame({"day": days, "psi": drift}, schema_overrides={"day": pl.Date()})
            .join(deciles, on="day", how="left")
            .with_columns(subject=pl.lit(subject))
        )
    order = ["day", "subject", "count", *(f"q{round(q * 100):d}" for q in QUANTILES), "psi"]
    return pl.concat(tables).select(order).sort("subject", "day")


@dataclass
class _FeatureScan:
    rows: list[dict[str, object]] = field(default_factory=list)
    categories: list[pl.DataFrame] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def _features(
    frame: pl.DataFrame,
    days: list[date],
    day_index: IntArray,
    reference: IntArray,
    window: Window,
    bands: Bands,
) -> _FeatureScan:
    features = [c for c in frame.columns if c.startswith(FEATURE_PREFIXES)]
    features = [f for f in features if _is_measured(frame.schema[f])]
    applicable = _applicable_types(frame, window, features)
    event_type = frame.get_column("event_type")
    scan = _FeatureScan()
    for feature in features:
        if not applicable[feature]:
            continue  # never set in the reference: nothing to compare with
        mask = event_type.is_in(applicable[feature]).fill_null(False).to_numpy()
        column = frame.get_column(feature).filter(pl.Series(mask))
        where = day_index[mask]
        numeric = frame.schema[feature].is_numeric()
        if numeric:
            values = column.cast(pl.Float64).to_numpy()
            counts, drift = _numeric_psi(values, where, reference, len(days), bands)
        else:
            labels, counts = _category_counts(column, where, reference, len(days), bands.categories)
            drift = psi.psi(counts[reference].sum(axis=0), counts, bands.epsilon)
            scan.categories.append(_category_table(feature, days, labels, counts))
        rows = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            null_share = np.where(rows > 0, counts[:, -1] / np.maximum(rows, 1), np.nan)
        reference_counts = counts[reference].sum(axis=0)
        reference_rows = int(reference_counts.sum())
        reference_null = float(reference_counts[-1]) / reference_rows if reference_rows else 0.0
        for i, day in enumerate(days):
            scan.rows.append(
                {
                    "day": day,
                    "feature": feature,
                    "type": "numeric" if numeric else "category",
                    "rows": int(rows[i]),
                    "null_share": None if rows[i] == 0 else float(null_share[i]),
                    "psi": float(drift[i]),
                    "band": psi.band(float(drift[i]), bands.psi_watch, bands.psi_alert),
                }
            )
            if day in window:
                continue
            alert = _feature_alert(
                feature,
                day,
                window,
                bands,
                rows=int(rows[i]),
                null_share=float(null_share[i]) if rows[i] else 0.0,
                drift=float(drift[i]),
                reference_rows=reference_rows,
                reference_null=reference_null,
            )
            if alert is not None:
                scan.alerts.append(alert)
    return scan


def _feature_alert(
    feature: str,
    day: date,
    window: Window,
    bands: Bands,
    *,
    rows: int,
    null_share: float,
    drift: float,
    reference_rows: int,
    reference_null: float,
) -> Alert | None:
    if (
        rows >= bands.min_count
        and reference_rows >= bands.min_count
        and reference_null < bands.null_before
        and null_share > bands.null_after
    ):
        return Alert(
            day=day,
            kind="null_spike",
            subject=feature,
            value=null_share,
            band=(0.0, bands.null_after),
            reference=reference_null,
            reference_window=str(window),
            count=rows,
            detail=f"null on {null_share:.1%} of {rows:,} rows (reference {reference_null:.1%})",
        )
    if drift > bands.psi_alert and min(rows, reference_rows) >= bands.min_rows:
        return Alert(
            day=day,
            kind="feature_psi",
            subject=feature,
            value=drift,
            band=(0.0, bands.psi_alert),
            reference=0.0,
            reference_window=str(window),
            count=rows,
            detail=f"PSI {drift:.3f} over {rows:,} rows (alert above {bands.psi_alert})",
        )
    return None


def _category_table(
    feature: str, days: list[date], labels: list[str], counts: IntArray
) -> pl.DataFrame:
    n_days, width = counts.shape
    rows = counts.sum(axis=1, keepdims=True)
    share = counts / np.maximum(rows, 1)
    return pl.DataFrame(
        {
            "day": np.repeat(np.array(days, dtype="datetime64[D]"), width),
            "feature": [feature] * (n_days * width),
            "category": labels * n_days,
            "count": counts.reshape(-1),
            "share": share.reshape(-1),
        },
        schema_overrides={"day": pl.Date()},
    ).filter(pl.col("count") > 0)


def _rate_alerts(bands_table: pl.DataFrame, kind: str, window: Window) -> list[Alert]:
    alerts = []
    for row in bands_table.filter(pl.col("out_of_band")).iter_rows(named=True):
        reference = float(row["reference_rate"])
        ratio = f"{row['rate'] / reference:.1f}×" if reference > 0 else "new"
        alerts.append(
            Alert(
                day=row["day"],
                kind=kind,
                subject=row["subject"],
                value=float(row["rate"]),
                band=(float(row["low"]), float(row["high"])),
                reference=reference,
                reference_window=str(window),
                count=int(row["hits"]),
                p_value=float(row["p_value"]),
                detail=(
                    f"{row['hits']:,} of {row['total']:,} decisions ({row['rate']:.2%}); "
                    f"reference {reference:.2%} ({ratio})"
                ),
            )
        )
    return alerts


_COLUMNS: Final = ("day", "event_type", "action", "score", "areas", "reasons", "shadow")


def monitor(
    decisions: pl.DataFrame | pl.LazyFrame, reference: Window, bands: Bands | None = None
) -> Monitoring:
    """Measure every day of ``decisions`` (a decisions log, :func:`rampart.logs.read_logs`) and
    flag what left its band against the ``reference`` days."""
    bands = bands or Bands()
    lazy = decisions.lazy()
    names = lazy.collect_schema().names()
    wanted = [c for c in names if c in _COLUMNS or c.startswith(FEATURE_PREFIXES)]
    frame = lazy.select(wanted).collect()
    for column, dtype in (("shadow", pl.String()), ("reasons", pl.List(pl.String()))):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(column))
    days = sorted(frame.get_column("day").unique().to_list())
    day_table = frame.group_by("day").len("decisions").sort("day")
    day_index = _day_index(frame, days)
    in_reference = np.array([i for i, d in enumerate(days) if d in reference], dtype=np.int64)

    mix = _decision_mix(frame, day_table)
    reasons = _reasons(frame, day_table)
    mark = {"reference": _is_reference(reference)}
    mix_bands = rate_bands(
        mix.filter(pl.col("action").is_in(ALERTED_ACTIONS))
        .with_columns(subject=pl.col("area") + ":" + pl.col("action"), hits=pl.col("count"))
        .with_columns(**mark),
        factor=bands.rate_factor,
        alpha=bands.alpha,
        min_count=bands.min_count,
    )
    reason_bands = rate_bands(
        reasons.with_columns(**mark),
        factor=bands.rate_factor,
        alpha=bands.alpha,
        min_count=bands.min_count,
    )
    scan = _features(frame, days, day_index, in_reference, reference, bands)
    alerts = [
        *_rate_alerts(reason_bands.filter(pl.col("source") != "model"), "rule_rate", reference),
        *_rate_alerts(mix_bands, "decision_mix", reference),
        *scan.alerts,
    ]
    rank = {kind: i for i, kind in enumerate(ALERT_KINDS)}
    alerts.sort(key=lambda a: (a.day, rank[a.kind], a.subject))
    band_columns = ["day", "subject", "reference_rate", "low", "high", "p_value", "out_of_band"]
    return Monitoring(
        reference=reference,
        days=days,
        decisions=day_table,
        decision_mix=mix,
        reasons=reasons.join(
            reason_bands.select(band_columns), on=["day", "subject"], how="left"
        ).sort("subject", "day"),
        scores=_scores(frame, days, day_index, in_reference, bands),
        features=pl.DataFrame(scan.rows, schema_overrides={"day": pl.Date()}),
        categories=pl.concat(scan.categories) if scan.categories else _EMPTY_CATEGORIES,
        alerts=alerts,
    )


_EMPTY_CATEGORIES: Final = pl.DataFrame(
    schema={
        "day": pl.Date(),
        "feature": pl.String(),
        "category": pl.String(),
        "count": pl.Int64(),
        "share": pl.Float64(),
    }
)
