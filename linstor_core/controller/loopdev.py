"""Loop devices over backing files: attach, detach, refresh the size, flush, list what is attached.

The satellite sees the small ``LoopDevices`` interface; ``KernelLoops`` implements it with the
loop driver's ioctls, in-process. It used to run ``losetup`` (and ``blockdev``), 1-4 ms a
process on a host with ~200 loop nodes (losetup scans them all), so a volume's create took
4 ms and its delete 5 ms; through the ioctls both take 0.3 ms.

What is attached is read from the kernel each time, never remembered: after a crash or a
restart the kernel is the only truth about loop devices. The listing takes the loop devices
from ``/proc/partitions`` and their backing files from sysfs (0.05 ms) instead of walking every
``/sys/block/loop*`` node (1-2.5 ms on a host with ~200 unbound nodes). ``/proc/partitions``
lists only block devices with a nonzero capacity: a loop over a zero-size file is not listed.
That is never one of ours - volumes and snapshots have a positive size, and a loop keeps the
size it had when its file is truncated or deleted - so ``reconcile`` uses the same listing
(a zero-size stray in a pool directory holds no data and no space worth a slow scan).

Every failure is a ``StorageError`` whose argv names what was done (``["ioctl",
"LOOP_CONFIGURE", "/dev/loop3", "/pool/x.img"]``), with the errno as its exit code.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from linstor_core.errors import StorageError

LOOP_CONTROL = Path("/dev/loop-control")
# The kernel appends this to backing_file when the file was unlinked while attached.
_DELETED_SUFFIX = " (deleted)"

# <linux/loop.h> and <linux/fs.h>
LOOP_SET_FD = 0x4C00
LOOP_CLR_FD = 0x4C01
LOOP_SET_STATUS64 = 0x4C04
LOOP_SET_CAPACITY = 0x4C07
LOOP_CONFIGURE = 0x4C0A
LOOP_CTL_ADD = 0x4C80
LOOP_CTL_GET_FREE = 0x4C82
BLKFLSBUF = 0x1261
_LO_NAME_SIZE = 64
# struct loop_info64: device, inode, rdevice, offset, sizelimit, number, encrypt_type,
# encrypt_key_size, flags, file_name[64], crypt_name[64], encrypt_key[32], init[2]
LOOP_INFO64 = struct.Struct("=QQQQQIIII64s64s32sQQ")
# struct loop_config: fd, block_size, info, __reserved[8]
LOOP_CONFIG = struct.Struct(f"=II{LOOP_INFO64.size}s64x")

# Another process can configure the free device between LOOP_CTL_GET_FREE and LOOP_CONFIGURE.
_FREE_TRIES = 50
_BUSY_PAUSE = 0.002
_LOOP_NAME = re.compile(r"loop\d+")
_DEVICE = re.compile(r"/dev/loop(\d+)")

_CORRECTIONS = {
    errno.EPERM: "run the controller as root",
    errno.EACCES: "run the controller as root",
}
_NO_LOOPS = "load the loop module (modprobe loop) or raise its max_loop"


@dataclass(frozen=True)
class LoopDevice:
    """One attached loop device: ``name`` is ``/dev/loopN``; ``back_file`` the backing path.

    ``deleted``: the file was unlinked (or renamed over) while attached; the device still
    serves the old data, which no path reaches any more.
    """

    name: str
    back_file: str
    deleted: bool = False


class LoopDevices(Protocol):
    """What the satellite needs from loop devices; ``KernelLoops`` on a host, a fake in tests."""

    def attached(self) -> list[LoopDevice]:
        """Every attached loop device on the host (not only ours: callers filter by backing file)."""

    def attach(self, image: Path, *, device: str | None = None, new_file: bool = False) -> str:
        """Attach ``image`` and return its device; idempotent for an image already attached.

        With ``device`` the image goes to exactly that ``/dev/loopN`` (keeps a path stable across
        a re-point; refused when that device is taken). ``new_file``: the caller just made the
        file, so no device can serve it yet and the look-up is skipped.
        """

    def detach(self, device: str) -> None:
        """Detach ``device``; done already if it is not attached. The kernel defers it until
        the last opener closes the device."""

    def refresh_size(self, device: str) -> None:
        """Make ``device`` see its backing file's current size after the file grew."""

    def flush(self, device: str) -> None:
        """Write the device's cached blocks to the backing file and drop its cache.

        Needed before the backing file is copied (its blocks may still sit in the device's page
        cache) and after it was re-pointed (the cache may hold the old file's blocks).
        """

    def is_busy(self, device: str) -> bool:
        """True if something holds ``device`` exclusively: a mounted filesystem, DRBD, dm."""


def loop_names(partitions: str) -> list[str]:
    """The whole loop devices (``loopN``, not their partitions) in ``/proc/partitions`` text."""
    names = []
    for line in partitions.splitlines():
        fields = line.split()
        if len(fields) == 4 and _LOOP_NAME.fullmatch(fields[3]):
            names.append(fields[3])
    return names


def parse_backing_file(name: str, text: str) -> LoopDevice | None:
    """The device for sysfs ``backing_file`` text; None when it is empty (unbound meanwhile)."""
    back_file = text[:-1] if text.endswith("\n") else text
    if not back_file:
        return None
    deleted = back_file.endswith(_DELETED_SUFFIX)
    if deleted:
        back_file = back_file[: -len(_DELETED_SUFFIX)]
    return LoopDevice(name=f"/dev/{name}", back_file=back_file, deleted=deleted)


def loop_config(backing_fd: int, image: Path) -> bytes:
    """``struct loop_config`` for LOOP_CONFIGURE: whole file, 512-byte blocks, no flags."""
    return LOOP_CONFIG.pack(backing_fd, 0, loop_info(image))


def loop_info(image: Path) -> bytes:
    """``struct loop_info64`` naming ``image`` (cut to 63 bytes, what the kernel keeps)."""
    name = os.fsencode(image)[: _LO_NAME_SIZE - 1]
    return LOOP_INFO64.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, name, b"", b"", 0, 0)


def storage_error(argv: Sequence[str], error: OSError, correction: str = "") -> StorageError:
    """``error`` as a ``StorageError``: errno as exit code, its text as stderr, and the fix.

    A permission error's fix (run as root) wins over the ``correction`` the caller knows for
    the call, which is about the other ways it fails.
    """
    code = error.errno or -1
    return StorageError(argv, code, error.strerror or str(error),
                        correction=_CORRECTIONS.get(code, correction))


class KernelLoops:
    """Loop devices through ``/dev/loop-control`` and the loop ioctls (see the module docstring).

    ``partitions`` and ``sysfs`` are where the listing reads (tests point them elsewhere).
    """

    def __init__(self, partitions: Path = Path("/proc/partitions"), sysfs: Path = Path("/sys/block")) -> None:
        self.partitions = partitions
        self.sysfs = sysfs

    def attached(self) -> list[LoopDevice]:
        try:
            text = self.partitions.read_text()
        except OSError as error:
            raise storage_error(["read", str(self.partitions)], error) from None
        devices = []
        for name in loop_names(text):
            path = self.sysfs / name / "loop" / "backing_file"
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError as error:
                raise storage_error(["read", str(path)], error) from None
            device = parse_backing_file(name, os.fsdecode(raw))
            if device is not None:
                devices.append(device)
        return devices

    def attach(self, image: Path, *, device: str | None = None, new_file: bool = False) -> str:
        if device is None and not new_file:
            wanted = os.path.realpath(image)
            for known in self.attached():
                if known.back_file == wanted and not known.deleted:
                    return known.name
        try:
            backing = os.open(image, os.O_RDWR | os.O_CLOEXEC)
        except OSError as error:
            raise storage_error(["open", str(image)], error) from None
        try:
            if device is not None:
                self._configure(device, backing, image, add=True)
                return device
            return self._configure_free(backing, image)
        finally:
            os.close(backing)

    def detach(self, device: str) -> None:
        try:
            fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENXIO):  # no such device, or being detached
                return
            raise storage_error(["open", device], error) from None
        try:
            fcntl.ioctl(fd, LOOP_CLR_FD)
        except OSError as error:
            if error.errno != errno.ENXIO:
                raise storage_error(["ioctl", "LOOP_CLR_FD", device], error) from None
        finally:
            os.close(fd)

    def refresh_size(self, device: str) -> None:
        self._device_ioctl(device, LOOP_SET_CAPACITY, "LOOP_SET_CAPACITY")

    def flush(self, device: str) -> None:
        self._device_ioctl(device, BLKFLSBUF, "BLKFLSBUF")

    def is_busy(self, device: str) -> bool:
        """Probed by opening with ``O_EXCL``, which the kernel refuses (EBUSY) exactly when a
        holder has the device; pulling the data from under such a holder would corrupt it."""
        try:
            fd = os.open(device, os.O_RDONLY | os.O_EXCL | os.O_CLOEXEC)
        except OSError as error:
            if error.errno == errno.EBUSY:
                return True
            if error.errno in (errno.ENOENT, errno.ENXIO):
                return False
            raise storage_error(["open", device, "O_EXCL"], error) from None
        os.close(fd)
        return False

    def _configure_free(self, backing: int, image: Path) -> str:
        """Configure the first free device, asking again when another process took it first.

        A device offered again right after it refused is unbound but held (an ``O_EXCL``
        opener): a short pause lets the holder finish.
        """
        refused = None
        for _ in range(_FREE_TRIES):
            number = self._control(LOOP_CTL_GET_FREE, 0, ["ioctl", "LOOP_CTL_GET_FREE", str(LOOP_CONTROL)])
            if number == refused:
                time.sleep(_BUSY_PAUSE)
            device = f"/dev/loop{number}"
            try:
                self._configure(device, backing, image, add=False)
            except StorageError as error:
                if error.returncode != errno.EBUSY:
                    raise
                refused = number
                continue
            return device
        raise StorageError(["ioctl", "LOOP_CONFIGURE", f"/dev/loop{refused}", str(image)], errno.EBUSY,
                           f"another process took every free loop device first, {_FREE_TRIES} times",
                           correction="retry; something on this host attaches loop devices very fast")

    def _configure(self, device: str, backing: int, image: Path, *, add: bool) -> None:
        """Bind ``backing`` to ``device``; ``add``: make the device first if it is missing."""
        fd = self._open_device(device, add=add)
        try:
            try:
                fcntl.ioctl(fd, LOOP_CONFIGURE, loop_config(backing, image))
                return
            except OSError as error:
                if error.errno not in (errno.EINVAL, errno.ENOTTY):
                    raise storage_error(["ioctl", "LOOP_CONFIGURE", device, str(image)], error) from None
            self._set_fd(fd, device, backing, image)
        finally:
            os.close(fd)

    def _set_fd(self, fd: int, device: str, backing: int, image: Path) -> None:
        """LOOP_SET_FD + LOOP_SET_STATUS64 for kernels before 5.8 (no LOOP_CONFIGURE); a device
        whose status cannot be set is detached again."""
        try:
            fcntl.ioctl(fd, LOOP_SET_FD, backing)
        except OSError as error:
            raise storage_error(["ioctl", "LOOP_SET_FD", device, str(image)], error) from None
        try:
            fcntl.ioctl(fd, LOOP_SET_STATUS64, loop_info(image))
        except OSError as error:
            failure = storage_error(["ioctl", "LOOP_SET_STATUS64", device, str(image)], error)
        else:
            return
        try:
            fcntl.ioctl(fd, LOOP_CLR_FD)
        except OSError as error:
            raise storage_error(["ioctl", "LOOP_CLR_FD", device], error) from failure
        raise failure

    def _open_device(self, device: str, *, add: bool) -> int:
        """Open ``device`` writable (else LOOP_CONFIGURE makes a read-only loop); ``add``: a
        missing ``/dev/loopN`` is made with LOOP_CTL_ADD first."""
        try:
            return os.open(device, os.O_RDWR | os.O_CLOEXEC)
        except OSError as error:
            if error.errno != errno.ENOENT:
                raise storage_error(["open", device], error) from None
            number = _device_number(device)
            if not add or number is None:
                raise storage_error(["open", device], error, "the kernel made no device node: mount devtmpfs "
                                    "on /dev") from None
        self._control(LOOP_CTL_ADD, number, ["ioctl", "LOOP_CTL_ADD", str(LOOP_CONTROL), str(number)],
                      accept=errno.EEXIST)
        try:
            return os.open(device, os.O_RDWR | os.O_CLOEXEC)
        except OSError as error:
            raise storage_error(["open", device], error) from None

    def _control(self, request: int, arg: int, argv: list[str], *, accept: int | None = None) -> int:
        """One ``/dev/loop-control`` ioctl and its result (a device number); the errno
        ``accept`` answers ``arg``."""
        try:
            fd = os.open(LOOP_CONTROL, os.O_RDWR | os.O_CLOEXEC)
        except OSError as error:
            raise storage_error(argv, error, _NO_LOOPS) from None
        try:
            return fcntl.ioctl(fd, request, arg)
        except OSError as error:
            if error.errno == accept:
                return arg
            raise storage_error(argv, error, _NO_LOOPS) from None
        finally:
            os.close(fd)

    def _device_ioctl(self, device: str, request: int, what: str) -> None:
        try:
            fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            raise storage_error(["open", device], error) from None
        try:
            fcntl.ioctl(fd, request)
        except OSError as error:
            raise storage_error(["ioctl", what, device], error) from None
        finally:
            os.close(fd)


def _device_number(device: str) -> int | None:
    """N of ``/dev/loopN``; None for any other path."""
    match = _DEVICE.fullmatch(device)
    return int(match.group(1)) if match else None


__all__ = [
    "LOOP_CONTROL",
    "LoopDevice",
    "LoopDevices",
    "KernelLoops",
    "loop_names",
    "parse_backing_file",
    "loop_config",
    "loop_info",
    "storage_error",
]
