"""Non-identifying features of a phone number, and its E.164 form for pseudonymisation.

Kept in clear: the country, the calling code, the line type and a short *prefix*: the calling
code plus the first :data:`PREFIX_DIGITS` national digits (``+65 91``), which says "Singapore
mobile range 91" and nothing about the subscriber. To stay non-identifying in small numbering
plans the prefix always leaves at least :data:`MIN_HIDDEN_DIGITS` national digits out, i.e. it
stands for at least 100,000 possible numbers (a 6-digit plan keeps 1 digit, a 5-digit plan none).

``phonenumbers.parse`` costs 10-50 µs, so results are cached per (string, region): the same
numbers come back in every signup and order of a ring.

>>> f = phone_features("+65 9123 4567")
>>> f.valid, f.country, f.country_code, f.prefix, f.number_type
(True, 'SG', 65, '+65 91', 'mobile')
>>> phone_features("9123 4567", default_region="SG") == f
True
>>> phone_features("not a phone")
PhoneFeatures(valid=False, country=None, country_code=None, prefix=None, number_type='unknown')
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, Literal

import msgspec
import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

NumberType = Literal[
    "mobile", "fixed", "fixed_or_mobile", "voip", "toll_free", "premium", "other", "unknown"
]
PREFIX_DIGITS: Final = 2
MIN_HIDDEN_DIGITS: Final = 5
# E.164 allows 15 digits; anything much longer is not a phone number and only costs parse time.
MAX_INPUT_CHARS: Final = 64
CACHE_SIZE: Final = 1 << 16

# fixed_or_mobile is kept apart: the NANP (+1) does not distinguish, and calling those "mobile"
# would make every North American number look like a mobile one.
_TYPES: Final[dict[int, NumberType]] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "other",
    PhoneNumberType.PERSONAL_NUMBER: "other",
    PhoneNumberType.PAGER: "other",
    PhoneNumberType.UAN: "other",
    PhoneNumberType.VOICEMAIL: "other",
}


class PhoneFeatures(msgspec.Struct, frozen=True):
    """What Rampart keeps of a phone number besides its pseudonym.

    ``country_code`` and ``country`` are set whenever the number parses (``country`` is the
    calling code's main region when the number itself is not valid, None for non-geographic
    codes such as +800); ``prefix`` and a specific ``number_type`` only when it is valid.
    """

    valid: bool
    country: str | None
    country_code: int | None
    prefix: str | None
    number_type: NumberType


INVALID: Final = PhoneFeatures(
    valid=False, country=None, country_code=None, prefix=None, number_type="unknown"
)


def phone_features(phone: str, default_region: str | None = None) -> PhoneFeatures:
    """Features of ``phone``; ``default_region`` (ISO alpha-2) applies when it has no ``+cc``.

    Never raises: garbage gives ``valid=False``.

    >>> phone_features("+1 650-253-0000").number_type, phone_features("+1 650-253-0000").prefix
    ('fixed_or_mobile', '+1 65')
    >>> phone_features("+44 20 7946 0958").country
    'GB'
    """
    return _analyse(phone, default_region)[0]


def phone_e164(phone: str, default_region: str | None = None) -> str | None:
    """``phone`` in E.164 (``+6591234567``) if it parses as a possible number, else None.

    >>> phone_e164("(+65) 9123-4567"), phone_e164("12")
    ('+6591234567', None)
    """
    return _analyse(phone, default_region)[1]


@lru_cache(maxsize=CACHE_SIZE)
def _analyse(phone: str, default_region: str | None) -> tuple[PhoneFeatures, str | None]:
    if len(phone) > MAX_INPUT_CHARS:
        return INVALID, None
    try:
        return _analyse_parsed(phonenumbers.parse(phone, default_region and default_region.upper()))
    except Exception:
        # A third-party parser on hostile input: whatever it raises, the event goes on.
        return INVALID, None


def _analyse_parsed(number: phonenumbers.PhoneNumber) -> tuple[PhoneFeatures, str | None]:
    country_code = int(number.country_code or 0)
    country = _iso_region(phonenumbers.region_code_for_country_code(country_code))
    e164: str | None = None
    if phonenumbers.is_possible_number(number):
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        return PhoneFeatures(False, country, country_code, None, "unknown"), e164
    national = phonenumbers.national_significant_number(number)
    keep = max(0, min(PREFIX_DIGITS, len(national) - MIN_HIDDEN_DIGITS))
    prefix = f"+{country_code} {national[:keep]}" if keep else f"+{country_code}"
    number_type = _TYPES.get(phonenumbers.number_type(number), "unknown")
    country = _iso_region(phonenumbers.region_code_for_number(number)) or country
    return PhoneFeatures(True, country, country_code, prefix, number_type), e164


def _iso_region(region: str | None) -> str | None:
    # phonenumbers says "001" for non-geographic codes and "ZZ" for unknown ones.
    return region if region and region.isalpha() and region != "ZZ" else None
