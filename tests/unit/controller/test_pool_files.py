"""Which files in a pool directory are the controller's (``providers/layout.py``): start-up
removes only those, and an operator's files, even ones named like a volume, are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core.controller.loopdev import LoopDevice
from linstor_core.controller.providers.layout import MadeFiles, PoolLayout, is_ours
from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec
from test_satellite import LIST, FakeLoops, detach

MIB_KIB = 1024
FOREIGN = ["operator-notes.tmp", "backup_00001.img", "backup_00001.img.tmp",
           "backup_00001.snap.s1.img", "notes.txt", ".reflink-probe-x.tmp"]


@pytest.fixture
def layout(tmp_path: Path) -> PoolLayout:
    directory = tmp_path / "pool"
    directory.mkdir()
    return PoolLayout(directory)


def touch(layout: PoolLayout, *names: str) -> None:
    for name in names:
        (layout.directory / name).write_bytes(b"x")


def test_only_files_a_record_knows_or_the_satellite_made_are_ours() -> None:
    files = {"vm1_00000.img", "vm1_00000.snap.s1.img"}
    for name in ["vm1_00000.img", "vm1_00000.img.tmp", "vm1_00000.snap.s1.img.tmp",
                 ".reflink-probe-ab_c1234.tmp", ".reflink-probe-ab_c1234.tmp.copy.tmp"]:
        assert is_ours(name, files), name
    for name in FOREIGN + ["vm2_00000.img", "vm1_00000.img.bak"]:
        assert not is_ours(name, files), name


def test_strays_are_made_orphans_and_temps_of_ours_never_an_operators_file(layout: PoolLayout) -> None:
    touch(layout, *FOREIGN, "known_00000.img", "known_00000.img.tmp", "orphan_00000.img",
          "orphan_00000.snap.s1.img", "known_00000.snap.gone.img.tmp", ".reflink-probe-ab_c1234.tmp")
    made = {"orphan_00000.img", "orphan_00000.snap.s1.img", "known_00000.snap.gone.img"}
    found = {(what, path.name) for what, path in layout.strays({"known_00000"}, set(), made)}
    assert found == {("temp file", "known_00000.img.tmp"), ("orphan volume file", "orphan_00000.img"),
                     ("orphan snapshot file", "orphan_00000.snap.s1.img"),
                     ("temp file", "known_00000.snap.gone.img.tmp"),
                     ("temp file", ".reflink-probe-ab_c1234.tmp")}


def test_made_files_lists_what_was_made_and_not_removed(tmp_path: Path) -> None:
    log = MadeFiles(tmp_path / "state" / "made-files.jsonl")
    pool, other = tmp_path / "pool", tmp_path / "other"
    assert log.made_in(pool) == set()
    log.made(pool / "a_00000.img")
    log.made(pool / "b_00000.img")
    log.made(other / "c_00000.img")
    log.removed(pool / "b_00000.img")
    with pytest.raises(OSError), log.making(pool / "d_00000.img"):
        raise OSError("no space")
    assert log.made_in(pool) == {"a_00000.img"}
    assert log.made_in(other) == {"c_00000.img"}


def test_a_line_a_crash_cut_short_is_skipped(tmp_path: Path) -> None:
    log = MadeFiles(tmp_path / "made-files.jsonl")
    log.made(tmp_path / "a_00000.img")
    with open(log.path, "a") as handle:
        handle.write('["+", "/pool/b_000')
    assert log.made_in(tmp_path) == {"a_00000.img"}
    log.made(tmp_path / "c_00000.img")  # the entry after the cut one is still read
    assert log.made_in(tmp_path) == {"a_00000.img", "c_00000.img"}


def test_a_long_log_keeps_only_files_that_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = MadeFiles(tmp_path / "made-files.jsonl")
    monkeypatch.setattr(MadeFiles, "COMPACT_BYTES", 200)
    (tmp_path / "kept_00000.img").write_bytes(b"")
    log.made(tmp_path / "kept_00000.img")
    for number in range(10):
        log.made(tmp_path / f"gone_{number:05d}.img")
    assert log.path.stat().st_size < 400
    assert log.made_in(tmp_path) >= {"kept_00000.img"}
    assert not {f"gone_{n:05d}.img" for n in range(8)} & log.made_in(tmp_path)


def test_reconcile_removes_the_satellites_orphans_and_leaves_foreign_files(tmp_path: Path) -> None:
    pool = PoolSpec("alpha", "pool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", use_loop=False)
    sat.check_pool(pool)
    sat.create_volume(pool, VolumeSpec("known", 0, MIB_KIB))
    sat.create_volume(pool, VolumeSpec("orphan", 0, MIB_KIB))
    directory = sat.pool_directory(pool)
    for name in FOREIGN:
        (directory / name).write_text("keep me")
    lines = sat.reconcile(pool, {"known_00000"}, set())
    assert lines == [f"removed orphan volume file {directory / 'orphan_00000.img'}"]
    assert sorted(p.name for p in directory.iterdir()) == sorted(FOREIGN + ["known_00000.img"])
    assert sat.made_files.made_in(directory) == {"known_00000.img"}


def test_reconcile_leaves_a_loop_device_over_a_foreign_file_attached(tmp_path: Path) -> None:
    loops = FakeLoops()
    pool = PoolSpec("alpha", "pool", "FILE_THIN", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", loops=loops, use_loop=True)
    sat.check_pool(pool)
    directory = sat.pool_directory(pool)
    (directory / "backup_00001.img").write_text("someone else's image")
    sat.made_files.made(directory / "orphan_00000.img")
    (directory / "orphan_00000.img").write_bytes(b"")
    loops.expect(LIST, [LoopDevice("/dev/loop1", str(directory / "backup_00001.img")),
                        LoopDevice("/dev/loop2", str(directory / "orphan_00000.img"))])
    loops.expect(detach("/dev/loop2"))
    loops.expect(LIST, [LoopDevice("/dev/loop1", str(directory / "backup_00001.img"))])
    lines = sat.reconcile(pool, set(), set())
    loops.assert_done()
    assert lines == [f"detached loop device /dev/loop2 of unknown file {directory / 'orphan_00000.img'}",
                     f"removed orphan volume file {directory / 'orphan_00000.img'}"]
    assert (directory / "backup_00001.img").exists()
