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
letters O, o, l, I, i and | between digits count as digits (a common disguise).

Use :func:`redact_text_with_features` when both are needed: it matches once.

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
from collections.abc import Callable
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
MAX_DOMAINS: Final = 16  # a text listing hundreds of links needs no more to be flagged

# Performance notes: these run per message on the ingest path. Python's re is several times
# slower with IGNORECASE and with a pattern that starts with a look-behind or a \b (it can no
# longer skip ahead to candidate characters), so patterns use explicit ASCII classes and scoped
# (?i:...) where case matters, the costlier ones match the lowercased text (_sub_folded), and
# each pass is gated by a cheap test that says whether it can match at all.

# Two-letter TLDs that are also everyday words (is, it, at, be, in, no, so, to ...) are left
# out of bare-domain matching unless they are link shorteners or messenger hosts (t.me, wa.me).
_TLDS: Final = (
    "com|net|org|info|biz|edu|gov|io|co|me|ly|gl|gd|gg|cc|tv|ai|app|dev|xyz|site|online|shop|"
    "store|link|click|top|vip|club|live|page|sg|my|id|th|ph|vn|kh|la|mm|bn|tw|hk|cn|jp|kr|au|uk|"
    "de|fr|ru|br|eu|ca|nz|ws|su|pw|icu|cyou|buzz|fun|lol|tk|ml|ga|cf|gq|ink|tech|pro|one|mobi|asia"
)
_LABEL: Final = r"[\w-]+"
_LOCAL: Final = r"(?<![\w.+%-])[\w.+%-]+"
_AT_BRACKETED: Final = r"\s*[(\[{<]\s*(?i:at|@)\s*[)\]}>]\s*"
_DOT_BRACKETED: Final = r"\s*[(\[{<]\s*(?i:dot|\.)\s*[)\]}>]\s*"
_DOT_WORD: Final = r"\s+(?i:dot)\s+"
_DOT_ANY: Final = rf"(?:{_DOT_BRACKETED}|{_DOT_WORD}|\s*\.\s*)"

# A domain without a dot still goes ("john@gmail"): over-redacting "me@home" costs nothing.
_EMAIL_RE = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*")
# Disguised, in two patterns so each runs only when its marker is there: a spaced "@"
# ("john @ gmail . com", or spelled out "j o h n @ g m a i l . c o m"; "follow @shop" with no
# dot after it is a handle, below), or a bracketed "(at)"
# or plain " at ". A plain " at " needs a disguised or real dot and a word after it ("john at
# gmail dot com", "john at gmail.com") not to eat sentences ("at home. Then", "at 2.5kg").
_EMAIL_SPACED_AT_RE = re.compile(
    rf"{_LOCAL}\s*@\s+{_LABEL}(?:{_DOT_ANY}{_LABEL})*"
    rf"|{_LOCAL}\s+@{_LABEL}(?:{_DOT_ANY}{_LABEL})+"
    r"|(?<!\S)(?:[\w.+-]\s){1,64}@(?:\s[\w.-]){2,}"
)
_EMAIL_AT_WORD_RE = re.compile(
    rf"{_LOCAL}{_AT_BRACKETED}{_LABEL}(?:{_DOT_ANY}{_LABEL})*"
    rf"|{_LOCAL}\s+(?i:at)\s+{_LABEL}(?:(?:{_DOT_BRACKETED}|{_DOT_WORD}|\.){_LABEL})*"
    rf"(?:{_DOT_BRACKETED}|{_DOT_WORD}|\.)[^\W\d_]{{2,}}\b"
)
# URLs with a scheme go first (they may carry "user:password@host"), bare domains after the
# e-mails (whose domains they would otherwise take).
_SCHEME_URL_RE = re.compile(r"\b(?i:https?|hxxps?|ftp)://[^\s<>\"']+|\b(?i:www)\.[^\s<>\"']+")
# Possessive label runs and run-start look-behinds keep matching linear on hostile input
# ("a-a-a-...-.com" made an earlier, backtracking version take seconds).
_DOMAIN_LABEL: Final = r"[a-zA-Z0-9][a-zA-Z0-9-]*+"
_DOMAIN_RE = re.compile(
    r"[a-zA-Z0-9](?<![\w.@-][a-zA-Z0-9])[a-zA-Z0-9-]*+"
    rf"(?:\.{_DOMAIN_LABEL})*\.(?i:{_TLDS})(?![\w@-]|\.\w)"
    r"(?:[/?#:][^\s<>\"']*)?"
    rf"|(?<![a-zA-Z0-9-])[a-zA-Z0-9-]++(?:{_DOT_BRACKETED}|{_DOT_WORD})(?i:{_TLDS})\b"
)
_URL_TRAILING: Final = ".,;:!?)]}'\""
# The "not after a word" check comes after the literal "@" so the engine can search for "@".
_HANDLE_RE = re.compile(r"@(?<![\w@]@)[\w.]{2,}")
# "ig: name", "line id: name", "wechat id name": the app name stays (it is the signal), the id
# goes. Matched in lowercase (see _sub_folded).
_MESSENGER_APPS: Final = (
    r"ig|insta(?:gram)?|line|we\s?chat|weixin|wa|whats\s?app|telegram|tele|tg|fb|facebook|"
    r"zalo|kakao(?:\s?talk)?|discord|snap(?:chat)?|tiktok|viber|skype|signal"
)
_MESSENGER_ID: Final = (
    rf"(?<![a-z])(?P<app>{_MESSENGER_APPS})(?P<sep>(?:\s*id)?\s*[:=]\s*|\s+id\s+)(?P<id>[^\s<>]+)"
)
_MESSENGER_ID_RE = re.compile(_MESSENGER_ID)
_MESSENGER_ID_CI_RE = re.compile(_MESSENGER_ID, re.IGNORECASE)
# Split words that can start one of those ids: the pass runs only if one is present.
_MESSENGER_WORDS: Final = frozenset(
    b"ig insta instagram line we wechat chat weixin wa whats whatsapp telegram tele tg fb "
    b"facebook zalo kakao kakaotalk discord snap snapchat tiktok viber skype signal".split()
)

_ENGLISH: Final = "zero oh o one two three four five six seven eight nine double triple"
_MALAY_INDONESIAN: Final = "kosong satu dua tiga empat lima enam tujuh lapan delapan sembilan"
_TAGALOG: Final = "isa dalawa tatlo apat anim pito walo siyam"
_NUMBER_WORDS: Final = frozenset(f"{_ENGLISH} {_MALAY_INDONESIAN} {_TAGALOG}".encode().split())
_CJK_DIGITS: Final = "〇零一二三四五六七八九"
_DIGIT_UNIT: Final = rf"[\d{_CJK_DIGITS}]+(?:[oOlIi|]+[\d{_CJK_DIGITS}]+)*"
_WORD_UNIT: Final = (
    rf"(?<![^\W\d_])(?:{'|'.join(sorted(map(bytes.decode, _NUMBER_WORDS), key=len)[::-1])})"
    r"(?![^\W\d_])"
)
_SEPARATOR: Final = r"[\s.\-()/_+*~,]{0,3}"
# Runs start at a digit; a leading "+" or "(+" is folded into the placeholder by _LEAD_RE.
_DIGIT_RUN_RE = re.compile(rf"{_DIGIT_UNIT}(?:{_SEPARATOR}{_DIGIT_UNIT})*+")
_MIXED_RUN: Final = (
    rf"(?:{_DIGIT_UNIT}|{_WORD_UNIT})(?:{_SEPARATOR}(?:{_DIGIT_UNIT}|{_WORD_UNIT}))*+"
)
_MIXED_RUN_RE = re.compile(_MIXED_RUN)
_MIXED_RUN_CI_RE = re.compile(_MIXED_RUN, re.IGNORECASE)
_DIGIT_UNIT_RE = re.compile(_DIGIT_UNIT)
_LEAD_RE = re.compile(r"\(?\+\s?(?=<phone>|<number>)")
_DIGIT_CHAR_RE = re.compile(rf"[\d{_CJK_DIGITS}]")
# Splits lowercased UTF-8 into ASCII words. Digits are separators too: number words glued to
# digits ("9one2three") must still be seen. bytes.translate is ~20x faster than str.translate.
_WORD_BYTES: Final = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
# Gates, searched in the lowercased text; each starts with a literal the engine can search for.
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


def redact_text(text: str) -> str:
    """``text`` with contact details and long numbers replaced by placeholders (see module).

    The result is NFKC-normalised (full-width digits become plain ones). Never raises.

    >>> redact_text("call 9l23 4567 or 0 8 1 2 - 3 4 5 6 7 8 9, acct 4111 1111 1111 1111 1111")
    'call <phone> or <phone>, acct <number>'
    >>> redact_text("LINE: shop_deals88 | WeChat ID: abc123 | great seller, 5 stars!")
    'LINE: <handle> | WeChat ID: <handle> | great seller, 5 stars!'
    """
    return _Redaction(_normalise(text)).text


def text_features(text: str) -> TextFeatures:
    """Counts and flags for ``text``, from the same matching as :func:`redact_text`.

    >>> f = text_features("Buy at https://Shop.Example.COM/x?id=1 or WWW.example.org, 91234567")
    >>> f.has_url, f.url_domains, f.has_phone_like, f.has_email_like, f.digit_count
    (True, ('shop.example.com', 'www.example.org'), True, False, 9)
    """
    return redact_text_with_features(text)[1]


def redact_text_with_features(text: str) -> tuple[str, TextFeatures]:
    """``(redact_text(text), text_features(text))`` in one pass.

    >>> redact_text_with_features("ok, 91234567")
    ('ok, <phone>', TextFeatures(length=12, digit_count=8, has_url=False, has_email_like=False, \
has_phone_like=True, has_handle=False, url_domains=()))
    """
    normal = _normalise(text)
    found = _Redaction(normal)
    features = TextFeatures(
        length=len(normal),
        digit_count=sum(map(str.isdigit, normal)),
        has_url=found.urls > 0,
        has_email_like=found.emails > 0,
        has_phone_like=found.phones > 0,
        has_handle=found.handles > 0,
        url_domains=tuple(dict.fromkeys(found.domains))[:MAX_DOMAINS],
    )
    return found.text, features


def _normalise(text: str) -> str:
    # NFKC turns full-width and circled digits and letters (a disguise) into plain ones.
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


class _Redaction:
    """One pass over a text: the redacted ``text`` and what was found in it."""

    __slots__ = ("domains", "emails", "handles", "phones", "text", "urls")

    def __init__(self, text: str) -> None:
        self.emails = self.urls = self.phones = self.handles = 0
        self.domains: list[str] = []
        lower = text.lower()
        if "://" in text or "www." in lower:
            text = _SCHEME_URL_RE.sub(self._url, text)
        if "@" in text:
            text = _EMAIL_RE.sub(self._email, text)
            if "@" in text and _SPACED_AT_HINT_RE.search(text):
                text = _EMAIL_SPACED_AT_RE.sub(self._email, text)
            lower = text.lower()
        if _AT_HINT_RE.search(lower):
            text = _EMAIL_AT_WORD_RE.sub(self._email, text)
            lower = text.lower()
        if _TLD_HINT_RE.search(lower) or "dot" in lower:
            text = _DOMAIN_RE.sub(self._url, text)
            lower = text.lower()
        words = lower.encode(errors="surrogatepass").translate(_WORD_BYTES).split()
        if (":" in text or "=" in text or " id " in lower) and not _MESSENGER_WORDS.isdisjoint(
            words
        ):
            text = _sub_folded(_MESSENGER_ID_RE, _MESSENGER_ID_CI_RE, text, self._messenger_id)
        if "@" in text:
            text = _HANDLE_RE.sub(self._handle, text)
        spelled = 0 if _NUMBER_WORDS.isdisjoint(words) else sum(w in _NUMBER_WORDS for w in words)
        if spelled and (
            spelled >= SPELLED_MIN_WORDS
            or spelled + len(_DIGIT_CHAR_RE.findall(text)) >= PHONE_MIN_DIGITS
        ):
            text = _sub_folded(_MIXED_RUN_RE, _MIXED_RUN_CI_RE, text, self._number)
        elif _DIGIT_CHAR_RE.search(text):
            text = _DIGIT_RUN_RE.sub(lambda m: self._number(m, m.string), text)
        self.text = _LEAD_RE.sub("", text) if "+" in text else text

    def _email(self, _: re.Match[str]) -> str:
        self.emails += 1
        return EMAIL

    def _url(self, match: re.Match[str]) -> str:
        found = match.group()
        kept = found.rstrip(_URL_TRAILING)  # sentence punctuation after a link is not the link
        self.urls += 1
        if host := _host(kept):
            self.domains.append(host)
        return URL + found[len(kept) :]

    def _handle(self, _: re.Match[str]) -> str:
        self.handles += 1
        return HANDLE

    def _messenger_id(self, match: re.Match[str], text: str) -> str:
        found = text[match.start("id") : match.end("id")]
        kept = found.rstrip(_URL_TRAILING)
        if not kept or kept.startswith("<"):
            return text[match.start() : match.end()]
        self.handles += 1
        return f"{text[match.start() : match.start('id')]}{HANDLE}{found[len(kept) :]}"

    def _number(self, match: re.Match[str], text: str) -> str:
        found = text[match.start() : match.end()]
        digits = sum(map(len, _DIGIT_UNIT_RE.findall(found)))  # homoglyphs in a unit count too
        split = found.lower().encode(errors="surrogatepass").translate(_WORD_BYTES).split()
        words = sum(w in _NUMBER_WORDS for w in split)
        if digits + words > PHONE_MAX_DIGITS:
            self.phones += 1
            return NUMBER
        if digits + words >= PHONE_MIN_DIGITS or words >= SPELLED_MIN_WORDS:
            self.phones += 1
            return PHONE
        return found


def _sub_folded(
    folded: re.Pattern[str],
    fallback: re.Pattern[str],
    text: str,
    replace: Callable[[re.Match[str], str], str],
) -> str:
    """``fallback.sub`` (an IGNORECASE pattern) done 3-5x faster: ``folded``, the same pattern
    without IGNORECASE, matches the lowercased text and the pieces are cut from ``text``.
    ``replace`` gets the match and the text its positions refer to."""
    lower = text.lower()
    if len(lower) != len(text):
        # A few characters lowercase to two (İ): positions would not line up.
        return fallback.sub(lambda m: replace(m, text), text)
    pieces: list[str] = []
    last = 0
    for match in folded.finditer(lower):
        pieces += (text[last : match.start()], replace(match, text))
        last = match.end()
    return "".join((*pieces, text[last:])) if pieces else text


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
