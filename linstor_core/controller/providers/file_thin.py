"""FILE_THIN: sparse files, so a volume takes space only where it was written; copies by reflink."""

from __future__ import annotations

import os
from pathlib import Path

from linstor_core.controller.providers.modes import create_file
from linstor_core.controller.providers.reflink import can_reflink, reflink


class FileThinProvider:
    """Sparse backing files; snapshots and clones share extents (xfs reflink=1, btrfs only)."""

    kind = "FILE_THIN"

    def allocate(self, image: Path, size_bytes: int) -> None:
        """Create ``image`` as a sparse file: no block is reserved, so creation is instant."""
        with create_file(image) as handle:
            os.ftruncate(handle.fileno(), size_bytes)

    def grow(self, image: Path, size_bytes: int) -> None:
        """Extend the sparse file; the new range reads as zeros and takes no space."""
        os.truncate(image, size_bytes)

    def copy_data(self, source: Path, target: Path) -> None:
        """Reflink ``source`` to ``target``; ``StorageError`` naming the filesystem if it cannot."""
        reflink(source, target)

    def can_reflink(self, directory: Path) -> bool:
        """True if ``directory`` is on a filesystem that shares extents."""
        return can_reflink(directory)
