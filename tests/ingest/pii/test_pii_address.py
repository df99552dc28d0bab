"""Address keys: spelling variants of one address share a key, different addresses do not."""

import random
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.ingest.pii.address import (
    AddressFeatures,
    address_features,
    address_key,
    address_token,
)
from rampart.ingest.pii.pseudonym import Pseudonymizer

P = Pseudonymizer(b"test-secret-0123456789abcdef")
Address = Mapping[str, object]

SG = {"city": "Singapore", "postcode": "310012", "country": "SG"}
MY = {"city": "Petaling Jaya", "postcode": "47300", "country": "MY"}
US = {"city": "Springfield", "postcode": "62701", "country": "US"}

SAME_ADDRESS: list[list[Address]] = [
    [  # Singapore HDB flat: block, floor-unit
        {"line1": "Blk 12 #03-45", **SG},
        {"line1": "Block 12, Unit 3-45", **SG},
        {"line1": "12", "line2": "#03-45", **SG},
        {"line1": "BLK 12 # 03 - 45", **SG},
        {"line1": "blk12 #3-45", "city": "singapore", "postcode": "310 012", "country": "sg"},
        {
            "line1": "Block 12 Unit 03-045",
            "city": "SINGAPORE",
            "postcode": "310012",
            "country": "SG",
        },
        {"line1": "#03-45 Blk 12", "postcode": "310012", "country": "Singapore"},
        {"name": "Tan Ah Kow", "line1": "Blk 12 Toa Payoh Lor 1 #03-45", **SG},  # name ignored
        {"line1": "12 Toa Payoh Lorong 1", "line2": "#03-45 Singapore 310012", **SG},
        {"line1": "Apt 3-45, Blk 12", **SG},
    ],
    [  # Malaysia
        {"line1": "No. 5, Jalan SS 2/24", **MY},
        {"line1": "5 Jln SS2/24", **MY},
        {
            "line1": "NO 5 JALAN SS 2/24",
            "city": "petaling jaya",
            "postcode": "47 300",
            "country": "my",
        },
        {"line1": "5, Jalan SS 2/24", "line2": "Petaling Jaya, Malaysia", **MY},
    ],
    [  # street abbreviations and unit designators
        {"line1": "742 Evergreen Terrace", "line2": "Apartment 3", **US},
        {"line1": "742 Evergreen Ter.", "line2": "Apt 3", **US},
        {"line1": "742 EVERGREEN TERRACE #3", **US},
        {"line1": "Unit 3, 742 Evergreen Terrace", **US},
        {"line1": "742  evergreen   terrace", "line2": "unit 03", **US},
    ],
    [
        {"line1": "10 North Bridge Road", "postcode": "12345", "country": "US"},
        {"line1": "10 N Bridge Rd", "postcode": "12345", "country": "US"},
        {"line1": "10 n. bridge rd.", "postcode": "12345", "country": "us"},
    ],
    [
        {"line1": "221B Baker Street", "line2": "Flat 2", "city": "London", "country": "GB"},
        {"line1": "221 B Baker St", "line2": "flat 2", "city": "LONDON", "country": "UK"},
        {"line1": "221b baker street, flat 2", "city": "London", "country": "United Kingdom"},
    ],
    [  # accents and full-width forms
        {"line1": "Straße 5", "city": "München", "country": "DE"},
        {"line1": "STRASSE 5", "city": "Munchen", "country": "DE"},
        {"line1": "Ｓｔｒａｓｓｅ　５", "city": "münchen", "country": "de"},
    ],
]


@pytest.mark.parametrize("variants", SAME_ADDRESS, ids=lambda v: str(v[0]["line1"]))
def test_variants_share_one_key(variants: list[Address]) -> None:
    keys = {address_key(v) for v in variants}
    assert len(keys) == 1, keys
    assert keys != {""}
    assert len({address_token(P, v) for v in variants}) == 1


def test_groups_do_not_collide() -> None:
    assert len({address_key(group[0]) for group in SAME_ADDRESS}) == len(SAME_ADDRESS)


BASE: Address = {"line1": "Blk 12 Toa Payoh Lor 1", "line2": "#03-45", **SG}
BASE_MY: Address = {"line1": "No. 5, Jalan SS 2/24", "line2": "Unit 3-1", **MY}


@pytest.mark.parametrize(
    ("base", "change"),
    [
        (BASE, {"line2": "#03-46"}),  # unit
        (BASE, {"line2": "#04-45"}),  # floor
        (BASE, {"line2": "#03-45A"}),  # unit letter
        (BASE, {"line2": "#30-45"}),  # leading zero vs trailing zero
        (BASE, {"line2": ""}),  # no unit
        (BASE, {"postcode": "310013"}),
        (BASE, {"country": "MY"}),
        (BASE_MY, {"line1": "No. 7, Jalan SS 2/24"}),  # house number
        (BASE_MY, {"line1": "No. 5, Jalan SS 2/25"}),  # street
        (BASE_MY, {"line2": "Unit 3-2"}),
        (BASE_MY, {"postcode": "47301"}),
        (BASE_MY, {"line1": "No. 5A, Jalan SS 2/24"}),
    ],
)
def test_different_addresses_get_different_keys(base: Address, change: Address) -> None:
    assert address_key(base) != address_key({**base, **change})
    assert address_token(P, base) != address_token(P, {**base, **change})


def test_block_matters_outside_building_postcodes() -> None:
    a = {"line1": "Blk 12 Jalan Besar", "postcode": "", "city": "Singapore", "country": "SG"}
    b = {**a, "line1": "Blk 13 Jalan Besar"}
    assert address_key(a) != address_key(b)


def test_singapore_key_is_postcode_and_unit() -> None:
    # A Singapore postcode names one building: street spellings (AMK) do not matter.
    a = {"line1": "Blk 123 Ang Mo Kio Ave 3 #05-12", "postcode": "560123", "country": "SG"}
    b = {"line1": "123 AMK Avenue 3", "line2": "# 05-012", "postcode": "560 123", "country": "sg"}
    assert address_key(a) == address_key(b) == "SG|560123|||5-12"


def test_placeholder_singapore_postcode_does_not_link_strangers() -> None:
    a = {"line1": "Blk 12 Jalan Besar", "line2": "#03-45", "postcode": "000000", "country": "SG"}
    b = {**a, "line1": "Blk 99 Bedok North Ave 1"}
    assert address_key(a) != address_key(b)


def test_city_is_used_only_without_postcode() -> None:
    with_postcode = {"line1": "1 Main St", "postcode": "10001", "country": "US"}
    assert address_key({**with_postcode, "city": "New York"}) == address_key(
        {**with_postcode, "city": "NYC"}
    )
    no_postcode = {"line1": "1 Main St", "country": "US"}
    assert address_key({**no_postcode, "city": "Springfield"}) != address_key(
        {**no_postcode, "city": "Shelbyville"}
    )


@pytest.mark.parametrize(
    "empty",
    [{}, {"city": "Singapore", "country": "SG"}, {"name": "Jane", "postcode": "310012"}, "", "  ,"],
)
def test_no_street_no_key_no_token(empty: Address | str) -> None:
    assert address_key(empty) == ""
    assert address_token(P, empty) is None


def test_string_addresses() -> None:
    assert address_key("Blk 12 #03-45") == address_key("block 12 unit 3-45") == "|||12|3-45"
    assert address_key("Blk 12 #03-45") != address_key("Blk 12 #03-46")


def test_non_string_values_do_not_raise() -> None:
    assert address_key({"line1": 12, "line2": None, "postcode": 310012, "country": "SG"}) == (
        "SG|310012|||"
    )


def test_features() -> None:
    f = address_features(P, BASE)
    assert f == AddressFeatures(
        key_token=address_token(P, BASE), country="SG", postcode_prefix="31", city="singapore"
    )
    assert f.key_token is not None
    assert f.key_token.startswith("ad_")
    us = address_features(P, {"line1": "1 Main St", "postcode": "62701-1234", "country": "usa"})
    assert (us.country, us.postcode_prefix, us.city) == ("US", "627", None)
    short = address_features(P, {"line1": "1 Rizal St", "postcode": "1000", "country": "PH"})
    assert short.postcode_prefix == "10"
    assert address_features(P, "Blk 12 #03-45") == AddressFeatures(
        address_token(P, "Blk 12 #03-45"), None, None, None
    )
    assert address_features(P, {"line1": "x", "postcode": "12"}).postcode_prefix is None


# Property tests: the key is invariant under case changes and extra punctuation/whitespace.
STREET_WORDS = [
    "Toa",
    "Payoh",
    "Ang",
    "Mo",
    "Kio",
    "Jurong",
    "West",
    "Bedok",
    "North",
    "Ave",
    "Street",
    "Road",
    "Jalan",
    "Besar",
    "Lorong",
    "Drive",
    "Central",
]


@st.composite
def addresses(draw: st.DrawFn) -> dict[str, str]:
    block = draw(st.integers(1, 999))
    letter = draw(st.sampled_from(["", "A", "B"]))
    words = draw(st.lists(st.sampled_from(STREET_WORDS), min_size=1, max_size=4))
    number = draw(st.sampled_from(["", " 1", " 3", " 10"]))
    floor = draw(st.integers(1, 40))
    unit = draw(st.integers(1, 999))
    unit_style = draw(st.sampled_from(["#{f:02d}-{u:02d}", "Unit {f}-{u}", "#{f}-{u:03d}"]))
    return {
        "line1": f"Blk {block}{letter} {' '.join(words)}{number}",
        "line2": unit_style.format(f=floor, u=unit),
        "city": draw(st.sampled_from(["Singapore", "Kuala Lumpur", ""])),
        "postcode": draw(st.sampled_from(["", "310012", "47300", "SW1A 1AA"])),
        "country": draw(st.sampled_from(["SG", "MY", "GB", ""])),
    }


def scramble(text: str, rng: random.Random) -> str:
    text = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)
    return "".join(
        rng.choice([" ", "  ", ", ", " . ", " ; ", "\t", " , "]) if c == " " else c for c in text
    )


@given(addresses(), st.randoms(use_true_random=False))
def test_key_invariant_under_case_and_punctuation(
    address: dict[str, str], rng: random.Random
) -> None:
    variant = {field: f" {scramble(value, rng)},  " for field, value in address.items()}
    assert address_key(variant) == address_key(address)


@given(addresses(), st.integers(1, 40))
def test_key_changes_with_the_floor(address: dict[str, str], other_floor: int) -> None:
    floor = int(address["line2"].replace("#", " ").replace("Unit", " ").split("-")[0])
    if other_floor == floor:
        return
    moved = {**address, "line2": f"#{other_floor}-{address['line2'].split('-')[1]}"}
    assert address_key(moved) != address_key(address)


@given(
    st.dictionaries(
        st.sampled_from(["name", "line1", "line2", "city", "postcode", "country", "x"]),
        st.one_of(st.text(max_size=300), st.integers(), st.none(), st.floats()),
    )
)
def test_never_raises(address: dict[str, object]) -> None:
    key = address_key(address)
    assert key == "" or key.count("|") == 4
    features = address_features(P, address)
    assert (features.key_token is None) is (key == "")
