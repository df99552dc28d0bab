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
