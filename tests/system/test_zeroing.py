"""Zeroing a new disk on a real block device (root only): BLKZEROOUT through the loop driver.

Thick storage hands out old data, so a disk that gets no image, and the part of a disk past its
image, must read as zeros before a guest sees it. The unit tests cover regular files; here the
ioctl path runs on a loop device over a sparse file in tmp_path, detached even on failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from linstor_core import datacopy
from linstor_core.controller.loopdev import KernelLoops

pytestmark = pytest.mark.root

MIB = 1024 * 1024
SIZE = 16 * MIB


@pytest.fixture
def dirty_device(tmp_path: Path) -> Iterator[str]:
    """A loop device whose every byte is 0xff, as a thick volume that held someone's data."""
    image = tmp_path / "thick.img"
    with open(image, "xb") as handle:
        handle.truncate(SIZE)
    loops = KernelLoops()
    device = loops.attach(image, new_file=True)
    try:
        fd = os.open(device, os.O_WRONLY)
        try:
            os.pwrite(fd, b"\xff" * SIZE, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        yield device
    finally:
        loops.detach(device)


def read_all(device: str) -> bytes:
    with open(device, "rb") as handle:
        return handle.read()


def test_zero_device_clears_every_byte_of_a_block_device(dirty_device: str) -> None:
    datacopy.zero_device(dirty_device)
    assert read_all(dirty_device) == bytes(SIZE)


def test_a_copy_onto_old_data_leaves_zeros_past_the_image(dirty_device: str, tmp_path: Path) -> None:
    image = tmp_path / "upload.img"
    image.write_bytes(b"bootsector" + bytes(MIB - 10) + b"tail!")  # ends inside a 4 KiB block
    datacopy.copy_into_device(image, dirty_device, device_is_zeroed=False)
    written = read_all(dirty_device)
    assert written[: MIB + 5] == image.read_bytes()
    assert written[MIB + 5:] == bytes(SIZE - MIB - 5)
