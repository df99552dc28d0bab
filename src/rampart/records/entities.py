"""Entity ids and list values as records keep them: PII-like ones as keyed pseudonyms.

Records never hold raw PII. An ``ip`` entity is always kept as its pseudonym, the one the ingest
path gives the same address (:class:`rampart.ingest.pii.Pseudonymizer`, kind ``ip``), so a
stored label names the same entity the engine and the logs know. Any other id that is itself an
IP address, an e-mail address or an international phone number (``+`` and digits) is kept as
the pseudonym of that kind. Ordinary ids (``u123``, ``4711``, a device id) are kept as sent, and
so is a value that already is a pseudonym (``ip_`` and 20 characters): sending back an id read
from Rampart's own stores must not pseudonymise it twice.

>>> from rampart.ingest.pii import Pseudonymizer
>>> keeper = EntityKeeper(Pseudonymizer(b"0123456789abcdef-doctest-only"))
>>> keeper.keep("user", "u123"), keeper.keep("ip", "203.0.113.7")[:3]
('u123', 'ip_')
>>> keeper.keep("user", "Ann.Lee@Example.com")[:3], keeper.keep("seller", "+65 9123 4567")[:3]
('em_', 'ph_')
>>> token = keeper.keep("ip", "203.0.113.7"); keeper.keep("ip", token) == token
True
>>> try:
...     EntityKeeper(None).keep("ip", "203.0.113.7")
... except NeedsSecretError as refused:
...     print(refused)
ip id is PII (ip): keeping it needs the pseudonymisation secret (RAMPART_PSEUDONYM_SECRET)
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from rampart.ingest.pii import ENV_SECRET, PREFIXES, Kind, Pseudonymizer
from rampart.records.base import RecordsError

_TOKEN: Final = re.compile(
    "(?:" + "|".join(sorted(PREFIXES.values())) + r")_[A-Za-z0-9_-]{20}", re.ASCII
)
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE: Final = re.compile(r"\+[\d\s().\-]{6,}")
_PHONE_MIN_DIGITS: Final = 7


class NeedsSecretError(RecordsError):
    """A PII-like value arrived and no pseudonymisation secret is configured."""


def pii_kind(entity_type: str, value: str) -> Kind | None:
    """The PII kind ``value`` would be pseudonymised as (None: not PII-like, kept as sent).

    >>> pii_kind("ip", "2001:db8::1"), pii_kind("device", "10.0.0.1"), pii_kind("user", "4711")
    ('ip', 'ip', None)
    """
    if _TOKEN.fullmatch(value):
        return None
    if entity_type == "ip" or _is_ip(value):
        return "ip"
    if _EMAIL.fullmatch(value.strip()):
        return "email"
    phone = value.strip()
    if _PHONE.fullmatch(phone) and sum(c.isdigit() for c in phone) >= _PHONE_MIN_DIGITS:
        return "phone"
    return None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


class EntityKeeper:
    """Turns ids and list values into the form records keep (see the module docstring)."""

    __slots__ = ("_pseudonymizer",)

    def __init__(self, pseudonymizer: Pseudonymizer | None) -> None:
        # None: no secret configured; ordinary ids are still kept, PII-like ones refused.
        self._pseudonymizer = pseudonymizer

    def keep(self, entity_type: str, value: str) -> str:
        kind = pii_kind(entity_type, value)
        if kind is None:
            return value
        if self._pseudonymizer is None:
            raise NeedsSecretError(
                f"{entity_type} id is PII ({kind}): keeping it needs the pseudonymisation "
                f"secret ({ENV_SECRET})"
            )
        return self._pseudonymizer.token(kind, value)
