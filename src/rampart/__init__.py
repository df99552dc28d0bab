"""Rampart: real-time risk control for e-commerce marketplaces."""
