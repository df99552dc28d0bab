"""The HTML report: built from small real files, checked for content, safety and counts.

The stream is laid out so every figure can be counted by hand: 300 events, one a minute
from T0 (so 60 per hour over 5 hours), user ``u{i % 30}``. Users u0-u4 are abusive and
every one of their events is blocked: 10 blocks per hour. Events 7, 57, 107, 157, 207 and
257 (legitimate users) are challenged, event 130 is sent to review.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from rampart.learn.evaluate import evaluate_files
from rampart.learn.html import collect_activity, hour_of, write_report
from rampart.learn.scorecard import Scorecard

T0 = datetime(2026, 3, 1, tzinfo=UTC)
XSS = "<script>alert(1)</script>"
# Would be parsed as a (malformed) formula by matplotlib if handed over as is.
MATHTEXT = r"promo:$\frac{$_off"
SCALPERS = {"u0", "u1", "u2"}
TAKEOVERS = {"u3", "u4"}
CHALLENGED = {7, 57, 107, 157, 207, 257}
REVIEWED = 130
Doc = dict[str, Any]

# Hand count per hour: (events, allow, challenge, review, block).
HOURLY = {
    "2026-03-01 00:00": (60, 48, 2, 0, 10),
    "2026-03-01 01:00": (60, 49, 1, 0, 10),
    "2026-03-01 02:00": (60, 48, 1, 1, 10),
    "2026-03-01 03:00": (60, 49, 1, 0, 10),
    "2026-03-01 04:00": (60, 49, 1, 0, 10),
}


def at(minute: int) -> str:
    return (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def events() -> list[Doc]:
    out = []
    for i in range(300):
        kind = "order.created" if i % 10 == 9 else "account.login"
        props: Doc = {"success": True}
        if kind == "order.created":
            props = {"order_id": f"o{i}", "seller_id": "s1", "items": [], "total": 10.0}
            props["currency"] = "EUR"
        out.append(
            {
                "event_id": f"e{i}",
                "type": kind,
                "ts": at(i),
                "user_id": f"u{i % 30}",
                "device": {"id": f"d{i % 30}"},
                "props": props,
            }
        )
    return out


def decision(i: int) -> Doc:
    user = f"u{i % 30}"
    doc: Doc = {"event_id": f"e{i}", "action": "allow", "score": 0.1, "reasons": []}
    if user in SCALPERS | TAKEOVERS:
        area = "scalper" if user in SCALPERS else "account_integrity"
        doc.update(action="block", score=0.9, areas={area: 0.9})
        doc["reasons"] = ["rule:velocity", f"model:{area}"]
    elif i in CHALLENGED:
        doc.update(action="challenge", score=0.6, areas={"click_farm": 0.6})
        doc["reasons"] = ["rule:new_device", *([XSS] if i == 57 else [])]
    elif i == REVIEWED:
        doc.update(action="review", score=0.55, reasons=["rule:manual_queue", MATHTEXT])
    return doc


def verdicts() -> list[Doc]:
    return [
        {
            "entity_type": "user",
            "entity_id": user,
            "area": "scalper",
            "score": 0.95,
            "action": "block",
            "found_at": at(30),
            "evidence": ["ring"],
        }
        for user in sorted(SCALPERS)
    ] + [
        {
            "entity_type": "device",
            "entity_id": "<b>d3</b>",
            "area": "account_integrity",
            "score": 0.7,
            "action": "review",
            "found_at": at(90),
        }
    ]


def labels() -> list[Doc]:
    return [
        {"entity_type": "user", "entity_id": user, "area": area, "label": 1, "campaign": camp}
        for users, area, camp in (
            (SCALPERS, "scalper", "c1"),
            (TAKEOVERS, "account_integrity", "c2"),
        )
        for user in sorted(users)
    ]


WORLD: Doc = {
    "events_by_type": {"account.login": 270, "order.created": 30},
    "n_events": 300,
    "n_users": 30,
    "n_abusive_users": 5,
    "campaigns": [
        {
            "id": "C01-scalper-checkout_bot",
            "areas": ["scalper"],
            "tactic": "checkout_bot",
            "entities": {"user": 3, "device": 3},
            "events": 30,
        },
        {"id": XSS, "areas": ("account_integrity",), "tactic": "x", "entities": {}, "events": 20},
    ],
    "n_labels": 5,
    "n_abusive_events": 0,
    "window_start": at(0),
    "window_end": at(300),
}


def write_lines(path: Path, docs: list[Doc]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("run")
    return {
        "events": write_lines(root / "events.jsonl", events()),
        "decisions": write_lines(root / "decisions.jsonl", [decision(i) for i in range(300)]),
        "verdicts": write_lines(root / "verdicts.jsonl", verdicts()),
        "labels": write_lines(root / "labels.jsonl", labels()),
    }


def scorecard(run: dict[str, Path]) -> Scorecard:
    return evaluate_files(run["events"], run["decisions"], run["verdicts"], run["labels"])


def report(run: dict[str, Path], out_dir: Path) -> Path:
    return write_report(
        out_dir,
        scorecard(run),
        run["decisions"],
        run["events"],
        verdicts_path=run["verdicts"],
        world=WORLD,
        title="Weekly <run> & review",
    )


# Built once: drawing the charts is most of a test's time.
@pytest.fixture(scope="module")
def page(run: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    out_dir = tmp_path_factory.mktemp("report") / "nested"
    out = report(run, out_dir)
    assert out == out_dir / "index.html"
    assert out.is_file()
    return out.read_text(encoding="utf-8")


def test_one_svg_per_chart(page: str) -> None:
    # Recall/precision per area, friction, decisions over time, top reasons.
    assert page.count("<svg ") == 4
    assert page.count('role="img"') == 4
    for title in ("recall and precision per area", "users actioned", "Decisions per hour"):
        assert title in page


def test_shows_areas_headline_and_world(page: str, run: dict[str, Path]) -> None:
    for area in scorecard(run).areas:
        assert f"</span>{area.area}</td>" in page
    assert "Weekly &lt;run&gt; &amp; review" in page
    assert "Macro entity recall" in page
    assert "C01-scalper-checkout_bot" in page
    assert "device 3, user 3" in page
    assert "<b>d3</b>" not in page
    assert "&lt;b&gt;d3&lt;/b&gt;" in page


def test_top_reasons_with_counts(page: str) -> None:
    # (challenge, review, block) per reason, by hand from the layout in the module docstring.
    expected = {
        "rule:velocity": (0, 0, 50),
        "model:scalper": (0, 0, 30),
        "model:account_integrity": (0, 0, 20),
        "rule:new_device": (6, 0, 0),
        "rule:manual_queue": (0, 1, 0),
    }
    for reason, counts in expected.items():
        cells = "".join(f"<td>{n}</td>" for n in counts)
        assert f"<code>{reason}</code></td>{cells}<td><strong>{sum(counts)}</strong>" in page
    assert f"<code>{MATHTEXT}</code>" in page
    # Most frequent first.
    assert page.index("<code>rule:velocity") < page.index("<code>model:scalper")


def test_escapes_untrusted_text(page: str) -> None:
    assert XSS not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_no_remote_resources(page: str) -> None:
    assert "http://" not in page
    assert "https://" not in page
    # Every reference is to a fragment of the page itself (glyphs and clip paths in SVGs).
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)""", page, flags=re.I)
    assert refs
    assert all(ref.startswith("#") for ref in refs)
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", page))


def test_hourly_counts_match_hand_count(page: str) -> None:
    table = page[page.index('<table id="hourly">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td>([^<]+)</td>((?:<td>[\d,]+</td>)+)</tr>", table)
    shown = {
        at: tuple(int(n) for n in re.findall(r"<td>([\d,]+)</td>", cells)) for at, cells in rows
    }
    assert shown == HOURLY


def test_activity_counts_hours_by_action(run: dict[str, Path]) -> None:
    activity = collect_activity(run["events"], run["decisions"])
    base = hour_of(at(0))
    assert {h - base: row for h, row in activity.hours.items()} == {
        0: [60, 2, 0, 10],
        1: [60, 1, 0, 10],
        2: [60, 1, 1, 10],
        3: [60, 1, 0, 10],
        4: [60, 1, 0, 10],
    }
    # Blocks score scalper (u0-u2: 6 an hour) or account_integrity (u3-u4: 4 an hour);
    # challenges score click_farm; the review scores no area.
    area_rows = {h - base: row for h, row in activity.area_hours.items()}
    assert area_rows[0] == [4, 0, 6, 0, 0, 0, 2, 0]
    assert area_rows[2] == [4, 0, 6, 0, 0, 0, 1, 0]
    assert activity.action_totals() == {"allow": 243, "challenge": 6, "review": 1, "block": 50}


def test_activity_edge_cases(tmp_path: Path) -> None:
    lines = [
        {"event_id": "a", "ts": "2026-03-01T12:30:00+02:00"},  # 10:30 UTC
        {"event_id": "b", "ts": "2026-03-01T10:59:59.999Z"},
        {"event_id": "b", "ts": "2026-03-01T10:59:59.999Z"},  # resend of an actioned event
        {"event_id": "c", "ts": "2026-03-01T16:15:00+05:30"},  # 10:45 UTC
        {"event_id": "d", "ts": "2026-03-01T08:00:00Z"},  # late: an earlier hour, no decision
        {"event_id": "e", "ts": "not a time"},
    ]
    events_path = tmp_path / "events.jsonl.gz"
    with gzip.open(events_path, "wb") as f:
        f.write(b"".join(orjson.dumps(d) + b"\n" for d in lines) + b"\n\n{broken\n")
    decisions = [
        b'{"event_id":"b","action":"review","areas":{"brushing":0.5,"nope":0.9},"reasons":[]}',
        b'{"event_id":"b","action":"allow","reasons":[]}',  # later duplicate: first stands
        b'{"event_id":"c","action":"deny","reasons":[]}',  # not an action
        b"",
    ]
    activity = collect_activity(events_path, decisions)
    ten, eight = hour_of("2026-03-01T10:00:00Z"), hour_of("2026-03-01T08:00:00Z")
    assert activity.hours == {ten: [3, 0, 1, 0], eight: [1, 0, 0, 0]}
    assert activity.area_hours == {ten: [0, 0, 0, 0, 0, 1, 0, 0]}
    assert (activity.events, activity.undecodable_events, activity.undecodable_decisions) == (
        4,
        2,
        1,
    )


def test_minimal_run_without_actions(tmp_path: Path) -> None:
    events_path = write_lines(tmp_path / "events.jsonl", events()[:5])
    decisions_path = write_lines(tmp_path / "decisions.jsonl", [])
    empty = write_lines(tmp_path / "empty.jsonl", [])
    card = evaluate_files(events_path, decisions_path, empty, empty)
    page = write_report(tmp_path / "out", card, decisions_path, events_path).read_text()
    assert "No non-allow decisions" in page
    assert 'id="verdicts"' not in page
    assert 'id="world"' not in page
    assert page.count("<svg ") == 3  # no reasons chart


def test_output_is_deterministic(run: dict[str, Path], tmp_path: Path, page: str) -> None:
    assert report(run, tmp_path).read_text(encoding="utf-8") == page
