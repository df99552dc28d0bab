"""The backtest as one SQL query, the same text on DuckDB and on Spark SQL.

The query reads five relations the engine provides (see :mod:`rampart.learn.backtest` and
:mod:`rampart.learn.backtest_spark`):

* ``logs``: the logged decisions in the window, with ``event_id``, ``day`` (a ``YYYY-MM-DD``
  string), ``user_id``, ``device_id``, ``ip`` and every column a rule reads;
* ``rule_areas(rule BIGINT, area STRING, area_set BIGINT)``: each rule's index and its areas,
  with a number shared by the rules of the same set of areas;
* ``event_labels(event_id, area)``: events labelled abusive (the winning label, per area);
* ``entity_labels(kind, entity_id, area)``: accounts, devices and ips labelled abusive;
* ``abusive_accounts(entity_id)``: accounts labelled abusive in some area.

It answers one row per rule and scope: the whole window (``all``), each of the rule's areas
(``area``) and each day of the log (``day``); see :data:`COUNT_COLUMNS`. A scope's areas are
the area itself, or all the rule's areas for ``all`` and ``day``.

>>> from rampart.detect.rules.compile_sql import DUCKDB
>>> query = backtest_query(["(x > 1)"], DUCKDB)
>>> [name for name, _ in query.stages], "CASE WHEN (x > 1) THEN 0 END" in query.stages[0][1]
(['hits'], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from rampart.detect.rules.compile_sql import DUCKDB, Dialect

COUNT_COLUMNS: Final = (
    "hits",
    "users",
    "devices",
    "ips",
    "flagged_entities",
    "true_positives",
    "labelled_entities",
    "hit_labelled_events",
    "labelled_events",
    "legit_users_touched",
    "legit_users",
)
"""The counts of a result row, after ``rule``, ``scope_kind`` and ``scope``."""

EVENT_TYPE: Final = "event.type"

# The entities an event flags by itself (SCORING.md, rule (b)): its account, device and ip.
_OWN_ENTITIES: Final = (("account", "user_id"), ("device", "device_id"), ("ip", "ip"))


def _entities(source: str, columns: str) -> str:
    return "\n      UNION ALL ".join(
        f"SELECT {columns}, '{kind}' AS kind, {column} AS entity_id "
        f"FROM {source} WHERE {column} IS NOT NULL"
        for kind, column in _OWN_ENTITIES
    )


# The counts of a _hit_counts row, after rule, scope_kind and scope.
_HIT_COLUMNS: Final = (
    "hits",
    "users",
    "devices",
    "ips",
    "true_positives",
    "hit_labelled_events",
    "legit_users_touched",
)


def _hit_counts(scope_kind: str, scope: str, only: str = "") -> str:
    """The hit counts of one kind of scope, grouping ``hit_areas`` rows (a hit, once per area
    of its rule) by rule and ``scope``: a row's area is the scope's own (``area``) or one of
    those the scope spans (``all``, ``day``), the one its label must be in to count; ``only``:
    a join that keeps some of the rows."""
    return f"""SELECT h.rule, {scope_kind} AS scope_kind, {scope} AS scope,
    COUNT(DISTINCT h.event_id) AS hits,
    COUNT(DISTINCT h.user_id) AS users,
    COUNT(DISTINCT h.device_id) AS devices,
    COUNT(DISTINCT h.ip) AS ips,
    -- kinds are disjoint: an entity counts once per kind, the three counts add up
    COUNT(DISTINCT CASE WHEN la.entity_id IS NOT NULL THEN h.user_id END)
      + COUNT(DISTINCT CASE WHEN ld.entity_id IS NOT NULL THEN h.device_id END)
      + COUNT(DISTINCT CASE WHEN li.entity_id IS NOT NULL THEN h.ip END) AS true_positives,
    COUNT(DISTINCT CASE WHEN el.event_id IS NOT NULL THEN h.event_id END) AS hit_labelled_events,
    COUNT(DISTINCT CASE WHEN h.legit THEN h.user_id END) AS legit_users_touched
  FROM hit_areas h
  LEFT JOIN event_labels el ON el.event_id = h.event_id AND el.area = h.rule_area
  LEFT JOIN entity_labels la
    ON la.kind = 'account' AND la.entity_id = h.user_id AND la.area = h.rule_area
  LEFT JOIN entity_labels ld
    ON ld.kind = 'device' AND ld.entity_id = h.device_id AND ld.area = h.rule_area
  LEFT JOIN entity_labels li ON li.kind = 'ip' AND li.entity_id = h.ip AND li.area = h.rule_area
  {only}
  GROUP BY h.rule{"" if scope.startswith("'") else ", " + scope}"""


def _labelled_counts(count: str, source: str) -> str:
    """``count`` over the labelled rows of ``source`` (``a``: with ``day`` and ``area``) per set of
    areas and scope: the window and each day span the set's areas, an area scope its own."""
    return f"""SELECT s.area_set, 'all' AS scope_kind, 'all' AS scope, {count}
  FROM set_areas s JOIN {source} a ON a.area = s.area GROUP BY s.area_set
  UNION ALL SELECT s.area_set, 'area', s.area, {count}
  FROM set_areas s JOIN {source} a ON a.area = s.area GROUP BY s.area_set, s.area
  UNION ALL SELECT s.area_set, 'day', a.day, {count}
  FROM set_areas s JOIN {source} a ON a.area = s.area GROUP BY s.area_set, a.day"""


@dataclass(frozen=True, slots=True)
class BacktestQuery:
    """The backtest as stages: each of ``stages`` (name, SELECT) is materialised as a table of
    that name, in order, then ``final`` answers from them. Materialising keeps the rule
    expressions in one scan of the log (Spark would otherwise copy them into every branch)."""

    stages: tuple[tuple[str, str], ...]
    final: str


def _rule_list(items: Sequence[tuple[int, str]], dialect: Dialect) -> str:
    """An array of the indices among ``items`` (index, SQL) whose expression is True."""
    if not items:
        return "CAST([] AS INTEGER[])" if dialect is DUCKDB else "CAST(array() AS ARRAY<INT>)"
    cases = ", ".join(f"CASE WHEN {sql} THEN {i} END" for i, sql in items)
    if dialect is DUCKDB:
        return f"list_filter([{cases}], lambda x: x IS NOT NULL)"
    return f"filter(array({cases}), x -> x IS NOT NULL)"


def _hit_rules(
    rules: Sequence[str], dialect: Dialect, types: Sequence[frozenset[str] | None] | None
) -> str:
    """An array of the indices of the rules that hit the row (empty for most rows).

    With ``types`` (per rule, the event types it can hit, None when unrestricted: see
    :mod:`~rampart.detect.rules.prefilter`), a ``CASE`` on the row's ``event.type`` evaluates
    only the rules that can be True for it -- the others are False there whatever their other
    operands, so the array is the same, at a fraction of the work (most rows are page views).
    """
    indexed = list(enumerate(rules))
    if types is None or all(t is None for t in types):
        return _rule_list(indexed, dialect)
    if len(types) != len(rules):
        raise ValueError("one set of event types per rule")
    anywhere = [(i, sql) for i, sql in indexed if types[i] is None]
    named: set[str] = set().union(*(t for t in types if t is not None))
    branches = [
        f"WHEN {dialect.string(name)} THEN "
        + _rule_list(
            [
                (i, sql)
                for (i, sql), t in zip(indexed, types, strict=True)
                if t is None or name in t
            ],
            dialect,
        )
        for name in sorted(named)
    ]
    column = dialect.identifier(EVENT_TYPE)
    return f"CASE {column} {' '.join(branches)} ELSE {_rule_list(anywhere, dialect)} END"


def backtest_query(
    rules: Sequence[str],
    dialect: Dialect = DUCKDB,
    types: Sequence[frozenset[str] | None] | None = None,
) -> BacktestQuery:
    """The query for rules given as SQL boolean expressions (index = rule number); ``types``:
    each rule's event types, when known (the ``logs`` relation then has ``event.type``)."""
    if not rules:
        raise ValueError("no rules to backtest")
    hit_rules = _hit_rules(rules, dialect, types)
    explode = "unnest" if dialect is DUCKDB else "explode"
    # Exploding the rule array keeps only the rows some rule hits (an empty array gives no
    # row): the ids of the others are never copied; the whole-log counts scan ``logs`` again.
    hits = f"""
SELECT h.rule, h.event_id, h.day, h.user_id, h.device_id, h.ip,
  (h.user_id IS NOT NULL AND a.entity_id IS NULL AND e.event_id IS NULL) AS legit
FROM (
  SELECT {explode}({hit_rules}) AS rule, event_id, day, user_id, device_id, ip FROM logs
) h
LEFT JOIN abusive_accounts a ON a.entity_id = h.user_id
LEFT JOIN (SELECT DISTINCT event_id FROM event_labels) e ON e.event_id = h.event_id
"""
    return BacktestQuery((("hits", hits),), _FINAL)


_FINAL: Final = f"""
WITH hit_areas AS (
  SELECT h.*, r.area AS rule_area FROM hits h JOIN rule_areas r ON r.rule = h.rule
),
-- A rule of one area counts the same in its area as in the whole window: counted once.
multi_area AS (SELECT rule FROM rule_areas GROUP BY rule HAVING COUNT(*) > 1),
all_counts AS (
  {_hit_counts("'all'", "'all'")}
),
hit_counts AS (
  SELECT * FROM all_counts
  UNION ALL SELECT c.rule, 'area', r.area, {", ".join(f"c.{c}" for c in _HIT_COLUMNS)}
  FROM all_counts c JOIN rule_areas r ON r.rule = c.rule
  LEFT JOIN multi_area m ON m.rule = c.rule WHERE m.rule IS NULL
  UNION ALL {_hit_counts("'area'", "h.rule_area", "JOIN multi_area m ON m.rule = h.rule")}
  UNION ALL {_hit_counts("'day'", "h.day")}
),
days AS (SELECT DISTINCT day FROM logs),
scopes AS (
  SELECT rule, area_set, 'all' AS scope_kind, 'all' AS scope FROM rule_areas
  UNION ALL SELECT rule, area_set, 'area', area FROM rule_areas
  UNION ALL SELECT r.rule, r.area_set, 'day', d.day FROM rule_areas r CROSS JOIN days d
),
-- The labelled counts depend on a rule only through its areas: counted once per set of areas.
set_areas AS (SELECT DISTINCT area_set, area FROM rule_areas),
log_entities AS (
  {_entities("logs", "day")}
),
acting AS (
  SELECT DISTINCT x.day, x.kind, x.entity_id, lb.area
  FROM log_entities x
  JOIN entity_labels lb ON lb.kind = x.kind AND lb.entity_id = x.entity_id
),
labelled_in_log AS (
  SELECT DISTINCT x.day, el.event_id, el.area
  FROM logs x JOIN event_labels el ON el.event_id = x.event_id
),
labelled_entity_counts AS (
  {_labelled_counts("COUNT(DISTINCT a.kind || ':' || a.entity_id) AS labelled_entities", "acting")}
),
labelled_event_counts AS (
  {_labelled_counts("COUNT(DISTINCT a.event_id) AS labelled_events", "labelled_in_log")}
),
legit_events AS (
  SELECT l.day, l.user_id
  FROM logs l
  LEFT JOIN abusive_accounts a ON a.entity_id = l.user_id
  LEFT JOIN (SELECT DISTINCT event_id FROM event_labels) e ON e.event_id = l.event_id
  WHERE l.user_id IS NOT NULL AND a.entity_id IS NULL AND e.event_id IS NULL
),
legit_per_day AS (
  SELECT day, COUNT(DISTINCT user_id) AS legit_users FROM legit_events GROUP BY day
),
legit_all AS (SELECT COUNT(DISTINCT user_id) AS legit_users FROM legit_events),
scope_keys AS (SELECT DISTINCT rule, area_set, scope_kind, scope FROM scopes)
SELECT k.rule, k.scope_kind, k.scope,
  COALESCE(h.hits, 0) AS hits,
  COALESCE(h.users, 0) AS users,
  COALESCE(h.devices, 0) AS devices,
  COALESCE(h.ips, 0) AS ips,
  COALESCE(h.users + h.devices + h.ips, 0) AS flagged_entities,
  COALESCE(h.true_positives, 0) AS true_positives,
  COALESCE(lec.labelled_entities, 0) AS labelled_entities,
  COALESCE(h.hit_labelled_events, 0) AS hit_labelled_events,
  COALESCE(lev.labelled_events, 0) AS labelled_events,
  COALESCE(h.legit_users_touched, 0) AS legit_users_touched,
  COALESCE(CASE WHEN k.scope_kind = 'day' THEN lpd.legit_users ELSE la.legit_users END, 0)
    AS legit_users
FROM scope_keys k
LEFT JOIN hit_counts h
  ON h.rule = k.rule AND h.scope_kind = k.scope_kind AND h.scope = k.scope
LEFT JOIN labelled_entity_counts lec
  ON lec.area_set = k.area_set AND lec.scope_kind = k.scope_kind AND lec.scope = k.scope
LEFT JOIN labelled_event_counts lev
  ON lev.area_set = k.area_set AND lev.scope_kind = k.scope_kind AND lev.scope = k.scope
LEFT JOIN legit_per_day lpd ON k.scope_kind = 'day' AND lpd.day = k.scope
CROSS JOIN legit_all la
ORDER BY k.rule, k.scope_kind, k.scope
"""
