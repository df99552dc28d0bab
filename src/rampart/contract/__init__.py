"""The data contract v1: typed events in, decisions and verdicts out, labels back."""
