"""Pseudonymisation at the edge: no raw e-mail, phone or address reaches anything Rampart writes."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from rampart.cli import app
from rampart.contract.events import decode_event
from rampart.ingest.privacy import EventPrivacy
from rampart.simulate import world_config, write_world


def _pii_values(document: dict[str, Any]) -> Iterator[str]:
    """The raw PII strings of one contract event (what must never be written)."""
    props = document.get("props", {})
    for key in ("email", "phone", "name"):
        if isinstance(props.get(key), str):
            yield props[key]
    new_value = props.get("new_value")
    if isinstance(new_value, str):
        yield new_value
    addresses = [props.get("shipping_address"), new_value]
    for address in addresses:
        if isinstance(address, dict):
            yield from (address[k] for k in ("line1", "line2", "name") if address.get(k))
    if isinstance(document.get("ip"), str):
        yield document["ip"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pii-world")
    write_world(world_config(preset="tiny", difficulty="hard", seed=11), out)
    return out


def test_no_raw_pii_in_anything_ingest_writes(world: Path, tmp_path: Path) -> None:
    events = (world / "events.jsonl").read_bytes().splitlines()
    # A few broken lines full of PII too: the rejects file must not leak them either.
    broken = [
        b'{"event_id":"bad1","type":"account.created","ts":"soon","user_id":"u",'
        b'"props":{"email":"leaky.person@example.org","phone":"+6591112222"}}',
        b'{"event_id":"bad2","type":"order.created","ts":"2026-03-01T10:00:00Z","user_id":"u",'
        b'"props":{"shipping_address":{"line1":"99 Secret Lane #12-34"}}}',
    ]
    source = tmp_path / "in.jsonl.gz"
    source.write_bytes(gzip.compress(b"\n".join(events[:2000] + broken + events[2000:]) + b"\n"))

    raw_values = {"leaky.person@example.org", "+6591112222", "99 Secret Lane #12-34"}
    for line in events:
        raw_values.update(v for v in _pii_values(orjson.loads(line)) if len(v) >= 6)
    assert len(raw_values) > 500

    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        app,
        ["ingest", "--demo", "--events", str(source), "--out", str(out), "--rejects", str(rejects)],
    )
    assert result.exit_code == 0, result.output
    written = out.read_text() + rejects.read_text() + result.output
    assert out.stat().st_size > 100_000
    assert rejects.read_text().count("\n") == 2
    leaked = sorted(v for v in raw_values if v in written)
    assert not leaked, leaked[:10]


def test_derived_fields_link_what_pseudonyms_hide() -> None:
    privacy = EventPrivacy.for_demo()

    def order(line1: str, postcode: str) -> bytes:
        return orjson.dumps(
            {
                "event_id": line1,
                "type": "order.created",
                "ts": "2026-03-01T10:00:00Z",
                "user_id": "u1",
                "ip": "2001:db8:1:2::7",
                "props": {
                    "order_id": "o",
                    "seller_id": "s",
                    "total": 1,
                    "currency": "SGD",
                    "items": [{"item_id": "i", "quantity": 1, "unit_price": 1}],
                    "shipping_address": {"line1": line1, "postcode": postcode, "country": "SG"},
                },
            }
        )

    first = privacy.protect(decode_event(order("Blk 12 #03-45", "310012")))
    second = privacy.protect(decode_event(order("Block 12, Unit 3-45", "310 012")))
    other = privacy.protect(decode_event(order("Blk 12 #04-45", "310012")))
    assert first.derived.address_key == second.derived.address_key != other.derived.address_key
    assert first.derived.ip_prefix_narrow == "2001:db8:1:2::/64"
    assert first.derived.ip_prefix_wide == "2001:db8:1::/48"


def test_secret_is_required_outside_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAMPART_PSEUDONYM_SECRET", raising=False)
    monkeypatch.delenv("RAMPART_PSEUDONYM_SECRET_FILE", raising=False)
    source = tmp_path / "in.jsonl"
    source.write_text("")
    result = CliRunner().invoke(
        app, ["ingest", "--events", str(source), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "RAMPART_PSEUDONYM_SECRET" in result.output


def test_rejects_never_write_pii_sent_as_numbers() -> None:
    privacy = EventPrivacy.for_demo()
    scrubbed = privacy.scrub_raw(
        b'{"event_id":"x","type":"account.created","ts":"2026-03-01T10:00:00Z",'
        b'"props":{"email":"a@b.co","phone":6591234567},"card":4111111111111111,"total":12}'
    )
    assert "6591234567" not in scrubbed
    assert "4111111111111111" not in scrubbed
    assert '"total":12' in scrubbed  # small numbers under unknown keys are no identifier


def _message(text: str) -> bytes:
    return orjson.dumps({
        "event_id": "m1", "type": "message.sent", "ts": "2026-03-01T10:00:00Z", "user_id": "u1",
        "props": {"conversation_id": "c1", "recipient_id": "s1", "text": text},
    })  # fmt: skip


@pytest.mark.parametrize(
    ("text", "contact", "phishing"),
    [
        ("Hi dear, pls whatsapp me 8.2.1.6.8.0.9.6.7.1", True, False),
        ("Your refund is ready, login here: pasar-helpdesk[.]site/verify", False, True),
        ("Track it on https://www.pasar.sg/orders/123, thanks!", True, False),
        ("Is the blue one in stock? Order 2603038UGOCQO7", False, False),
    ],
)
def test_content_detectors_read_the_raw_text_and_keep_only_flags(
    text: str, contact: bool, phishing: bool
) -> None:
    accepted = EventPrivacy.for_demo().protect(decode_event(_message(text)))
    assert (accepted.derived.text_contact, accepted.derived.text_phishing) == (contact, phishing)


def test_the_marketplace_domains_come_from_the_environment() -> None:
    env = {"RAMPART_PSEUDONYM_SECRET": "x" * 32, "RAMPART_MARKETPLACE_DOMAINS": "tokoku.id"}
    privacy = EventPrivacy.from_config(env=env)
    lookalike = privacy.protect(decode_event(_message("claim: https://tokoku-refund.com/login")))
    assert lookalike.derived.text_phishing is True
