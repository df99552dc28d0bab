"""Which ids are PII-like, and that they get exactly the ingest path's pseudonyms."""

from __future__ import annotations

import pytest
from tests.records.conftest import SECRET

from rampart.ingest.pii import Pseudonymizer
from rampart.ingest.privacy import EventPrivacy
from rampart.records.entities import EntityKeeper, NeedsSecretError, pii_kind


@pytest.mark.parametrize(
    ("entity_type", "value", "kind"),
    [
        ("ip", "203.0.113.7", "ip"),
        ("ip", "2001:db8::1", "ip"),
        ("ip", "not-an-address", "ip"),  # an ip entity is an address whatever it looks like
        ("device", "198.51.100.2", "ip"),
        ("user", "ann.lee@example.com", "email"),
        ("seller", "+65 9123 4567", "phone"),
        ("user", "+62-812-3456-7890", "phone"),
        ("user", "u123", None),
        ("user", "4711", None),  # numeric account ids are ids, not phones
        ("user", "+12", None),
        ("event", "e-2026-03-01-0001", None),
        ("instrument", "tok_4f9a", None),
        ("ip", "ip_q1wg4YkhJ2idcoUQg-LC", None),  # already a pseudonym
        ("user", "em_q1wg4YkhJ2idcoUQg-LC", None),
    ],
)
def test_pii_kind(entity_type: str, value: str, kind: str | None) -> None:
    assert pii_kind(entity_type, value) == kind


def test_tokens_are_the_ingest_paths_tokens() -> None:
    keeper = EntityKeeper(Pseudonymizer(SECRET))
    ingest = EventPrivacy.from_config(env={"RAMPART_PSEUDONYM_SECRET": SECRET.decode()})
    token = ingest.pseudonymizer.token
    assert keeper.keep("ip", " 203.0.113.7") == token("ip", "203.0.113.7")
    assert keeper.keep("ip", "::ffff:203.0.113.7") == token("ip", "203.0.113.7")
    assert keeper.keep("user", "Ann.Lee@Example.com") == token("email", "ann.lee@example.com")
    assert keeper.keep("user", "+65 9123-4567") == token("phone", "+6591234567")


def test_ordinary_ids_pass_even_without_a_secret() -> None:
    assert EntityKeeper(None).keep("user", "u1") == "u1"
    with pytest.raises(NeedsSecretError, match="RAMPART_PSEUDONYM_SECRET"):
        EntityKeeper(None).keep("user", "ann@example.com")
