"""Charts of the HTML report, as inline SVG text drawn by matplotlib.

Figures are built with the object API (`matplotlib.figure.Figure`), never pyplot: no global
figure registry to leak into, no GUI backend to pick, and SVG output needs no backend switch.
Style is fixed here (DejaVu Sans, which matplotlib bundles; a fixed SVG hash salt; no date
in the metadata) so the same inputs give byte-identical charts on any machine.

Every function takes plain numbers and returns a self-contained ``<svg>`` element, ready to be
placed in HTML: no XML prolog, no external DTD or namespace URLs, glyphs drawn as paths (no
font needed where the page is opened) and ids prefixed per chart so several charts on one
page never resolve each other's clip paths.

>>> svg = reason_bars([("rule:x", [1, 0, 2])], chart_id="doc")
>>> svg.startswith("<svg "), "http" in svg, 'id="doc-' in svg
(True, False, True)
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter
from matplotlib.typing import RcKeyType

# Consistent meaning of colour across charts and tables (the template uses the same values).
ACTION_COLOURS: Final[dict[str, str]] = {
    "allow": "#9e9e9e",
    "challenge": "#f0b429",
    "review": "#ef7d22",
    "block": "#d62728",
}
NON_ALLOW: Final = ("challenge", "review", "block")
AREA_COLOURS: Final[dict[str, str]] = {
    "account_integrity": "#3b6fb6",
    "incentive_abuse": "#7b5ea7",
    "scalper": "#2e9d6a",
    "deal_hunter": "#a6761d",
    "malicious_activity": "#b5304a",
    "brushing": "#d16ba5",
    "click_farm": "#2aa3b8",
    "information_leakage": "#4d5a6a",
}
_FALLBACK_COLOURS: Final = ("#6b8e23", "#8b5a2b", "#5f9ea0", "#9370db")
INK: Final = "#2b2f36"
MUTED: Final = "#6b7280"
TARGET_COLOUR: Final = "#1b7f3b"

_STYLE: Final[dict[RcKeyType, Any]] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.edgecolor": "#c9ced6",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#eceef1",
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "svg.fonttype": "path",
    "svg.hashsalt": "rampart-report",
}

_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_STYLE_TAG = re.compile(r"<style[^>]*>.*?</style>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_IDS = re.compile(r'(\bid="|\bhref="#|url\(#)')


def area_colour(area: str, index: int = 0) -> str:
    """The colour of a risk area; areas outside the contract get a fallback by position."""
    return AREA_COLOURS.get(area, _FALLBACK_COLOURS[index % len(_FALLBACK_COLOURS)])


def label_text(text: str, limit: int = 48) -> str:
    """Text safe to hand matplotlib as a label: one line, no mathtext, at most ``limit`` chars.

    Reason codes come from outside; a ``$`` pair would otherwise switch to mathtext and a
    malformed formula would fail the whole report.

    >>> label_text("rule:$5_off$ and\\nmore"), label_text("x" * 60, 10)
    ('rule:\\\\$5_off\\\\$ and more', 'xxxxxxxxx…')
    """
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("$", r"\$")


def to_svg(fig: Figure, chart_id: str, title: str = "") -> str:
    """Serialise ``fig`` to an SVG element for inline HTML use (see the module docstring)."""
    buf = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    for pattern in (_PROLOG, _METADATA, _COMMENT, _STYLE_TAG):
        svg = pattern.sub("", svg, count=0 if pattern is _COMMENT else 1)
    # Inline SVG in HTML gets its namespaces from the HTML parser; the URLs are just noise.
    svg = _XMLNS.sub("", svg)
    svg = _IDS.sub(lambda m: f"{m.group(1)}{chart_id}-", svg)
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="chart" ', 1).strip()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _percent_axis(ax: Axes, axis: str = "x", decimals: int = 0) -> None:
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def _marker_line(ax: Axes, x: float, text: str) -> None:
    """A dashed target line with its label just above the plot, clear of the bars."""
    ax.axvline(x, color=TARGET_COLOUR, linestyle="--", linewidth=1.2)
    ax.text(
        x,
        1.0,
        text,
        transform=ax.get_xaxis_transform(),
        color=TARGET_COLOUR,
        fontsize=8,
        ha="center",
        va="bottom",
    )


def _thousands(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}"


def area_bars(rows: Sequence[tuple[str, float | None, float | None]], target: float = 0.8) -> str:
    """Horizontal grouped bars: entity recall (solid) and precision (hatched) per area."""
    title = f"Entity recall and precision per area (target {target:.0%})"
    with matplotlib.rc_context(_STYLE):
        fig = _figure(10, 0.36 * len(rows) + 1.3)
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        height = 0.38
        for i, (area, recall, precision) in enumerate(rows):
            colour = area_colour(area, i)
            if recall is None and precision is None:
                ax.text(0.005, y[i], "no labels, nothing flagged", va="center", color=MUTED)
                continue
            for offset, value, missing, style in (
                (-height / 2, recall, "no labelled entities", {"alpha": 1.0}),
                (
                    height / 2,
                    precision,
                    "nothing flagged",
                    {"alpha": 0.45, "hatch": "////", "edgecolor": colour},
                ),
            ):
                pos = y[i] + offset
                if value is None:
                    ax.text(0.005, pos, missing, va="center", fontsize=8, color=MUTED)
                    continue
                ax.barh(pos, value, height=height, color=colour, linewidth=0, **style)
                ax.text(value + 0.01, pos, f"{value:.0%}", va="center", fontsize=8)
        _marker_line(ax, target, f"target {target:.0%}")
        ax.set_yticks(y, [label_text(r[0]) for r in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.08)
        _percent_axis(ax)
        ax.grid(axis="y", visible=False)
        ax.legend(
            handles=[
                Patch(color="#7b8391", label="entity recall"),
                Patch(facecolor="#7b8391", alpha=0.45, hatch="////", label="entity precision"),
            ],
            loc="lower right",
            bbox_to_anchor=(1.0, 1.02),
            ncol=2,
        )
        ax.set_title(title, pad=16)
    return to_svg(fig, "areas", title)


def friction_bars(
    rows: Sequence[tuple[str, int, float | None]], budget: float = 0.01, users: int = 0
) -> str:
    """Share of legitimate users actioned, overall then per action, with the budget line."""
    title = f"Legitimate users actioned (of {users:,}; budget {budget:.0%})"
    with matplotlib.rc_context(_STYLE):
        fig = _figure(6.4, 0.42 * len(rows) + 1.2)
        ax = fig.add_subplot()
        rates = [rate or 0.0 for _, _, rate in rows]
        top = max([budget * 2, *(r * 1.3 for r in rates)])
        for i, (name, count, rate) in enumerate(rows):
            colour = ACTION_COLOURS.get(name, INK)
            ax.barh(i, rate or 0.0, height=0.6, color=colour, linewidth=0)
            text = "—" if rate is None else f"{rate:.2%} · {count:,} users"
            ax.text((rate or 0.0) + top * 0.01, i, text, va="center", fontsize=8)
        _marker_line(ax, budget, f"budget {budget:.0%}")
        ax.set_yticks(range(len(rows)), [label_text(r[0]) for r in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, top)
        _percent_axis(ax, decimals=1)
        ax.grid(axis="y", visible=False)
        ax.set_title(title, pad=16)
    return to_svg(fig, "friction", title)


def _edges(start: np.datetime64, bins: int, step: np.timedelta64) -> Any:
    """Bin edges: ``bins + 1`` times, so step plots show the last bin too."""
    return start + step * np.arange(bins + 1)


def _steps(values: Sequence[int]) -> Any:
    """Values repeated at the end edge, for ``step='post'`` drawing."""
    return np.append(np.asarray(values, dtype=float), float(values[-1]) if values else 0.0)


def decisions_over_time(
    start: np.datetime64,
    step: np.timedelta64,
    totals: Sequence[int],
    by_action: Mapping[str, Sequence[int]],
    by_area: Mapping[str, Sequence[int]],
    unit: str,
) -> str:
    """Events per bin, non-allow decisions stacked by action, and actioned events per area.

    Allow dwarfs everything else, so it gets its own panel instead of a shared axis; the
    panels share one figure so their time axes line up exactly. The area panel is left out
    when ``by_area`` is empty.
    """
    title = f"Decisions per {unit} of event time (UTC)"
    with matplotlib.rc_context(_STYLE):
        ratios = [1.0, 2.2, 2.2] if by_area else [1.0, 2.2]
        fig = _figure(10, 1.6 * sum(ratios) + 0.6)
        axes = fig.subplots(len(ratios), 1, sharex=True, height_ratios=ratios)
        top, middle = axes[0], axes[1]
        x = _edges(start, len(totals), step)
        top.fill_between(x, _steps(totals), step="post", color=ACTION_COLOURS["allow"], lw=0)
        top.set_ylabel(f"all events / {unit}")
        top.set_title(title)
        stacks = [_steps(by_action.get(a, [0] * len(totals))) for a in NON_ALLOW]
        middle.stackplot(
            x,
            *stacks,
            step="post",
            colors=[ACTION_COLOURS[a] for a in NON_ALLOW],
            labels=list(NON_ALLOW),
            linewidth=0,
        )
        middle.set_ylabel(f"non-allow / {unit}")
        middle.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3)
        if by_area:
            bottom = axes[2]
            for i, (area, values) in enumerate(by_area.items()):
                colour = area_colour(area, i)
                bottom.step(
                    x, _steps(values), where="post", color=colour, lw=1.3, label=label_text(area)
                )
            bottom.set_ylabel(f"actioned / {unit}")
            bottom.set_title("Actioned events by area (area score ≥ 0.5)", pad=40)
            bottom.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=4)
        for ax in axes:
            ax.set_xlim(x[0], x[-1])
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    return to_svg(fig, "timeline", title)


def reason_bars(rows: Sequence[tuple[str, Sequence[int]]], chart_id: str = "reasons") -> str:
    """Most frequent reason codes of non-allow decisions, stacked by action (challenge first)."""
    title = f"Top {len(rows)} reason codes of non-allow decisions"
    with matplotlib.rc_context(_STYLE):
        fig = _figure(6.4, 0.3 * len(rows) + 1.2)
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        left = np.zeros(len(rows))
        for k, action in enumerate(NON_ALLOW):
            widths = np.array([counts[k] for _, counts in rows], dtype=float)
            ax.barh(y, widths, left=left, height=0.65, color=ACTION_COLOURS[action], label=action)
            left += widths
        span = float(left.max()) if len(rows) else 1.0
        for i, total in enumerate(left):
            ax.text(total + span * 0.01, i, f"{int(total):,}", va="center", fontsize=8)
        ax.set_yticks(y, [label_text(r[0]) for r in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, span * 1.12)
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3)
        ax.set_title(title, pad=22)
    return to_svg(fig, chart_id, title)
