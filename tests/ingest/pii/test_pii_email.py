"""E-mail features: domain lists, local-part shape, validity, alias keys."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.ingest.pii.email import (
    FREE_MAIL_BRANDS,
    FREE_MAIL_DOMAINS,
    EmailFeatures,
    email_alias_key,
    email_alias_token,
    email_features,
    is_disposable,
    is_free_mail,
    local_shape,
)
from rampart.ingest.pii.pseudonym import Pseudonymizer

P = Pseudonymizer(b"test-secret-0123456789abcdef")


@pytest.mark.parametrize(
    ("email", "shape", "length", "digits", "digit_run", "separators", "plus"),
    [
        ("john.smith1988@gmail.com", "a.a9", 14, 4, 4, 1, False),
        ("JOHN.SMITH1988@GMAIL.COM", "a.a9", 14, 4, 4, 1, False),
        ("shop.deals2291+promo@mail.com", "a.a9+a", 20, 4, 4, 2, True),
        ("a1b22c333@x.co", "a9a9a9", 9, 6, 3, 0, False),
        ("x_y-z@x.co", "a_a-a", 5, 0, 0, 2, False),
        ("12345678@qq.com", "9", 8, 8, 8, 0, False),
        ("a..b@x.co", "a.a", 4, 0, 0, 2, False),  # invalid, still described
        ("Ωμέγα_07@x.co", "a_9", 8, 2, 2, 1, False),
    ],
)
def test_local_part_shape(
    email: str, shape: str, length: int, digits: int, digit_run: int, separators: int, plus: bool
) -> None:
    f = email_features(email)
    assert f.local_shape == shape
    assert f.local_len == length
    assert f.local_digits == digits
    assert f.local_digit_run == digit_run
    assert f.local_separators == separators
    assert f.local_has_plus is plus


@pytest.mark.parametrize(
    "email",
    [
        "a@x.co",
        "john.smith+tag@gmail.com",
        "o'brien@example.ie",
        "user@mail.example.co.uk",
        "a@bücher.de",
        "a@xn--bcher-kva.de",
        " padded@example.com ",
    ],
)
def test_valid(email: str) -> None:
    assert email_features(email).valid


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a b@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@-x.com",
        "a@x..com",
        "a@x.c0m",
        "a@@x.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_never_raises(email: str) -> None:
    assert not email_features(email).valid
    assert email_alias_key(email) is None


def test_domain_is_lowercased_and_without_trailing_dot() -> None:
    assert email_features("A@Example.COM.").domain == "example.com"
    assert email_features("a b@Example.COM").domain == "example.com"  # bad local, good domain


@pytest.mark.parametrize("email", ["no-at-sign", "x@John Smith 91234567", "x@", "x@a b.com"])
def test_malformed_domain_part_is_not_kept(email: str) -> None:
    assert email_features(email).domain == ""


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",
        "yahoo.com",
        "yahoo.com.sg",
        "yahoo.co.id",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "qq.com",
        "163.com",
        "aol.com",
        "zoho.com",
    ],
)
def test_free_mail(domain: str) -> None:
    assert is_free_mail(domain)
    assert email_features(f"someone@{domain}").free_mail


@pytest.mark.parametrize(
    "domain",
    ["example.com", "acme.co.sg", "gmail.example.com", "gmx.evil.example", "mailinator.com"],
)
def test_not_free_mail(domain: str) -> None:
    assert not is_free_mail(domain)


def test_free_mail_list_is_loaded() -> None:
    assert 50 <= len(FREE_MAIL_DOMAINS) + len(FREE_MAIL_BRANDS) <= 200
    assert all(d == d.lower() and "." in d for d in FREE_MAIL_DOMAINS)
    assert {"gmx", "yandex", "yahoo"} <= FREE_MAIL_BRANDS


@pytest.mark.parametrize(
    ("domain", "disposable"),
    [
        ("mailinator.com", True),
        ("eu.mailinator.com", True),  # subdomains of a listed domain
        ("a.b.mailinator.com", True),
        ("guerrillamail.com", True),
        ("gmail.com", False),
        ("com", False),
        ("", False),
        ("example.org", False),
    ],
)
def test_disposable(domain: str, disposable: bool) -> None:
    assert is_disposable(domain) is disposable
    assert email_features(f"x@{domain}").disposable is disposable


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("John.Smith@Gmail.com", "johnsmith@gmail.com"),
        ("j.o.h.n.smith+shopee@gmail.com", "johnsmith@gmail.com"),
        ("johnsmith@googlemail.com", "johnsmith@gmail.com"),
        ("John.Smith+x@outlook.com", "john.smith@outlook.com"),  # dots matter outside Gmail
        ("+tag@example.com", "+tag@example.com"),  # nothing left: keep the whole local part
        (" Mixed.Case@Example.COM ", "mixed.case@example.com"),
    ],
)
def test_alias_key(email: str, key: str) -> None:
    assert email_alias_key(email) == key


def test_alias_token_is_the_canonical_mailbox_token() -> None:
    a = email_alias_token(P, "J.Smith+one@gmail.com")
    assert a == email_alias_token(P, "jsmith+two@googlemail.com")
    assert a == P.token("email", "jsmith@gmail.com")
    assert a != email_alias_token(P, "j.smith@outlook.com")
    assert email_alias_token(P, "broken") is None


def test_local_shape_collapses_runs() -> None:
    assert local_shape("aa..bb__99") == "a.a_9"
    assert local_shape("") == ""


def test_features_are_cached_and_frozen() -> None:
    f = email_features("cache.me@example.com")
    assert f is email_features("cache.me@example.com")
    with pytest.raises(AttributeError):
        f.domain = "x"  # type: ignore[misc]


@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    f = email_features(text)
    assert isinstance(f, EmailFeatures)
    assert f.local_digit_run <= f.local_digits <= f.local_len
    assert set(f.local_shape).isdisjoint("012345678bcdefghijklmnopqrstuvwxyz")


@given(st.emails())
def test_generated_emails(email: str) -> None:
    f = email_features(email)
    local, _, domain = email.rpartition("@")
    assert f.domain in ("", domain.lower().rstrip("."))
    assert f.domain or not f.valid
    assert f.local_len == len(local)
    key = email_alias_key(email)
    if f.valid:
        assert key is not None
        assert key.endswith("@" + domain.lower().replace("googlemail.com", "gmail.com"))
