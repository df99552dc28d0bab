"""Keyed pseudonyms: determinism, separation of kinds and secrets, per-kind normalisation."""

import base64
import hmac
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.ingest.pii import address_token
from rampart.ingest.pii.pseudonym import KINDS, PREFIXES, Kind, Pseudonymizer, normalise
from rampart.ingest.pii.secret import DEMO_SECRET, ENV_SECRET, WeakSecretError

SECRET = b"test-secret-0123456789abcdef"
P = Pseudonymizer(SECRET, phone_region="SG")
TOKEN = re.compile(r"[a-z]{2}_[A-Za-z0-9_-]{20}")


def reference_token(secret: bytes, kind: Kind, normal: str) -> str:
    digest = hmac.digest(secret, f"{kind}\x1f{normal}".encode(), "sha256")
    return f"{PREFIXES[kind]}_{base64.urlsafe_b64encode(digest[:15]).decode()}"


@pytest.mark.parametrize("kind", KINDS)
def test_token_is_the_keyed_hmac_of_the_normalised_value(kind: Kind) -> None:
    value = " Some.Value@Example.com "
    token = P.token(kind, value)
    assert TOKEN.fullmatch(token)
    assert token.startswith(PREFIXES[kind] + "_")
    expected = reference_token(SECRET, kind, normalise(kind, value, phone_region="SG"))
    assert token == expected


def test_prefixes_are_distinct_and_cover_every_kind() -> None:
    assert set(PREFIXES) == set(KINDS)
    assert len(set(PREFIXES.values())) == len(KINDS)


def test_deterministic_across_instances_and_secret_dependent() -> None:
    other = Pseudonymizer(SECRET)
    assert other.token("email", "a@b.co") == P.token("email", "a@b.co")
    assert Pseudonymizer(SECRET + b"!").token("email", "a@b.co") != P.token("email", "a@b.co")


def test_kinds_never_collide_on_the_same_value() -> None:
    tokens = {P.token(kind, "alice") for kind in KINDS}
    assert len(tokens) == len(KINDS)


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("email", "Alice@Example.COM", " alice@example.com\n"),
        ("phone", "+65 9123 4567", "9123-4567"),  # default region SG
        ("phone", "(+65) 91234567", "+6591234567"),
        ("ip", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("ip", "::ffff:198.51.100.7", "198.51.100.7"),
        ("name", "Ｊohn  SMITH", "john smith"),
        ("address", "Blk 12 #03-45", "block 12, unit 3-45"),
        ("text", "Hello   World", "hello world"),
    ],
)
def test_spelling_variants_share_a_token(kind: Kind, a: str, b: str) -> None:
    assert P.token(kind, a) == P.token(kind, b)


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("email", "alice@example.com", "alice@example.org"),
        ("phone", "+65 9123 4567", "+65 9123 4568"),
        ("ip", "198.51.100.7", "198.51.100.8"),
        ("address", "Blk 12 #03-45", "Blk 12 #03-46"),
        ("value", "abc", "ABC"),  # opaque values are only stripped
    ],
)
def test_different_values_get_different_tokens(kind: Kind, a: str, b: str) -> None:
    assert P.token(kind, a) != P.token(kind, b)


def test_phone_without_region_keeps_digits() -> None:
    no_region = Pseudonymizer(SECRET)
    assert normalise("phone", "9123-4567") == "91234567"
    assert no_region.token("phone", "9123 4567") == no_region.token("phone", "91234567")
    assert no_region.token("phone", "9123 4567") != no_region.token("phone", "+65 9123 4567")


def test_invalid_ip_is_tokenised_as_written() -> None:
    assert normalise("ip", " not-an-ip ") == "not-an-ip"


def test_address_token_matches_string_tokens() -> None:
    assert P.token("address", "Blk 12 #03-45") == address_token(P, "Blk 12 #03-45")


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown pseudonym kind"):
        P.token("card", "4111")  # type: ignore[arg-type]


def test_short_secret_is_rejected() -> None:
    with pytest.raises(WeakSecretError):
        Pseudonymizer(b"short")


def test_phone_region_is_fixed_once_built() -> None:
    assert P.phone_region == "SG"
    with pytest.raises(AttributeError):
        P.phone_region = "MY"  # type: ignore[misc]


def test_repr_does_not_show_the_secret() -> None:
    assert "test-secret" not in repr(P)
    assert "hidden" in repr(P)


def test_cache_clear_keeps_results() -> None:
    p = Pseudonymizer(SECRET, cache_size=2)
    first = [p.token("email", f"u{i}@x.co") for i in range(5)]  # evictions along the way
    p.cache_clear()
    assert [p.token("email", f"u{i}@x.co") for i in range(5)] == first


def test_from_config() -> None:
    assert Pseudonymizer.from_config(demo=True, env={}).token("ip", "1.2.3.4") == Pseudonymizer(
        DEMO_SECRET
    ).token("ip", "1.2.3.4")
    configured = Pseudonymizer.from_config(env={ENV_SECRET: SECRET.decode()}, phone_region="SG")
    assert configured.token("phone", "91234567") == P.token("phone", "91234567")


@given(kind=st.sampled_from(KINDS), value=st.text(max_size=200))
def test_any_text_gets_a_well_formed_token(kind: Kind, value: str) -> None:
    token = P.token(kind, value)
    assert TOKEN.fullmatch(token)
    assert token == P.token(kind, value)


@given(st.emails())
def test_email_case_never_matters(email: str) -> None:
    assert P.token("email", email.upper()) == P.token("email", email.lower())
