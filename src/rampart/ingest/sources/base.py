"""What every source yields: contract-shaped JSON, one record at a time, with its position.

A source never validates events (``rampart.contract`` does, once, for all sources) and never
stops on a bad record: it yields a :class:`~rampart.contract.validate.ContractError` for a record
it cannot even turn into JSON, and carries on with the next one.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol, cast

from rampart.contract.validate import ContractError


class SourceRecord(NamedTuple):
    """One record of a source: its 1-based line (or row) number and the event as JSON bytes."""

    line: int
    raw: bytes


SourceItem = SourceRecord | ContractError


class Source(Protocol):
    """A stream of records read with bounded memory."""

    def __iter__(self) -> Iterator[SourceItem]: ...


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, transparently un-gzipping ``.gz`` files."""
    if path.suffix == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def bounded_lines(handle: BinaryIO, limit: int) -> Iterator[tuple[bytes, bool]]:
    r"""Physical lines of a binary file, each with whether it was longer than ``limit`` bytes
    (then only its first ``limit`` bytes come back and the rest is skipped unread into memory).

    >>> import io
    >>> list(bounded_lines(io.BytesIO(b"ab\nabcdef\ncd"), 4))
    [(b'ab\n', False), (b'abcd', True), (b'cd', False)]
    """
    while line := handle.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line, False
            continue
        while (rest := handle.readline(limit)) and not rest.endswith(b"\n"):
            pass
        yield line[:limit], True
