"""Free-text redaction: contact details and long numbers never reach storage."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.ingest.pii.text import (
    MAX_DOMAINS,
    TextFeatures,
    redact_text,
    redact_text_with_features,
    text_features,
)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("mail me: jane.doe+shop@gmail.com thx", "mail me: <email> thx"),
        ("JANE@EXAMPLE.CO.UK", "<email>"),
        ("jane (at) gmail (dot) com", "<email>"),
        ("jane[at]gmail[dot]com", "<email>"),
        ("jane at gmail dot com please", "<email> please"),
        ("jane at gmail.com", "<email>"),
        ("jane @ gmail . com", "<email>"),
        ("j a n e @ g m a i l . c o m", "<email>"),
        ("jane@gmail", "<email>"),
        ("ｊａｎｅ＠ｇｍａｉｌ．ｃｏｍ", "<email>"),
        ("call +65 9123 4567 now", "call <phone> now"),
        ("call (+65) 9123-4567", "call <phone>"),
        ("hp: 012-345 6789", "hp: <phone>"),
        ("9123.4567", "<phone>"),
        ("9 1 2 3 4 5 6 7", "<phone>"),
        ("91234567", "<phone>"),
        ("wa91234567", "wa<phone>"),
        ("9l23 45O7", "<phone>"),  # letter homoglyphs between digits
        ("９１２３４５６７", "<phone>"),  # full-width digits
        ("nine one two three four five six seven", "<phone>"),
        ("Nine-One-Two-Three-Four", "<phone>"),  # five spelled digits
        ("sembilan satu dua tiga empat lima", "<phone>"),  # Malay
        ("9123 four five six seven", "<phone>"),  # mixed
        ("九一二三四五六七", "<phone>"),
        ("card 4111 1111 1111 1111", "card <number>"),
        ("ref 12345678901234567890", "ref <number>"),
        ("see https://evil.example/login?u=1.", "see <url>."),
        ("go to www.shop-deals.com now", "go to <url> now"),
        ("bit.ly/abc and wa.me/6591234567", "<url> and <url>"),
        ("visit shopee dot sg", "visit <url>"),
        ("visit bit(dot)ly", "visit <url>"),
        ("follow @deals_sg", "follow <handle>"),
        ("IG: deals.sg.official", "IG: <handle>"),
        ("line id: shop88 ok", "line id: <handle> ok"),
        ("WhatsApp: 91234567", "WhatsApp: <handle>"),
    ],
)
def test_redacts(text: str, redacted: str) -> None:
    assert redact_text(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "Great product, fast delivery! 5 stars.",
        "Arrived in 3 days, 2 pcs for $15.90 each.",
        "I will be at home. Then we meet at 5pm.",
        "The box was at 2.5kg, fine.",
        "order 12345 arrived",
        "one of the best, two thumbs up",
        "Size M fits well. Colour as shown.",
        "",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact_text(text) == text


def test_features() -> None:
    f = text_features("Buy at HTTPS://Shop.Example.com/x or bit.ly/x, mail a@b.co, call 91234567")
    assert f == TextFeatures(
        length=73,
        digit_count=8,
        has_url=True,
        has_email_like=True,
        has_phone_like=True,
        has_handle=False,
        url_domains=("shop.example.com", "bit.ly"),
    )


def test_features_of_plain_text() -> None:
    f = text_features("hello there, 2 pcs")
    assert (f.length, f.digit_count, f.has_url, f.has_email_like, f.has_phone_like) == (
        18,
        1,
        False,
        False,
        False,
    )
    assert f.url_domains == ()


def test_one_pass_gives_both() -> None:
    text = "Mail jane@x.co or see shop.example.com/item, 9123 4567"
    assert redact_text_with_features(text) == (redact_text(text), text_features(text))


def test_url_domains_are_deduplicated_and_capped() -> None:
    text = " ".join(f"site{i}.com site{i}.com" for i in range(40))
    domains = text_features(text).url_domains
    assert domains[:2] == ("site0.com", "site1.com")
    assert len(domains) == MAX_DOMAINS


def test_url_domains_skip_ip_literals_and_credentials() -> None:
    f = text_features("http://user:pw@10.1.2.3/x and http://admin:pw@Login.Example.COM:8080/")
    assert f.url_domains == ("login.example.com",)
    assert "pw" not in redact_text("http://user:pw@10.1.2.3/x")


# Property tests. Surrounding words come from a fixed vocabulary without number words.
WORDS = st.sampled_from(["hi", "please", "call", "me", "at", "or", "my", "is", "ok", "the", "."])
FILLER = st.lists(WORDS, max_size=6).map(" ".join)


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    digits = draw(st.text("0123456789", min_size=7, max_size=15))
    pieces, rest = [], digits
    while rest:
        size = draw(st.integers(1, 4))
        pieces.append(rest[:size])
        rest = rest[size:]
    separators = draw(
        st.lists(st.sampled_from(["", " ", "-", ".", " - ", "  "]), min_size=len(pieces))
    )
    number = "".join(p + s for p, s in zip(pieces, separators, strict=False)).strip(" -.")
    prefix = draw(st.sampled_from(["", "+", "(+", "+ "]))
    return prefix + number


@given(FILLER, phone_numbers(), FILLER)
def test_no_phone_digits_survive(before: str, phone: str, after: str) -> None:
    redacted = redact_text(f"{before} {phone} {after}")
    assert not any(c.isdigit() for c in redacted), redacted
    assert "<phone>" in redacted or "<number>" in redacted


LOCAL = st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda s: ".." not in s
)
DOMAIN = st.from_regex(r"([a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\.){1,3}[a-z]{2,6}", fullmatch=True)


@given(FILLER, LOCAL, DOMAIN, FILLER)
def test_no_email_survives(before: str, local: str, domain: str, after: str) -> None:
    email = f"{local}@{domain}"
    redacted = redact_text(f"{before} {email} {after}")
    assert email not in redacted
    assert "@" not in redacted
    assert "<email>" in redacted


NUMBER_WORDS = st.sampled_from(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
)


@given(
    FILLER,
    st.lists(NUMBER_WORDS, min_size=5, max_size=12),
    st.sampled_from([" ", "-", ", ", " . "]),
    FILLER,
)
def test_spelled_out_numbers_do_not_survive(
    before: str, words: list[str], separator: str, after: str
) -> None:
    redacted = redact_text(f"{before} {separator.join(words)} {after}")
    assert not any(re.search(rf"\b{w}\b", redacted) for w in words), redacted


@given(st.text(max_size=400))
def test_never_raises_and_no_long_digit_run_survives(text: str) -> None:
    redacted = redact_text(text)
    assert re.search(r"\d{7,}", redacted) is None
    assert redact_text(redacted) == redacted
    f = text_features(text)
    assert f.has_phone_like or re.search(r"\d{7,}", text) is None
