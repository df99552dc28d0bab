"""Intake: sources, validation, dedupe, late events and PII pseudonymisation at the edge."""
