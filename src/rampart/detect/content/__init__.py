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

__all__ = [
    "DEFAULT_PROTECTED",
    "MARKETPLACE_DOMAINS",
    "PAYMENT_DOMAINS",
    "ContactFinding",
    "PhishingFinding",
    "detect_contact",
    "detect_phishing",
]
