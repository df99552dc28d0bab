"""One module per schema revision, in order (``down_revision`` chains them)."""
