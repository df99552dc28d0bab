"""Phone features: country, calling code, non-identifying prefix, line type; never raises."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.ingest.pii.phone import (
    INVALID,
    MIN_HIDDEN_DIGITS,
    NumberType,
    phone_e164,
    phone_features,
)


@pytest.mark.parametrize(
    ("phone", "country", "code", "prefix", "number_type"),
    [
        ("+65 9123 4567", "SG", 65, "+65 91", "mobile"),
        ("+65 6123 4567", "SG", 65, "+65 61", "fixed"),
        ("+65 3158 1234", "SG", 65, "+65 31", "voip"),
        ("+65 800 123 4567", "SG", 65, "+65 80", "toll_free"),
        ("+60 12-345 6789", "MY", 60, "+60 12", "mobile"),
        ("+62 812 3456 7890", "ID", 62, "+62 81", "mobile"),
        ("+66 81 234 5678", "TH", 66, "+66 81", "mobile"),
        ("+63 917 123 4567", "PH", 63, "+63 91", "mobile"),
        ("+84 91 234 56 78", "VN", 84, "+84 91", "mobile"),
        ("+44 20 7946 0958", "GB", 44, "+44 20", "fixed"),
        ("+1 650 253 0000", "US", 1, "+1 65", "fixed_or_mobile"),
        ("+800 1234 5678", None, 800, "+800 12", "toll_free"),  # non-geographic
        ("+683 4002", "NU", 683, "+683", "fixed"),  # 4-digit plan: no national digit kept
    ],
)
def test_valid_numbers(
    phone: str, country: str | None, code: int, prefix: str, number_type: NumberType
) -> None:
    f = phone_features(phone)
    assert f.valid
    assert (f.country, f.country_code, f.prefix, f.number_type) == (
        country,
        code,
        prefix,
        number_type,
    )


@pytest.mark.parametrize("written", ["91234567", "9123 4567", "9123-4567", "(9123) 4567"])
def test_default_region_applies_without_country_code(written: str) -> None:
    assert phone_features(written, "SG") == phone_features("+65 9123 4567")
    assert phone_features(written, "sg") == phone_features("+65 9123 4567")
    assert phone_e164(written, "SG") == "+6591234567"


def test_no_region_and_no_country_code_is_invalid() -> None:
    assert phone_features("91234567") == INVALID
    assert phone_e164("91234567") is None


@pytest.mark.parametrize(
    "garbage",
    ["", " ", "abc", "+", "++65", "12", "+999 1234 5678", "+65 1", "☎" * 10, "9" * 500, "\x00"],
)
def test_garbage_is_invalid(garbage: str) -> None:
    f = phone_features(garbage, "SG")
    assert not f.valid
    assert f.prefix is None
    assert f.number_type == "unknown"


def test_parseable_but_invalid_keeps_the_country() -> None:
    f = phone_features("+65 1234 5678")  # no Singapore range starts with 1
    assert not f.valid
    assert (f.country, f.country_code, f.prefix) == ("SG", 65, None)
    assert phone_e164("+65 1234 5678") == "+6512345678"


def test_unknown_region_does_not_raise() -> None:
    assert phone_features("91234567", "XX") == INVALID


def test_results_are_cached() -> None:
    assert phone_features("+65 9876 5432") is phone_features("+65 9876 5432")


@given(st.text(max_size=80), st.sampled_from([None, "SG", "MY", "US", "zz"]))
def test_never_raises(text: str, region: str | None) -> None:
    f = phone_features(text, region)
    assert f.valid is (f.prefix is not None)


@given(
    st.sampled_from(["SG", "MY", "ID", "TH", "PH", "VN", "US", "GB", "IN", "CN", "JP"]),
    st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]),
)
def test_prefix_hides_enough_digits(region: str, kind: int) -> None:
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    f = phone_features(e164)
    assert f.valid
    assert f.prefix is not None
    national = phonenumbers.national_significant_number(example)
    kept = f.prefix.partition(" ")[2]
    assert national.startswith(kept)
    assert len(national) - len(kept) >= MIN_HIDDEN_DIGITS
    assert phone_e164(e164) == e164
