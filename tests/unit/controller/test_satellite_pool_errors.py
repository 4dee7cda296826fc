"""A pool's filesystem failing under the satellite (ENOSPC, EIO) is a ``StorageError`` that names
the pool and the fix, never a bare OSError that the controller could only call internal; a grow
that fails leaves the volume's size, and ``undo_grow`` cuts back one that succeeded."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

import pytest

from linstor_core import retcodes as rc
from linstor_core.controller.providers import layout
from linstor_core.controller.replies import error_body
from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec
from linstor_core.errors import StorageError
from test_satellite import LIST, FakeLoops, attach, listing, refresh_size

MIB_KIB = 1024


@pytest.fixture
def file_pool(tmp_path: Path) -> tuple[Satellite, PoolSpec]:
    pool = PoolSpec("bravo", "pool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", use_loop=False)
    sat.check_pool(pool)
    return sat, pool


def full(*_: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_pool_on_create_names_the_pool_and_says_free_space(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    sat, pool = file_pool
    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(StorageError) as caught:
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    error = caught.value
    assert error.returncode == errno.ENOSPC
    assert "No space left on device (storage pool 'pool' on node 'bravo')" in error.message
    assert error.correction.startswith(f"free space on the filesystem of {sat.pool_directory(pool)}")
    assert list(sat.pool_directory(pool).iterdir()) == []


def test_a_full_pool_on_grow_and_copy_is_a_storage_error(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    sat, pool = file_pool
    sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(StorageError, match="storage pool 'pool' on node 'bravo'") as grown:
        sat.resize_volume(pool, "vm1_00000", 2 * MIB_KIB)
    assert grown.value.argv[0] == "grow"
    monkeypatch.undo()
    monkeypatch.setattr("shutil.copyfileobj", full)
    with pytest.raises(StorageError, match="free space") as copied:
        sat.snapshot_volume(pool, "vm1_00000", "s1")
    assert copied.value.argv[0] == "copy"
    assert sorted(p.name for p in sat.pool_directory(pool).iterdir()) == ["vm1_00000.img"]


def test_another_os_error_says_which_directory_to_check(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    sat, pool = file_pool

    def broken(*_: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "posix_fallocate", broken)
    with pytest.raises(StorageError, match="Input/output error") as caught:
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert caught.value.correction == (f"check the directory {sat.pool_directory(pool)} of "
                                       "storage pool 'pool' on node 'bravo'")


def test_a_grow_that_fails_midway_leaves_the_old_size(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    """posix_fallocate may extend a file before it runs out of room; the volume keeps its size."""
    sat, pool = file_pool
    sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))

    def half(fd: int, offset: int, length: int) -> None:
        os.ftruncate(fd, length // 2 + MIB_KIB * 1024)
        full()

    monkeypatch.setattr(os, "posix_fallocate", half)
    with pytest.raises(StorageError, match="No space left"):
        sat.resize_volume(pool, "vm1_00000", 4 * MIB_KIB)
    assert (sat.pool_directory(pool) / "vm1_00000.img").stat().st_size == MIB_KIB * 1024


def looped_volume(tmp_path: Path) -> tuple[FakeLoops, PoolSpec, Satellite, Path]:
    """A 1 MiB FILE_THIN volume vm1_00000 on alpha behind /dev/loop3: the loops, pool, satellite
    and its image file."""
    loops = FakeLoops()
    pool = PoolSpec("alpha", "pool", "FILE_THIN", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", loops=loops, use_loop=True)
    sat.check_pool(pool)
    path = sat.pool_directory(pool) / "vm1_00000.img"
    loops.expect(attach(path, new_file=True), "/dev/loop3")
    sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    return loops, pool, sat, path


def test_undo_grow_cuts_the_volume_and_its_loop_device_back(tmp_path: Path) -> None:
    loops, pool, sat, path = looped_volume(tmp_path)
    for _ in range(2):
        loops.expect(LIST, listing(("/dev/loop3", str(path)))).expect(refresh_size("/dev/loop3"))
    sat.resize_volume(pool, "vm1_00000", 3 * MIB_KIB)
    sat.undo_grow(pool, "vm1_00000", MIB_KIB)
    loops.assert_done()
    assert path.stat().st_size == MIB_KIB * 1024


def test_a_full_state_disk_is_a_storage_error_not_an_internal_one(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    """made-files.jsonl, noted before a volume is made, cannot be written: the client hears
    where to free space (a 500 FAIL_UNKNOWN_ERROR), and nothing was made."""
    sat, pool = file_pool
    monkeypatch.setattr(layout, "open_append", full)
    with pytest.raises(StorageError) as caught:
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert caught.value.correction == (f"free space on the filesystem of {sat.state_dir} (the "
                                       "controller's state) or grow it, then try again")
    status, body = error_body(caught.value, 0)
    assert (status, body[0]["ret_code"]) == (500, rc.FAIL_UNKNOWN_ERROR)
    assert list(sat.pool_directory(pool).iterdir()) == []


def test_a_failing_note_after_a_failed_create_does_not_hide_why_it_failed(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's I/O error is what the client hears; the state disk that filled up meanwhile
    is a note on it."""
    sat, pool = file_pool
    appends = []
    real_open_append = layout.open_append

    def full_after_one(path: Path) -> BinaryIO:
        appends.append(path)
        if len(appends) > 1:
            full()
        return real_open_append(path)

    def broken(*_: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(layout, "open_append", full_after_one)
    monkeypatch.setattr(os, "posix_fallocate", broken)
    with pytest.raises(StorageError, match="Input/output error") as caught:
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert caught.value.argv[0] == "allocate"
    image = sat.pool_directory(pool) / "vm1_00000.img"
    assert caught.value.__notes__ == [
        f"noting {image} as removed failed too: command note failed with exit code "
        f"{errno.ENOSPC}: No space left on device (the controller's state); cause: note {image} "
        f"removed in {sat.made_files.path}; correction: free space on the filesystem of "
        f"{sat.state_dir} (the controller's state) or grow it, then try again"]


def test_a_grow_whose_loop_device_cannot_see_it_is_cut_back(tmp_path: Path) -> None:
    """The file grew, LOOP_SET_CAPACITY failed: the replica keeps the size the others have."""
    loops, pool, sat, path = looped_volume(tmp_path)
    refused = StorageError(["ioctl", "LOOP_SET_CAPACITY", "/dev/loop3"], errno.EIO, "Input/output error")
    loops.expect(LIST, listing(("/dev/loop3", str(path)))).expect(refresh_size("/dev/loop3"), refused)
    loops.expect(LIST, listing(("/dev/loop3", str(path)))).expect(refresh_size("/dev/loop3"))
    with pytest.raises(StorageError, match="Input/output error"):
        sat.resize_volume(pool, "vm1_00000", 3 * MIB_KIB)
    loops.assert_done()
    assert path.stat().st_size == MIB_KIB * 1024


def dir_fsync_fails_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool directory's fsync after ``staged``'s rename fails once (EIO)."""
    real_fsync = os.fsync
    failed = []

    def fsync(fd: int) -> None:
        if not failed and stat.S_ISDIR(os.fstat(fd).st_mode):
            failed.append(fd)
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_create_that_fails_after_its_rename_leaves_nothing_and_can_be_retried(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    sat, pool = file_pool
    dir_fsync_fails_once(monkeypatch)
    with pytest.raises(StorageError, match="Input/output error"):
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    directory = sat.pool_directory(pool)
    assert list(directory.iterdir()) == [] and sat.made_files.made_in(directory) == set()
    sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert [p.name for p in directory.iterdir()] == ["vm1_00000.img"]


def test_a_file_the_failed_create_cannot_remove_stays_the_controllers(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    """So a retry replaces it, and start-up would remove it, instead of refusing it for good."""
    sat, pool = file_pool
    target = sat.pool_directory(pool) / "vm1_00000.img"
    real_unlink = Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if path == target:
            raise OSError(errno.EIO, "Input/output error")
        real_unlink(path, missing_ok=missing_ok)

    dir_fsync_fails_once(monkeypatch)
    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(StorageError) as caught:
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    monkeypatch.undo()
    assert caught.value.argv[0] == "allocate"
    assert caught.value.__notes__[0].startswith(f"removing {target} failed too: command unlink failed")
    assert sat.made_files.made_in(target.parent) == {target.name}
    sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert [p.name for p in target.parent.iterdir()] == ["vm1_00000.img"]


def test_a_grow_is_on_stable_storage_before_it_returns(
        file_pool: tuple[Satellite, PoolSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller commits the new size next: a power cut must not take the grow back."""
    sat, pool = file_pool
    sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    image = sat.pool_directory(pool) / "vm1_00000.img"
    real_fsync = os.fsync
    synced = []

    def fsync(fd: int) -> None:
        synced.append((os.fstat(fd).st_ino, os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sat.resize_volume(pool, "vm1_00000", 2 * MIB_KIB)
    assert (image.stat().st_ino, 2 * MIB_KIB * 1024) in synced
