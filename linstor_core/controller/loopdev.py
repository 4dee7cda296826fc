"""Loop devices over backing files: attach, detach, refresh the size, list what is attached.

Everything goes through ``losetup`` as argument lists via a ``Runner``, so unit tests see each
command. What is attached is read from ``losetup --json --list`` (the kernel's view via sysfs),
never remembered: after a crash or a restart the kernel is the only truth about loop devices.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path

from linstor_core.errors import StorageError
from linstor_core.runner import Runner

LOOP_CONTROL = Path("/dev/loop-control")
# The kernel appends this to backing_file when the file was unlinked while attached.
_DELETED_SUFFIX = " (deleted)"


@dataclass(frozen=True)
class LoopDevice:
    """One attached loop device: ``name`` is ``/dev/loopN``; ``back_file`` the backing path."""

    name: str
    back_file: str
    deleted: bool = False


def parse_list(text: str) -> list[LoopDevice]:
    """Parse ``losetup --json --list`` output; empty output (no devices at all) is an empty list."""
    if not text.strip():
        return []
    try:
        entries = [(str(e["name"]), str(e.get("back-file") or "")) for e in json.loads(text)["loopdevices"]]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StorageError(["losetup", "--json", "--list"], 0, f"unreadable output: {error!r}") from None
    devices = []
    for name, back_file in entries:
        deleted = back_file.endswith(_DELETED_SUFFIX)
        if deleted:
            back_file = back_file[: -len(_DELETED_SUFFIX)]
        devices.append(LoopDevice(name=name, back_file=back_file, deleted=deleted))
    return devices


def list_devices(runner: Runner) -> list[LoopDevice]:
    """Every attached loop device on the host (not only ours: callers filter by backing file)."""
    return parse_list(runner(["losetup", "--json", "--list"]))


def attach(image: Path, runner: Runner, *, device: str | None = None) -> str:
    """Attach ``image`` and return its device; idempotent for an image already attached.

    ``--nooverlap`` makes losetup reuse the device that already serves this file instead of
    adding a second one, so a retried create never leaks a loop device. With ``device`` the
    image goes to that exact ``/dev/loopN`` (used to keep a path stable across a re-point).
    """
    if device is not None:
        runner(["losetup", device, str(image)])
        return device
    return runner(["losetup", "--nooverlap", "--find", "--show", str(image)]).strip()


def is_busy(device: str) -> bool:
    """True if something holds ``device`` exclusively: a mounted filesystem, DRBD, device-mapper.

    Probed by opening with ``O_EXCL``, which the kernel refuses (EBUSY) exactly in those cases;
    pulling the data from under such a holder would corrupt it.
    """
    try:
        fd = os.open(device, os.O_RDONLY | os.O_EXCL)
    except OSError as error:
        if error.errno == errno.EBUSY:
            return True
        if error.errno in (errno.ENOENT, errno.ENXIO):
            return False
        raise
    os.close(fd)
    return False


def detach(device: str, runner: Runner) -> None:
    """Detach ``device`` (the kernel defers it until the last opener closes the device)."""
    runner(["losetup", "--detach", device])


def refresh_size(device: str, runner: Runner) -> None:
    """Make ``device`` see its backing file's current size after the file grew."""
    runner(["losetup", "--set-capacity", device])


def flush(device: str, runner: Runner) -> None:
    """Write the device's cached blocks to the backing file and drop its cache.

    Needed before the backing file is copied (its blocks may still sit in the device's page
    cache) and after it was re-pointed (the cache may hold the old file's blocks).
    """
    runner(["blockdev", "--flushbufs", device])


__all__ = [
    "LOOP_CONTROL",
    "LoopDevice",
    "parse_list",
    "list_devices",
    "attach",
    "is_busy",
    "detach",
    "refresh_size",
    "flush",
]
