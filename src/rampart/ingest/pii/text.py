"""Free text (messages, reviews): what is stored, and counts that are safe to keep.

Free text is where users leak contact details and push buyers off-platform, often disguised
("nine one two three...", "john (at) gmail dot com", "9l23 4567"). The raw text is given to the
content detectors in memory only; what is STORED is :func:`redact_text`: e-mail addresses,
URLs, @handles and messenger ids, phone-like numbers and long numbers become ``<email>``,
``<url>``, ``<handle>``, ``<phone>`` and ``<number>``. The rules err on the side of redacting:
a date or an IP written as digits becomes ``<phone>`` too, which costs a little meaning, while
a missed phone number would be a leak.

Numbers: digit groups and number words (English, Malay/Indonesian, Tagalog, Chinese numerals)
joined by up to three separators (space . - / ( ) _ + * ~ ,) form a run; a run of 7-15 digits,
or of at least 5 number words, is ``<phone>``; one of more than 15 digits is ``<number>``. The
letters O, l, I and | between digits count as digits (a common disguise).

>>> redact_text("Contact me: john.smith+shop@gmail.com or +65 9123-4567, ig: @jsmith88")
'Contact me: <email> or <phone>, ig: <handle>'
>>> redact_text("whatsapp nine one two three four five six seven / john (at) gmail dot com")
'whatsapp <phone> / <email>'
>>> redact_text("see shopee dot sg or https://bit.ly/3xYz; 2 pcs for $15.90, order 12345")
'see <url> or <url>; 2 pcs for $15.90, order 12345'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Final

import msgspec

EMAIL: Final = "<email>"
PHONE: Final = "<phone>"
URL: Final = "<url>"
HANDLE: Final = "<handle>"
NUMBER: Final = "<number>"
PHONE_MIN_DIGITS: Final = 7
PHONE_MAX_DIGITS: Final = 15  # E.164
SPELLED_MIN_WORDS: Final = 5

# Two-letter TLDs that are also everyday words (is, it, at, be, in, no, so, to ...) are left
# out of bare-domain matching unless they are link shorteners or messenger hosts (t.me, wa.me).
_TLDS: Final = (
    "com|net|org|info|biz|edu|gov|io|co|me|ly|gl|gd|gg|cc|tv|ai|app|dev|xyz|site|online|shop|"
    "store|link|click|top|vip|club|live|page|sg|my|id|th|ph|vn|kh|la|mm|bn|tw|hk|cn|jp|kr|au|uk|"
    "de|fr|ru|br|eu|ca|nz|ws|su|pw|icu|cyou|buzz|fun|lol|tk|ml|ga|cf|gq|ink|tech|pro|one|mobi|asia"
)
_LABEL: Final = r"[\w-]+"
_LOCAL: Final = r"(?<![\w.+%-])[\w.+%-]+"
_AT_BRACKETED: Final = r"\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*"
_DOT_BRACKETED: Final = r"\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*"
# A domain without a dot still goes ("john@gmail"): over-redacting "me@home" costs nothing.
_EMAIL_RE = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*", re.IGNORECASE)
_DOT_ANY: Final = rf"(?:{_DOT_BRACKETED}|\s+dot\s+|\s*\.\s*)"
# Disguised, in two patterns so that each runs only when its marker is there: a spaced "@"
# ("john @ gmail . com", or spelled out "j o h n @ g m a i l . c o m"), or a bracketed
# "(at)" or plain " at ". A plain " at " needs a disguised or real dot and a word after it
# ("john at gmail dot com", "john at gmail.com") not to eat sentences ("at home. Then").
_EMAIL_SPACED_AT_RE = re.compile(
    rf"{_LOCAL}(?:\s+@\s*|\s*@\s+){_LABEL}(?:{_DOT_ANY}{_LABEL})*"
    r"|(?<!\S)(?:[\w.+-]\s){1,64}@(?:\s[\w.-]){2,}",
    re.IGNORECASE,
)
_EMAIL_AT_WORD_RE = re.compile(
    rf"{_LOCAL}{_AT_BRACKETED}{_LABEL}(?:{_DOT_ANY}{_LABEL})*"
    rf"|{_LOCAL}\s+at\s+{_LABEL}(?:(?:{_DOT_BRACKETED}|\s+dot\s+|\.){_LABEL})*"
    rf"(?:{_DOT_BRACKETED}|\s+dot\s+|\.)[^\W\d_]{{2,}}\b",
    re.IGNORECASE,
)
# URLs with a scheme go first (they may carry "user:password@host"), bare domains after the
# e-mails (whose domains they would otherwise take).
_SCHEME_URL_RE = re.compile(r"\b(?:https?|hxxps?|ftp)://[^\s<>\"']+|\bwww\.[^\s<>\"']+", re.I)
_DOMAIN_RE = re.compile(
    rf"(?<![\w.@-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?![@-])"
    r"(?:[/?#:][^\s<>\"']*)?"
    rf"|\b[a-z0-9-]+(?:{_DOT_BRACKETED}|\s+dot\s+)(?:{_TLDS})\b",
    re.IGNORECASE,
)
_URL_TRAILING: Final = ".,;:!?)]}'\""
_HANDLE_RE = re.compile(r"(?<![\w@])@[\w.]{2,}")
# "ig: name", "line id: name", "wechat id name": the app name stays (it is the signal), the id goes.
_MESSENGER_ID_RE = re.compile(
    r"\b(?P<app>ig|insta(?:gram)?|line|we\s?chat|weixin|wa|whats\s?app|telegram|tele|tg|fb|"
    r"facebook|zalo|kakao(?:\s?talk)?|discord|snap(?:chat)?|tiktok|viber|skype|signal)"
    r"(?P<sep>(?:\s*id)?\s*[:=]\s*|\s+id\s+)(?P<id>[^\s<>]+)",
    re.IGNORECASE,
)
_ENGLISH: Final = "zero oh o one two three four five six seven eight nine double triple"
_MALAY_INDONESIAN: Final = "kosong satu dua tiga empat lima enam tujuh lapan delapan sembilan"
_TAGALOG: Final = "isa dalawa tatlo apat anim pito walo siyam"
_NUMBER_WORDS: Final = frozenset(f"{_ENGLISH} {_MALAY_INDONESIAN} {_TAGALOG}".split())
_CJK_DIGITS: Final = "〇零一二三四五六七八九"
_DIGIT_UNIT: Final = rf"[\d{_CJK_DIGITS}]+(?:[oOlI|]+[\d{_CJK_DIGITS}]+)*"
_WORD_UNIT: Final = (
    rf"(?<![^\W\d_])(?:{'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))})(?![^\W\d_])"
)
_SEPARATOR: Final = r"[\s.\-()/_+*~,]{0,3}"
# Runs start at a digit so the regex engine can skip straight to candidates (a leading "+" or
# "(+" is folded into the placeholder afterwards by _LEAD_RE). Number words make the pattern
# several times slower, so the mixed pattern runs only when enough number words are present.
_DIGIT_RUN_RE = re.compile(rf"{_DIGIT_UNIT}(?:{_SEPARATOR}{_DIGIT_UNIT})*+")
_MIXED_RUN_RE = re.compile(
    rf"(?:{_DIGIT_UNIT}|{_WORD_UNIT})(?:{_SEPARATOR}(?:{_DIGIT_UNIT}|{_WORD_UNIT}))*+", re.I
)
_UNIT_RE = re.compile(rf"{_DIGIT_UNIT}|{_WORD_UNIT}", re.IGNORECASE)
_LEAD_RE = re.compile(r"\(?\+\s?(?=<phone>|<number>)")
_DIGIT_CHAR_RE = re.compile(rf"[\d{_CJK_DIGITS}]")
# Digits too: number words glued to digits ("9one2three") must still be seen.
_NON_LETTERS_TO_SPACE: Final = {c: " " for c in range(128) if not chr(c).isalpha()}
# Cheap gates, searched in the lowercased text, that say whether a costly pattern can match.
# Each starts with a literal, which the regex engine finds with a fast substring search.
_SPACED_AT_HINT_RE = re.compile(r"@(?:\s|(?<=\s@))")
_AT_HINT_RE = re.compile(r"at(?<![a-z]at)(?:\s*[)\]}>]|\s+[\w-]+\s*(?:\.|[(\[{<]?\s*dot\b))")
_TLD_HINT_RE = re.compile(rf"\.(?:{_TLDS})\b")


class TextFeatures(msgspec.Struct, frozen=True):
    """Non-identifying facts about a text (domains are kept: they name sites, not people)."""

    length: int
    digit_count: int
    has_url: bool
    has_email_like: bool
    has_phone_like: bool
    has_handle: bool
    url_domains: tuple[str, ...]


@dataclass(slots=True)
class _Scan:
    emails: int = 0
    urls: int = 0
    phones: int = 0
    handles: int = 0
    domains: list[str] = field(default_factory=list)


def redact_text(text: str) -> str:
    """``text`` with contact details and long numbers replaced by placeholders (see module).

    >>> redact_text("call 9l23 4567 or 0 8 1 2 - 3 4 5 6 7 8 9, acct 4111 1111 1111 1111 1111")
    'call <phone> or <phone>, acct <number>'
    >>> redact_text("line: shop_deals88 | wechat id: abc123 | great seller, 5 stars!")
    'line: <handle> | wechat id: <handle> | great seller, 5 stars!'
    """
    return _redact(text, _Scan())


def text_features(text: str) -> TextFeatures:
    """Counts and flags for ``text``, from the same matching as :func:`redact_text`.

    >>> f = text_features("Buy at https://Shop.Example.COM/x?id=1 or WWW.example.org, 91234567")
    >>> f.has_url, f.url_domains, f.has_phone_like, f.has_email_like, f.digit_count
    (True, ('shop.example.com', 'www.example.org'), True, False, 9)
    """
    scan = _Scan()
    normal = _normalise(text)
    _redact(normal, scan)
    return TextFeatures(
        length=len(normal),
        digit_count=sum(c.isdigit() for c in normal),
        has_url=scan.urls > 0,
        has_email_like=scan.emails > 0,
        has_phone_like=scan.phones > 0,
        has_handle=scan.handles > 0,
        url_domains=tuple(dict.fromkeys(scan.domains)),
    )


def _normalise(text: str) -> str:
    # NFKC turns full-width and circled digits and letters (a disguise) into plain ones.
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _redact(text: str, scan: _Scan) -> str:
    text = _normalise(text)

    def email(_: re.Match[str]) -> str:
        scan.emails += 1
        return EMAIL

    def url(match: re.Match[str]) -> str:
        found = match.group()
        kept = found.rstrip(_URL_TRAILING)
        scan.urls += 1
        if host := _host(kept):
            scan.domains.append(host)
        return URL + found[len(kept) :]

    def handle(_: re.Match[str]) -> str:
        scan.handles += 1
        return HANDLE

    def messenger_id(match: re.Match[str]) -> str:
        found = match["id"]
        kept = found.rstrip(_URL_TRAILING)
        if not kept or kept.startswith("<"):
            return match.group()
        scan.handles += 1
        return f"{match['app']}{match['sep']}{HANDLE}{found[len(kept) :]}"

    def number(match: re.Match[str]) -> str:
        found = match.group()
        digits = words = 0
        for unit in _UNIT_RE.findall(found):
            if unit[0].isdigit() or unit[0] in _CJK_DIGITS:  # homoglyphs inside count too
                digits += len(unit)
            else:
                words += 1
        total = digits + words
        if total > PHONE_MAX_DIGITS:
            scan.phones += 1
            return NUMBER
        if total >= PHONE_MIN_DIGITS or words >= SPELLED_MIN_WORDS:
            scan.phones += 1
            return PHONE
        return found

    lower = text.lower()
    if "://" in text or "www." in lower:
        text = _SCHEME_URL_RE.sub(url, text)
    if "@" in text:
        text = _EMAIL_RE.sub(email, text)
    if "@" in text and _SPACED_AT_HINT_RE.search(text):
        text = _EMAIL_SPACED_AT_RE.sub(email, text)
    if _AT_HINT_RE.search(lower):
        text = _EMAIL_AT_WORD_RE.sub(email, text)
    if _TLD_HINT_RE.search(lower) or "dot" in lower:
        text = _DOMAIN_RE.sub(url, text)
    if ":" in text or "=" in text or " id " in lower:
        text = _MESSENGER_ID_RE.sub(messenger_id, text)
    if "@" in text:
        text = _HANDLE_RE.sub(handle, text)
    words = text.lower().translate(_NON_LETTERS_TO_SPACE).split()
    spelled = 0 if _NUMBER_WORDS.isdisjoint(words) else sum(w in _NUMBER_WORDS for w in words)
    if spelled and (
        spelled >= SPELLED_MIN_WORDS
        or spelled + len(_DIGIT_CHAR_RE.findall(text)) >= PHONE_MIN_DIGITS
    ):
        text = _MIXED_RUN_RE.sub(number, text)
    elif _DIGIT_CHAR_RE.search(text):
        text = _DIGIT_RUN_RE.sub(number, text)
    return _LEAD_RE.sub("", text) if "+" in text else text


def _host(url: str) -> str | None:
    """The lowercase host of a matched URL; None for IP literals (an IP is PII)."""
    rest = url.partition("://")[2] or url
    authority = _PATH_START.split(rest, maxsplit=1)[0]
    # Credentials ("user:pw@") and the port are not part of the host.
    host = authority.rpartition("@")[2].partition(":")[0].lower()
    if not _HOST.fullmatch(host):
        host = _DISGUISED_DOT.sub(".", host)  # "shopee dot sg", "bit(dot)ly"
    host = host.strip(".")
    if "." not in host or not _HOST.fullmatch(host) or host.replace(".", "").isdigit():
        return None
    return host


_PATH_START = re.compile(r"[/?#]")
_HOST = re.compile(r"[\w.-]+")
_DISGUISED_DOT = re.compile(r"\W*\bdot\b\W*")
