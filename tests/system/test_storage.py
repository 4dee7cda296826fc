"""The satellite on real loop devices, on an xfs filesystem with reflink and on ext4 (root only).

Each filesystem is a sparse file in tmp_path, formatted and mounted by a fixture that unmounts
and detaches everything it (or the satellite) made, even when a test fails.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from device_io import write_synced
from linstor_core.controller.loopdev import KernelLoops, LoopDevice
from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec
from linstor_core.errors import InvalidInput, StorageError
from linstor_core.runner import run

pytestmark = pytest.mark.root

MIB = 1024 * 1024
Make = Callable[[str, int], Path]
LOOPS = KernelLoops()


def loops_under(directory: Path) -> list[LoopDevice]:
    prefix = str(directory.resolve()) + "/"
    return [d for d in LOOPS.attached() if d.back_file.startswith(prefix)]


def release(target: Path, device: str) -> None:
    """Detach the satellite's loops under ``target``, unmount it, detach ``device``: each step is
    tried even when an earlier one failed; a failure is raised afterwards (earlier ones chained)."""
    with ExitStack() as steps:
        steps.callback(LOOPS.detach, device)
        steps.callback(lambda: os.path.ismount(target) and run(["umount", str(target)]))
        for leftover in loops_under(target):
            steps.callback(LOOPS.detach, leftover.name)


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Make]:
    """Make and mount a loop filesystem: ``mounted("xfs", size_mib)`` returns its mount point."""
    with ExitStack() as made:

        def make(fstype: str, size_mib: int) -> Path:
            backing = tmp_path / f"{fstype}.fs"
            with open(backing, "xb"):
                pass
            os.truncate(backing, size_mib * MIB)
            target = tmp_path / f"{fstype}-mnt"
            target.mkdir()
            device = LOOPS.attach(backing, new_file=True)
            made.callback(release, target, device)
            mkfs = ["mkfs.xfs", "-q", "-m", "reflink=1"] if fstype == "xfs" else ["mkfs.ext4", "-q", "-F"]
            run([*mkfs, device])
            run(["mount", device, str(target)])
            return target

        yield make


def autoclear(device: str) -> str:
    return Path(f"/sys/block/{Path(device).name}/loop/autoclear").read_text().strip()


def test_release_detaches_the_loop_even_when_the_umount_fails(tmp_path: Path) -> None:
    backing, target = tmp_path / "busy.fs", tmp_path / "busy-mnt"
    backing.touch()
    os.truncate(backing, 64 * MIB)
    target.mkdir()
    with ExitStack() as cleanup:
        device = LOOPS.attach(backing, new_file=True)
        cleanup.callback(lambda: [LOOPS.detach(d.name) for d in loops_under(tmp_path)])
        cleanup.callback(lambda: os.path.ismount(target) and run(["umount", str(target)]))
        run(["mkfs.ext4", "-q", "-F", device])
        run(["mount", device, str(target)])
        with open(target / "held", "w"):
            with pytest.raises(StorageError) as caught:
                release(target, device)
            assert caught.value.argv[0] == "umount"
            assert autoclear(device) == "1"  # detach asked for: the kernel frees it at the umount
    assert loops_under(tmp_path) == [] and not os.path.ismount(target)


@pytest.fixture
def xfs_pool(tmp_path: Path, mounted: Make) -> tuple[Satellite, PoolSpec]:
    pool = PoolSpec("vulcan", "thinpool", "FILE_THIN", mounted("xfs", 1024) / "pool")
    sat = Satellite(tmp_path / "state", use_loop=True)
    sat.check_pool(pool)
    return sat, pool


def size_of(device: str) -> int:
    return int(run(["blockdev", "--getsize64", device]))


def read(device: str, size: int, offset: int = 0) -> bytes:
    fd = os.open(device, os.O_RDONLY)
    try:
        return os.pread(fd, size, offset)
    finally:
        os.close(fd)


def test_volume_is_a_block_device_of_the_right_size(xfs_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = xfs_pool
    device = sat.create_volume(pool, VolumeSpec("LocalData", 0, 150 * 1024))
    assert stat.S_ISBLK(os.stat(device).st_mode)
    assert size_of(device) == 150 * MIB
    assert sat.device_path(pool, "LocalData_00000") == device
    assert sat.supports_reflink(pool) is True
    free, total = sat.capacity(pool)
    assert 0 < free < total < 1024 * 1024
    sat.delete_volume(pool, "LocalData_00000")
    assert loops_under(sat.pool_directory(pool)) == []


def test_snapshot_rollback_and_restore_keep_the_data(xfs_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = xfs_pool
    device = sat.create_volume(pool, VolumeSpec("SharedData", 0, 64 * 1024))
    before, after = os.urandom(MIB), os.urandom(MIB)
    write_synced(device, before, 8 * MIB)
    sat.snapshot_volume(pool, "SharedData_00000", "Snap1")
    write_synced(device, after, 8 * MIB)
    restored = sat.restore_volume(pool, "SharedData_00000", "Snap1", VolumeSpec("SharedData_Restore", 0, 64 * 1024))
    assert read(restored, MIB, 8 * MIB) == before
    assert read(device, MIB, 8 * MIB) == after
    assert sat.rollback_volume(pool, "SharedData_00000", "Snap1") == device
    assert sat.device_path(pool, "SharedData_00000") == device
    assert read(device, MIB, 8 * MIB) == before
    assert [d.name for d in loops_under(sat.pool_directory(pool)) if d.back_file.endswith("SharedData_00000.img")] \
        == [device]


def shared_extents(path: Path) -> bool:
    return "shared" in run(["filefrag", "-v", str(path)])


def clone_seconds(sat: Satellite, pool: PoolSpec, name: str, written_mib: int) -> float:
    device = sat.create_volume(pool, VolumeSpec(name, 0, 300 * 1024))
    chunk = os.urandom(MIB)
    fd = os.open(device, os.O_WRONLY)
    try:
        for index in range(written_mib):
            os.pwrite(fd, chunk, index * MIB)
        os.fsync(fd)
    finally:
        os.close(fd)
    start = time.perf_counter()
    sat.clone_volume(pool, f"{name}_00000", VolumeSpec(f"{name}Clone", 0, 300 * 1024))
    return time.perf_counter() - start


def test_a_clone_is_a_reflink(xfs_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = xfs_pool
    small = clone_seconds(sat, pool, "Small", 16)
    large = clone_seconds(sat, pool, "Large", 256)
    clone = sat.pool_directory(pool) / "LargeClone_00000.img"
    assert shared_extents(clone)
    # A full copy of 16x the data would take ~16x as long; a reflink does not grow with it.
    assert large < max(4 * small, 0.5), (small, large)
    assert read(sat.device_path(pool, "LargeClone_00000"), MIB, 255 * MIB) \
        == read(sat.device_path(pool, "Large_00000"), MIB, 255 * MIB)


def test_resize_grows_the_loop_device(xfs_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = xfs_pool
    vol = VolumeSpec("Grow", 0, 32 * 1024)
    device = sat.create_volume(pool, vol)
    sat.resize_volume(pool, vol, 96 * 1024)
    assert size_of(device) == 96 * MIB
    with pytest.raises(InvalidInput):
        sat.resize_volume(pool, vol, 64 * 1024)
    assert size_of(device) == 96 * MIB


def test_reconcile_removes_an_orphan_and_reattaches_a_known_volume(xfs_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = xfs_pool
    directory = sat.pool_directory(pool)
    sat.create_volume(pool, VolumeSpec("Orphan", 0, 8 * 1024))
    known = sat.create_volume(pool, VolumeSpec("Known", 0, 8 * 1024))
    LOOPS.detach(known)
    lines = sat.reconcile(pool, {"Known_00000"}, set())
    assert any("Orphan_00000.img" in line for line in lines)
    assert any("re-attached volume Known_00000" in line for line in lines)
    assert sorted(p.name for p in directory.iterdir()) == ["Known_00000.img"]
    assert [Path(d.back_file).name for d in loops_under(directory)] == ["Known_00000.img"]
    assert sat.reconcile(pool, {"Known_00000"}, set()) == []


def test_a_mounted_volume_is_neither_deleted_nor_rolled_back(
    tmp_path: Path, xfs_pool: tuple[Satellite, PoolSpec]
) -> None:
    sat, pool = xfs_pool
    device = sat.create_volume(pool, VolumeSpec("Mounted", 0, 16 * 1024))
    sat.snapshot_volume(pool, "Mounted_00000", "Snap1")
    run(["mkfs.ext4", "-q", "-F", device])
    target = tmp_path / "mounted"
    target.mkdir()
    run(["mount", device, str(target)])
    try:
        with pytest.raises(StorageError, match="in use"):
            sat.delete_volume(pool, "Mounted_00000")
        with pytest.raises(StorageError, match="in use"):
            sat.rollback_volume(pool, "Mounted_00000", "Snap1")
    finally:
        run(["umount", str(target)])
    sat.delete_volume(pool, "Mounted_00000")
    assert loops_under(sat.pool_directory(pool)) == []


def test_file_thin_on_ext4_says_which_filesystems_can_reflink(tmp_path: Path, mounted: Make) -> None:
    pool = PoolSpec("vulcan", "thinpool", "FILE_THIN", mounted("ext4", 64) / "pool")
    sat = Satellite(tmp_path / "state", use_loop=True)
    sat.check_pool(pool)
    assert sat.supports_reflink(pool) is False
    sat.create_volume(pool, VolumeSpec("Data", 0, 8 * 1024))
    with pytest.raises(StorageError) as caught:
        sat.snapshot_volume(pool, "Data_00000", "Snap1")
    text = str(caught.value)
    assert "on ext4" in text and "xfs" in text and "btrfs" in text
    assert sorted(p.name for p in sat.pool_directory(pool).iterdir()) == ["Data_00000.img"]


def test_file_pool_snapshots_by_full_copy_on_ext4(tmp_path: Path, mounted: Make) -> None:
    pool = PoolSpec("vulcan", "filepool", "FILE", mounted("ext4", 64) / "pool")
    sat = Satellite(tmp_path / "state", use_loop=True)
    sat.check_pool(pool)
    device = sat.create_volume(pool, VolumeSpec("Data", 0, 8 * 1024))
    write_synced(device, b"kept")
    sat.snapshot_volume(pool, "Data_00000", "Snap1")
    write_synced(device, b"lost")
    assert sat.rollback_volume(pool, "Data_00000", "Snap1") == device
    assert read(device, 4) == b"kept"

