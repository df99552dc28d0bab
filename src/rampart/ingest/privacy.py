"""Pseudonymise a validated event and derive the non-identifying fields detection needs.

After this step the event holds keyed pseudonyms in place of its PII (``email``, ``phone``,
``name``, address objects, ``ip``, ``new_value``; free ``text`` is stored redacted), and a
:class:`Derived` record carries what detectors need from those values without identifying anyone
(e-mail domain and shape, phone country and prefix, a normalised address key's pseudonym, IP
prefixes, the parsed user agent, text counts). The raw free text is handed on in memory only,
for the content detectors, and never written.

>>> from rampart.contract.events import decode_event
>>> privacy = EventPrivacy.for_demo()
>>> raw = (b'{"event_id":"e1","type":"account.created","ts":"2026-03-01T10:00:00Z",'
...        b'"user_id":"u1","ip":"203.0.113.7","props":{"email":"Ann.Lee1988@gmail.com"}}')
>>> accepted = privacy.protect(decode_event(raw))
>>> accepted.event.props.email.startswith("em_"), accepted.event.ip.startswith("ip_")
(True, True)
>>> derived = accepted.derived
>>> derived.email_domain, derived.email_local_shape, derived.ip_prefix_narrow
('gmail.com', 'a.a9', '203.0.113.0/24')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

import msgspec
from msgspec import UNSET, UnsetType
from msgspec.structs import replace

from rampart.contract.events import (
    CONTRACT_FIELD_NAMES,
    AccountCreated,
    AccountUpdated,
    Address,
    Event,
    MessageSent,
    OrderCreated,
    ReviewPosted,
)
from rampart.detect.content.contact import detect_contact
from rampart.detect.content.phishing import DEFAULT_PROTECTED, detect_phishing
from rampart.ingest import pii
from rampart.ingest.pii import Pseudonymizer

# Keys whose values are PII wherever they appear in a raw (possibly invalid) record.
_PII_KEYS: Final[dict[str, pii.Kind]] = {
    "email": "email",
    "phone": "phone",
    "name": "name",
    "ip": "ip",
    "new_value": "value",
    "text": "text",
    "shipping_address": "address",
    "line1": "address",
    "line2": "address",
    "postcode": "address",
}
# Contract fields that hold no PII pass through a scrubbed raw record as they are.
_SAFE_KEYS: Final = CONTRACT_FIELD_NAMES - _PII_KEYS.keys()
# What kind of value an account.updated ``new_value`` holds, by the field that changed.
_NEW_VALUE_KIND: Final[dict[str, pii.Kind]] = {
    "email": "email",
    "phone": "phone",
    "name": "name",
    "shipping_address": "address",
}


class Derived(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Non-identifying fields derived from an event's PII (absent when the event had none)."""

    email_domain: str | None = None
    email_valid: bool | None = None
    email_free_mail: bool | None = None
    email_disposable: bool | None = None
    email_local_len: int | None = None
    email_local_digits: int | None = None
    email_local_digit_run: int | None = None
    email_local_separators: int | None = None
    email_local_has_plus: bool | None = None
    email_local_shape: str | None = None
    email_alias: str | None = None  # pseudonym of the alias-folded address (dots, +tags)
    phone_valid: bool | None = None
    phone_country: str | None = None
    phone_prefix: str | None = None
    phone_type: str | None = None
    address_key: str | None = None  # pseudonym of the normalised address
    address_country: str | None = None
    address_postcode_prefix: str | None = None
    address_city: str | None = None
    ip_version: int | None = None
    ip_prefix_narrow: str | None = None  # IPv4 /24, IPv6 /64
    ip_prefix_wide: str | None = None  # IPv4 /16, IPv6 /48
    ip_global: bool | None = None
    ua_family: str | None = None
    ua_os: str | None = None
    ua_device: str | None = None
    ua_headless: bool | None = None
    ua_automation: bool | None = None
    ua_crawler: bool | None = None
    text_length: int | None = None
    text_digit_count: int | None = None
    text_has_url: bool | None = None
    text_has_email_like: bool | None = None
    text_has_phone_like: bool | None = None
    text_has_handle: bool | None = None
    text_url_domains: tuple[str, ...] | None = None
    # Content detectors (rampart.detect.content), run on the raw text while it is in memory.
    text_contact: bool | None = None  # off-platform contact, de-obfuscated
    text_phishing: bool | None = None  # a link to a look-alike of the marketplace or a payer


MARKETPLACE_DOMAINS_ENV: Final = "RAMPART_MARKETPLACE_DOMAINS"
# The simulated marketplace ("Pasar") of `rampart simulate` and `make demo`.
DEMO_MARKETPLACE_DOMAINS: Final = ("pasar.sg", "pasar.co.id", "pasar.com.my", "pasar.co.th")


class Accepted(NamedTuple):
    """An event past the edge: pseudonymised, with derived fields, and its raw text in memory."""

    event: Event
    derived: Derived
    text: str | None
    # Fields the contract does not define, PII-scrubbed; filled only when intake keeps them.
    extra: dict[str, Any] | None = None
    # The address as the caller sent it, in memory only: verdicts name an ip as sent, so the
    # marketplace can enforce them, while everything Rampart stores keeps the pseudonym.
    raw_ip: str | None = None


class EventPrivacy:
    """Applies the operator's pseudonymisation to every accepted event."""

    def __init__(
        self, pseudonymizer: Pseudonymizer, *, marketplace_domains: Iterable[str] = ()
    ) -> None:
        self.pseudonymizer = pseudonymizer
        # Phishing look-alikes are judged against the marketplace's own domains and the payers'.
        self.protected_domains = (*marketplace_domains, *DEFAULT_PROTECTED)

    @classmethod
    def for_demo(cls) -> EventPrivacy:
        """The fixed, publicly known demo key: for simulated worlds only."""
        return cls(
            Pseudonymizer.from_config(demo=True, env={}),
            marketplace_domains=DEMO_MARKETPLACE_DOMAINS,
        )

    @classmethod
    def from_config(
        cls,
        *,
        demo: bool = False,
        env: Mapping[str, str] | None = None,
        config_path: Path | None = None,
        phone_region: str | None = None,
    ) -> EventPrivacy:
        """Load the operator's secret (see :func:`rampart.ingest.pii.load_secret`).

        The marketplace's own domains come from ``RAMPART_MARKETPLACE_DOMAINS`` (comma
        separated); the demo adds the simulated marketplace's.
        """
        environ = os.environ if env is None else env
        domains = [d.strip() for d in environ.get(MARKETPLACE_DOMAINS_ENV, "").split(",")]
        if demo:
            domains.extend(DEMO_MARKETPLACE_DOMAINS)
        return cls(
            Pseudonymizer.from_config(
                demo=demo, env=env, config_path=config_path, phone_region=phone_region
            ),
            marketplace_domains=[d for d in domains if d],
        )

    def protect(self, event: Event) -> Accepted:
        """Pseudonymise one validated event and derive its non-identifying fields."""
        derived = Derived()
        changes: dict[str, Any] = {}
        if event.ip is not UNSET:
            self._derive_ip(event.ip, derived)
            changes["ip"] = self.pseudonymizer.token("ip", event.ip)
        device = event.device
        if device is not UNSET and device.user_agent is not UNSET:
            self._derive_user_agent(device.user_agent, derived)
        region = _region(event)
        text: str | None = None
        if isinstance(event, AccountCreated):
            changes["props"] = self._account_created(event, derived, region)
        elif isinstance(event, AccountUpdated):
            changes["props"] = self._account_updated(event, derived, region)
        elif isinstance(event, OrderCreated):
            address = event.props.shipping_address
            if address is not UNSET:
                shipping = self._address(address, derived)
                changes["props"] = replace(event.props, shipping_address=shipping)
        elif isinstance(event, ReviewPosted | MessageSent):
            raw_text = event.props.text
            if isinstance(raw_text, str):
                text = raw_text
                redacted, features = pii.redact_text_with_features(raw_text)
                self._derive_text(features, derived)
                derived.text_contact = bool(detect_contact(raw_text).kinds)
                derived.text_phishing = detect_phishing(
                    raw_text, protected=self.protected_domains
                ).flagged
                changes["props"] = replace(event.props, text=redacted)
        protected = replace(event, **changes) if changes else event
        raw_ip = event.ip if event.ip is not UNSET else None
        return Accepted(protected, derived, text, raw_ip=raw_ip)

    def scrub_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        """Unknown fields with PII keys pseudonymised and every string redacted."""
        scrubbed: dict[str, Any] = self._scrub(extra, None)
        return scrubbed

    def scrub_raw(self, raw: bytes) -> str:
        """A raw record with its PII pseudonymised, for the rejects file.

        Known PII keys become pseudonyms wherever they sit; every other string is redacted, so
        PII in an unknown field or in a line that is not JSON at all is not written either.
        """
        try:
            document = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return pii.redact_text(raw.decode("utf-8", "replace"))
        return msgspec.json.encode(self._scrub(document, None)).decode()

    # --- per-type pseudonymisation -----------------------------------------------------------

    def _account_created(self, event: AccountCreated, derived: Derived, region: str | None) -> Any:
        props = event.props
        token = self.pseudonymizer.token
        self._derive_email(props.email, derived)
        changes: dict[str, Any] = {"email": token("email", props.email)}
        if props.phone is not UNSET:
            self._derive_phone(props.phone, region, derived)
            changes["phone"] = token("phone", props.phone)
        if props.name is not UNSET:
            changes["name"] = token("name", props.name)
        return replace(props, **changes)

    def _account_updated(self, event: AccountUpdated, derived: Derived, region: str | None) -> Any:
        props = event.props
        value = props.new_value
        if value is UNSET:
            return props
        if isinstance(value, dict):
            self._derive_address(value, derived)
            return replace(props, new_value=self._address_token(value))
        kind = _NEW_VALUE_KIND.get(props.field, "value")
        if kind == "email":
            self._derive_email(value, derived)
        elif kind == "phone":
            self._derive_phone(value, region, derived)
        elif kind == "address":
            self._derive_address(value, derived)
            return replace(props, new_value=self._address_token(value))
        return replace(props, new_value=self.pseudonymizer.token(kind, value))

    def _address(self, address: Address, derived: Derived) -> Address:
        fields = msgspec.structs.asdict(address)
        mapping = {k: v for k, v in fields.items() if v is not UNSET}
        self._derive_address(mapping, derived)
        name = address.name
        return Address(
            name=self.pseudonymizer.token("name", name) if isinstance(name, str) else UNSET,
            line1=self._address_token(mapping),
            country=address.country,
        )

    def _address_token(self, address: Mapping[str, object] | str) -> str:
        token = pii.address_token(self.pseudonymizer, address)
        return token if token is not None else self.pseudonymizer.token("address", "")

    # --- derived fields ------------------------------------------------------------------------

    def _derive_email(self, email: str, derived: Derived) -> None:
        features = pii.email_features(email)
        derived.email_valid = features.valid
        derived.email_domain = features.domain
        derived.email_free_mail = features.free_mail
        derived.email_disposable = features.disposable
        derived.email_local_len = features.local_len
        derived.email_local_digits = features.local_digits
        derived.email_local_digit_run = features.local_digit_run
        derived.email_local_separators = features.local_separators
        derived.email_local_has_plus = features.local_has_plus
        derived.email_local_shape = features.local_shape
        derived.email_alias = pii.email_alias_token(self.pseudonymizer, email)

    def _derive_phone(self, phone: str, region: str | None, derived: Derived) -> None:
        features = pii.phone_features(phone, region or self.pseudonymizer.phone_region)
        derived.phone_valid = features.valid
        derived.phone_country = features.country
        derived.phone_prefix = features.prefix
        derived.phone_type = features.number_type

    def _derive_address(self, address: Mapping[str, object] | str, derived: Derived) -> None:
        features = pii.address_features(self.pseudonymizer, address)
        derived.address_key = features.key_token
        derived.address_country = features.country
        derived.address_postcode_prefix = features.postcode_prefix
        derived.address_city = features.city

    @staticmethod
    def _derive_ip(ip: str, derived: Derived) -> None:
        features = pii.ip_features(ip)
        derived.ip_version = features.version
        derived.ip_prefix_narrow = features.prefix_narrow
        derived.ip_prefix_wide = features.prefix_wide
        derived.ip_global = features.is_global

    @staticmethod
    def _derive_user_agent(user_agent: str, derived: Derived) -> None:
        features = pii.user_agent_features(user_agent)
        derived.ua_family = features.family
        derived.ua_os = features.os_family
        derived.ua_device = features.device_family
        derived.ua_headless = features.headless
        derived.ua_automation = features.automation
        derived.ua_crawler = features.crawler

    @staticmethod
    def _derive_text(features: pii.TextFeatures, derived: Derived) -> None:
        derived.text_length = features.length
        derived.text_digit_count = features.digit_count
        derived.text_has_url = features.has_url
        derived.text_has_email_like = features.has_email_like
        derived.text_has_phone_like = features.has_phone_like
        derived.text_has_handle = features.has_handle
        derived.text_url_domains = features.url_domains

    # --- raw records -----------------------------------------------------------------------------

    def _scrub(self, value: Any, kind: pii.Kind | None, safe: bool = False) -> Any:
        if isinstance(value, dict):
            return {
                k: self._scrub(v, _PII_KEYS.get(k, kind), k in _SAFE_KEYS and kind is None)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._scrub(v, kind, safe) for v in value]
        if isinstance(value, str) and not safe:
            return self.pseudonymizer.token(kind, value) if kind else pii.redact_text(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and not safe:
            # PII sent as a number (a phone as an integer: the very record that is rejected)
            # and long numbers under unknown keys (a card number) are not written either.
            if kind:
                return self.pseudonymizer.token(kind, repr(value))
            if abs(value) >= 1_000_000:
                return "<number>"
        return value


def _region(event: Event) -> str | None:
    """The event's country, the best guess for a phone number written without one."""
    geo = event.geo
    if geo is UNSET or isinstance(geo.country, UnsetType):
        return None
    return geo.country
