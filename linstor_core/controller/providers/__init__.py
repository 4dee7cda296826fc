"""Storage providers: how one pool kind stores a volume's data, as small capability Protocols.

Every provider names its LINSTOR ``kind``. What it can do beyond that is a separate Protocol the
satellite checks with ``isinstance``, so a kind that cannot do something (DISKLESS stores nothing)
simply does not implement it, instead of carrying methods that refuse::

    StorageProvider          kind                           FILE_THIN  FILE  DISKLESS
    SupportsBackingFile      allocate, grow                     x        x
    SupportsSnapshots        copy_data                          x        x
    SupportsReflinkClone     can_reflink                        x

Providers work on paths the satellite chooses; naming, temp files, loop devices and cleanup
are the satellite's job, so each provider stays a few lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from linstor_core.controller.providers.diskless import DisklessProvider
from linstor_core.controller.providers.file import FileProvider
from linstor_core.controller.providers.file_thin import FileThinProvider
from linstor_core.errors import InvalidInput


@runtime_checkable
class StorageProvider(Protocol):
    """A pool kind (``FILE_THIN``, ``FILE``, ``DISKLESS``), as LINSTOR spells it."""

    kind: str


@runtime_checkable
class SupportsBackingFile(Protocol):
    """Keeps each volume in one file whose size is the volume's size."""

    def allocate(self, image: Path, size_bytes: int) -> None:
        """Make the new file ``image`` hold ``size_bytes`` (sparse or reserved, per kind)."""

    def grow(self, image: Path, size_bytes: int) -> None:
        """Grow ``image`` to ``size_bytes``; the caller has refused shrinking already."""


@runtime_checkable
class SupportsSnapshots(Protocol):
    """Can freeze a volume's data into another file (snapshots, restores, clones)."""

    def copy_data(self, source: Path, target: Path) -> None:
        """Create the new file ``target`` with ``source``'s data, independent of it afterwards."""


@runtime_checkable
class SupportsReflinkClone(Protocol):
    """Copies by sharing extents, which only some filesystems allow."""

    def can_reflink(self, directory: Path) -> bool:
        """True if files in ``directory`` can be reflinked right now."""


PROVIDERS: dict[str, StorageProvider] = {
    "FILE_THIN": FileThinProvider(),
    "FILE": FileProvider(),
    "DISKLESS": DisklessProvider(),
}


def provider_for(kind: str) -> StorageProvider:
    """The provider for ``kind``; ``InvalidInput`` naming the known kinds otherwise."""
    try:
        return PROVIDERS[kind]
    except KeyError:
        raise InvalidInput(
            "provider kind", kind, f"supported kinds are {', '.join(PROVIDERS)}"
        ) from None


__all__ = [
    "StorageProvider",
    "SupportsBackingFile",
    "SupportsSnapshots",
    "SupportsReflinkClone",
    "PROVIDERS",
    "provider_for",
]
