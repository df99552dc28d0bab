"""Decide: detector signals to per-area scores, an action, reasons and shadow results."""
