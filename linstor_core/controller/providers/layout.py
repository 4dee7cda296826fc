"""Where a file-backed pool keeps its files, and how a file is put in place only when whole.

Inside a pool directory::

    <rsc>_<vlmnr:05d>.img                    a volume, e.g. LocalData_00000.img
    <rsc>_<vlmnr:05d>.snap.<snapshot>.img    a snapshot of that volume
    <one of the above>.tmp                   being made; renamed into place when whole

Names are checked before they become paths (LINSTOR's identifier rules, so no ``/`` or ``..``
ever reaches the filesystem), and anything else in the directory is not ours and left alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from linstor_core.errors import InvalidInput
from linstor_core.naming import validate_resource_name, validate_snapshot_name

IMAGE_SUFFIX = ".img"
TEMP_SUFFIX = ".tmp"
VOLUME_NUMBER_MAX = 99999
_VOLUME = r"(?P<resource>[A-Za-z_][A-Za-z0-9_-]*)_(?P<number>[0-9]{5})"
_VOLUME_NAME = re.compile(_VOLUME)
_VOLUME_FILE = re.compile(_VOLUME + re.escape(IMAGE_SUFFIX))
_SNAPSHOT_FILE = re.compile(_VOLUME + r"\.snap\.(?P<snapshot>[A-Za-z0-9_-]+)" + re.escape(IMAGE_SUFFIX))


def volume_name(resource: str, volume_number: int) -> str:
    """``<resource>_<volume_number:05d>`` after checking both parts."""
    validate_resource_name(resource)
    if isinstance(volume_number, bool) or not 0 <= volume_number <= VOLUME_NUMBER_MAX:
        raise InvalidInput("volume number", volume_number, f"must be 0..{VOLUME_NUMBER_MAX}")
    return f"{resource}_{volume_number:05d}"


def check_volume_name(name: str) -> str:
    """Return ``name`` if it is ``<valid resource name>_<5 digits>``, else ``InvalidInput``."""
    match = _VOLUME_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise InvalidInput("volume name", name, "must be <resource>_<5-digit volume number>")
    validate_resource_name(match["resource"])
    return name


@dataclass(frozen=True)
class PoolLayout:
    """The files of one pool directory (an absolute, resolved path)."""

    directory: Path

    def volume(self, name: str) -> Path:
        """The file of volume ``name`` (``InvalidInput`` for a name that is not a volume's)."""
        return self.directory / f"{check_volume_name(name)}{IMAGE_SUFFIX}"

    def snapshot(self, volume: str, snapshot: str) -> Path:
        """The file of ``snapshot`` of volume ``volume`` (both names checked)."""
        name = f"{check_volume_name(volume)}.snap.{validate_snapshot_name(snapshot)}{IMAGE_SUFFIX}"
        return self.directory / name

    def strays(self, volumes: set[str], snapshots: set[tuple[str, str]]) -> list[tuple[str, Path]]:
        """Our files that the given sets do not know, each with what it is: temp files, then
        volume and snapshot files (``(volume name, snapshot name)`` pairs)."""
        found = []
        for path in sorted(self.directory.iterdir()):
            if path.name.endswith(TEMP_SUFFIX):
                found.append(("temp file", path))
            elif (match := _VOLUME_FILE.fullmatch(path.name)) is not None:
                if f"{match['resource']}_{match['number']}" not in volumes:
                    found.append(("orphan volume file", path))
            elif (match := _SNAPSHOT_FILE.fullmatch(path.name)) is not None:
                if (f"{match['resource']}_{match['number']}", match["snapshot"]) not in snapshots:
                    found.append(("orphan snapshot file", path))
        return found


def temp_of(final: Path) -> Path:
    """The temp file that becomes ``final``."""
    return final.with_name(final.name + TEMP_SUFFIX)


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """Yield a temp path next to ``final``; rename it into place on success, remove it on error.

    The rename is atomic, so ``final`` is either absent (or the old file) or complete.
    """
    temp = temp_of(final)
    temp.unlink(missing_ok=True)
    try:
        yield temp
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


__all__ = [
    "IMAGE_SUFFIX",
    "TEMP_SUFFIX",
    "VOLUME_NUMBER_MAX",
    "volume_name",
    "check_volume_name",
    "PoolLayout",
    "temp_of",
    "staged",
]
