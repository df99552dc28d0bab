"""Pick the reader for a file: by an explicit format name, or by the file's name.

>>> [guess_format(Path(name)) for name in ("events.jsonl.gz", "access.log", "x.parquet")]
['jsonl', 'access-log', 'parquet']
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal, get_args

from rampart.ingest.sources.accesslog import AccessLogSource
from rampart.ingest.sources.base import Source
from rampart.ingest.sources.jsonl import JsonLinesSource
from rampart.ingest.sources.mapping import load_mapping
from rampart.ingest.sources.tabular import CsvSource, ParquetSource

SourceFormat = Literal["jsonl", "csv", "parquet", "access-log"]
SOURCE_FORMATS: Final[tuple[str, ...]] = get_args(SourceFormat)

_SUFFIXES: Final[dict[str, SourceFormat]] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".log": "access-log",
}


class SourceFormatError(ValueError):
    """The format of a source could not be told, or it needs a mapping that was not given."""


def guess_format(path: Path) -> SourceFormat:
    """The format a file's name suggests (``.gz`` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    if "access" in path.name.lower():
        return "access-log"
    known = ", ".join(SOURCE_FORMATS)
    raise SourceFormatError(f"cannot tell the format of {path.name}: use --format ({known})")


def open_source(
    path: Path, source_format: str | None = None, mapping_path: Path | None = None
) -> Source:
    """A streaming reader for ``path`` in the given (or guessed) format."""
    chosen = source_format or guess_format(path)
    if chosen == "jsonl":
        return JsonLinesSource(path)
    if chosen == "access-log":
        return AccessLogSource(path)
    if chosen in ("csv", "parquet"):
        if mapping_path is None:
            raise SourceFormatError(f"{chosen} input needs a field mapping: pass --mapping FILE")
        mapping = load_mapping(mapping_path)
        return CsvSource(path, mapping) if chosen == "csv" else ParquetSource(path, mapping)
    raise SourceFormatError(f"unknown format {chosen!r}: use one of {', '.join(SOURCE_FORMATS)}")
