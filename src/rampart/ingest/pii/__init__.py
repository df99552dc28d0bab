"""PII at the edge: keyed pseudonyms plus the non-identifying features detection needs.

Every PII field of an event (``email``, ``phone``, ``name``, address objects, ``ip``,
``new_value``, ``text``) is replaced at ingest by a keyed pseudonym (:class:`Pseudonymizer`)
and, where useful, by derived features that identify nobody: an e-mail's domain and shape, a
phone's country and range, an address's country and postcode area, an IP's /24 and /16, a
User-Agent's browser family, a text's redacted form and counts. Raw values stay in memory only.
Everything here is pure and cached per distinct value; nothing raises on bad input.

>>> from rampart.ingest import pii
>>> p = pii.Pseudonymizer.from_config(demo=True, env={}, phone_region="SG")
>>> p.token("email", "Jane.Doe@Gmail.com")[:3], pii.email_features("Jane.Doe@Gmail.com").domain
('em_', 'gmail.com')
>>> alias = pii.email_alias_token(p, "janedoe+promo@gmail.com")
>>> alias == pii.email_alias_token(p, "jane.doe@gmail.com") == p.token("email", "janedoe@gmail.com")
True
>>> p.token("phone", "9123 4567") == p.token("phone", "+65 9123 4567")
True
>>> pii.phone_features("+65 9123 4567").prefix, pii.ip_features("203.0.113.9").prefix_narrow
('+65 91', '203.0.113.0/24')
>>> a = {"name": "Jane", "line1": "Blk 12 #03-45", "postcode": "310012", "country": "SG"}
>>> pii.address_features(p, a).key_token == pii.address_token(p, {"line1": "Block 12 Unit 3-45",
...     "postcode": "310 012", "country": "sg"})
True
>>> pii.redact_text("pm me on whatsapp +65 9123 4567 or jane(at)gmail(dot)com")
'pm me on whatsapp <phone> or <email>'
"""

from rampart.ingest.pii.address import (
    AddressFeatures,
    address_features,
    address_key,
    address_token,
)
from rampart.ingest.pii.email import (
    EmailFeatures,
    email_alias_key,
    email_alias_token,
    email_features,
    is_disposable,
    is_free_mail,
    local_shape,
)
from rampart.ingest.pii.network import IpFeatures, ip_features
from rampart.ingest.pii.phone import PhoneFeatures, phone_e164, phone_features
from rampart.ingest.pii.pseudonym import KINDS, PREFIXES, Kind, Pseudonymizer, normalise
from rampart.ingest.pii.secret import (
    DEMO_SECRET,
    ENV_SECRET,
    ENV_SECRET_FILE,
    MIN_SECRET_BYTES,
    MissingSecretError,
    SecretError,
    WeakSecretError,
    load_secret,
)
from rampart.ingest.pii.text import (
    TextFeatures,
    redact_text,
    redact_text_with_features,
    text_features,
)
from rampart.ingest.pii.useragent import UserAgentFeatures, user_agent_features

__all__ = [
    "DEMO_SECRET",
    "ENV_SECRET",
    "ENV_SECRET_FILE",
    "KINDS",
    "MIN_SECRET_BYTES",
    "PREFIXES",
    "AddressFeatures",
    "EmailFeatures",
    "IpFeatures",
    "Kind",
    "MissingSecretError",
    "PhoneFeatures",
    "Pseudonymizer",
    "SecretError",
    "TextFeatures",
    "UserAgentFeatures",
    "WeakSecretError",
    "address_features",
    "address_key",
    "address_token",
    "email_alias_key",
    "email_alias_token",
    "email_features",
    "ip_features",
    "is_disposable",
    "is_free_mail",
    "load_secret",
    "local_shape",
    "normalise",
    "phone_e164",
    "phone_features",
    "redact_text",
    "redact_text_with_features",
    "text_features",
    "user_agent_features",
]
