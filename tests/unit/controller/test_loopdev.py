"""The loop driver's structs, the listing read from /proc/partitions and sysfs, and the errors.

No root needed: the listing reads a fake /proc/partitions and /sys/block in tmp_path; what the
ioctls do on a real kernel is tests/system/test_loop_kernel.py.
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import pytest

from linstor_core.controller import loopdev
from linstor_core.controller.loopdev import KernelLoops, LoopDevice
from linstor_core.errors import StorageError

PARTITIONS = """major minor  #blocks  name

 254        0  268435456 vda
 254        1     102400 vda1
   7        0      65536 loop0
   7        1     131072 loop1
 259        0      65000 loop1p1
   7       12       8192 loop12
"""


def test_loop_names_are_whole_loop_devices_only() -> None:
    assert loopdev.loop_names(PARTITIONS) == ["loop0", "loop1", "loop12"]
    assert loopdev.loop_names("major minor  #blocks  name\n\n") == []


@pytest.mark.parametrize("text, expected", [
    ("/pool/a_00000.img\n", LoopDevice("/dev/loop0", "/pool/a_00000.img")),
    ("/pool/b_00000.img (deleted)\n", LoopDevice("/dev/loop0", "/pool/b_00000.img", deleted=True)),
    ("/pool/with space \n", LoopDevice("/dev/loop0", "/pool/with space ")),
    ("", None),
    ("\n", None),
])
def test_parse_backing_file(text: str, expected: LoopDevice | None) -> None:
    assert loopdev.parse_backing_file("loop0", text) == expected


def test_structs_have_the_kernels_sizes() -> None:
    assert loopdev.LOOP_INFO64.size == 232
    assert loopdev.LOOP_CONFIG.size == 304


def test_loop_config_carries_the_fd_and_the_name_cut_to_63_bytes() -> None:
    long = Path("/pool/" + "x" * 100 + ".img")
    config = loopdev.loop_config(7, long)
    fd, block_size = struct.unpack_from("=II", config)
    assert (fd, block_size) == (7, 0)
    info = loopdev.LOOP_INFO64.unpack_from(config, 8)
    name = info[9]
    assert name == os.fsencode(long)[:63] + b"\0"
    assert info[:9] == (0,) * 9
    assert config[8 + loopdev.LOOP_INFO64.size:] == bytes(64)


def test_loop_info_names_a_short_path_exactly() -> None:
    info = loopdev.LOOP_INFO64.unpack(loopdev.loop_info(Path("/pool/a.img")))
    assert info[9].rstrip(b"\0") == b"/pool/a.img"


def test_an_os_error_becomes_a_storage_error_naming_the_call() -> None:
    argv = ["ioctl", "LOOP_CONFIGURE", "/dev/loop3", "/pool/x.img"]
    error = loopdev.storage_error(argv, OSError(errno.EBUSY, "Device or resource busy"), "try again")
    assert isinstance(error, StorageError)
    assert error.argv == argv and error.returncode == errno.EBUSY
    assert "Device or resource busy" in error.message and error.correction == "try again"
    assert error.cause == "ioctl LOOP_CONFIGURE /dev/loop3 /pool/x.img"


@pytest.mark.parametrize("code", [errno.EPERM, errno.EACCES])
def test_a_permission_error_says_to_run_as_root(code: int) -> None:
    error = loopdev.storage_error(["ioctl", "LOOP_CTL_GET_FREE"], OSError(code, os.strerror(code)), "load loop")
    assert error.correction == "run the controller as root"


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A fake /proc/partitions and /sys/block: loop0 bound, loop1 unbound meanwhile (no loop
    directory), loop2 over a deleted file, loop3 unbinding (empty backing_file)."""
    (tmp_path / "partitions").write_text(
        "major minor  #blocks  name\n\n" + "".join(f"   7 {n} 1024 loop{n}\n" for n in range(4)))
    for number, text in [(0, str(tmp_path / "a.img") + "\n"), (2, "/pool/b.img (deleted)\n"), (3, "")]:
        loop = tmp_path / "block" / f"loop{number}" / "loop"
        loop.mkdir(parents=True)
        (loop / "backing_file").write_text(text)
    (tmp_path / "block" / "loop1").mkdir()
    return tmp_path


def kernel_of(host: Path) -> KernelLoops:
    return KernelLoops(partitions=host / "partitions", sysfs=host / "block")


def test_attached_reads_partitions_then_backing_files(host: Path) -> None:
    assert kernel_of(host).attached() == [
        LoopDevice("/dev/loop0", str(host / "a.img")),
        LoopDevice("/dev/loop2", "/pool/b.img", deleted=True),
    ]


def test_attach_returns_the_device_already_serving_the_file(host: Path) -> None:
    """Idempotent like losetup --nooverlap; the path is compared after resolving symlinks."""
    (host / "a.img").write_bytes(b"")
    (host / "link").symlink_to(host)
    assert kernel_of(host).attach(host / "link" / "a.img") == "/dev/loop0"


def test_an_unreadable_backing_file_is_a_storage_error(host: Path) -> None:
    (host / "block" / "loop1" / "loop" / "backing_file").mkdir(parents=True)
    with pytest.raises(StorageError) as caught:
        kernel_of(host).attached()
    assert caught.value.argv == ["read", str(host / "block" / "loop1" / "loop" / "backing_file")]


def test_a_missing_partition_table_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="No such file"):
        KernelLoops(partitions=tmp_path / "partitions", sysfs=tmp_path).attached()


def test_attaching_a_missing_file_fails_before_any_device_is_touched(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        KernelLoops().attach(tmp_path / "gone.img", new_file=True)
    assert caught.value.argv == ["open", str(tmp_path / "gone.img")]
    assert caught.value.returncode == errno.ENOENT


def test_a_missing_device_is_not_busy_and_counts_as_detached(tmp_path: Path) -> None:
    kernel = KernelLoops()
    assert kernel.is_busy(str(tmp_path / "loop99")) is False
    kernel.detach(str(tmp_path / "loop99"))
