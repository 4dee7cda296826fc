"""Copy an image file into a disk device: chunked, sparse-aware, flushed, with progress lines.

Platform-neutral: OpenNebula's ``ds cp`` fills a fresh LINSTOR disk from an uploaded image, and
the PVE adapter can do the same on import. Only local paths are read here (no URLs, no image
format conversion): callers refuse what this module cannot copy before they create a disk.

What is promised: every byte of the source ends up at the same offset of the device (holes and
all-zero chunks are skipped only when the caller says the device already reads as zeros, as a
disk created a moment ago on thin storage does); where it does not, the rest of the device is
zeroed too, so a new disk never shows what its storage held before (thick LVM hands out old
data); the data is on stable storage (``fsync``) when the call returns; a source larger than the
device is refused before anything is written. ``zero_device`` does the same for disks that get
no image (a blank datablock, a volatile disk).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import struct
import time
from collections.abc import Callable
from pathlib import Path

from linstor_core.errors import InvalidInput, StorageError

CHUNK_BYTES = 4 * 1024 * 1024
PROGRESS_SECONDS = 5.0

Progress = Callable[[str], None]

BLKZEROOUT = 0x127F
"""``<linux/fs.h>`` ``_IO(0x12, 127)``: zero a byte range of a block device; the kernel uses the
device's write-zeroes (or zeroing discard) where it has one and writes zeros where not."""
_ZERO_ALIGN = 4096
"""Zeroing starts on a 4 KiB boundary, a multiple of every logical block size BLKZEROOUT needs."""


def size_of(path: str | Path) -> int:
    """Size in bytes of a regular file or a block device (block devices report 0 in stat)."""
    with open(path, "rb") as handle:
        return handle.seek(0, os.SEEK_END)


def _data_ranges(fd: int, size: int) -> list[tuple[int, int]]:
    """(start, end) ranges holding data, from SEEK_DATA/SEEK_HOLE; the whole file if unsupported."""
    ranges = []
    offset = 0
    try:
        while offset < size:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError as error:
                if error.errno == errno.ENXIO:  # no data after offset
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            ranges.append((start, min(end, size)))
            offset = end
    except OSError:
        return [(0, size)]
    return ranges


def copy_into_device(
    source: str | Path,
    device: str,
    *,
    device_is_zeroed: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Copy the file ``source`` to the start of ``device``; return the bytes copied.

    ``device_is_zeroed`` lets holes and all-zero chunks be skipped, which keeps thin volumes
    thin; without it zeros are written. ``progress`` receives a human line about every
    ``PROGRESS_SECONDS`` and at the end.
    """
    src_path = str(source)
    try:
        total = size_of(src_path)
        capacity = size_of(device)
    except OSError as error:
        raise InvalidInput("path", error.filename or src_path, error.strerror or str(error)) from None
    if total > capacity:
        raise InvalidInput(
            "image", src_path, f"{total} bytes do not fit the {capacity} byte disk {device}",
            correction="give the image a SIZE at least as large as the file",
        )
    src_fd = os.open(src_path, os.O_RDONLY)
    try:
        dst_fd = os.open(device, os.O_WRONLY)
    except OSError as error:
        os.close(src_fd)
        raise StorageError(["open", device], 1, error.strerror or str(error)) from None
    copied = 0
    last_report = clock()
    zero = bytes(CHUNK_BYTES)
    try:
        if not device_is_zeroed:
            _zero_from(dst_fd, device, total)  # past the image: the copy writes all before it
        ranges = _data_ranges(src_fd, total) if device_is_zeroed else [(0, total)]
        for start, end in ranges:
            offset = start
            while offset < end:
                length = min(CHUNK_BYTES, end - offset)
                chunk = os.pread(src_fd, length, offset)
                if not chunk:  # the file shrank under the copy: the rest would be left unwritten
                    raise InvalidInput(
                        "image", src_path, f"ended at {offset} of its {total} bytes while it was copied",
                        correction="copy it again once nothing writes to it",
                    )
                if not (device_is_zeroed and chunk == zero[: len(chunk)]):
                    _write_all(dst_fd, chunk, offset)
                offset += len(chunk)
                copied = offset
                if progress is not None and clock() - last_report >= PROGRESS_SECONDS:
                    last_report = clock()
                    progress(_progress_line(copied, total))
        os.fsync(dst_fd)
    except OSError as error:
        raise StorageError(["write", device], 1, error.strerror or str(error)) from None
    finally:
        os.close(dst_fd)
        os.close(src_fd)
    if progress is not None:
        progress(_progress_line(total, total))
    return total


def zero_device(device: str) -> None:
    """Make every byte of ``device`` read as zero (see the module docstring); a regular file
    (a volume's backing file used directly) is cut to nothing and grown back."""
    try:
        fd = os.open(device, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as error:
        raise StorageError(["open", device], error.errno or 1, error.strerror or str(error)) from None
    try:
        _zero_from(fd, device, 0)
    finally:
        os.close(fd)


def _zero_from(fd: int, device: str, start: int) -> None:
    """Zero ``device`` (open as ``fd``) from ``start``, rounded down to ``_ZERO_ALIGN``, to its end."""
    begin = start - start % _ZERO_ALIGN
    try:
        info = os.fstat(fd)
        if stat.S_ISBLK(info.st_mode):
            end = os.lseek(fd, 0, os.SEEK_END)
            if end > begin:
                fcntl.ioctl(fd, BLKZEROOUT, struct.pack("=QQ", begin, end - begin))
        elif info.st_size > begin:
            os.ftruncate(fd, begin)
            os.ftruncate(fd, info.st_size)
    except OSError as error:
        raise StorageError(["ioctl", "BLKZEROOUT", device], error.errno or 1, error.strerror or str(error)) from None


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def _progress_line(done: int, total: int) -> str:
    percent = 100 if total == 0 else done * 100 // total
    return f"copied {done // (1024 * 1024)} MiB of {total // (1024 * 1024)} MiB ({percent}%)"


def hexdigest_of(path: str | Path, algorithm: str = "md5", length: int | None = None) -> str:
    """``algorithm``'s (a hashlib name) hex digest of the first ``length`` bytes of ``path``
    (all of it when ``None``): OpenNebula's marketplace wants the MD5 of what it will
    download, and an image's MD5/SHA1 says what its file must hold."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    remaining = size_of(path) if length is None else length
    with open(path, "rb") as handle:
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


__all__ = ["CHUNK_BYTES", "copy_into_device", "hexdigest_of", "size_of", "zero_device"]
