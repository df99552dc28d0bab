"""JSON Lines (plain or gzip): each line is already one contract event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from rampart.contract.validate import ContractError
from rampart.ingest.sources.base import SourceItem, SourceRecord, bounded_lines, open_binary

# An event is small; a line this long is a broken producer, not an event worth holding in memory.
MAX_LINE_BYTES: Final = 1 << 20


class JsonLinesSource:
    """Read JSON Lines, streaming, one line at a time; blank lines are skipped.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.jsonl"
    >>> _ = p.write_bytes(b'{"a":1}\\n\\n{"b":2}\\n')
    >>> [r.line for r in JsonLinesSource(p)]
    [1, 3]
    >>> list(JsonLinesSource(p, max_line_bytes=4))[0].reason
    'the line is longer than 4 bytes'
    """

    def __init__(self, path: Path, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.path = path
        self.max_line_bytes = max_line_bytes

    def __iter__(self) -> Iterator[SourceItem]:
        with open_binary(self.path) as handle:
            lines = bounded_lines(handle, self.max_line_bytes)
            for line_no, (line, too_long) in enumerate(lines, start=1):
                if too_long:
                    reason = f"the line is longer than {self.max_line_bytes} bytes"
                    yield ContractError(line=line_no, event_id=None, path=None, reason=reason)
                    continue
                stripped = line.strip()
                if stripped:
                    yield SourceRecord(line_no, stripped)
