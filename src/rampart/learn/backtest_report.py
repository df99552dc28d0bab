"""A backtest as Rich tables: per rule and area (with the whole window), then per rule and day.

>>> from rampart.learn.backtest import Backtest
>>> tables = render_backtest(Backtest(engine="duckdb", logs="logs", since=None, until=None,
...     events=0, days=[], labelled=False, ip_labels_skipped=0, rules=[], rows=[]))
>>> [table.title for table in tables]
['Backtest per rule and area (0 events, 0 days, engine duckdb)', 'Per rule and day']
"""

from __future__ import annotations

from rich.table import Table

from rampart.learn.backtest import Backtest, BacktestRow

_HEADERS = (
    "rule",
    "scope",
    "hits",
    "users",
    "precision",
    "recall",
    "event recall",
    "legit users touched",
    "friction",
)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _row(row: BacktestRow, first: bool) -> list[str]:
    return [
        row.rule if first else "",
        "all" if row.scope_kind == "all" else row.scope,
        f"{row.hits:,}",
        f"{row.users:,}",
        _share(row.precision),
        _share(row.recall),
        _share(row.event_recall),
        f"{row.legit_users_touched:,}",
        _share(row.friction),
    ]


def _table(title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(_HEADERS):
        table.add_column(header, justify="left" if i < 2 else "right", no_wrap=i < 2)
    return table


def render_backtest(result: Backtest) -> list[Table]:
    """Two tables: every rule over the window and per area; per day the days a rule hit."""
    by_area = _table(
        f"Backtest per rule and area ({result.events:,} events, {len(result.days)} days, "
        f"engine {result.engine})"
    )
    by_day = _table("Per rule and day")
    seen: set[tuple[str, str]] = set()
    for row in result.rows:
        table = by_day if row.scope_kind == "day" else by_area
        if row.scope_kind == "day" and not row.hits:
            continue  # a day a rule did not hit says nothing a table reader needs
        key = (row.rule, "day" if table is by_day else "area")
        table.add_row(*_row(row, key not in seen))
        seen.add(key)
    return [by_area, by_day]
