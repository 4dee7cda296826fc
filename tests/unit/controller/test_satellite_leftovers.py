"""A new volume or snapshot never takes over a leftover file of its name (a clean-up that failed):
its bytes belong to no record, so they are replaced, never shown to the new owner. A file in the
way that the satellite did not make is someone else's: refused, and kept."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from linstor_core.controller.loopdev import LoopDevice
from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec
from linstor_core.errors import StorageError
from test_satellite import LIST, FakeLoops, attach, detach, listing

MIB_KIB = 1024
OLD = b"OLDSECRET"


@pytest.fixture
def file_pool(tmp_path: Path) -> tuple[Satellite, PoolSpec]:
    """A FILE pool without loop devices: the device is the file, so reads see the file."""
    pool = PoolSpec("alpha", "pool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", use_loop=False)
    sat.check_pool(pool)
    return sat, pool


def leftover(sat: Satellite, pool: PoolSpec, name: str, size_kib: int = MIB_KIB, *,
             made: bool = True) -> Path:
    """A file ``name`` holding ``OLD``: one the satellite made (noted as such) whose removal
    failed, or with ``made=False`` someone else's."""
    path = sat.pool_directory(pool) / name
    if made:
        sat.made_files.made(path)
    with open(path, "wb") as handle:
        handle.write(OLD)
        handle.truncate(size_kib * 1024)
    return path


def head(path: str | Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(len(OLD))


def test_create_over_a_leftover_of_the_same_size_makes_a_fresh_volume(
        file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    leftover(sat, pool, "vm1_00000.img")
    device = sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert head(device) == bytes(len(OLD))


def test_create_over_a_leftover_of_another_size_makes_it_the_size_asked(
        file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    leftover(sat, pool, "vm1_00000.img", 4 * MIB_KIB)
    device = sat.create_volume(pool, VolumeSpec("vm1", 0, 2 * MIB_KIB))
    assert Path(device).stat().st_size == 2 * MIB_KIB * 1024
    assert head(device) == bytes(len(OLD))


def test_snapshot_over_a_leftover_holds_the_volumes_data(file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    device = sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    with open(device, "r+b") as handle:
        handle.write(b"NEWDATA!!")
    snapshot = leftover(sat, pool, "vm1_00000.snap.vzdump.img")
    sat.snapshot_volume(pool, "vm1_00000", "vzdump")
    assert head(snapshot) == b"NEWDATA!!"


def test_restore_and_clone_over_leftovers_copy_their_source(file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    device = sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    with open(device, "r+b") as handle:
        handle.write(b"NEWDATA!!")
    sat.snapshot_volume(pool, "vm1_00000", "s1")
    leftover(sat, pool, "restored_00000.img")
    leftover(sat, pool, "clone_00000.img")
    assert head(sat.restore_volume(pool, "vm1_00000", "s1", VolumeSpec("restored", 0, MIB_KIB))) == b"NEWDATA!!"
    assert head(sat.clone_volume(pool, "vm1_00000", VolumeSpec("clone", 0, MIB_KIB))) == b"NEWDATA!!"


def test_a_leftovers_loop_device_is_detached_before_the_new_file_is_attached(tmp_path: Path) -> None:
    loops = FakeLoops()
    pool = PoolSpec("alpha", "pool", "FILE_THIN", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", loops=loops, use_loop=True)
    sat.check_pool(pool)
    path = leftover(sat, pool, "vm1_00000.img")
    loops.expect(LIST, listing(("/dev/loop3", str(path))))
    loops.expect(detach("/dev/loop3"))
    loops.expect(attach(path, new_file=True), "/dev/loop4")
    assert sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB)) == "/dev/loop4"
    loops.assert_done()
    assert head(path) == bytes(len(OLD))


def test_a_leftover_in_use_is_refused_and_kept(tmp_path: Path) -> None:
    loops = FakeLoops(busy={"/dev/loop3"})
    pool = PoolSpec("alpha", "pool", "FILE_THIN", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", loops=loops, use_loop=True)
    sat.check_pool(pool)
    path = leftover(sat, pool, "vm1_00000.img")
    loops.expect(LIST, [LoopDevice("/dev/loop3", str(path))])
    with pytest.raises(StorageError, match="leftover no record owns.*in use") as caught:
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert caught.value.returncode == errno.EBUSY
    loops.assert_done()
    assert head(path) == OLD


def test_a_file_in_the_way_the_satellite_did_not_make_is_refused_and_kept(
        file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    theirs = leftover(sat, pool, "vm1_00000.img", made=False)
    with pytest.raises(StorageError, match="the controller did not make it") as caught:
        sat.create_volume(pool, VolumeSpec("vm1", 0, MIB_KIB))
    assert caught.value.returncode == errno.EEXIST
    assert "move it out of the directory of storage pool 'pool' on node 'alpha'" == caught.value.correction
    assert head(theirs) == OLD
