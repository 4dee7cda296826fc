"""The satellite's promises, with real files in tmp_path and every loop device call scripted."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from linstor_core.controller.loopdev import LoopDevice
from linstor_core.controller.providers.layout import replaced_of
from linstor_core.controller.replies import error_body
from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec
from linstor_core.errors import InvalidInput, StorageError
from linstor_core.runner import next_expected

MIB_KIB = 1024
Call = tuple[object, ...]
Reply = str | list[LoopDevice] | StorageError | None
LIST: Call = ("attached",)


@dataclass
class FakeLoops:
    """Loop devices for unit tests: answers only the calls it was told to expect, in order.

    As with ``FakeRunner``, a call that was not expected next fails the test instead of silently
    succeeding; a ``StorageError`` reply is raised. ``busy`` names the devices ``is_busy``
    reports: a probe that changes nothing, so it is not scripted.
    """

    expected: list[tuple[Call, Reply]] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)

    def expect(self, call: Call, reply: Reply = None) -> "FakeLoops":
        self.expected.append((call, reply))
        return self

    def assert_done(self) -> None:
        if self.expected:
            raise AssertionError(f"loop calls never made: {[call for call, _ in self.expected]}")

    def _answer(self, call: Call) -> Reply:
        return next_expected(self.expected, call, "loop call")

    def attached(self) -> list[LoopDevice]:
        reply = self._answer(LIST)
        assert isinstance(reply, list)
        return reply

    def attach(self, image: Path, *, device: str | None = None, new_file: bool = False) -> str:
        reply = self._answer(attach(image, device=device, new_file=new_file))
        assert isinstance(reply, str)
        return reply

    def detach(self, device: str) -> None:
        self._answer(detach(device))

    def refresh_size(self, device: str) -> None:
        self._answer(refresh_size(device))

    def flush(self, device: str) -> None:
        self._answer(flush(device))

    def is_busy(self, device: str) -> bool:
        return device in self.busy


def attach(path: Path, *, device: str | None = None, new_file: bool = False) -> Call:
    return ("attach", str(path), device, new_file)


def detach(device: str) -> Call:
    return ("detach", device)


def refresh_size(device: str) -> Call:
    return ("refresh_size", device)


def flush(device: str) -> Call:
    return ("flush", device)


def listing(*devices: tuple[str, str]) -> list[LoopDevice]:
    return [LoopDevice(name, back) for name, back in devices]


@pytest.fixture
def loops() -> FakeLoops:
    return FakeLoops()


@pytest.fixture
def pool(tmp_path: Path) -> PoolSpec:
    return PoolSpec("vulcan", "thinpool", "FILE_THIN", tmp_path / "pool")


@pytest.fixture
def sat(tmp_path: Path, loops: FakeLoops, pool: PoolSpec) -> Satellite:
    satellite = Satellite(tmp_path / "state", loops=loops, use_loop=True)
    satellite.check_pool(pool)
    return satellite


def image(pool: PoolSpec, name: str) -> Path:
    assert pool.directory is not None
    return pool.directory / f"{name}.img"


def test_volume_name_is_resource_and_five_digits() -> None:
    assert VolumeSpec("LocalData", 0, 1).volume_name == "LocalData_00000"
    assert VolumeSpec("LocalData", 12, 1).volume_name == "LocalData_00012"


def test_default_pool_directory_is_under_the_node(tmp_path: Path) -> None:
    sat = Satellite(tmp_path, loops=FakeLoops(), use_loop=False)
    spec = PoolSpec("vulcan", "thinpool", "FILE_THIN", None)
    sat.check_pool(spec)
    assert sat.pool_directory(spec) == tmp_path.resolve() / "nodes" / "vulcan" / "pools" / "thinpool"
    assert sat.pool_directory(spec).is_dir()


def test_check_pool_refuses_a_file_as_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    sat = Satellite(tmp_path, loops=FakeLoops(), use_loop=False)
    with pytest.raises(InvalidInput, match="StorDriver/FileDir"):
        sat.check_pool(PoolSpec("vulcan", "thinpool", "FILE_THIN", tmp_path / "file" / "pool"))


def test_unknown_kind_is_invalid_input(sat: Satellite) -> None:
    with pytest.raises(InvalidInput, match="provider kind"):
        sat.check_pool(PoolSpec("vulcan", "lvm", "LVM", None))


def test_capacity_is_the_filesystems_in_kib(sat: Satellite, pool: PoolSpec) -> None:
    free, total = sat.capacity(pool)
    stats = os.statvfs(sat.pool_directory(pool))
    assert total == stats.f_blocks * stats.f_frsize // 1024
    assert 0 < free <= total


def test_an_unreadable_pool_filesystem_is_a_storage_error(sat: Satellite, pool: PoolSpec,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Listings report the pool as broken (StorageError is a LinstorError), not an internal error."""
    def failing(path: object) -> os.statvfs_result:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "statvfs", failing)
    with pytest.raises(StorageError, match="Input/output error"):
        sat.capacity(pool)


def test_create_makes_a_sparse_file_and_a_loop_device(sat: Satellite, loops: FakeLoops, pool: PoolSpec) -> None:
    path = image(pool, "LocalData_00000")
    loops.expect(attach(path, new_file=True), "/dev/loop3")
    assert sat.create_volume(pool, VolumeSpec("LocalData", 0, 150 * MIB_KIB)) == "/dev/loop3"
    assert path.stat().st_size == 150 * 1024 * 1024
    assert path.stat().st_blocks * 512 < 1024 * 1024
    loops.assert_done()


def test_failed_attach_leaves_no_file(sat: Satellite, loops: FakeLoops, pool: PoolSpec) -> None:
    path = image(pool, "LocalData_00000")
    refused = StorageError(["ioctl", "LOOP_CTL_GET_FREE", "/dev/loop-control"], errno.ENODEV, "No such device")
    loops.expect(attach(path, new_file=True), refused)
    with pytest.raises(StorageError):
        sat.create_volume(pool, VolumeSpec("LocalData", 0, MIB_KIB))
    assert list(sat.pool_directory(pool).iterdir()) == []


def test_a_failed_attach_whose_clean_up_fails_too_keeps_the_attach_error(
        sat: Satellite, loops: FakeLoops, pool: PoolSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reply says why the volume could not be made (the attach) and that its file stayed,
    not only the unlink's errno, which would send the operator after the wrong fault."""
    path = image(pool, "LocalData_00000")
    refused = StorageError(["ioctl", "LOOP_CTL_GET_FREE", "/dev/loop-control"], errno.ENODEV, "No such device")
    loops.expect(attach(path, new_file=True), refused)

    unlink = Path.unlink

    def read_only(self: Path, missing_ok: bool = False) -> None:
        if self != path:  # the allocation's temporary file, renamed or removed as usual
            unlink(self, missing_ok)
            return
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(StorageError) as failed:
        sat.create_volume(pool, VolumeSpec("LocalData", 0, MIB_KIB))
    assert failed.value is refused
    notes = getattr(failed.value, "__notes__", [])
    assert len(notes) == 1 and f"removing {path.name} again failed too" in notes[0]
    assert "Read-only file system" in notes[0] and pool.name in notes[0]


def test_without_loops_the_device_is_the_file(tmp_path: Path, pool: PoolSpec) -> None:
    sat = Satellite(tmp_path, loops=FakeLoops(), use_loop=False)
    sat.check_pool(pool)
    path = sat.create_volume(pool, VolumeSpec("LocalData", 0, MIB_KIB))
    assert path == str(image(pool, "LocalData_00000"))
    assert sat.device_path(pool, "LocalData_00000") == path


@pytest.mark.parametrize(
    "vol", [VolumeSpec("../etc", 0, 1), VolumeSpec("all", 0, 1), VolumeSpec("ok_name", -1, 1),
            VolumeSpec("ok_name", 0, 0), VolumeSpec("ok_name", 0, -5)],
)
def test_bad_volumes_are_refused_before_anything_happens(sat: Satellite, pool: PoolSpec, vol: VolumeSpec) -> None:
    with pytest.raises(InvalidInput):
        sat.create_volume(pool, vol)
    assert list(sat.pool_directory(pool).iterdir()) == []


@pytest.mark.parametrize("name", ["../x_00000", "LocalData", "LocalData_0", "a/b_00000", "x.y_00000"])
def test_bad_volume_names_are_refused(sat: Satellite, pool: PoolSpec, name: str) -> None:
    with pytest.raises(InvalidInput, match="name"):
        sat.delete_volume(pool, name)


def test_delete_detaches_only_its_own_loop_and_is_idempotent(
    sat: Satellite, loops: FakeLoops, pool: PoolSpec
) -> None:
    path = image(pool, "LocalData_00000")
    path.write_bytes(b"")
    loops.expect(LIST, listing(("/dev/loop1", "/elsewhere/LocalData_00000.img"), ("/dev/loop3", str(path))))
    loops.expect(detach("/dev/loop3"))
    loops.expect(LIST, listing())
    sat.delete_volume(pool, "LocalData_00000")
    sat.delete_volume(pool, "LocalData_00000")
    assert not path.exists()
    loops.assert_done()


def test_delete_and_rollback_refuse_a_busy_volume(sat: Satellite, loops: FakeLoops, pool: PoolSpec) -> None:
    path = image(pool, "rsc_00000")
    path.write_bytes(b"now")
    image(pool, "rsc_00000.snap.snap1").write_bytes(b"then")
    loops.busy.add("/dev/loop3")
    loops.expect(LIST, listing(("/dev/loop3", str(path))))
    loops.expect(LIST, listing(("/dev/loop3", str(path))))
    with pytest.raises(StorageError, match="in use"):
        sat.delete_volume(pool, "rsc_00000")
    with pytest.raises(StorageError, match="in use"):
        sat.rollback_volume(pool, "rsc_00000", "snap1")
    assert path.read_bytes() == b"now"
    loops.assert_done()


def test_delete_keeps_snapshots(tmp_path: Path) -> None:
    pool = PoolSpec("vulcan", "pool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path, loops=FakeLoops(), use_loop=False)
    sat.check_pool(pool)
    sat.create_volume(pool, VolumeSpec("rsc", 0, MIB_KIB))
    sat.snapshot_volume(pool, "rsc_00000", "snap1")
    sat.delete_volume(pool, "rsc_00000")
    assert [p.name for p in sat.pool_directory(pool).iterdir()] == ["rsc_00000.snap.snap1.img"]


def test_resize_grows_file_and_loop(sat: Satellite, loops: FakeLoops, pool: PoolSpec) -> None:
    path = image(pool, "LocalData_00000")
    loops.expect(attach(path, new_file=True), "/dev/loop3")
    vol = VolumeSpec("LocalData", 0, MIB_KIB)
    sat.create_volume(pool, vol)
    loops.expect(LIST, listing(("/dev/loop3", str(path))))
    loops.expect(refresh_size("/dev/loop3"))
    sat.resize_volume(pool, vol, 3 * MIB_KIB)
    assert path.stat().st_size == 3 * 1024 * 1024
    loops.assert_done()


def test_resize_refuses_to_shrink(sat: Satellite, loops: FakeLoops, pool: PoolSpec) -> None:
    loops.expect(attach(image(pool, "LocalData_00000"), new_file=True), "/dev/loop3")
    sat.create_volume(pool, VolumeSpec("LocalData", 0, 2 * MIB_KIB))
    with pytest.raises(InvalidInput, match="shrinking"):
        sat.resize_volume(pool, "LocalData_00000", MIB_KIB)
    assert image(pool, "LocalData_00000").stat().st_size == 2 * 1024 * 1024
    loops.assert_done()


def test_diskless_pools_store_nothing(tmp_path: Path) -> None:
    sat = Satellite(tmp_path, loops=FakeLoops(), use_loop=True)
    pool = PoolSpec("vulcan", "DfltDisklessStorPool", "DISKLESS", None)
    sat.check_pool(pool)
    vol = VolumeSpec("LocalData", 0, MIB_KIB)
    assert sat.create_volume(pool, vol) == "none"
    assert sat.capacity(pool) == (0, 0)
    assert sat.supports_reflink(pool) is False
    sat.snapshot_volume(pool, vol.volume_name, "snap1")
    assert sat.reconcile(pool, {vol.volume_name}, set()) == []
    sat.delete_volume(pool, vol.volume_name)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def file_pool(tmp_path: Path) -> tuple[Satellite, PoolSpec]:
    """A FILE pool without loops: full copies work on any filesystem."""
    pool = PoolSpec("vulcan", "filepool", "FILE", tmp_path / "filepool")
    sat = Satellite(tmp_path, loops=FakeLoops(), use_loop=False)
    sat.check_pool(pool)
    return sat, pool


def write(path: str, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.write(data)


def read(path: str, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def test_snapshot_rollback_restore_clone_keep_the_data(file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    device = sat.create_volume(pool, VolumeSpec("rsc", 0, MIB_KIB))
    write(device, b"before")
    sat.snapshot_volume(pool, "rsc_00000", "snap1")
    sat.snapshot_volume(pool, "rsc_00000", "snap1")
    write(device, b"after!")
    restored = sat.restore_volume(pool, "rsc_00000", "snap1", VolumeSpec("restored", 0, 2 * MIB_KIB))
    assert read(restored, 6) == b"before" and os.path.getsize(restored) == 2 * 1024 * 1024
    clone = sat.clone_volume(pool, "rsc_00000", VolumeSpec("clone", 0, MIB_KIB))
    assert read(clone, 6) == b"after!"
    assert sat.rollback_volume(pool, "rsc_00000", "snap1") == device
    assert read(device, 6) == b"before"
    sat.commit_rollback(pool, "rsc_00000")
    sat.delete_snapshot(pool, "rsc_00000", "snap1")
    sat.delete_snapshot(pool, "rsc_00000", "snap1")
    assert sorted(p.name for p in sat.pool_directory(pool).iterdir()) == [
        "clone_00000.img", "restored_00000.img", "rsc_00000.img"]


def test_restore_smaller_than_the_snapshot_is_refused(file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    sat.create_volume(pool, VolumeSpec("rsc", 0, 2 * MIB_KIB))
    sat.snapshot_volume(pool, "rsc_00000", "snap1")
    with pytest.raises(InvalidInput, match="smaller"):
        sat.restore_volume(pool, "rsc_00000", "snap1", VolumeSpec("small", 0, MIB_KIB))
    assert not (sat.pool_directory(pool) / "small_00000.img").exists()


def test_a_missing_volume_or_snapshot_file_is_a_storage_error(file_pool: tuple[Satellite, PoolSpec]) -> None:
    """A record's file that is gone is the storage's fault: a server-side error (500), not 400."""
    sat, pool = file_pool
    directory = sat.pool_directory(pool)
    with pytest.raises(StorageError, match="of volume rsc_00000 is missing") as volume:
        sat.snapshot_volume(pool, "rsc_00000", "snap1")
    assert volume.value.returncode == errno.ENOENT
    assert volume.value.correction.startswith(f"check that the directory {directory} of storage pool")
    assert error_body(volume.value, 0)[1][0]["ret_code"] == rc.FAIL_UNKNOWN_ERROR
    sat.create_volume(pool, VolumeSpec("rsc", 0, MIB_KIB))
    with pytest.raises(StorageError, match="snapshot snap1 of volume rsc_00000 is missing"):
        sat.rollback_volume(pool, "rsc_00000", "snap1")


def test_undoing_a_refused_rollback_never_puts_back_an_earlier_rollbacks_leftover(
        file_pool: tuple[Satellite, PoolSpec]) -> None:
    """The data an earlier rollback replaced stays when its clean-up failed; a later rollback
    refused before it kept anything of its own must leave the volume as it is when undone."""
    sat, pool = file_pool
    device = sat.create_volume(pool, VolumeSpec("rsc", 0, MIB_KIB))
    leftover = replaced_of(sat.pool_directory(pool) / "rsc_00000.img")
    leftover.write_bytes(b"ancient")
    write(device, b"current")
    with pytest.raises(StorageError, match="snapshot snap1 of volume rsc_00000 is missing"):
        sat.rollback_volume(pool, "rsc_00000", "snap1")
    assert sat.undo_rollback(pool, "rsc_00000") == device
    assert read(device, 7) == b"current" and not leftover.exists()


def test_failed_copy_leaves_no_temp_file(sat: Satellite, loops: FakeLoops, pool: PoolSpec,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from linstor_core.controller.providers import file_thin

    path = image(pool, "rsc_00000")
    path.write_bytes(b"")

    def refuse(source: Path, target: Path) -> None:
        target.write_bytes(b"partial")
        raise StorageError(["ioctl", "FICLONE"], 95, "/pool is on ext4, which cannot make reflink copies")

    monkeypatch.setattr(file_thin, "reflink", refuse)
    loops.expect(LIST, listing())
    with pytest.raises(StorageError, match="ext4"):
        sat.snapshot_volume(pool, "rsc_00000", "snap1")
    assert [p.name for p in sat.pool_directory(pool).iterdir()] == ["rsc_00000.img"]


def test_snapshot_flushes_the_loop_device_first(tmp_path: Path, loops: FakeLoops) -> None:
    pool = PoolSpec("vulcan", "filepool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path, loops=loops, use_loop=True)
    sat.check_pool(pool)
    path = image(pool, "rsc_00000")
    path.write_bytes(b"data")
    loops.expect(LIST, listing(("/dev/loop3", str(path))))
    loops.expect(flush("/dev/loop3"))
    sat.snapshot_volume(pool, "rsc_00000", "snap1")
    assert image(pool, "rsc_00000.snap.snap1").read_bytes() == b"data"
    loops.assert_done()


def test_restore_attaches_its_new_file_without_a_look_up(tmp_path: Path, loops: FakeLoops) -> None:
    pool = PoolSpec("vulcan", "filepool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path, loops=loops, use_loop=True)
    sat.check_pool(pool)
    image(pool, "rsc_00000").write_bytes(b"now")
    image(pool, "rsc_00000.snap.snap1").write_bytes(b"then")
    loops.expect(attach(image(pool, "restored_00000"), new_file=True), "/dev/loop4")
    assert sat.restore_volume(pool, "rsc_00000", "snap1", VolumeSpec("restored", 0, 1)) == "/dev/loop4"
    loops.assert_done()


def rollback_setup(tmp_path: Path, loops: FakeLoops) -> tuple[Satellite, PoolSpec, Path]:
    pool = PoolSpec("vulcan", "filepool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path, loops=loops, use_loop=True)
    sat.check_pool(pool)
    path = image(pool, "rsc_00000")
    path.write_bytes(b"now")
    image(pool, "rsc_00000.snap.snap1").write_bytes(b"then")
    loops.expect(LIST, listing(("/dev/loop3", str(path))))
    loops.expect(detach("/dev/loop3"))
    return sat, pool, path


def test_rollback_repoints_the_loop_device_at_the_same_path(tmp_path: Path, loops: FakeLoops) -> None:
    sat, pool, path = rollback_setup(tmp_path, loops)
    loops.expect(attach(path, device="/dev/loop3"), "/dev/loop3")
    loops.expect(flush("/dev/loop3"))
    assert sat.rollback_volume(pool, "rsc_00000", "snap1") == "/dev/loop3"
    assert path.read_bytes() == b"then"
    loops.assert_done()


def test_rollback_reports_a_new_path_when_the_old_one_was_taken(
    tmp_path: Path, loops: FakeLoops, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linstor_core.controller import satellite

    monkeypatch.setattr(satellite, "_REATTACH_PAUSE", 0)
    sat, pool, path = rollback_setup(tmp_path, loops)
    taken = StorageError(["ioctl", "LOOP_CONFIGURE", "/dev/loop3", str(path)], errno.EBUSY, "Device or resource busy")
    for _ in range(satellite._REATTACH_TRIES):
        loops.expect(attach(path, device="/dev/loop3"), taken)
    loops.expect(attach(path), "/dev/loop9")
    assert sat.rollback_volume(pool, "rsc_00000", "snap1") == "/dev/loop9"
    loops.assert_done()


def test_reconcile_removes_leftovers_and_reattaches(sat: Satellite, loops: FakeLoops, pool: PoolSpec) -> None:
    directory = sat.pool_directory(pool)
    for name in ["gone_00000.img", "known_00000.snap.old.img", "new_00000.img"]:
        sat.made_files.made(directory / name)
    for name in ["known_00000.img", "gone_00000.img", "known_00000.snap.s1.img", "known_00000.snap.old.img",
                 "new_00000.img.tmp", "notes.txt"]:
        (directory / name).write_bytes(b"")
    known, gone = str(directory / "known_00000.img"), str(directory / "gone_00000.img")
    loops.expect(LIST, [
        LoopDevice("/dev/loop1", gone),
        LoopDevice("/dev/loop2", known, deleted=True),
        LoopDevice("/dev/loop5", "/elsewhere/known_00000.img"),
    ])
    loops.expect(detach("/dev/loop1"))
    loops.expect(detach("/dev/loop2"))
    loops.expect(LIST, listing(("/dev/loop5", "/elsewhere/known_00000.img")))
    loops.expect(attach(Path(known)), "/dev/loop1")
    lines = sat.reconcile(pool, {"known_00000", "lost_00000"}, {("known_00000", "s1")})
    loops.assert_done()
    assert sorted(p.name for p in directory.iterdir()) == ["known_00000.img", "known_00000.snap.s1.img", "notes.txt"]
    text = "\n".join(lines)
    for expected in ["/dev/loop1 of unknown file", "/dev/loop2 of deleted file", "temp file",
                     "orphan volume file", "orphan snapshot file", "re-attached volume known_00000 as /dev/loop1",
                     "lost_00000: backing file"]:
        assert expected in text


def test_reconcile_detaches_a_second_loop_of_the_same_volume(
    sat: Satellite, loops: FakeLoops, pool: PoolSpec
) -> None:
    path = image(pool, "known_00000")
    path.write_bytes(b"")
    loops.expect(LIST, listing(("/dev/loop1", str(path)), ("/dev/loop2", str(path))))
    loops.expect(detach("/dev/loop2"))
    loops.expect(LIST, listing(("/dev/loop1", str(path))))
    assert sat.reconcile(pool, {"known_00000"}, set()) == [f"detached loop device /dev/loop2 of duplicate {path}"]
    loops.assert_done()


def test_reconcile_without_loops_only_touches_files(file_pool: tuple[Satellite, PoolSpec]) -> None:
    sat, pool = file_pool
    sat.create_volume(pool, VolumeSpec("known", 0, MIB_KIB))
    sat.create_volume(pool, VolumeSpec("orphan", 0, MIB_KIB))
    lines = sat.reconcile(pool, {"known_00000"}, set())
    assert lines == [f"removed orphan volume file {sat.pool_directory(pool) / 'orphan_00000.img'}"]
    assert sat.reconcile(pool, {"known_00000"}, set()) == []


def test_reconcile_of_a_missing_directory_reports_each_volume(tmp_path: Path) -> None:
    sat = Satellite(tmp_path, loops=FakeLoops(), use_loop=True)
    pool = PoolSpec("vulcan", "gone", "FILE_THIN", tmp_path / "gone")
    assert sat.reconcile(pool, {"a_00000"}, set()) == [f"volume a_00000: pool directory {tmp_path / 'gone'} is missing"]
