"""FILE: preallocated files, so a volume's space is reserved when it is made; copies are full."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from linstor_core.controller.providers.modes import create_file


class FileProvider:
    """Fully allocated backing files: writes never fail for lack of space; snapshots copy all."""

    kind = "FILE"

    def allocate(self, image: Path, size_bytes: int) -> None:
        """Create ``image`` and reserve all of its blocks (ENOSPC now rather than at write time)."""
        with create_file(image) as handle:
            os.posix_fallocate(handle.fileno(), 0, size_bytes)

    def grow(self, image: Path, size_bytes: int) -> None:
        """Reserve blocks up to the new size."""
        with open(image, "r+b") as handle:
            os.posix_fallocate(handle.fileno(), 0, size_bytes)

    def copy_data(self, source: Path, target: Path) -> None:
        """Copy every byte (a FILE snapshot must not share blocks it promised to reserve)."""
        with open(source, "rb") as src, create_file(target) as dst:
            shutil.copyfileobj(src, dst, 4 * 1024 * 1024)
