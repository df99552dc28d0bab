"""Static tables for :mod:`rampart.detect.content.phishing` (domains, suffixes, cue words)."""

from __future__ import annotations

from typing import Final


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The marketplace's own domains. A placeholder set (the big South-East Asian marketplaces):
# a deployment passes its own list, usually ``(*its_domains, *PAYMENT_DOMAINS)``.
MARKETPLACE_DOMAINS: Final[tuple[str, ...]] = (
    "shopee.sg", "shopee.co.id", "shopee.com.my", "shopee.co.th", "shopee.vn", "shopee.ph",
    "shopee.tw", "shopee.com.br", "shopee.com", "shope.ee", "shp.ee", "shopeemobile.com",
    "susercontent.com", "shopeepay.co.id",
    "lazada.sg", "lazada.co.id", "lazada.com.my", "lazada.co.th", "lazada.vn", "lazada.com.ph",
    "lazada.com", "lazcdn.com",
    "tokopedia.com", "tokopedia.link", "tokopedia.net",
)  # fmt: skip

# Payment providers (and the big platforms whose accounts phishers go after). "name.*" means
# the brand owns its name under com / net / org and the country-code suffixes (paypal.de,
# visa.co.id); other suffixes (paypal.xyz) are look-alikes.
PAYMENT_DOMAINS: Final[tuple[str, ...]] = (
    "paypal.*", "paypalobjects.com", "paypay.ne.jp", "stripe.com", "stripe.network",
    "visa.*", "mastercard.*", "gopay.co.id", "gojek.com", "ovo.id", "dana.id", "grab.com",
    "grabpay.com", "alipay.com", "alipay.hk", "alipayplus.com", "wise.com", "transferwise.com",
    "revolut.com", "apple.*", "apple.co", "icloud.com", "google.*", "goo.gl", "g.co",
    "googleusercontent.com", "googleapis.com", "gstatic.com", "google-analytics.com",
    "youtube.com", "youtu.be", "amazon.*", "americanexpress.com", "jcb.co.jp", "unionpay.com",
    "wechat.com", "linkaja.id", "truemoney.com", "gcash.com", "maya.ph", "touchngo.com.my",
    "momo.vn", "zalopay.vn", "bca.co.id", "dbs.com.sg", "dbs.com", "maybank2u.com.my",
)  # fmt: skip

DEFAULT_PROTECTED: Final[tuple[str, ...]] = MARKETPLACE_DOMAINS + PAYMENT_DOMAINS

# Brand labels that are also everyday words or very short: no typosquat by edit distance and
# a combosquat needs a phishing cue as well ("apple-support-verify.com", not "wise-owl.com").
COMMON_LABELS: Final[frozenset[str]] = frozenset(
    {"apple", "visa", "wise", "stripe", "dana", "grab", "amazon", "maya", "momo", "google"}
    | {"youtube", "wechat", "dbs", "bca", "jcb", "shope", "shp", "gojek", "gcash", "gopay"}
)

# Tokens one or two edits away from a brand that are ordinary words ("the-gift-shoppe.com").
NOT_TYPOS: Final[frozenset[str]] = frozenset(
    {"shoppe", "shopper", "shopped", "canada", "revolt", "paypay"}
    | {"goggle", "googly", "toledo", "alpaca", "alipan", "airpay"}
)

# Two-level public suffixes handled when finding the registrable domain. Not the Public Suffix
# List: three-level suffixes and private ones (github.io, web.app, vercel.app) are not known,
# so "paypal-login.web.app" parses as sub-domain "paypal-login" of "web.app" (still flagged as a
# brand in a sub-domain).
MULTI_SUFFIXES: Final[frozenset[str]] = frozenset(
    f"{second}.{cc}"
    for cc, seconds in {
        "id": "co or ac go web my biz net sch mil",
        "sg": "com edu gov org net per",
        "my": "com edu gov org net name",
        "th": "co in go or ac net mi",
        "vn": "com gov net edu org biz info",
        "ph": "com gov org net edu",
        "tw": "com gov org net edu idv",
        "hk": "com gov org net edu idv",
        "cn": "com gov org net edu",
        "jp": "co ne or ac go ad ed gr lg",
        "kr": "co or ne ac go re",
        "uk": "co org gov ac me ltd plc net",
        "au": "com net org gov edu id asn",
        "nz": "co org govt ac net",
        "in": "co net org gov ac firm gen ind",
        "br": "com net org gov edu",
        "za": "co org gov ac net",
        "mx": "com org gob edu net",
        "tr": "com org gov edu net",
        "ar": "com org gob edu net",
        "ke": "co or go ac",
    }.items()
    for second in seconds.split()
)

# Link shorteners: a short link hides its target, so it counts only with a brand cue.
SHORTENERS: Final[frozenset[str]] = frozenset(
    {"bit.ly", "tinyurl.com", "t.co", "goo.gl", "s.id", "shorturl.at", "cutt.ly", "rb.gy"}
    | {"is.gd", "ow.ly", "t.ly", "tiny.cc", "rebrand.ly", "bitly.com", "v.gd", "shorte.st"}
    | {"linktr.ee", "bit.do", "tiny.one", "u.to", "clck.ru", "qrco.de", "surl.li", "lnkd.in"}
)

# Top-level domains accepted for a bare domain (no scheme, no "www."): the common generic ones,
# those phishers like, and the region's country codes. Anything goes after "http://".
BARE_TLDS: Final[tuple[str, ...]] = _words(
    """com net org info biz xyz top site online shop store app link click live vip icu club cc
    tk ml ga cf gq me io co ly gl ee id sg my th vn ph tw hk jp kr cn ru uk au de in us br cloud
    support help services security page website tech digital asia work life world email win
    buzz fun monster cyou sbs cfd pw ws bz la mobi pro xn--p1ai"""
)

# Words that make a link a credential / payment lure when they sit in its host or path.
LINK_CUES: Final[frozenset[str]] = frozenset(
    _words(
        """login log signin sign logon verify verification verifikasi secure security account
    accounts akun update confirm unlock unblock suspend suspended suspension locked wallet
    billing password passwd otp pin refund refunds claim klaim reward rewards hadiah bonus
    prize support helpdesk auth authenticate webscr kyc validate validation recover recovery
    reset resolution dispute payment payout masuk bantuan"""
    )
)

# Wording in the text that makes a short or IP link around a brand mention a lure.
TEXT_CUES: Final[tuple[str, ...]] = (
    "verify", "verification", "verifikasi", "suspend", "blocked", "diblokir", "locked",
    "unlock", "login", "log in", "sign in", "signin", "password", "otp", "confirm your",
    "update your", "claim", "klaim", "you won", "you have won", "prize", "reward", "hadiah",
    "account will", "akun anda", "restricted", "kyc",
)  # fmt: skip

# Folded before brand labels are compared: Cyrillic / Greek letters that look Latin.
HOMOGLYPHS: Final[dict[str, str]] = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "ɡ": "g", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ɑ": "a", "α": "a", "β": "b", "ε": "e",
    "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "ζ": "z", "ω": "w", "ı": "i",
}  # fmt: skip
