"""Copy an image file or a stream into a disk device, or a device into a stream: chunked,
sparse-aware, flushed, with progress lines.

Platform-neutral: OpenNebula's ``ds cp`` fills a fresh LINSTOR disk from an uploaded image; PVE's
``volume_export``/``volume_import`` send a disk through a pipe or socket. Only local paths and
open streams are read here (no URLs, no image format conversion): callers refuse what this
module cannot copy before they create a disk.

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
    report = _Reporter(total, progress, clock)
    try:
        if not device_is_zeroed:
            _zero_from(dst_fd, device, total)  # past the image: the copy writes all before it
        ranges = _data_ranges(src_fd, total) if device_is_zeroed else [(0, total)]
        for start, end in ranges:
            offset = start
            while offset < end:
                chunk = os.pread(src_fd, min(CHUNK_BYTES, end - offset), offset)
                if not chunk:  # the file shrank under the copy: the rest would be left unwritten
                    raise InvalidInput(
                        "image", src_path, f"ended at {offset} of its {total} bytes while it was copied",
                        correction="copy it again once nothing writes to it",
                    )
                _write_unless_zero(dst_fd, chunk, offset, device_is_zeroed)
                offset += len(chunk)
                report.at(offset)
        os.fsync(dst_fd)
    except OSError as error:
        raise StorageError(["write", device], 1, error.strerror or str(error)) from None
    finally:
        os.close(dst_fd)
        os.close(src_fd)
    report.done()
    return total


def copy_device_to_stream(
    device: str, out_fd: int, *, progress: Progress | None = None, clock: Callable[[], float] = time.monotonic,
) -> int:
    """Write every byte of ``device`` to ``out_fd`` (a pipe or socket: written in order, never
    seeked); return how many. ``progress`` as for :func:`copy_into_device`."""
    total, src_fd = _opened(device, os.O_RDONLY)
    report = _Reporter(total, progress, clock)
    offset = 0
    try:
        while offset < total:
            chunk = os.pread(src_fd, min(CHUNK_BYTES, total - offset), offset)
            if not chunk:
                raise StorageError(["read", device], 1, f"the device ended at {offset} of its {total} bytes")
            view = memoryview(chunk)
            while view:
                view = view[os.write(out_fd, view):]
            offset += len(chunk)
            report.at(offset)
    except OSError as error:
        raise StorageError(["copy", device, "to the stream"], error.errno or 1,
                           f"{error.strerror or error} after {offset} of {total} bytes") from None
    finally:
        os.close(src_fd)
    report.done()
    return total


def copy_stream_into_device(
    in_fd: int,
    size: int,
    device: str,
    *,
    device_is_zeroed: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Read exactly ``size`` bytes from ``in_fd`` (a pipe or socket) onto the start of ``device``;
    return ``size``. Zeros are skipped and the rest of the device zeroed as by
    :func:`copy_into_device`; a stream that ends early is an InvalidInput naming where (what it
    carried is on the device, which the caller then deletes)."""
    capacity, dst_fd = _opened(device, os.O_WRONLY)
    report = _Reporter(size, progress, clock)
    try:
        if size > capacity:
            raise InvalidInput("size", size, f"the stream's {size} bytes do not fit the {capacity} byte disk {device}")
        if not device_is_zeroed:
            _zero_from(dst_fd, device, size)
        offset = 0
        while offset < size:
            chunk = read_exactly(in_fd, min(CHUNK_BYTES, size - offset))
            if not chunk:
                raise InvalidInput("stream", f"{offset} bytes", f"ended before the {size} bytes its header announced",
                                   correction="send the volume again (the sending side may have failed)")
            _write_unless_zero(dst_fd, chunk, offset, device_is_zeroed)
            offset += len(chunk)
            report.at(offset)
        os.fsync(dst_fd)
    except OSError as error:
        raise StorageError(["copy", "the stream", "to", device], error.errno or 1, error.strerror or str(error)) from None
    finally:
        os.close(dst_fd)
    report.done()
    return size


def _opened(device: str, flags: int) -> tuple[int, int]:
    """``device``'s size in bytes and a descriptor of it opened with ``flags``."""
    try:
        size = size_of(device)
        return size, os.open(device, flags | os.O_CLOEXEC)
    except OSError as error:
        raise StorageError(["open", device], error.errno or 1, error.strerror or str(error)) from None


def read_exactly(fd: int, length: int) -> bytes:
    """``length`` bytes from the stream ``fd``, fewer only where it ended (pipes and sockets
    hand out less than asked, and a chunk of zeros is only skipped whole)."""
    parts = []
    left = length
    while left:
        part = os.read(fd, left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class _Reporter:
    """A progress line about every ``PROGRESS_SECONDS`` of a copy, and one at its end."""

    def __init__(self, total: int, progress: Progress | None, clock: Callable[[], float]) -> None:
        self._total, self._progress, self._clock = total, progress, clock
        self._last = clock()

    def at(self, done: int) -> None:
        if self._progress is not None and self._clock() - self._last >= PROGRESS_SECONDS:
            self._last = self._clock()
            self._progress(_progress_line(done, self._total))

    def done(self) -> None:
        if self._progress is not None:
            self._progress(_progress_line(self._total, self._total))


_ZEROS = bytes(CHUNK_BYTES)


def _write_unless_zero(fd: int, chunk: bytes, offset: int, device_is_zeroed: bool) -> None:
    """Write ``chunk`` at ``offset``; on a device that reads as zeros, an all-zero chunk is left
    unwritten (a thin volume stays thin)."""
    if not (device_is_zeroed and chunk == _ZEROS[: len(chunk)]):
        _write_all(fd, chunk, offset)


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


__all__ = [
    "CHUNK_BYTES", "copy_device_to_stream", "copy_into_device", "copy_stream_into_device", "hexdigest_of",
    "read_exactly", "size_of", "zero_device",
]
