"""Content detectors: off-platform contact details in free text (messages, reviews)."""

from rampart.detect.content.contact import ContactFinding, detect_contact

__all__ = ["ContactFinding", "detect_contact"]
