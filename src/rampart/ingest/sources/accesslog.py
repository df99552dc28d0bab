r"""Web server access logs (Apache/nginx combined or common format, plain or gzip) as page views.

Each request becomes an anonymous ``page.view``:

* ``event_id`` is ``log-`` and 24 hex digits of a BLAKE2b hash of the line number and the raw
  line (and an optional ``source_id``). Re-reading the same file gives the same ids, so dedupe
  by ``event_id`` makes a re-import harmless; two identical lines (same client, same second,
  same request) at different positions stay two events. Growing a log by appending keeps earlier
  ids; a log rotated by renaming or gzipping keeps them too. Pass a distinct ``source_id`` per
  server when several servers' logs are ingested, so the same line at the same position in two
  servers' logs does not collapse into one event.
* ``ts`` from ``[10/Oct/2000:13:55:36 -0700]``, as RFC 3339 with the logged offset.
* ``ip`` from ``%h`` when it is an IP address (a resolved host name is left out).
* ``device.user_agent`` from the User-Agent. ``device.platform`` is left out: an access log also
  carries app API calls and bots, and the user agent (kept) is the evidence to derive it from.
* ``props``: ``path`` (the request target, query string kept), ``status``, ``referrer``; a method
  other than GET or HEAD is kept as the extra prop ``method``. ``-`` means absent.
* ``%u`` (the HTTP basic-auth user) is dropped: it is not the marketplace's ``user_id``, and a
  login name is PII that pseudonymisation at ingest would not know to protect. ``%l`` and ``%b``
  are dropped as well.

Quoted fields are unescaped as Apache and nginx escape them (``\"``, ``\\``, ``\xHH``); a raw
``"`` inside the User-Agent (unescaping loggers) is tolerated. A line that is not in either
format, or whose time or request is unusable, yields a :class:`ContractError` and the stream
goes on (a request line ``-``, logged for a connection closed before the request, is one).

>>> line = ('203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /item/42?ref=home HTTP/1.1" '
...         '200 2326 "https://shop.example/" "Mozilla/5.0 (\\"quoted\\")"')
>>> entry = parse_access_line(line)
>>> entry.host, entry.request, entry.status, entry.user_agent
('203.0.113.9', 'GET /item/42?ref=home HTTP/1.1', 200, 'Mozilla/5.0 ("quoted")')
>>> page_view(entry, "log-1")
{'event_id': 'log-1', 'type': 'page.view', 'ts': '2000-10-10T13:55:36-07:00', 'ip': '203.0.113.9', 'device': {'user_agent': 'Mozilla/5.0 ("quoted")'}, 'props': {'path': '/item/42?ref=home', 'status': 200, 'referrer': 'https://shop.example/'}}
"""  # noqa: E501

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson

from rampart.contract.validate import ContractError
from rampart.ingest.sources.base import SourceItem, SourceRecord, bounded_lines, open_binary

_Q: Final = r'"((?:[^"\\]|\\.)*)"'  # a quoted field, backslash escapes allowed
_HEAD: Final = rf"(\S+) \S+ (\S+) \[([^\]]+)\] {_Q} (\d{{3}}|-) (\d+|-)"
# Extra fields some servers append (e.g. nginx's $http_x_forwarded_for); each token starts with
# a character that decides its form, so a long malformed tail cannot make the regex backtrack.
_TAIL: Final = r'(?:\s+(?:"(?:[^"\\]|\\.)*"|[^\s"]\S*))*'
_COMBINED: Final = re.compile(rf"{_HEAD} {_Q} {_Q}{_TAIL}\s*")
# Fallback for a User-Agent with raw (unescaped) quotes: it runs to the line's last quote.
_COMBINED_LOOSE: Final = re.compile(rf'{_HEAD} {_Q} "(.*)"\s*')
_COMMON: Final = re.compile(rf"{_HEAD}\s*")
_TIME: Final = re.compile(
    r"(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ([+-])(\d{2})(\d{2})"
)
_MONTHS: Final = {
    name: number for number, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul",
                                                 "aug", "sep", "oct", "nov", "dec"), start=1)
}  # fmt: skip
_ESCAPE: Final = re.compile(r"\\(x[0-9A-Fa-f]{2}|[\s\S])")
_C_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", '"': '"', "\\": "\\"}
_METHOD: Final = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_PLAIN_METHODS: Final = frozenset({"GET", "HEAD"})


class AccessLogEntry(NamedTuple):
    """The fields of one access log line that become an event (unescaped; ``-`` is None)."""

    host: str
    user: str | None
    time: str
    request: str
    status: int | None
    referrer: str | None
    user_agent: str | None


class AccessLogSource:
    """Page views from a web server access log, one line at a time.

    Lines longer than ``max_line_bytes`` are reported and skipped without being held in memory.
    """

    def __init__(self, path: Path, *, source_id: str = "", max_line_bytes: int = 1 << 16) -> None:
        self.path = path
        self.source_id = source_id
        self.max_line_bytes = max_line_bytes

    def __iter__(self) -> Iterator[SourceItem]:
        with open_binary(self.path) as handle:
            lines = bounded_lines(handle, self.max_line_bytes)
            for number, (raw, too_long) in enumerate(lines, start=1):
                if too_long:
                    reason = f"the line is longer than {self.max_line_bytes} bytes"
                    yield ContractError(line=number, event_id=None, path=None, reason=reason)
                    continue
                raw = raw.rstrip(b"\r\n")
                if raw.strip():
                    yield self._convert(raw, number)

    def _convert(self, raw: bytes, number: int) -> SourceItem:
        # Invalid UTF-8 (old logs, raw bytes from clients) becomes U+FFFD, never a lost line.
        entry = parse_access_line(raw.decode("utf-8", "replace"))
        if entry is None:
            reason = "not in the combined or common log format"
            return ContractError(line=number, event_id=None, path=None, reason=reason)
        event_id = log_event_id(raw, number, self.source_id)
        try:
            return SourceRecord(number, orjson.dumps(page_view(entry, event_id)))
        except _LineError as exc:
            return ContractError(line=number, event_id=event_id, path=exc.path, reason=exc.reason)


def log_event_id(raw: bytes, line_no: int, source_id: str = "") -> str:
    """The event id of a log line: stable across re-reads, distinct per position.

    >>> log_event_id(b"x", 1) == log_event_id(b"x", 1) != log_event_id(b"x", 2)
    True
    """
    digest = hashlib.blake2b(digest_size=12, person=b"rampart-log")
    digest.update(f"{source_id}\0{line_no}\0".encode())
    digest.update(raw)
    return "log-" + digest.hexdigest()


def parse_access_line(text: str) -> AccessLogEntry | None:
    """Split a combined (or common) log line into its fields, or None if it is neither."""
    match = _COMBINED.fullmatch(text) or _COMBINED_LOOSE.fullmatch(text) or _COMMON.fullmatch(text)
    if match is None:
        return None
    host, user, time, request, status, _size, *rest = match.groups()
    referrer, agent = rest if rest else (None, None)
    return AccessLogEntry(
        host=host,
        user=None if user == "-" else user,
        time=time,
        request=_unescape(request),
        status=None if status == "-" else int(status),
        referrer=_dash(referrer),
        user_agent=_dash(agent),
    )


def page_view(entry: AccessLogEntry, event_id: str) -> dict[str, Any]:
    """The contract-shaped ``page.view`` of one parsed line."""
    event: dict[str, Any] = {"event_id": event_id, "type": "page.view", "ts": _timestamp(entry)}
    if (ip := _ip(entry.host)) is not None:
        event["ip"] = ip
    if entry.user_agent is not None:
        event["device"] = {"user_agent": entry.user_agent}
    method, path = _split_request(entry.request)
    props: dict[str, Any] = {"path": path}
    if entry.status is not None:
        props["status"] = entry.status
    if entry.referrer is not None:
        props["referrer"] = entry.referrer
    if method.upper() not in _PLAIN_METHODS:
        props["method"] = method
    event["props"] = props
    return event


class _LineError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _timestamp(entry: AccessLogEntry) -> str:
    match = _TIME.fullmatch(entry.time)
    month = _MONTHS.get(match.group(2).lower(), 0) if match else 0
    if match is None or not month:
        raise _LineError("ts", f"`{entry.time}` is not a log time like 10/Oct/2000:13:55:36 -0700")
    day, _, year, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    offset = dt.timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        moment = dt.datetime(
            int(year), month, int(day), int(hour), int(minute), int(second),
            int((fraction or "0").ljust(6, "0")), tzinfo=dt.timezone(offset),
        )  # fmt: skip
    except ValueError as exc:
        raise _LineError("ts", f"`{entry.time}` is not a real time ({exc})") from None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _split_request(request: str) -> tuple[str, str]:
    """Method and target of ``GET /path HTTP/1.1`` (or HTTP/0.9's ``GET /path``)."""
    parts = request.split(" ")
    if len(parts) >= 3 and parts[-1].startswith("HTTP/"):
        method, target = parts[0], " ".join(parts[1:-1])
    elif len(parts) == 2:
        method, target = parts
    else:
        method, target = "", ""
    if not _METHOD.fullmatch(method) or not target:
        # Not quoted: a request line can hold anything, credentials and emails included.
        raise _LineError("props.path", "the request line has no method and path (e.g. `-`)")
    return method, target


def _ip(host: str) -> str | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a host name (HostnameLookups on): not an address the contract can take
    # A zone index (fe80::1%eth0) only means something on the logging machine.
    return None if getattr(address, "scope_id", None) else str(address)


def _dash(field: str | None) -> str | None:
    return None if field is None or field in ("", "-") else _unescape(field)


def _unescape(text: str) -> str:
    r"""Undo Apache/nginx escaping: ``\"``, ``\\``, C escapes and ``\xHH`` bytes (as UTF-8).

    >>> _unescape(r'caf\xC3\xA9 \"x\"')
    'café "x"'
    """
    if "\\" not in text:
        return text
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += text[position : match.start()].encode()
        code = match.group(1)
        if len(code) == 3:
            out.append(int(code[1:], 16))
        else:
            out += _C_ESCAPES.get(code, "\\" + code).encode()
        position = match.end()
    out += text[position:].encode()
    return out.decode("utf-8", "replace")
