"""Terminal rendering of a `Scorecard` with Rich: one table per concern, one printable group.

>>> from rampart.learn.scorecard import Friction, InputCounts, Macro, Scorecard
>>> card = Scorecard(areas=[], macro=Macro(areas=0), friction=Friction(), inputs=InputCounts())
>>> [t.title for t in render_tables(card)]
['Detection per area', 'Friction on legitimate users', 'Inputs']
>>> format_seconds(10800.0), format_ratio(None)
('3.0h', '—')
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from rampart.learn.scorecard import InputCounts, Scorecard

_MISSING = "—"


def format_ratio(value: float | None) -> str:
    """A ratio as a percentage with one decimal; an em dash when it is undefined.

    >>> format_ratio(0.12345)
    '12.3%'
    """
    return _MISSING if value is None else f"{value:.1%}"


def format_seconds(value: float | None) -> str:
    """A duration in the largest unit that keeps it readable.

    >>> [format_seconds(s) for s in (0.25, 42.0, 150.0, 10800.0, 259200.0)]
    ['0.2s', '42s', '2.5m', '3.0h', '3.0d']
    """
    if value is None:
        return _MISSING
    if value < 10:
        return f"{value:.1f}s"
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.1f}m"
    if value < 172800:
        return f"{value / 3600:.1f}h"
    return f"{value / 86400:.1f}d"


def area_table(card: Scorecard) -> Table:
    """Per-area recall, precision, event recall and time to detect, with the counts behind them."""
    table = Table(title="Detection per area", title_justify="left")
    table.add_column("area")
    for name in ("labelled", "flagged", "TP", "recall", "precision"):
        table.add_column(name, justify="right")
    table.add_column("events", justify="right")
    table.add_column("event recall", justify="right")
    table.add_column("TTD (median)", justify="right")
    table.add_column("campaigns", justify="right")
    table.add_column("undetected", justify="right")
    for score in card.areas:
        ttd = score.time_to_detect
        quiet = not (score.labelled_entities or score.flagged_entities or score.labelled_events)
        table.add_row(
            score.area,
            str(score.labelled_entities),
            str(score.flagged_entities),
            str(score.true_positives),
            format_ratio(score.entity_recall),
            format_ratio(score.entity_precision),
            str(score.labelled_events),
            format_ratio(score.event_recall),
            format_seconds(ttd.median_seconds),
            f"{ttd.campaigns_measured}/{ttd.campaigns}" if ttd.campaigns else _MISSING,
            str(ttd.entities_undetected) if ttd.entities else _MISSING,
            style="dim" if quiet else None,
        )
    macro = card.macro
    table.add_section()
    table.add_row(
        f"macro ({macro.areas} areas)",
        "",
        "",
        "",
        format_ratio(macro.entity_recall),
        format_ratio(macro.entity_precision),
        style="bold",
    )
    return table


def friction_table(card: Scorecard) -> Table:
    """User friction overall and by action, and the order block rate."""
    friction = card.friction
    table = Table(title="Friction on legitimate users", title_justify="left")
    table.add_column("measure")
    table.add_column("count", justify="right")
    table.add_column("of", justify="right")
    table.add_column("rate", justify="right")
    users = str(friction.legitimate_users)
    table.add_row(
        "users with friction",
        str(friction.users_with_friction),
        users,
        format_ratio(friction.rate),
        style="bold",
    )
    for action, counts in friction.by_action.items():
        table.add_row(f"  {action}", str(counts.users), users, format_ratio(counts.rate))
    table.add_row(
        "orders blocked",
        str(friction.orders_blocked),
        str(friction.orders_created),
        format_ratio(friction.order_block_rate),
    )
    return table


# Counts that mean the inputs did not line up; shown in yellow when not zero.
_WARNINGS = frozenset(
    {
        "undecodable_events",
        "duplicate_events",
        "events_without_decision",
        "undecodable_decisions",
        "duplicate_decisions",
        "decisions_for_unknown_events",
        "undecodable_verdicts",
        "undecodable_labels",
        "labelled_events_not_in_stream",
    }
)


def inputs_table(card: Scorecard) -> Table:
    """What was read and what did not line up."""
    table = Table(title="Inputs", title_justify="left")
    table.add_column("input")
    table.add_column("count", justify="right")
    for name in InputCounts.__struct_fields__:
        value: int = getattr(card.inputs, name)
        warn = name in _WARNINGS and value > 0
        table.add_row(name.replace("_", " "), str(value), style="yellow" if warn else None)
    return table


def render_tables(card: Scorecard) -> list[Table]:
    """All tables, in reading order."""
    return [area_table(card), friction_table(card), inputs_table(card)]


def render(card: Scorecard) -> Group:
    """Everything, printable in one call: ``Console().print(render(card))``."""
    return Group(*render_tables(card))
