"""Writing to a disk's device or backing file as a guest would: in place, flushed to storage."""

from __future__ import annotations

import os
from pathlib import Path


def write_synced(path: str | Path, data: bytes, offset: int = 0) -> None:
    """Write ``data`` at ``offset`` of ``path`` (no truncation) and fsync it, so a snapshot,
    clone or kill that follows sees it."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
