"""A self-contained HTML report of a run: the scorecard plus what the raw files show.

`write_report` writes ``index.html``: charts as inline SVG (`rampart.learn.charts`), CSS
inline, no script and no external resource, so the page opens offline and can be mailed.

The scorecard gives the figures; the decisions over time and the top reasons need the files
themselves, which can be millions of lines. `collect_activity` streams them once each and
keeps only counters: decisions first, keeping just the non-allow ones by event id (a small
fraction of traffic), then events, each looked up in that map and counted in its hour. A
missing decision counts as allow, as in SCORING.md.

>>> hour_of("2026-03-01T10:59:59.9Z") - hour_of("2026-03-01T10:00:00+00:00")
0
>>> hour_of("2026-03-01T12:30:00+02:00") == hour_of("2026-03-01T10:30:00Z")
True
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from rampart.contract.outputs import AREAS
from rampart.learn import charts
from rampart.learn.inputs import read_lines
from rampart.learn.report import format_ratio, format_seconds
from rampart.learn.scorecard import InputCounts, Scorecard

__all__ = ["Activity", "VerdictDigest", "collect_activity", "collect_verdicts", "write_report"]

FLAG_THRESHOLD: Final = 0.5
FRICTION_BUDGET: Final = 0.01
TARGET: Final = 0.8
TOP_REASONS: Final = 15
FIRST_VERDICTS: Final = 20
# Past this many bins the timeline is drawn per day (or per several days): thousands of bars
# say nothing, and a stray timestamp years off must not make a million-row table.
MAX_BINS: Final = 24 * 62

_AREA_BIT: Final[dict[str, int]] = {area: 1 << (i + 2) for i, area in enumerate(AREAS)}
_ACTION_CODE: Final = {"challenge": 1, "review": 2, "block": 3}
# Marks an actioned event already counted, so a resent event is not counted twice.
_COUNTED: Final = -1
_DECODE_ERRORS: Final = (msgspec.DecodeError, msgspec.ValidationError, ValueError)


class _DecisionHead(msgspec.Struct):
    """What every decision is decoded to; allow decisions need nothing more."""

    event_id: str
    action: str


class _DecisionBody(msgspec.Struct):
    """Decoded only for non-allow decisions."""

    areas: dict[str, float] = {}
    reasons: list[str] = []


class _EventHead(msgspec.Struct):
    event_id: str
    ts: str


class VerdictRow(msgspec.Struct, frozen=True):
    entity_type: str
    entity_id: str
    area: str
    score: float
    action: str
    found_at: str


_DECISION_HEAD = msgspec.json.Decoder(_DecisionHead)
_DECISION_BODY = msgspec.json.Decoder(_DecisionBody)
_EVENT_HEAD = msgspec.json.Decoder(_EventHead)
_VERDICT = msgspec.json.Decoder(VerdictRow)

# Keyed by hour and offset, so it holds one entry per distinct hour of the stream.
_hour_cache: dict[str, int] = {}


def hour_of(ts: str) -> int:
    """Hours since the epoch (UTC) of an RFC 3339 time; ValueError when it is not one.

    Events of one hour share their first 13 characters and offset, so the parse is cached
    on that key: a stream of millions of events parses a few hundred distinct strings.

    >>> hour_of("2026-03-01T16:15:00+05:30") == hour_of("2026-03-01T10:45:00Z")
    True
    >>> hour_of("2026-03-01T10:00:00")
    Traceback (most recent call last):
    ...
    ValueError: no UTC offset in '2026-03-01T10:00:00'
    """
    suffix = "+00:00" if ts[-1:] in ("Z", "z") else ts[-6:]
    if suffix[:1] not in ("+", "-") or suffix[-2:] != "00" or ts[13:14] != ":":
        # Offsets such as +05:30 move the hour boundary, and odd shapes need the full parse.
        stamp = datetime.fromisoformat(ts)
        if stamp.tzinfo is None:
            raise ValueError(f"no UTC offset in {ts!r}")
        return int(stamp.timestamp()) // 3600
    key = ts[:13] + suffix
    hour = _hour_cache.get(key)
    if hour is None:
        stamp = datetime.fromisoformat(f"{ts[:10]}T{ts[11:13]}:00:00{suffix}")
        hour = _hour_cache[key] = int(stamp.timestamp()) // 3600
    return hour


@dataclass
class Activity:
    """Per-hour counts of events and decisions, and reason-code counts by action.

    ``hours`` maps an epoch hour to ``[events, challenge, review, block]`` (allow is the
    rest); ``area_hours`` maps it to actioned events per area (index of `AREAS`).
    ``reasons`` maps a reason code to its counts under ``[challenge, review, block]``.
    """

    hours: dict[int, list[int]] = field(default_factory=dict)
    area_hours: dict[int, list[int]] = field(default_factory=dict)
    reasons: dict[str, list[int]] = field(default_factory=dict)
    events: int = 0
    undecodable_events: int = 0
    undecodable_decisions: int = 0

    def action_totals(self) -> dict[str, int]:
        """Events by the action of their decision (allow includes events without one)."""
        totals = [sum(row[k] for row in self.hours.values()) for k in range(4)]
        return {
            "allow": totals[0] - sum(totals[1:]),
            **dict(zip(charts.NON_ALLOW, totals[1:], strict=True)),
        }

    def top_reasons(self, n: int = TOP_REASONS) -> list[tuple[str, list[int]]]:
        """The ``n`` most frequent reason codes, most frequent first, ties by name."""
        ranked = sorted(self.reasons.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
        return ranked[:n]


def _actioned_decisions(lines: Iterable[bytes], activity: Activity) -> dict[str, int]:
    """Non-allow decisions as ``event_id -> action code | area bits``; counts reasons.

    Only non-allow decisions are held, so memory follows what was actioned, not traffic.
    """
    actioned: dict[str, int] = {}
    reasons = activity.reasons
    for line in lines:
        try:
            head = _DECISION_HEAD.decode(line)
            code = _ACTION_CODE.get(head.action, 0)
            if not code:
                if head.action != "allow":
                    raise ValueError(head.action)
                continue
            if head.event_id in actioned:
                continue  # a repeated decision: the first one stands, as in evaluate
            body = _DECISION_BODY.decode(line)
        except _DECODE_ERRORS:
            # Blank lines (a trailing newline) fail to decode too but are not errors.
            activity.undecodable_decisions += bool(line.strip())
            continue
        for area, score in body.areas.items():
            if score >= FLAG_THRESHOLD:
                code |= _AREA_BIT.get(area, 0)
        actioned[head.event_id] = code
        for reason in dict.fromkeys(body.reasons):  # a code listed twice counts once
            counts = reasons.get(reason)
            if counts is None:
                counts = reasons[reason] = [0, 0, 0]
            counts[(code & 3) - 1] += 1
    return actioned


def _count_events(lines: Iterable[bytes], actioned: dict[str, int], activity: Activity) -> None:
    hours, area_hours = activity.hours, activity.area_hours
    for line in lines:
        try:
            event = _EVENT_HEAD.decode(line)
            hour = hour_of(event.ts)
        except _DECODE_ERRORS:
            activity.undecodable_events += bool(line.strip())
            continue
        code = actioned.get(event.event_id, 0)
        if code == _COUNTED:
            continue
        activity.events += 1
        row = hours.get(hour)
        if row is None:
            row = hours[hour] = [0, 0, 0, 0]
        row[0] += 1
        if code:
            actioned[event.event_id] = _COUNTED
            row[code & 3] += 1
            if code >> 2:
                per_area = area_hours.get(hour)
                if per_area is None:
                    per_area = area_hours[hour] = [0] * len(AREAS)
                for i in range(len(AREAS)):
                    if code >> (i + 2) & 1:
                        per_area[i] += 1


def collect_activity(
    events: str | os.PathLike[str] | Iterable[bytes],
    decisions: str | os.PathLike[str] | Iterable[bytes],
) -> Activity:
    """Stream decisions, then events (files, plain or gzip, or iterables of JSON lines).

    Resent events are counted once when actioned; a resent allowed event counts again,
    since remembering every allowed id would cost memory per event.

    >>> a = collect_activity(
    ...     [b'{"event_id":"e1","ts":"2026-03-01T10:05:00Z"}',
    ...      b'{"event_id":"e2","ts":"2026-03-01T10:50:00Z"}',
    ...      b'{"event_id":"e3","ts":"2026-03-01T11:00:00Z"}'],
    ...     [b'{"event_id":"e2","action":"block","areas":{"scalper":0.9},"reasons":["r:a"]}'])
    >>> sorted(a.hours.values()), a.top_reasons()
    ([[1, 0, 0, 0], [2, 0, 0, 1]], [('r:a', [0, 0, 1])])
    >>> a.action_totals()
    {'allow': 2, 'challenge': 0, 'review': 0, 'block': 1}
    """
    activity = Activity()
    actioned = _actioned_decisions(_lines(decisions), activity)
    _count_events(_lines(events), actioned, activity)
    return activity


def _lines(source: str | os.PathLike[str] | Iterable[bytes]) -> Iterable[bytes]:
    return read_lines(source) if isinstance(source, str | os.PathLike) else source


@dataclass
class VerdictDigest:
    """Verdict counts by area and entity type, and the first few verdicts as emitted."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    first: list[VerdictRow] = field(default_factory=list)
    total: int = 0
    undecodable: int = 0


def collect_verdicts(source: str | os.PathLike[str] | Iterable[bytes]) -> VerdictDigest:
    digest = VerdictDigest()
    for line in _lines(source):
        try:
            row = _VERDICT.decode(line)
        except _DECODE_ERRORS:
            digest.undecodable += bool(line.strip())
            continue
        digest.total += 1
        digest.counts[row.area, row.entity_type] += 1
        if len(digest.first) < FIRST_VERDICTS:
            digest.first.append(row)
    return digest


# Page assembly: turning counts into the template's context.


def grade(value: float | None, target: float = TARGET) -> str:
    """CSS class of a ratio against its target: at target, within reach, or far off.

    >>> [grade(v) for v in (0.85, 0.6, 0.2, None)]
    ['good', 'warn', 'bad', 'na']
    """
    if value is None:
        return "na"
    if value >= target:
        return "good"
    return "warn" if value >= target * 0.625 else "bad"


def format_count(value: int | None) -> str:
    """A count with thousands separators.

    >>> format_count(1234567), format_count(None)
    ('1,234,567', '—')
    """
    return "—" if value is None else f"{value:,}"


@dataclass(frozen=True)
class _Timeline:
    chart: Markup | None
    rows: list[dict[str, Any]]
    unit: str = "hour"


def _timeline(activity: Activity) -> _Timeline:
    """Dense bins from the first to the last hour seen (zero where nothing happened), charted.

    Hours, or days when the span is too long for hourly bars to mean anything.
    """
    if not activity.hours:
        return _Timeline(None, [])
    first, last = min(activity.hours), max(activity.hours)
    per_bin = 1 if last - first < MAX_BINS else 24 * -(-(last - first) // (24 * MAX_BINS))
    first -= first % per_bin
    # Per bin: events, challenge, review, block, then actioned events per area.
    rows = [[0] * (4 + len(AREAS)) for _ in range((last - first) // per_bin + 1)]
    for hour, counts in activity.hours.items():
        row = rows[(hour - first) // per_bin]
        for k, n in enumerate(counts):
            row[k] += n
        for k, n in enumerate(activity.area_hours.get(hour, ())):
            row[4 + k] += n
    unit = {1: "hour", 24: "day"}.get(per_bin, f"{per_bin // 24} days")
    start, step = np.datetime64(first, "h"), np.timedelta64(per_bin, "h")
    by_action = {a: [r[k + 1] for r in rows] for k, a in enumerate(charts.NON_ALLOW)}
    by_area: dict[str, list[int]] = {
        area: [r[4 + i] for r in rows]
        for i, area in enumerate(AREAS)
        if any(r[4 + i] for r in rows)
    }
    totals = [r[0] for r in rows]
    svg = charts.decisions_over_time(start, step, totals, by_action, by_area, unit)
    shape = "%Y-%m-%d %H:%M" if unit == "hour" else "%Y-%m-%d"
    table = [
        {
            "at": datetime.fromtimestamp((first + i * per_bin) * 3600, UTC).strftime(shape),
            "events": r[0],
            "allow": r[0] - sum(r[1:4]),
            **dict(zip(charts.NON_ALLOW, r[1:4], strict=True)),
        }
        for i, r in enumerate(rows)
    ]
    return _Timeline(Markup(svg), table, unit)


# Input counts that describe what was read; every other count means something did not line up.
_PLAIN_INPUTS: Final = frozenset(
    {"events", "actioned_events", "decisions", "verdicts", "labels", "superseded_labels"}
)


def _input_rows(inputs: InputCounts) -> list[tuple[str, int, bool]]:
    rows = []
    for name in InputCounts.__struct_fields__:
        value: int = getattr(inputs, name)
        rows.append((name.replace("_", " "), value, value > 0 and name not in _PLAIN_INPUTS))
    return rows


def _verdict_context(digest: VerdictDigest) -> dict[str, Any]:
    counts = digest.counts
    types = sorted({t for _, t in counts})
    # Contract areas in contract order, then any others by name.
    order: dict[str, int] = {area: i for i, area in enumerate(AREAS)}
    areas = sorted({a for a, _ in counts}, key=lambda a: (order.get(a, len(order)), a))
    return {
        "total": digest.total,
        "undecodable": digest.undecodable,
        "types": types,
        "matrix": [
            (a, [counts[a, t] for t in types], sum(counts[a, t] for t in types)) for a in areas
        ],
        "type_totals": [sum(counts[a, t] for a in areas) for t in types],
        "first": digest.first,
    }


def _world_context(world: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a world summary the page shows; missing keys are left out, not errors."""
    campaigns = []
    for c in world.get("campaigns") or ():
        entities = dict(c.get("entities") or {})
        campaigns.append(
            {
                "id": str(c.get("id", "")),
                "areas": ", ".join(str(a) for a in c.get("areas") or ()),
                "tactic": str(c.get("tactic", "")),
                "entities": ", ".join(f"{k} {v}" for k, v in sorted(entities.items())),
                "events": c.get("events"),
            }
        )
    by_type = dict(world.get("events_by_type") or {})
    facts = [
        (label, world[key])
        for label, key in (
            ("events", "n_events"),
            ("users", "n_users"),
            ("abusive users", "n_abusive_users"),
            ("labels", "n_labels"),
            ("abusive events", "n_abusive_events"),
        )
        if world.get(key) is not None
    ]
    return {
        "events_by_type": sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])),
        "facts": facts,
        "window": (world.get("window_start"), world.get("window_end")),
        "campaigns": campaigns,
    }


def _window(activity: Activity) -> str | None:
    if not activity.hours:
        return None
    first = datetime.fromtimestamp(min(activity.hours) * 3600, UTC)
    last = datetime.fromtimestamp((max(activity.hours) + 1) * 3600, UTC)
    return f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} UTC"


@functools.cache
def templates() -> Environment:
    """The HTML reports' templates (``rampart/learn/templates``) with their filters."""
    env = Environment(
        loader=PackageLoader("rampart.learn", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_count
    env.filters["pct"] = format_ratio
    env.filters["grade"] = grade
    env.filters["duration"] = format_seconds
    env.globals["area_colour"] = charts.area_colour
    env.globals["action_colours"] = charts.ACTION_COLOURS
    return env


def write_report(
    out_dir: Path,
    scorecard: Scorecard,
    decisions_path: Path,
    events_path: Path,
    *,
    verdicts_path: Path | None = None,
    world: Mapping[str, Any] | None = None,
    title: str = "Rampart report",
) -> Path:
    """Write ``out_dir/index.html`` (creating ``out_dir``) and return its path.

    ``world`` is a plain mapping (e.g. a simulator summary passed through
    `dataclasses.asdict`): ``events_by_type``, ``campaigns`` with ``id``, ``areas``,
    ``tactic``, ``entities`` and ``events``, and ``n_*`` totals; missing keys are skipped.
    """
    activity = collect_activity(events_path, decisions_path)
    friction = scorecard.friction
    friction_rows = [("any action", friction.users_with_friction, friction.rate)]
    friction_rows += [
        (a, friction.by_action[a].users, friction.by_action[a].rate)
        for a in charts.NON_ALLOW
        if a in friction.by_action
    ]
    areas = [(a.area, a.entity_recall, a.entity_precision) for a in scorecard.areas]
    area_chart = charts.area_bars(areas, TARGET) if areas else None
    reasons = activity.top_reasons()
    friction_chart = charts.friction_bars(friction_rows, FRICTION_BUDGET, friction.legitimate_users)
    context = {
        "title": title,
        "card": scorecard,
        "budget": FRICTION_BUDGET,
        "target": TARGET,
        "window": _window(activity),
        "activity": activity,
        "action_totals": activity.action_totals(),
        "area_chart": Markup(area_chart) if area_chart else None,
        "friction_chart": Markup(friction_chart),
        "timeline": _timeline(activity),
        "reasons": reasons,
        "reason_chart": Markup(charts.reason_bars(reasons)) if reasons else None,
        "verdicts": _verdict_context(collect_verdicts(verdicts_path)) if verdicts_path else None,
        "world": _world_context(world) if world is not None else None,
        "input_rows": _input_rows(scorecard.inputs),
    }
    html = templates().get_template("report.html.j2").render(context)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "index.html"
    out.write_text(html, encoding="utf-8")
    return out
