"""The monitoring report: ``index.html`` with the alerts per day and small charts, offline.

Same conventions as the run report (:mod:`rampart.learn.html`): inline SVG charts drawn by
matplotlib in the report's fixed style, CSS inline, no script, no external resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import matplotlib
import numpy as np
import polars as pl
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from rampart.learn import charts
from rampart.learn.html import templates
from rampart.learn.monitor import ALERT_KINDS, Alert, Bands, Monitoring
from rampart.learn.report import format_ratio

__all__ = ["write_monitor_report"]

MAX_LINES: Final = 8
_STYLE: Final = charts._STYLE  # the run report's chart style, so both reports look alike
_PALETTE: Final = (
    "#3b6fb6",
    "#d62728",
    "#2e9d6a",
    "#ef7d22",
    "#7b5ea7",
    "#2aa3b8",
    "#a6761d",
    "#4d5a6a",
)


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _day_axis(days: Sequence[date]) -> Any:
    return np.array(days, dtype="datetime64[D]")


def rate_chart(
    days: Sequence[date], series: dict[str, list[float | None]], reference: tuple[date, date]
) -> str:
    """Hit rate per day of each rule (log scale), the reference days shaded."""
    title = "Rule hit rates per day (share of decisions)"
    with matplotlib.rc_context(_STYLE):
        fig = _figure(10, 3.2)
        ax = fig.add_subplot()
        x = _day_axis(days)
        _shade_reference(ax, reference)
        floor = 1e-5
        for i, (name, values) in enumerate(series.items()):
            y = [max(v, floor) if v is not None else np.nan for v in values]
            ax.plot(
                x, y, marker="o", ms=3.5, lw=1.4, color=_PALETTE[i % len(_PALETTE)],
                label=charts.label_text(name, 40),
            )  # fmt: skip
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=2))
        ax.set_title(title, pad=26)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3)
    return charts.to_svg(fig, "monitor-rates", title)


def psi_chart(
    days: Sequence[date],
    series: dict[str, list[float]],
    reference: tuple[date, date],
    bands: Bands,
) -> str:
    """PSI per day of the features that drifted most, with the watch and alert bands."""
    title = "Feature PSI per day against the reference"
    with matplotlib.rc_context(_STYLE):
        fig = _figure(10, 3.2)
        ax = fig.add_subplot()
        x = _day_axis(days)
        _shade_reference(ax, reference)
        top = max([bands.psi_alert * 1.6, *(max(v) for v in series.values() if v)])
        ax.axhspan(bands.psi_watch, bands.psi_alert, color="#fdf1d8", lw=0)
        ax.axhspan(bands.psi_alert, top * 1.05, color="#fde7e5", lw=0)
        for i, (name, values) in enumerate(series.items()):
            ax.plot(
                x, values, marker="o", ms=3.5, lw=1.4, color=_PALETTE[i % len(_PALETTE)],
                label=charts.label_text(name, 44),
            )  # fmt: skip
        ax.set_ylim(0, top * 1.05)
        ax.set_title(title, pad=26)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3)
    return charts.to_svg(fig, "monitor-psi", title)


def _shade_reference(ax: Any, reference: tuple[date, date]) -> None:
    first, last = (np.datetime64(d, "D") for d in reference)
    ax.axvspan(
        first - np.timedelta64(12, "h"), last + np.timedelta64(12, "h"), color="#eceef1", lw=0
    )


def _rate_series(result: Monitoring, alerts: Sequence[Alert]) -> dict[str, list[float | None]]:
    """The alerted rules first, then the most frequent ones, up to :data:`MAX_LINES`."""
    reasons = result.reasons.filter(pl.col("source") != "model")
    chosen = list(dict.fromkeys(a.subject for a in alerts if a.kind == "rule_rate"))
    busiest = reasons.group_by("subject").agg(pl.col("hits").sum()).sort("hits", descending=True)
    for subject in busiest.get_column("subject"):
        if len(chosen) >= MAX_LINES:
            break
        if subject not in chosen:
            chosen.append(subject)
    chosen = chosen[:MAX_LINES]
    by_day = {(r["subject"], r["day"]): r["rate"] for r in reasons.iter_rows(named=True)}
    return {s: [by_day.get((s, d)) for d in result.days] for s in chosen}


def _psi_series(result: Monitoring) -> dict[str, list[float]]:
    monitored = result.features.filter(~pl.col("day").is_between(*_window(result)))
    worst = (
        monitored.filter(pl.col("rows") >= 1)
        .group_by("feature")
        .agg(pl.col("psi").max())
        .sort("psi", descending=True)
        .head(MAX_LINES)
        .get_column("feature")
        .to_list()
    )
    by_day = {(r["feature"], r["day"]): r["psi"] for r in result.features.iter_rows(named=True)}
    return {f: [by_day.get((f, d), 0.0) for d in result.days] for f in worst}


def _window(result: Monitoring) -> tuple[date, date]:
    return result.reference.first, result.reference.last


def _alert_value(alert: Alert) -> str:
    if alert.kind == "feature_psi":
        return f"{alert.value:.3f}"
    return format_ratio(alert.value) if alert.value >= 0.001 else f"{alert.value:.3%}"


def _alert_band(alert: Alert) -> str:
    low, high = alert.band
    if alert.kind == "feature_psi":
        return f"≤ {high:g}"
    return f"{low:.3%} – {high:.3%}"


def _days_context(result: Monitoring, alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    decisions = dict(result.decisions.iter_rows())
    rows = []
    for day in result.days:
        todays = [a for a in alerts if a.day == day]
        counts = {kind: sum(a.kind == kind for a in todays) for kind in ALERT_KINDS}
        rows.append(
            {
                "day": day.isoformat(),
                "reference": day in result.reference,
                "decisions": decisions.get(day, 0),
                "counts": counts,
                "alerts": [
                    {
                        "kind": a.kind,
                        "subject": a.subject,
                        "value": _alert_value(a),
                        "band": _alert_band(a),
                        "detail": a.detail,
                    }
                    for a in todays
                ],
            }
        )
    return rows


def _mix_rows(result: Monitoring) -> list[dict[str, Any]]:
    """Per day, the share of each action over all decisions."""
    everything = result.decision_mix.filter(pl.col("area") == "all")
    rows = []
    for day in result.days:
        shares = {
            r["action"]: r["share"]
            for r in everything.filter(pl.col("day") == day).iter_rows(named=True)
        }
        rows.append({"day": day.isoformat(), "shares": shares})
    return rows


def render_monitor(result: Monitoring, bands: Bands, *, title: str = "Rampart monitoring") -> str:
    """The report's HTML text."""
    alerts = result.alerts
    rates = _rate_series(result, alerts)
    drift = _psi_series(result)
    window = _window(result)
    context = {
        "title": title,
        "reference": str(result.reference),
        "days": _days_context(result, alerts),
        "kinds": ALERT_KINDS,
        "alert_count": len(alerts),
        "bands": bands,
        "mix": _mix_rows(result),
        "actions": list(charts.ACTION_COLOURS),
        "rate_chart": Markup(rate_chart(result.days, rates, window)) if rates else None,
        "psi_chart": Markup(psi_chart(result.days, drift, window, bands)) if drift else None,
    }
    return templates().get_template("monitor.html.j2").render(context)


def write_monitor_report(
    out_dir: Path, result: Monitoring, bands: Bands, *, title: str = "Rampart monitoring"
) -> Path:
    """Write ``out_dir/index.html`` (creating ``out_dir``); its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "index.html"
    out.write_text(render_monitor(result, bands, title=title), encoding="utf-8")
    return out
