"""Content detectors: text signals in messages, reviews and item descriptions.

Off-platform contact details (:mod:`.contact`), phishing links to look-alike domains
(:mod:`.phishing`), templated / near-duplicate reviews across accounts (:mod:`.templated`).
"""

from rampart.detect.content.contact import ContactFinding, detect_contact
from rampart.detect.content.phishing import (
    DEFAULT_PROTECTED,
    MARKETPLACE_DOMAINS,
    PAYMENT_DOMAINS,
    PhishingFinding,
    detect_phishing,
)
from rampart.detect.content.templated import (
    TemplateConfig,
    TemplatedTextIndex,
    TemplateMatch,
    TemplateState,
    minhash,
    normalise,
    shingles,
)

__all__ = [
    "DEFAULT_PROTECTED",
    "MARKETPLACE_DOMAINS",
    "PAYMENT_DOMAINS",
    "ContactFinding",
    "PhishingFinding",
    "TemplateConfig",
    "TemplateMatch",
    "TemplateState",
    "TemplatedTextIndex",
    "detect_contact",
    "detect_phishing",
    "minhash",
    "normalise",
    "shingles",
]
