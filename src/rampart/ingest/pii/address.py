"""A normalised key per physical address, and the coarse features kept in clear.

Rings reuse one drop address for many accounts and write it a little differently each time.
:func:`address_key` folds the usual variants into one canonical string:

- case, accents, punctuation and whitespace are ignored (``Blk 12, #03-45`` = ``BLK 12 #03 - 45``);
- street words are abbreviated one way (Street/Str → st, Road → rd, Avenue/Av → ave,
  Jalan/Jl → jln, Lorong/Lrg → lor, Drive → dr, North → n, ... see ``_ABBREVIATIONS``);
- ``Blk``/``Block``/``Bk`` and a ``No.`` before a number are dropped (``Block 12`` = ``12``);
- unit designators (``#``, Unit, Apt, Apartment, Suite, Flat, Room) are dropped and the unit
  is taken out of the text wherever it is, in line 1 or line 2: ``#03-45``, ``Unit 3-45``,
  ``03-045`` all give unit ``3-45`` (numbers lose leading zeros), ``#12`` gives ``12``;
- a house-number letter is glued on (``12 A`` = ``12A``);
- the postcode keeps only letters and digits, uppercased; the country is an upper-case code
  (a few country names are mapped: ``Singapore`` → ``SG``);
- the city is used only when there is no postcode (the postcode is finer and the city is where
  spellings vary); a postcode, city or country repeated at the end of the lines is ignored;
- in Singapore a (valid) 6-digit postcode names one building, so the key is postcode + unit
  and the street text, where most of the variation is (``AMK Ave 3``), is ignored;
- the ``name`` on the address is never part of the key (the same drop address serves many names).

The key is the address itself, so it is PII: store only :func:`address_token` (its HMAC). An
address with neither street text nor unit has the empty key and no token: linking every account
that left the street blank would link strangers.

>>> a = {"line1": "Blk 12 #03-45", "city": "Singapore", "postcode": "310012", "country": "SG"}
>>> b = {"line1": "Block 12, Unit 3-45", "city": "singapore", "postcode": "310 012",
...      "country": "sg"}
>>> c = {"name": "A. Tan", "line1": "12", "line2": "#03-045", "postcode": "310012", "country": "SG"}
>>> address_key(a), address_key(a) == address_key(b) == address_key(c)
('SG|310012|||3-45', True)
>>> address_key({"line1": "221B Baker St.", "line2": "Flat 2", "city": "London", "country": "UK"})
'GB||london|221b baker st|2'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Final

import msgspec

if TYPE_CHECKING:
    from rampart.ingest.pii.pseudonym import Pseudonymizer

CACHE_SIZE: Final = 1 << 15
MAX_FIELD_CHARS: Final = 256  # contract input is bounded upstream; this bounds our own work
_UNIT_MARK: Final = "#"
_BLOCK_MARK: Final = "blk"

_ABBREVIATIONS: Final[Mapping[str, str]] = {
    **dict.fromkeys(("street", "str"), "st"),
    "road": "rd",
    **dict.fromkeys(("avenue", "av", "avn"), "ave"),
    **dict.fromkeys(("drive", "drv"), "dr"),
    **dict.fromkeys(("jalan", "jl"), "jln"),
    **dict.fromkeys(("lorong", "lrg"), "lor"),
    "lane": "ln",
    "boulevard": "blvd",
    "crescent": "cres",
    "close": "cl",
    "place": "pl",
    "court": "ct",
    "terrace": "ter",
    "highway": "hwy",
    "square": "sq",
    "heights": "hts",
    **dict.fromkeys(("garden", "gardens"), "gdn"),
    **dict.fromkeys(("centre", "center"), "ctr"),
    "central": "ctrl",
    "building": "bldg",
    "tower": "twr",
    "industrial": "ind",
    "upper": "upp",
    "mount": "mt",
    "bukit": "bt",
    **dict.fromkeys(("kampung", "kampong"), "kg"),
    "taman": "tmn",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    **dict.fromkeys(("number", "nombor", "nr"), "no"),
    **dict.fromkeys(("block", "bk", "blok"), _BLOCK_MARK),
    **dict.fromkeys(("unit", "apt", "apartment", "suite", "ste", "flat", "room", "rm"), _UNIT_MARK),
}
# Country names as _country folds them (letters only, lowercase) → ISO code.
_COUNTRY_TABLE: Final = (
    "singapore=SG malaysia=MY indonesia=ID thailand=TH philippines=PH vietnam=VN brunei=BN "
    "cambodia=KH myanmar=MM laos=LA taiwan=TW hongkong=HK china=CN japan=JP korea=KR "
    "southkorea=KR india=IN australia=AU unitedstates=US usa=US unitedkingdom=GB uk=GB"
)
_COUNTRY_NAMES: Final[Mapping[str, str]] = dict(p.split("=") for p in _COUNTRY_TABLE.split())
_COUNTRY_WORDS: Final[Mapping[str, frozenset[str]]] = {
    code: frozenset(name for name, c in _COUNTRY_NAMES.items() if c == code)
    for code in set(_COUNTRY_NAMES.values())
}
# Countries whose postcode format names a single building: the street text adds only noise.
# Singapore's sectors are 01-82: a placeholder such as 000000 must not make strangers' keys equal.
_BUILDING_POSTCODES: Final[Mapping[str, re.Pattern[str]]] = {
    "SG": re.compile(r"(?:0[1-9]|[1-7]\d|8[0-2])\d{4}")
}
# Kept in clear: enough for region-level aggregates, far too coarse to find a building.
# Singapore's first two digits are its ~80 postal sectors; elsewhere three characters
# (a US 3-digit ZIP, a UK outward-code area), never more than all but two characters.
_POSTCODE_PREFIX_LEN: Final[Mapping[str, int]] = {"SG": 2}
_DEFAULT_POSTCODE_PREFIX_LEN: Final = 3

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\uff0d", "-"))
_TOKEN = re.compile(r"[^\W\d_]+|\d+|[#-]")
# On the space-joined tokens: "[#...] floor - unit [letter]" or "# unit [letter]".
_UNIT = re.compile(r"(?:(?<= )|^)(?:# )*(\d+)(?: ([a-z]))? - (\d+)(?: ([a-z]))?(?= |$)")
_SINGLE_UNIT = re.compile(r"(?:(?<= )|^)(?:# )+(\d+)(?: ([a-z]))?(?= |$)")
_DESIGNATOR = re.compile(r"(?:(?<= )|^)(?:#|-|blk|no(?= \d))(?: |$)")
_HOUSE_LETTER = re.compile(r"(?<=\d) ([a-z])(?= |$)")


class AddressFeatures(msgspec.Struct, frozen=True):
    """What Rampart keeps of an address: its pseudonym and coarse, non-identifying parts."""

    key_token: str | None
    country: str | None
    postcode_prefix: str | None
    city: str | None


def address_key(address: Mapping[str, object] | str) -> str:
    """The canonical key of ``address`` (an address object, or one free-text line).

    Format ``COUNTRY|POSTCODE|city|street|unit`` (city only without postcode); ``""`` when there
    is no street text and no unit. PII: store :func:`address_token` instead. Never raises.

    >>> address_key("Block 12 Ang Mo Kio Avenue 3 #05-12")
    '|||12 ang mo kio ave 3|5-12'
    >>> address_key({"line1": "No. 5, Jalan SS 2/24", "postcode": "47300", "country": "Malaysia"})
    'MY|47300||5 jln ss 2 24|'
    >>> address_key({"city": "Singapore", "country": "SG"})
    ''
    """
    return _analyse(*_fields(address))[0]


def address_token(pseudonymizer: Pseudonymizer, address: Mapping[str, object] | str) -> str | None:
    """The pseudonym of :func:`address_key` (None when the key is empty).

    Equal to ``pseudonymizer.token("address", address)`` for a one-line string address.

    >>> from rampart.ingest.pii.pseudonym import Pseudonymizer
    >>> p = Pseudonymizer(b"0123456789abcdef-doctest-only")
    >>> address_token(p, "blk 12 #03-45").startswith("ad_"), address_token(p, {"country": "SG"})
    (True, None)
    """
    key = address_key(address)
    return pseudonymizer.token_canonical("address", key) if key else None


def address_features(
    pseudonymizer: Pseudonymizer, address: Mapping[str, object] | str
) -> AddressFeatures:
    """Token plus the coarse parts kept in clear: country, postcode prefix, city (lowercase).

    >>> from rampart.ingest.pii.pseudonym import Pseudonymizer
    >>> p = Pseudonymizer(b"0123456789abcdef-doctest-only")
    >>> f = address_features(p, {"line1": "1 Main St", "city": " New  York", "postcode": "10001",
    ...                          "country": "us"})
    >>> same = {"line1": "1 main street", "postcode": "10001", "country": "US"}
    >>> f.country, f.postcode_prefix, f.city, f.key_token == address_token(p, same)
    ('US', '100', 'new york', True)
    """
    key, country, postcode_prefix, city = _analyse(*_fields(address))
    token = pseudonymizer.token_canonical("address", key) if key else None
    return AddressFeatures(token, country, postcode_prefix, city)


def _fields(address: Mapping[str, object] | str) -> tuple[str, str, str, str, str]:
    if isinstance(address, str):
        return _field(address), "", "", "", ""
    get = address.get
    return (
        _field(get("line1")),
        _field(get("line2")),
        _field(get("city")),
        _field(get("postcode")),
        _field(get("country")),
    )


@lru_cache(maxsize=CACHE_SIZE)
def _analyse(
    line1: str, line2: str, city: str, postcode: str, country: str
) -> tuple[str, str | None, str | None, str | None]:
    """(key, country, postcode prefix, city) of one address; cached, addresses repeat."""
    country_code = _country(country)
    postcode_norm = _postcode(postcode)
    city_words = _words(city)
    # Words that may trail line 2 without adding anything: city, country as written and named.
    tails = {
        *city_words,
        *_words(country),
        country_code.lower(),
        *_COUNTRY_WORDS.get(country_code, ()),
    }
    key = _key(line1, line2, tails, city_words, postcode_norm, country_code)
    postcode_prefix = _postcode_prefix(postcode_norm, country_code)
    return key, country_code or None, postcode_prefix, " ".join(city_words) or None


def _key(
    line1: str,
    line2: str,
    tails: set[str],
    city_words: list[str],
    postcode_norm: str,
    country_code: str,
) -> str:
    street, units = _street(f"{line1} {line2}")
    # Line 2 often repeats "Singapore 310012" or "Kuala Lumpur, Malaysia": drop such a tail.
    postcode_lower = postcode_norm.lower()
    tails |= {postcode_lower, postcode_lower.lstrip("0")}
    while street and street[-1] in tails:
        street.pop()
    if not street and not units:
        return ""
    unit = ",".join(units)
    building = _BUILDING_POSTCODES.get(country_code)
    if building is not None and building.fullmatch(postcode_norm):
        return f"{country_code}|{postcode_norm}|||{unit}"
    city_part = "" if postcode_norm else " ".join(city_words)
    return f"{country_code}|{postcode_norm}|{city_part}|{' '.join(street)}|{unit}"


def _street(text: str) -> tuple[list[str], list[str]]:
    """Street tokens and units (``floor-unit`` or ``unit``) of the combined address lines."""
    tokens = []
    for token in _TOKEN.findall(_fold(text)):
        if token[0].isdigit():
            tokens.append(token.lstrip("0") or "0")
        else:
            tokens.append(_ABBREVIATIONS.get(token, token))
    joined = " ".join(tokens)
    units: list[str] = []

    def take_unit(match: re.Match[str]) -> str:
        floor, floor_letter, unit, unit_letter = match.groups()
        units.append(f"{floor}{floor_letter or ''}-{unit}{unit_letter or ''}")
        return " "

    def take_single_unit(match: re.Match[str]) -> str:
        unit, unit_letter = match.groups()
        units.append(f"{unit}{unit_letter or ''}")
        return " "

    joined = _SINGLE_UNIT.sub(take_single_unit, _UNIT.sub(take_unit, joined))
    joined = _HOUSE_LETTER.sub(r"\1", _DESIGNATOR.sub(" ", joined))
    return joined.split(), units


def _fold(text: str) -> str:
    """Casefolded, accents stripped, every dash a hyphen."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_DASHES)
    return text.casefold()


def _words(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(_fold(text)) if t not in "#-"]


def _country(country: str) -> str:
    letters = "".join(_words(country))
    return _COUNTRY_NAMES.get(letters, letters.upper())


def _postcode(postcode: str) -> str:
    return "".join(c for c in _fold(postcode) if c.isalnum()).upper()


def _postcode_prefix(postcode: str, country: str) -> str | None:
    length = _POSTCODE_PREFIX_LEN.get(country, _DEFAULT_POSTCODE_PREFIX_LEN)
    length = min(length, len(postcode) - 2)
    return postcode[:length] if length > 0 else None


def _field(value: object) -> str:
    if isinstance(value, str):
        return value if len(value) <= MAX_FIELD_CHARS else value[:MAX_FIELD_CHARS]
    return "" if value is None else str(value)[:MAX_FIELD_CHARS]
