"""Reflink copies (shared extents) with the FICLONE ioctl, and naming a filesystem that lacks them.

A reflink copy costs the same for 1 MiB and 1 TiB: the copy shares the source's blocks until
either side writes. Only some filesystems can do it (xfs made with ``reflink=1``, btrfs), so a
failure must say which filesystem the pool sits on and which ones would work.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import tempfile
from pathlib import Path

from linstor_core.controller.providers.modes import create_file
from linstor_core.errors import StorageError
from linstor_core.filesystems import MOUNTINFO, read_mounts

# _IOW(0x94, 9, int) from linux/fs.h.
FICLONE = 0x40049409
REFLINK_FILESYSTEMS = "xfs (made with reflink=1, the default since xfsprogs 5.1) or btrfs"
# What the kernel answers when the filesystem (or this pair of files) cannot share extents.
_NO_REFLINK = frozenset({errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.EXDEV, errno.ENOSYS})
_PROBE_PREFIX, _PROBE_SUFFIX, _COPY_SUFFIX = ".reflink-probe-", ".tmp", ".copy.tmp"
# The probe's two files (mkstemp puts 8 of [a-z0-9_] between prefix and suffix): what a crash
# mid-probe can leave, so start-up may remove exactly these names.
PROBE_FILE = re.compile(re.escape(_PROBE_PREFIX) + "[a-z0-9_]{8}" + re.escape(_PROBE_SUFFIX)
                        + f"({re.escape(_COPY_SUFFIX)})?")


def filesystem_of(path: Path, *, mountinfo: Path = MOUNTINFO) -> str:
    """The type of the filesystem holding ``path`` (the longest mount point above it)."""
    target = os.path.realpath(path)
    best, fstype = "", "unknown"
    for entry in read_mounts(mountinfo):
        mount_point = entry.mount_point.rstrip("/") + "/"
        if (target + "/").startswith(mount_point) and len(mount_point) > len(best):
            best, fstype = mount_point, entry.fstype
    return fstype


def reflink(source: Path, target: Path) -> None:
    """Create ``target`` as a reflink copy of ``source``; on failure nothing of ``target`` remains.

    Raises ``StorageError`` naming the filesystem when it cannot share extents.
    """
    with open(source, "rb") as src:
        dst = create_file(target)
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
        except OSError as error:
            dst.close()
            target.unlink()
            raise _reflink_error(source, target, error) from None
        dst.close()


def can_reflink(directory: Path) -> bool:
    """Probe whether files in ``directory`` can be reflinked (two empty temp files, removed)."""
    handle, name = tempfile.mkstemp(prefix=_PROBE_PREFIX, suffix=_PROBE_SUFFIX, dir=directory)
    os.close(handle)
    source = Path(name)
    target = source.with_name(source.name + _COPY_SUFFIX)
    try:
        reflink(source, target)
    except StorageError:
        return False
    finally:
        source.unlink()
    target.unlink()
    return True


def _reflink_error(source: Path, target: Path, error: OSError) -> StorageError:
    argv = ["ioctl", "FICLONE", str(source), str(target)]
    if error.errno not in _NO_REFLINK:
        return StorageError(argv, error.errno or 1, f"{source}: {error.strerror}")
    fstype = filesystem_of(target.parent)
    return StorageError(
        argv,
        error.errno or 1,
        f"{target.parent} is on {fstype}, which cannot make reflink copies; "
        f"snapshots and clones of FILE_THIN volumes need {REFLINK_FILESYSTEMS}",
        correction=f"put the FILE_THIN pool directory on {REFLINK_FILESYSTEMS}, "
        "or use a FILE pool (full copies)",
    )


__all__ = ["FICLONE", "REFLINK_FILESYSTEMS", "PROBE_FILE", "filesystem_of", "reflink", "can_reflink"]
