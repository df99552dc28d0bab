"""Access logs: real files in both formats, malformed lines in the middle, a parser round trip."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path
from typing import Any

import msgspec
import orjson
from hypothesis import given
from hypothesis import strategies as st

from rampart.contract.events import Event, PageView
from rampart.contract.validate import ContractError, parse_line
from rampart.ingest.sources.accesslog import AccessLogSource, page_view, parse_access_line
from rampart.ingest.sources.base import SourceItem, SourceRecord

T = "[01/Mar/2026:12:00:00 +0800]"
LINES = [
    f'203.0.113.9 - frank {T} "GET /item/42?ref=home HTTP/1.1" 200 2326 '
    '"https://shop.example/" "Mozilla/5.0 (X11)"',
    f'2001:db8::7 - - {T} "POST /api/cart HTTP/2.0" 201 12 "-" "okhttp/4.12"',
    f'198.51.100.4 - - {T} "GET /common HTTP/1.0" 304 -',
    "this is not an access log line",
    f'203.0.113.9 - - {T} "GET /s?q=a+b HTTP/1.1" 200 1 "-" "Bot \\"quoted\\" \\\\ 1.0"',
    f'203.0.113.9 - - {T} "GET /raw HTTP/1.1" 200 1 "-" "Odd "raw" quotes"',
    f'crawler.example.net - - {T} "HEAD / HTTP/1.1" 200 0 "-" "-"',
    "",
    f'203.0.113.9 - - {T} "-" 408 0 "-" "-"',
    '203.0.113.9 - - [31/Feb/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1',
    f'203.0.113.9 - - {T} "GET /n HTTP/1.1" 200 1 "-" "nginx \\x22q\\x22 caf\\xC3\\xA9" "10.0.0.1"',
]


def _split(items: list[SourceItem]) -> tuple[dict[int, PageView], list[ContractError]]:
    """Decode every record as the caller does; errors of the source and the contract, in order."""
    events: dict[int, PageView] = {}
    errors: list[ContractError] = []
    for item in items:
        decoded = item if isinstance(item, ContractError) else parse_line(item.raw, item.line)
        if isinstance(decoded, ContractError):
            errors.append(decoded)
        else:
            assert isinstance(decoded, PageView)
            events[item.line] = decoded
    return events, errors


def _builtins(event: Event) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.to_builtins(event)
    return document


def test_a_log_with_every_kind_of_line(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("\n".join(LINES) + "\n")

    items = list(AccessLogSource(path))
    events, errors = _split(items)

    assert sorted(events) == [1, 2, 3, 5, 6, 7, 11]
    assert [(e.line, e.path, e.reason) for e in errors] == [
        (4, None, "not in the combined or common log format"),
        (9, "props.path", "the request line has no method and path (e.g. `-`)"),
        (
            10,
            "ts",
            "`31/Feb/2026:12:00:00 +0000` is not a real time (day is out of range for month)",
        ),
    ]
    first = _builtins(events[1])
    assert first == {
        "type": "page.view",
        "event_id": first["event_id"],
        "ts": "2026-03-01T12:00:00+08:00",
        "ip": "203.0.113.9",
        "device": {"user_agent": "Mozilla/5.0 (X11)"},
        "props": {"path": "/item/42?ref=home", "status": 200, "referrer": "https://shop.example/"},
    }
    assert re.fullmatch(r"log-[0-9a-f]{24}", first["event_id"])
    assert "user_id" not in first  # the basic-auth user `frank` is dropped
    assert b"frank" not in next(i.raw for i in items if isinstance(i, SourceRecord))

    second = _builtins(events[2])
    assert second["ip"] == "2001:db8::7"
    assert second["props"] == {"path": "/api/cart", "status": 201}
    # Method is an unknown prop: kept in the raw line, not in the typed event.
    raw_2 = next(i.raw for i in items if isinstance(i, SourceRecord) and i.line == 2)
    assert orjson.loads(raw_2)["props"]["method"] == "POST"

    assert _builtins(events[3])["props"] == {"path": "/common", "status": 304}
    assert "device" not in _builtins(events[3])
    assert _builtins(events[5])["device"]["user_agent"] == 'Bot "quoted" \\ 1.0'
    assert _builtins(events[6])["device"]["user_agent"] == 'Odd "raw" quotes'
    assert "ip" not in _builtins(events[7])  # a host name is not an address
    assert "device" not in _builtins(events[7])
    assert _builtins(events[11])["device"]["user_agent"] == 'nginx "q" café'


def test_event_ids_are_stable_on_rereading_and_distinct_per_position(tmp_path: Path) -> None:
    line = f'203.0.113.9 - - {T} "GET / HTTP/1.1" 200 1 "-" "UA"\n'
    path = tmp_path / "access.log"
    path.write_text(line * 3)

    def ids(source: AccessLogSource) -> list[str]:
        return [orjson.loads(i.raw)["event_id"] for i in source if isinstance(i, SourceRecord)]

    first = ids(AccessLogSource(path))
    assert first == ids(AccessLogSource(path))
    assert len(set(first)) == 3
    # Appending keeps the earlier ids, so re-importing a grown log only adds the new lines.
    path.write_text(line * 4)
    assert ids(AccessLogSource(path))[:3] == first
    assert set(ids(AccessLogSource(path, source_id="web-2"))).isdisjoint(first)


def test_gzip_log_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "access.log.1.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(("\r\n".join(LINES[:3]) + "\r\n").encode())
    events, errors = _split(list(AccessLogSource(path)))
    assert (sorted(events), errors) == ([1, 2, 3], [])


def test_an_overlong_line_is_skipped_without_stopping(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    long_line = f'203.0.113.9 - - {T} "GET /{"a" * 500} HTTP/1.1" 200 1 "-" "UA"'
    path.write_text("\n".join([LINES[0], long_line, LINES[2]]) + "\n")
    events, errors = _split(list(AccessLogSource(path, max_line_bytes=300)))
    assert sorted(events) == [1, 3]
    assert [(e.line, e.reason) for e in errors] == [(2, "the line is longer than 300 bytes")]


# --- a round trip of generated lines against a naive reference parser ------------------------

_REFERENCE = re.compile(r'(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+)[^"]*" (\d{3}) ')
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%+:@!$'()*,;"


def _apache_escape(text: str) -> str:
    """What Apache writes for a quoted field: \\" and \\\\, non-ASCII bytes as \\xHH."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02X}")
    return "".join(out)


def _log_time(moment: dt.datetime) -> str:
    offset = moment.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return (
        f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:"
        f"{moment:%H:%M:%S} {sign}{hours:02d}{rest:02d}"
    )


_offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
_agents = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=80).filter(
    lambda s: s != "-"
)


@given(
    ip=st.ip_addresses().map(str),
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
    path=st.text(_PATH_CHARS, max_size=60).map(lambda p: "/" + p),
    status=st.integers(min_value=100, max_value=599),
    size=st.one_of(st.just("-"), st.integers(min_value=0, max_value=10**9).map(str)),
    agent=_agents,
    moment=st.datetimes(
        min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=_offsets
    ),
)
def test_parser_round_trips_generated_lines(
    ip: str, method: str, path: str, status: int, size: str, agent: str, moment: dt.datetime
) -> None:
    moment = moment.replace(microsecond=0)
    line = (
        f'{ip} - - [{_log_time(moment)}] "{method} {path} HTTP/1.1" {status} {size} '
        f'"-" "{_apache_escape(agent)}"'
    )
    reference = _REFERENCE.match(line)
    assert reference is not None

    entry = parse_access_line(line)
    assert entry is not None
    event = page_view(entry, "log-x")

    assert (event["ip"], event["props"]["path"], event["props"]["status"]) == (
        reference.group(1),
        reference.group(3),
        int(reference.group(4)),
    )
    assert event["props"]["path"] == path
    assert event["props"].get("method", "GET") in (method, "GET")
    assert event["device"]["user_agent"] == agent
    assert dt.datetime.fromisoformat(event["ts"]) == moment
    decoded = parse_line(orjson.dumps(event), 1)
    assert isinstance(decoded, PageView), str(decoded)
