"""Off-platform contact details in chat messages and reviews, de-obfuscated.

:func:`detect_contact` says whether a text carries a phone number, an e-mail address, a
messaging handle / messenger app invitation, or a link to an outside site, after undoing the
usual disguises: separators between digits ("8 1 2 3-4 5 6 7"), digits spelled out in English
or Indonesian/Malay ("nine one two", "satu dua"), mixed ("nine1two3"), keycap / circled emoji
digits, look-alike characters (O for 0, l or I for 1, Cyrillic and Greek homoglyphs), and
"name (at) gmail (dot) com".

It is tuned for precision on ordinary marketplace chat. Tokens mixing letters and digits
(order ids like 2603038UGOCQO7, SPX/JNT tracking ids, 500ml, SM-G991B) are masked unless their
letters are look-alikes (9l23) or spelled digits (nine1two3); dates, times and amounts with a
currency are masked; a digit run right after an order / tracking / size cue ("order", "#",
"no.", "resi", "awb", "size"...) is an id. What is left is a phone when it has 8-15 digits
and a contact cue nearby ("call", "wa", "hp", "+65"...), the shape of a South-East Asian
mobile number, or a disguise (digits one by one, spelled out, emoji, look-alikes). A
thousands-grouped number (12.500.000) needs a contact cue.

Evidence strings describe what was found, never the value itself.

>>> f = detect_contact("WA me: nine one 2 3 - 4 5 6 7 pls")
>>> f.phone, f.kinds, f.evidence
(True, ('phone',), ('phone: 8 digits, spelled out, separated, contact cue',))
>>> detect_contact("john (at) gmail (dot) com").kinds
('email',)
>>> detect_contact("Order 2603038UGOCQO7 shipped, SPXID0123456789, total S$1,299.00").kinds
()
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import msgspec

from rampart.detect.content._data import EMOJI_DIGIT_CHARS, NUMBER_WORDS, TRANSLATION

__all__ = ["ContactFinding", "detect_contact"]

PHONE_MIN_DIGITS: Final = 8
PHONE_MAX_DIGITS: Final = 15
_MASK: Final = "§"


class ContactFinding(msgspec.Struct, frozen=True):
    """What :func:`detect_contact` found; ``kinds`` lists the true flags in a fixed order."""

    phone: bool = False
    email: bool = False
    handle: bool = False
    link: bool = False
    kinds: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


_NONE: Final = ContactFinding()

# --- e-mail and links ------------------------------------------------------------------------
_AT: Final = r"(?:@\s*|\s+@\s+|\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+)"
_DOT: Final = r"(?:\s*\.\s*|\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+)"
_EMAIL_TLD: Final = r"(?:com|net|org|co|io|me|sg|id|my|th|ph|vn|edu|gov|info|biz|xyz)"
_PROVIDERS: Final = r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|icloud|protonmail|proton|qq)"
_EMAIL_RE: Final = re.compile(
    rf"[a-z0-9](?<![a-z0-9._%+\-][a-z0-9])[a-z0-9._%+\-]*{_AT}"
    rf"(?:[a-z0-9\-]+(?:{_DOT}[a-z0-9\-]+)*?{_DOT}{_EMAIL_TLD}(?![a-z])|{_PROVIDERS}(?![a-z]))"
)
_LINK_DOT: Final = r"(?:\.|\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)"
_GTLD: Final = (
    r"(?:com(?:\.(?:sg|my|ph|vn|au|hk|tw))?|co\.(?:id|th|uk|jp|kr)|net|org|io|xyz|site|shop|store"
    r"|app|info|biz|online|link|click|top|vip|ly|gl|cc|tk|ru|cn)"
)
_URL_RE: Final = re.compile(r"(?:https?\s*:\s*//|www\.)[^\s<>\"]+|(?:t|wa|line|m)\.me/[^\s<>\"]*")
_BARE_DOMAIN_RE: Final = re.compile(
    rf"[a-z](?<![a-z0-9@.\-][a-z])[a-z0-9\-]*(?:{_LINK_DOT}[a-z0-9\-]+)*?{_LINK_DOT}{_GTLD}"
    r"(?![a-z0-9])(?:/[^\s<>\"]*)?"
)
# Cheap tests that say whether the costlier patterns above can match at all.
_EMAIL_GATE_RE: Final = re.compile(
    rf"[\s(\[{{<]at[\s)\]}}>]+(?:{_PROVIDERS}|[a-z0-9\-]+(?:\s*[.(\[{{<]|\s+dot\s))"
)
_LINK_GATE_RE: Final = re.compile(rf"[.\s)\]}}>]{_GTLD}(?![a-z0-9])")
_HOST_RE: Final = re.compile(r"(?:https?\s*:\s*//)?(?:www\.)?([a-z0-9.\-]+)")

# --- benign numbers, masked before digits are counted -----------------------------------------
_CURRENCY_PRE: Final = r"(?:s\$|us\$|rm|rp\.?|idr|sgd|myr|thb|vnd|php|usd|\$|฿|₫|₱|€|£|¥|p(?=\d))"
_CURRENCY_POST: Final = (
    r"(?:k|rb|ribu|jt|juta|baht|bath|thb|dong|đ|₫|vnd|sgd|myr|idr|usd|php|peso|pesos|ringgit"
    r"|rupiah|dollars?|cents?|sen|tr|triệu|nghìn|ngàn|฿|บาท)"
)
# times (a pass of their own, so that a date followed by a time is still a lone date).
# Performance: Python's re skips quickly to candidate positions only when a pattern starts with
# a literal or a character class, so look-behinds come after the first character.
_TIME_RE: Final = re.compile(
    r"\d(?<!\d\d)\d?(?::\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?(?!\d)|(?:[.:]\d{2})?\s?[ap]\.?m(?![a-z]))"
)
_NOT_IN_RUN: Final = r"(?<![\d.\-/]\d)(?<!\d[\s.\-/]\d)"
_MONTH: Final = r"(?:0?[1-9]|1[0-2])"
# dates not inside a longer run of digit groups: 2026-02-24, 24/02/2026, 24.02.26, 24/02
_DATE_RE: Final = re.compile(
    rf"\d{_NOT_IN_RUN}(?:"
    rf"(?<=[12])[09](?<=19|20)\d\d[-/.]{_MONTH}[-/.](?:0?[1-9]|[12]\d|3[01])"
    rf"|\d?[-/.]{_MONTH}[-/.](?:19|20)?\d\d"
    r"|(?<=[0-3])\d/(?:0[1-9]|1[0-2])"
    r")(?![\s.\-/]?\d)"
)
_AMOUNT_REST: Final = r"(?:\d{0,2}(?:[.,']\d{3})+(?:[.,]\d{1,2})?|\d*+(?:[.,]\d{1,2})?)"
_AMOUNT: Final = rf"\d{_AMOUNT_REST}"
_PRICE_PRE_RE: Final = re.compile(rf"{_CURRENCY_PRE}\s?(?:{_AMOUNT})")
_PRICE_POST_RE: Final = re.compile(rf"\d(?<![\d.,]\d){_AMOUNT_REST}\s?{_CURRENCY_POST}(?![a-z])")
# an order / tracking / size / model cue right before a digit run: it is an id, not a phone
# ("border 123" counts too: harmless)
_CUE_ID_RE: Final = re.compile(
    r"(?:order|orders|ord|orderan|pesanan|invoice|inv|ref|resi|awb|tracking|track"
    r"|trk|parcel|shipment|sku|model|serial|s/n|sn|voucher|kode|code|booking|txn|transaction"
    r"|receipt|size|sizes|sz|qty|spx|jnt|j&t|njv|jne|lex|lel|ninjavan|ninja|dhl|fedex|ups"
    r"|sicepat|anteraja|kerry|flash|poslaju|gdex|ghn|ghtk|no\.|#)(?![a-z])"
    r"[\s:#.\-]*(?:(?:id|no|number|num|code|#)\.?[\s:#.\-]*)?\Z"
)
_BENIGN_RES: Final = (_DATE_RE, _PRICE_PRE_RE, _PRICE_POST_RE)
# An alphanumeric token with digits: look-alike letters only (9l23) -> digits; spelled digits
# glued to digits (nine1two3) -> kept; anything else (2603038ugocqo7, 500ml, g991b) -> masked.
_WORDS_ALT: Final = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_TOKEN_RE: Final = re.compile(r"\b(?:[a-z]++\d|\d++[a-z])[a-z0-9]*+")
_SPELLED_TOKEN_RE: Final = re.compile(rf"(?:\d|{_WORDS_ALT})+")
_LOOKALIKE_LETTERS: Final = frozenset("oli")
# Look-alike letters become Arabic-Indic 0 and 1: digits to the patterns (\d) and to
# str.isdigit, yet still recognisable, so that only the run that used them counts as disguised.
_LOOK0: Final = "\u0660"
_LOOK1: Final = "\u0661"
_LOOKALIKE_TABLE: Final = str.maketrans({"o": _LOOK0, "l": _LOOK1, "i": _LOOK1})

# --- phone runs --------------------------------------------------------------------------------
_ATOM: Final = rf"\d|(?<![a-z])(?:{_WORDS_ALT})(?![a-z])"
_SEP: Final = rf"[^0-9a-z{_MASK}{_LOOK0}{_LOOK1}]"
_RUN_RE: Final = re.compile(rf"(?:{_ATOM})(?:{_SEP}{{0,4}}(?:{_ATOM}))*")
_DIGIT_RUN_RE: Final = re.compile(rf"\d(?:{_SEP}{{0,4}}\d)*")
_ATOM_ONLY_RE: Final = re.compile(_ATOM)
_SEP_SPLIT_RE: Final = re.compile(rf"{_SEP}+")
_SPELLED_GATE_RE: Final = re.compile(rf"(?:{_WORDS_ALT})(?![a-z])")
_ATOM_RE: Final = re.compile(rf"({_ATOM})|({_SEP}+)")
_CUE_RE: Final = re.compile(
    r"(?<![a-z])(?:call|phone|tel|telp|hp|handphone|mobile|mob|cell|contact|kontak|text|sms"
    r"|wa|whatsapp|whats\s?app|watsap|wasap|w/a|telegram|tele|tg|wechat|line|viber|zalo"
    r"|signal|reach|hubungi|nombor|nomor|number|num|ring|dial|msg|message|hotline)(?![a-z])"
    r"|\+\s?\d"
)
_MOBILE_RE: Final = re.compile(
    r"(?:65)?[89]\d{7}|(?:62|0)8\d{7,11}|(?:60|0)1\d{7,9}|(?:66|0)[689]\d{8}"
    r"|(?:84|0)[35789]\d{8}|(?:63|0)9\d{9}"
)
_THOUSANDS_RE: Final = re.compile(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*(?:[.,]\d{1,2})?")

# --- handles and messenger apps ------------------------------------------------------------
_APPS: Final = (
    r"whatsapp|whats\s?app|watsap|wasap|wa|w/a|telegram|tele|tg|wechat|weixin|line|viber|zalo"
    r"|kakao(?:talk)?|ig|instagram|insta|fb|facebook|messenger|snapchat|snap|discord|skype"
    r"|tiktok"
)
_HANDLE_AFTER_APP_RE: Final = re.compile(
    rf"(?<![a-z])(?:{_APPS})(?![a-z])\s*"
    r"(?:(id|acc|account|user(?:name)?|handle|name)\b)?\s*(is|:|=|-|@|me)?\s*(@)?"
    r"([a-z0-9_.]{3,32})"
)
_AT_HANDLE_RE: Final = re.compile(r"(?<![\w.@])@[a-z0-9_][a-z0-9_.]{2,31}")
_APP_RE: Final = re.compile(rf"(?<![a-z])(?:{_APPS})(?![a-z])")
# the same without the leading look-behind (fast to scan); callers check the character before
_APP_SCAN_RE: Final = re.compile(rf"(?:{_APPS})(?![a-z])")
_STRONG_APP_RE: Final = re.compile(
    r"(?<![a-z])(?:whatsapp|whats\s?app|watsap|wasap|telegram|wechat|weixin|viber|zalo"
    r"|kakao(?:talk)?|line\s?id)(?![a-z])"
)
_INVITE_RE: Final = re.compile(
    r"(?<![a-z])(?:me|my|us|our|saya|aku|hubungi|japri|via|add|pm|dm|chat)(?![a-z])"
)
# "I don't use WhatsApp", "no telegram pls", "tak pakai wa": a refusal, not an invitation.
_NEGATION_RE: Final = re.compile(
    r"(?<![a-z])(?:don'?t|do not|dont|not|never|no|without|tak|tidak|gak|nggak|ga|bukan)"
    r"(?![a-z])(?:\s+\w+){0,2}\s*$"
)
_CUE_BEFORE: Final = 40
_CUE_AFTER: Final = 25


_EMOJI_DIGIT_RE: Final = re.compile("[" + "".join(sorted(EMOJI_DIGIT_CHARS)) + "]")
_TRANSLATED_RE: Final = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted(TRANSLATION)) + "]"
)


def _normalise(text: str) -> tuple[str, bool, bool]:
    """Lower-case text with look-alikes folded; and whether emoji digits / homoglyphs appeared."""
    if text.isascii():
        return text.lower(), False, False
    emoji = _EMOJI_DIGIT_RE.search(text) is not None
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    folded = text.lower()
    if _TRANSLATED_RE.search(folded) is None:
        return folded, emoji, False
    out = folded.translate(TRANSLATION)
    homoglyph = not emoji and out != folded
    return out, emoji, homoglyph


def _fix_token(m: re.Match[str]) -> str:
    tok = m.group()
    if tok.isdigit():
        return tok
    letters = {c for c in tok if c.isalpha()}
    if letters <= _LOOKALIKE_LETTERS:
        return tok.translate(_LOOKALIKE_TABLE)
    if _SPELLED_TOKEN_RE.fullmatch(tok):
        return tok
    return _MASK


_WA_PHONE: Final = "phone: in a wa.me link"
_AT_BRACKET_RE: Final = re.compile(r"[(\[{<]\s*(?:at|@)\s*[)\]}>]")
_PROVIDER_RE: Final = re.compile(_PROVIDERS)


def _links(t: str, rx: re.Pattern[str], allowed: frozenset[str], evidence: list[str]) -> bool:
    """Whether ``rx`` finds a link to a host not in ``allowed``; appends evidence."""
    found = False
    for m in rx.finditer(t):
        s = m.group()
        if allowed and _host_allowed(s, allowed):
            continue
        found = True
        evidence.append("link: url" if rx is _URL_RE else "link: bare domain")
        if "wa.me/" in s and sum(c.isdigit() for c in s) >= PHONE_MIN_DIGITS:
            evidence.append(_WA_PHONE)
    return found


def _mask(t: str, matches: list[re.Match[str]]) -> str:
    """``t`` with each match replaced by the mask character."""
    out: list[str] = []
    pos = 0
    for m in matches:
        out.append(t[pos : m.start()])
        out.append(_MASK)
        pos = m.end()
    out.append(t[pos:])
    return "".join(out)


def _has_lookalike_token(t: str) -> bool:
    return _TOKEN_RE.search(t) is not None


def _host_allowed(link: str, allowed: frozenset[str]) -> bool:
    m = _HOST_RE.match(link)
    if m is None:
        return False
    host = m.group(1).strip(".")
    return any(host == d or host.endswith("." + d) for d in allowed)


def _parse_run(run: str) -> tuple[str, bool, int, bool]:
    """Digits of a run with spelled digits; whether spelled, single-digit groups, separated."""
    digits: list[str] = []
    spelled = separated = False
    singles = current = 0
    for a in _ATOM_RE.finditer(run):
        atom = a.group(1)
        if atom is None:
            separated = True
            singles += current == 1
            current = 0
        elif atom.isdigit():
            digits.append(atom)
            current += 1
        else:
            digits.append(NUMBER_WORDS[atom])
            spelled = True
            singles += 1 + (current == 1)
            current = 0
    singles += current == 1
    return "".join(digits), spelled, singles, separated


def _phones(t: str, lookalike: bool, emoji: bool, has_words: bool) -> list[str]:
    """Evidence strings, one per phone-like run in the masked text ``t``."""
    found: list[str] = []
    run_re = _RUN_RE if has_words else _DIGIT_RUN_RE
    for m in run_re.finditer(t):
        run = m.group()
        if len(run) < PHONE_MIN_DIGITS:
            continue
        ev = _judge(t, run, m.start(), lookalike, emoji, has_words)
        if ev == _TOO_LONG:
            # several numbers in a list ("9123 4567, 8765 4321"): judge each piece
            pos = 0
            for sep in [*_LIST_SEP_RE.finditer(run), None]:
                piece_end = len(run) if sep is None else sep.start()
                piece = run[pos:piece_end]
                if len(piece) >= PHONE_MIN_DIGITS:
                    ev = _judge(t, piece, m.start() + pos, lookalike, emoji, has_words)
                    if ev and ev != _TOO_LONG:
                        found.append(ev)
                pos = piece_end if sep is None else sep.end()
        elif ev:
            found.append(ev)
    return found


_TOO_LONG: Final = "too long"
_LIST_SEP_RE: Final = re.compile(rf"{_SEP}*[,/;|&]{_SEP}*|\s{{2,}}")


def _judge(t: str, run: str, start: int, lookalike: bool, emoji: bool, has_words: bool) -> str:
    """Evidence for one run of digits at ``start`` in ``t``, "" if not a phone."""
    if has_words:
        number, spelled, singles, separated = _parse_run(run)
    else:
        parts = _SEP_SPLIT_RE.split(run)
        number = "".join(parts)
        spelled = False
        singles = sum(len(p) == 1 for p in parts)
        separated = len(parts) > 1
    n = len(number)
    if n > PHONE_MAX_DIGITS:
        return _TOO_LONG
    if n < PHONE_MIN_DIGITS:
        return ""
    end = start + len(run)
    if _CUE_ID_RE.search(t, max(0, start - 30), start):
        return ""
    plus = t[max(0, start - 2) : start].strip().endswith("+")
    window = t[max(0, start - _CUE_BEFORE) : start] + " " + t[end : end + _CUE_AFTER]
    cue = plus or _CUE_RE.search(window) is not None
    lookalike = lookalike or _LOOK0 in number or _LOOK1 in number
    obfuscated = spelled or emoji or lookalike or singles * 2 >= n
    if not cue and _THOUSANDS_RE.fullmatch(run.strip()):
        return ""  # 12.500.000 or 1,234,567.00 without a contact cue is an amount
    if not (cue or obfuscated or _MOBILE_RE.fullmatch(number)):
        return ""
    how = [f"phone: {n} digits"]
    if spelled:
        how.append("spelled out")
    if lookalike:
        how.append("look-alike characters")
    if separated:
        how.append("separated")
    if cue:
        how.append("contact cue")
    return ", ".join(how)


def detect_contact(text: str, allowed_domains: frozenset[str] = frozenset()) -> ContactFinding:
    """Find off-platform contact details in ``text`` (see the module docstring).

    ``allowed_domains`` are hosts whose links are not flagged (the marketplace's own site);
    sub-domains of them are allowed too.
    """
    if not text:
        return _NONE
    t, emoji, homoglyph = _normalise(text)
    evidence: list[str] = []
    email = link = handle = phone = False

    if "//" in t or "www." in t or ".me/" in t:  # full URLs first: "shop at www.x.sg"
        link = _links(t, _URL_RE, allowed_domains, evidence)
        if link or "//" in t:
            t = _URL_RE.sub(_MASK, t)
    if "@" in t or _EMAIL_GATE_RE.search(t):
        matches = []
        for m in _EMAIL_RE.finditer(t):
            s = m.group()
            if "@" not in s and _AT_BRACKET_RE.search(s) is None:
                # "name at domain dot com": only for a mail provider or a name-like local part
                local = s.split(" at ", 1)[0]
                if _PROVIDER_RE.search(s) is None and not any(c in local for c in "0123456789._"):
                    continue
            matches.append(m)
            plain = "@" in s and " " not in s and "(" not in s and "[" not in s
            evidence.append("email: address" if plain else "email: obfuscated at/dot")
        if matches:
            email = True
            t = _mask(t, matches)
    if _LINK_GATE_RE.search(t):
        matches = list(_BARE_DOMAIN_RE.finditer(t))
        if matches:
            link = _links(t, _BARE_DOMAIN_RE, allowed_domains, evidence) or link
            t = _mask(t, matches)
    if any(e == _WA_PHONE for e in evidence):
        phone = True

    # handles, before digits are masked ("line id: shop123")
    app = any(
        m.start() == 0 or not ("a" <= t[m.start() - 1] <= "z") for m in _APP_SCAN_RE.finditer(t)
    )
    for m in _HANDLE_AFTER_APP_RE.finditer(t) if app else ():
        name = m.group(4)
        if name.replace(".", "").isdigit() or name in NUMBER_WORDS:
            continue  # a number: the phone pass decides
        marked = m.group(1) or m.group(3) or m.group(2) in (":", "=", "@")
        if marked or any(c.isdigit() or c == "_" for c in name):
            handle = True
            evidence.append("handle: after a messenger name")
            break
    if app and not handle and "@" in t:
        for m in _AT_HANDLE_RE.finditer(t):
            if _APP_RE.search(t, max(0, m.start() - 40), m.end() + 40):
                handle = True
                evidence.append("handle: @name near a messenger name")
                break
    if app and not handle:
        m2 = _STRONG_APP_RE.search(t)
        refused = m2 is not None and _NEGATION_RE.search(t[max(0, m2.start() - 25) : m2.start()])
        if (
            m2 is not None
            and not refused
            and _INVITE_RE.search(t, max(0, m2.start() - 25), m2.end() + 25)
        ):
            handle = True
            evidence.append("handle: invitation to a messenger app")

    # phones: at least 8 digits after de-obfuscation, so skip texts that cannot have them
    n_digits = sum(map(t.count, "0123456789"))
    if n_digits < PHONE_MIN_DIGITS:
        spelled = any(w in t for w in NUMBER_WORDS) and _SPELLED_GATE_RE.search(t) is not None
        if not spelled and (n_digits < 4 or not _has_lookalike_token(t)):
            return _finish(phone, email, handle, link, evidence)
    lookalike = homoglyph
    if not t.isdigit():
        t = _TOKEN_RE.sub(_fix_token, t)
    has_words = _SPELLED_GATE_RE.search(t) is not None
    run_re = _RUN_RE if has_words else _DIGIT_RUN_RE
    if not any(
        len(g) >= PHONE_MIN_DIGITS and len(_ATOM_ONLY_RE.findall(g)) >= PHONE_MIN_DIGITS
        for g in run_re.findall(t)
    ):
        return _finish(phone, email, handle, link, evidence)
    # mask times, dates and amounts only when there is a candidate at all
    if ":" in t or "am" in t or "pm" in t or ".m" in t:
        t = _TIME_RE.sub(_MASK, t)
    for rx in _BENIGN_RES:
        t = rx.sub(_MASK, t)
    for ev in _phones(t, lookalike, emoji, has_words):
        phone = True
        evidence.append(ev + (", emoji digits" if emoji else ""))

    return _finish(phone, email, handle, link, evidence)


def _finish(
    phone: bool, email: bool, handle: bool, link: bool, evidence: list[str]
) -> ContactFinding:
    if not (phone or email or handle or link):
        return _NONE
    kinds = tuple(
        k for k, v in (("phone", phone), ("email", email), ("handle", handle), ("link", link)) if v
    )
    return ContactFinding(
        phone=phone, email=email, handle=handle, link=link, kinds=kinds, evidence=tuple(evidence)
    )
