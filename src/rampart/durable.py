"""Writes that survive a crash: a file's bytes fsynced, a folder's renames fsynced."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO


def sync_file(handle: BinaryIO) -> int:
    """Flush ``handle`` and fsync it; its position, the length now on disk when appending."""
    handle.flush()
    os.fsync(handle.fileno())
    return handle.tell()


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_file(path: Path, data: bytes, *, private: bool = False) -> None:
    """Make ``path`` hold ``data``, whole or not at all after a crash (``private``: mode 0600).

    Written to a temporary file beside it, fsynced, renamed over it, and the rename fsynced.
    """
    temporary = path.with_suffix(path.suffix + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o666)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        sync_file(handle)
    os.replace(temporary, path)
    fsync_folder(path.parent)
