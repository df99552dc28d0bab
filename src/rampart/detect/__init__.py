"""Detectors: per-event and group-level signals that feed the policy.

Families live in sub-packages: :mod:`rampart.detect.rules` (the rule language), and later models,
graph and content detectors.
"""
