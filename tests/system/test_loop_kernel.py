"""KernelLoops on the real loop driver (root only): sparse files in tmp_path, no losetup.

Every loop device a test makes is detached by the ``loops`` fixture, even when the test fails,
and the fixture checks that ``losetup -a`` names nothing under tmp_path afterwards.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from linstor_core.controller import loopdev
from linstor_core.controller.loopdev import KernelLoops, LoopDevice
from linstor_core.errors import StorageError
from linstor_core.runner import run

pytestmark = pytest.mark.root

MIB = 1024 * 1024
LOOP_CTL_REMOVE = 0x4C81


def sparse(path: Path, size: int = 64 * MIB) -> Path:
    with open(path, "xb") as handle:
        handle.truncate(size)
    return path


def ours(loops: KernelLoops, directory: Path) -> list[LoopDevice]:
    prefix = str(directory) + "/"
    return [d for d in loops.attached() if d.back_file.startswith(prefix)]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path.resolve()


@pytest.fixture
def loops(workdir: Path) -> Iterator[KernelLoops]:
    kernel = KernelLoops()
    yield kernel
    for device in ours(kernel, workdir):
        kernel.detach(device.name)
    deadline = time.monotonic() + 5
    while str(workdir) in run(["losetup", "-a"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert str(workdir) not in run(["losetup", "-a"])


def sectors(device: str) -> int:
    return int(Path(f"/sys/block/{os.path.basename(device)}/size").read_text())


def test_a_loop_device_through_its_whole_life(loops: KernelLoops, workdir: Path) -> None:
    image = sparse(workdir / "a.img")
    device = loops.attach(image, new_file=True)
    assert LoopDevice(device, str(image)) in loops.attached()
    assert loops.attach(image) == device

    data = os.urandom(4096)
    fd = os.open(device, os.O_RDWR)
    try:
        os.pwrite(fd, data, MIB)
    finally:
        os.close(fd)
    loops.flush(device)
    with open(image, "rb") as handle:
        handle.seek(MIB)
        assert handle.read(4096) == data

    assert sectors(device) == 64 * MIB // 512
    os.truncate(image, 96 * MIB)
    loops.refresh_size(device)
    assert sectors(device) == 96 * MIB // 512

    other = sparse(workdir / "b.img", 32 * MIB)
    loops.detach(device)
    assert loops.attach(other, device=device) == device
    assert LoopDevice(device, str(other)) in loops.attached()
    assert sectors(device) == 32 * MIB // 512

    loops.detach(device)
    loops.detach(device)
    assert ours(loops, workdir) == []


def test_an_exact_device_that_does_not_exist_yet_is_added(loops: KernelLoops, workdir: Path) -> None:
    numbers = [int(name[4:]) for name in os.listdir("/dev") if name.startswith("loop") and name[4:].isdigit()]
    device = f"/dev/loop{max(numbers) + 100}"
    image = sparse(workdir / "a.img")
    try:
        assert loops.attach(image, device=device) == device
        assert LoopDevice(device, str(image)) in loops.attached()
    finally:
        loops.detach(device)
        fd = os.open(loopdev.LOOP_CONTROL, os.O_RDWR)
        try:
            fcntl.ioctl(fd, LOOP_CTL_REMOVE, int(device[len("/dev/loop"):]))
        finally:
            os.close(fd)


def test_an_exact_device_that_is_taken_is_refused(loops: KernelLoops, workdir: Path) -> None:
    device = loops.attach(sparse(workdir / "a.img"), new_file=True)
    with pytest.raises(StorageError) as caught:
        loops.attach(sparse(workdir / "b.img"), device=device)
    assert caught.value.returncode == errno.EBUSY
    assert caught.value.argv == ["ioctl", "LOOP_CONFIGURE", device, str(workdir / "b.img")]


def test_a_deleted_backing_file_is_flagged(loops: KernelLoops, workdir: Path) -> None:
    image = sparse(workdir / "a.img")
    device = loops.attach(image, new_file=True)
    image.unlink()
    assert LoopDevice(device, str(image), deleted=True) in loops.attached()
    sparse(image)
    assert loops.attach(image) != device


def test_parallel_attaches_get_distinct_devices(loops: KernelLoops, workdir: Path) -> None:
    """Both threads ask LOOP_CTL_GET_FREE at once; the loser of each race retries (EBUSY)."""
    images = [[sparse(workdir / f"t{t}-{i}.img", MIB) for i in range(8)] for t in range(2)]
    start = threading.Barrier(2)
    got: list[list[str]] = [[], []]
    failures: list[BaseException] = []

    def attach_all(number: int) -> None:
        try:
            start.wait()
            for image in images[number]:
                got[number].append(loops.attach(image, new_file=True))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=attach_all, args=(t,)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    devices = got[0] + got[1]
    assert len(set(devices)) == 16
    listed = {d.name: d.back_file for d in ours(loops, workdir)}
    assert listed == {device: str(image) for device, image in zip(devices, images[0] + images[1])}


def test_is_busy_while_the_device_is_held_exclusively(loops: KernelLoops, workdir: Path) -> None:
    device = loops.attach(sparse(workdir / "a.img"), new_file=True)
    assert loops.is_busy(device) is False
    fd = os.open(device, os.O_RDONLY | os.O_EXCL)
    try:
        assert loops.is_busy(device) is True
    finally:
        os.close(fd)
    assert loops.is_busy(device) is False


def test_without_loop_configure_set_fd_and_set_status_do_it(
    loops: KernelLoops, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kernels before 5.8 answer LOOP_CONFIGURE with EINVAL."""
    def old_kernel(fd: int, request: int, arg: int | bytes = 0) -> int | bytes:
        if request == loopdev.LOOP_CONFIGURE:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        return fcntl.ioctl(fd, request, arg)

    monkeypatch.setattr(loopdev, "fcntl", SimpleNamespace(ioctl=old_kernel))
    image = sparse(workdir / "a.img")
    device = loops.attach(image, new_file=True)
    assert LoopDevice(device, str(image)) in loops.attached()
    assert sectors(device) == 64 * MIB // 512
    assert str(image) in run(["losetup", "--list", "--noheadings", "--output", "BACK-FILE", device])
