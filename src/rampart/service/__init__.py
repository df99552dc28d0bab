"""Serving Rampart: scoring runs over files (with checkpoints), later HTTP and streams."""
