"""Phishing links in free text: look-alike domains of the marketplace and of payment providers.

:func:`detect_phishing` finds the links in a text (with a scheme, "www." or a bare domain, also
written "shopee[.]co" or "hxxps[:]//") and flags those whose host imitates a protected brand:

- ``homoglyph``: the host spells a brand with non-Latin look-alikes (Cyrillic "а"), raw or
  as a punycode IDN (``xn--``);
- ``typosquat``: the registrable label is a brand with look-alike characters (paypa1, g00gle)
  or one or two edits away from a distinctive brand (shopeee, lazadda);
- ``combosquat``: the brand is a word of a longer label (shopee-refund.com, paypalsecure.net);
- ``subdomain``: the brand (or its whole domain) leads another site (paypal.com.secure.xyz);
- ``userinfo``: the brand sits before an "@" in the URL (https://paypal.com@evil.xyz);
- ``other_suffix``: the brand name under a suffix it does not use (shopee.co, paypal.xyz);
- ``path``: the brand and login wording in the path of an unrelated site;
- ``shortener``: a short link with the brand in its path, or next to a brand mention and
  credential / urgency wording in the text;
- ``ip_host``: a bare IP address as host, with login wording or a brand nearby.

The real domains and their sub-domains are never flagged, nor a brand mentioned without a
link. Brands that are everyday words (apple, visa, wise, stripe, dana, grab) get no edit
distance check and need a phishing cue ("login", "verify", "refund"...) to count inside
another name. The registrable domain is found with a small built-in list of two-level public
suffixes (co.id, com.sg, co.uk...), not the full Public Suffix List.

Evidence names the kind and the brand, never the link itself.

>>> f = detect_phishing("Your account is on hold, verify at https://paypa1.com/login")
>>> f.flagged, f.kinds, f.brands, f.evidence
(True, ('typosquat',), ('paypal',), ('typosquat: paypal (look-alike characters)',))
>>> detect_phishing("refund form: shopee-refund[.]com").evidence
('combosquat: shopee (obfuscated dots)',)
>>> detect_phishing("Pay on https://www.paypal.com/checkout or help.shopee.co.id").flagged
False
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

import msgspec

from rampart.detect.content._phishing_data import (
    BARE_TLDS,
    COMMON_LABELS,
    DEFAULT_PROTECTED,
    HOMOGLYPHS,
    LINK_CUES,
    MARKETPLACE_DOMAINS,
    MULTI_SUFFIXES,
    NOT_TYPOS,
    PAYMENT_DOMAINS,
    SHORTENERS,
    TEXT_CUES,
)

__all__ = [
    "DEFAULT_PROTECTED",
    "MARKETPLACE_DOMAINS",
    "PAYMENT_DOMAINS",
    "PhishingFinding",
    "detect_phishing",
]

KINDS: Final = (
    "homoglyph",
    "typosquat",
    "combosquat",
    "subdomain",
    "userinfo",
    "other_suffix",
    "path",
    "shortener",
    "ip_host",
)
_KIND_ORDER: Final = {k: i for i, k in enumerate(KINDS)}


class PhishingFinding(msgspec.Struct, frozen=True):
    """What :func:`detect_phishing` found: kinds in :data:`KINDS` order, brands as found."""

    flagged: bool = False
    kinds: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    obfuscated: bool = False
    evidence: tuple[str, ...] = ()


_NONE: Final = PhishingFinding()

# --- link extraction -----------------------------------------------------------------------
# A dot, also disguised: "[.]", "(dot)", " dot ", the ideographic full stop.
_SEP: Final = r"(?:\s?[\[({]\s?(?:\.|dot)\s?[\])}]\s?|[.。]|\s+dot\s+)"
_LABEL: Final = r"[^\W_](?:[\w-]{0,62}[^\W_])?"
_TLD_ALT: Final = "|".join(sorted(BARE_TLDS, key=len, reverse=True))
_SCHEME_URL_RE: Final = re.compile(
    r"h(?:tt|xx)ps?\s?(?:\[:\]|:)\s?//([^\s/?#<>\"']+)([/?#][^\s<>\"']*)?"
)
_BARE_URL_RE: Final = re.compile(
    rf"[^\W_](?<![\w@.\-/][^\W_])(?:[\w-]{{0,62}}[^\W_])?(?:{_SEP}{_LABEL})*"
    rf"{_SEP}(?:{_TLD_ALT})(?![\w-])([/?#][^\s<>\"']*)?"
)
_BARE_IP_RE: Final = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(/[^\s<>\"']*)")
_GATE_RE: Final = re.compile(rf"//|{_SEP}(?:{_TLD_ALT})(?![\w-])|\d\.\d{{1,3}}/")
_SEP_RE: Final = re.compile(_SEP)
_TRAILING: Final = ".,;:!?)]}'\"*>"
_WORD_RE: Final = re.compile(r"[a-z0-9]+")

# --- look-alikes -----------------------------------------------------------------------------
# Compared on a "skeleton": characters read alike become one (1/i/l, 0/o, rn/m...).
_SKELETON: Final = str.maketrans(
    {"0": "o", "1": "l", "i": "l", "|": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"}
)
_HOMOGLYPH_TABLE: Final = str.maketrans(HOMOGLYPHS)
_GENERIC_SUFFIXES: Final = frozenset({"com", "net", "org"})
_SKIP_SUBS: Final = frozenset({"www", "m", "mobile", "web"})


def _skeleton(label: str) -> str:
    return label.translate(_SKELETON).replace("-", "").replace("rn", "m").replace("vv", "w")


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (adjacent swaps count 1), or ``limit + 1`` if more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                d = min(d, prev2[j - 2] + 1)
            cur.append(d)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _max_typos(brand: str) -> int:
    return 1 if len(brand) <= 6 else 2


# --- domains ---------------------------------------------------------------------------------
def _split(labels: list[str]) -> tuple[str, str, list[str]] | None:
    """(registrable label, public suffix, sub-domain labels) or None for a bare suffix."""
    n_suffix = 2 if len(labels) >= 3 and ".".join(labels[-2:]) in MULTI_SUFFIXES else 1
    if len(labels) <= n_suffix:
        return None
    subs = [s for s in labels[: -n_suffix - 1] if s not in _SKIP_SUBS]
    return labels[-n_suffix - 1], ".".join(labels[-n_suffix:]), subs


def _country_or_generic(suffix: str) -> bool:
    last = suffix.rsplit(".", 1)[-1]
    return suffix in _GENERIC_SUFFIXES or (len(last) == 2 and last.isalpha())


class _Protected:
    """A protected domain list compiled for look-ups."""

    def __init__(self, domains: tuple[str, ...]) -> None:
        self.exact: set[str] = set()
        self.wildcard: set[str] = set()
        # skeleton -> brand label; a brand is the registrable label of a protected domain
        self.by_skeleton: dict[str, str] = {}
        for raw in domains:
            d = raw.strip().lower().strip(".")
            if d.endswith(".*"):
                label = d[:-2]
                self.wildcard.add(label)
            else:
                self.exact.add(d)
                parts = _split(d.split("."))
                if parts is None:
                    continue
                label = parts[0]
            self.by_skeleton.setdefault(_skeleton(label), label)
        self.labels = frozenset(self.by_skeleton.values())
        self.distinctive = frozenset(
            b for b in self.labels if len(b) >= 6 and b not in COMMON_LABELS
        )
        alternation = "|".join(sorted(self.labels, key=len, reverse=True))
        self.mention_re = re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])")

    def legit(self, labels: list[str]) -> bool:
        for i in range(len(labels) - 1):
            if ".".join(labels[i:]) in self.exact:
                return True
        parts = _split(labels)
        return parts is not None and parts[0] in self.wildcard and _country_or_generic(parts[1])

    def brand_of(self, token: str) -> str | None:
        """The brand whose skeleton ``token`` has, if any."""
        return self.by_skeleton.get(_skeleton(token)) if token else None

    def typo_of(self, token: str) -> tuple[str, int] | None:
        """A distinctive brand one or two edits from ``token`` (not itself a brand)."""
        if len(token) < 5 or token in NOT_TYPOS or token in self.labels:
            return None
        sk = _skeleton(token)
        for brand in sorted(self.distinctive):
            limit = _max_typos(brand)
            d = _edit_distance(sk, _skeleton(brand), limit)
            if 0 < d <= limit:
                return brand, d
        return None


@lru_cache(maxsize=16)
def _compile(domains: tuple[str, ...]) -> _Protected:
    return _Protected(domains)


_DEFAULT: Final = _compile(DEFAULT_PROTECTED)


# --- one link --------------------------------------------------------------------------------
_Hit = tuple[str, str, str]  # kind, brand, detail


def _fold(label: str) -> tuple[str, str]:
    """A label decoded from punycode, look-alikes folded; "punycode", "non-Latin letters" or ""."""
    how = ""
    if label.startswith("xn--"):
        try:
            label = label[4:].encode("ascii").decode("punycode")
            how = "punycode"
        except UnicodeError:
            return label, ""
    if label.isascii():
        return label, how
    label = unicodedata.normalize("NFKD", label.translate(_HOMOGLYPH_TABLE))
    folded = "".join(c for c in label if not unicodedata.combining(c)).lower()
    return folded, how or "non-Latin letters"


def _is_ip(labels: list[str]) -> bool:
    if len(labels) == 4:
        return all(s.isdigit() and int(s) <= 255 for s in labels)
    # a whole address written as one number, decimal or hex (http://3232235777/)
    return len(labels) == 1 and (labels[0].isdigit() or labels[0].startswith("0x"))


def _analyse(host: str, path: str, userinfo: str, text: str, prot: _Protected) -> list[_Hit]:
    labels = host.split(".")
    if not all(labels):
        return []
    words = set(_WORD_RE.findall(path))
    cue = bool(words & LINK_CUES)
    if _is_ip(labels):
        near = cue or any(c in text for c in TEXT_CUES)
        brand = next(iter(sorted(words & prot.labels)), None)
        if brand is None:
            m = prot.mention_re.search(text)
            brand = m.group() if m else ""
        return [("ip_host", brand or "-", "login wording")] if near or brand else []

    folded: list[str] = []
    unicode = ""
    for s in labels:
        f, how = _fold(s)
        folded.append(f)
        unicode = unicode or how
    if not unicode and prot.legit(labels):
        return []
    parts = _split(folded)
    if parts is None:
        return []
    label, suffix, subs = parts
    hits: list[_Hit] = []
    if userinfo:
        for tok in _WORD_RE.findall(userinfo):
            if tok in prot.labels:
                hits.append(("userinfo", tok, ""))
                break

    if unicode:
        brand = prot.brand_of(label.replace("-", ""))
        if brand is None:
            brand = next(filter(None, map(prot.brand_of, label.split("-"))), None)
        if brand is not None:
            return [("homoglyph", brand, unicode)]

    tokens = [t for t in label.split("-") if t]
    cue = cue or any(t in LINK_CUES for t in tokens) or any(s in LINK_CUES for s in subs)
    whole = label.replace("-", "")
    brand = prot.brand_of(whole)
    if label in prot.labels:
        hits.append(("other_suffix", label, ""))
    elif brand is not None:
        hits.append(("typosquat", brand, "look-alike characters"))
    else:
        typo = prot.typo_of(whole) if len(tokens) == 1 else None
        if typo is not None:
            hits.append(("typosquat", typo[0], f"edit distance {typo[1]}"))
        elif len(tokens) > 1 or len(whole) > 6:
            hits.extend(_combo(tokens, whole, cue, prot))

    for i, sub in enumerate(subs):
        for tok in [sub, *sub.split("-")] if "-" in sub else [sub]:
            b = prot.brand_of(tok)
            if b is None:
                continue
            # "paypal.com.secure.xyz": the brand's own domain spelled out in front
            spelled = i + 1 < len(subs) and _country_or_generic(subs[i + 1])
            if spelled or b in prot.distinctive or cue:
                hits.append(("subdomain", b, "brand domain in front" if spelled else ""))
                break

    shortener = host in SHORTENERS or f"{label}.{suffix}" in SHORTENERS
    for b in sorted(words & prot.labels):
        if shortener and (b in prot.distinctive or cue):
            hits.append(("shortener", b, "brand in the path"))
        elif not hits and cue:
            hits.append(("path", b, "login wording"))
        break
    if shortener and not hits and any(c in text for c in TEXT_CUES):
        m = prot.mention_re.search(text)
        if m is not None:
            hits.append(("shortener", m.group(), "brand and lure wording in the text"))
    return hits


def _combo(tokens: list[str], whole: str, cue: bool, prot: _Protected) -> list[_Hit]:
    """Combosquat hits: the brand is one word of a longer registrable label."""
    for tok in tokens:
        b = prot.brand_of(tok)
        if b is not None and (b in prot.distinctive or cue):
            return [("combosquat", b, "")]
    for tok in tokens:
        typo = prot.typo_of(tok)
        if typo is not None and len(tokens) > 1:
            return [("combosquat", typo[0], f"with edit distance {typo[1]}")]
    sk = _skeleton(whole)
    for b in sorted(prot.distinctive):
        if _skeleton(b) in sk:
            return [("combosquat", b, "")]
    return []


# --- the text --------------------------------------------------------------------------------
def _links(t: str) -> list[tuple[str, str, str, bool]]:
    """(host, path, userinfo, obfuscated) for every link in the lower-cased text ``t``."""
    out: list[tuple[str, str, str, bool]] = []
    masked = t
    if "//" in t:
        for m in _SCHEME_URL_RE.finditer(t):
            authority = m.group(1)
            obfuscated = "hxxp" in m.group() or "[:]" in m.group()
            userinfo, _, hostport = authority.rpartition("@")
            raw = hostport.split(":", 1)[0].rstrip(_TRAILING)
            host = _SEP_RE.sub(".", raw)
            obfuscated = obfuscated or host != raw
            out.append(
                (host.strip("."), (m.group(2) or "").rstrip(_TRAILING), userinfo, obfuscated)
            )
        masked = _SCHEME_URL_RE.sub(" ", t)
    for m in _BARE_URL_RE.finditer(masked):
        path = m.group(1) or ""
        raw = m.group()[: len(m.group()) - len(path)]
        host = _SEP_RE.sub(".", raw)
        out.append((host, path.rstrip(_TRAILING), "", raw != host))
    for m in _BARE_IP_RE.finditer(masked):
        out.append((m.group().split("/", 1)[0].split(":", 1)[0], m.group(1), "", False))
    return out


def detect_phishing(text: str, *, protected: Iterable[str] = DEFAULT_PROTECTED) -> PhishingFinding:
    """Flag links in ``text`` to look-alikes of the ``protected`` domains (module docstring).

    ``protected`` lists the real domains (``"shopee.sg"``; ``"paypal.*"`` for a brand that owns
    its name under com / net / org and every country code); their sub-domains are real too.
    """
    if not text:
        return _NONE
    t = text if text.isascii() else unicodedata.normalize("NFKC", text)
    t = t.lower()
    if _GATE_RE.search(t) is None:
        return _NONE
    prot = _DEFAULT if protected is DEFAULT_PROTECTED else _compile(tuple(protected))
    hits: list[tuple[str, str, str, bool]] = []
    for host, path, userinfo, obfuscated in _links(t):
        hits.extend((k, b, d, obfuscated) for k, b, d in _analyse(host, path, userinfo, t, prot))
    if not hits:
        return _NONE
    kinds = tuple(sorted({h[0] for h in hits}, key=_KIND_ORDER.__getitem__))
    brands = tuple(dict.fromkeys(h[1] for h in hits if h[1] != "-"))
    evidence: list[str] = []
    for kind, brand, detail, obfuscated in hits:
        how = ", ".join(x for x in (detail, "obfuscated dots" if obfuscated else "") if x)
        named = kind if brand == "-" else f"{kind}: {brand}"
        evidence.append(named + (f" ({how})" if how else ""))
    return PhishingFinding(
        flagged=True,
        kinds=kinds,
        brands=brands,
        obfuscated=any(h[3] for h in hits),
        evidence=tuple(dict.fromkeys(evidence)),
    )
