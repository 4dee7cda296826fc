"""A rollback that fails on one replica is undone on the replicas already switched.

The request's rollback then drops its record, so nothing replays it later over new writes; the
start-up one (finishing a rollback a crash cut off) keeps it for the next start. The controller
runs on real FILE files in tmp_path (no loop devices; the loop calls of the undo are checked
with the scripted ``FakeLoops``); a replica's failure is injected by a satellite subclass.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from linstor_core.controller.core import Controller
from linstor_core.controller.ops import definitions, nodes, resources, snapshots
from linstor_core.controller.satellite import PoolSpec, Satellite
from linstor_core.errors import ApiError, StorageError
from test_satellite import LIST, FakeLoops, attach, detach, flush, listing
from test_satellite_pool_errors import dir_fsync_fails_once

NODES = ("alpha", "bravo")


class Full(Satellite):
    """Bravo's pool is full: its rollback fails as a full FILE pool does."""

    def rollback_volume(self, pool: PoolSpec, vol_name: str, snapshot: str) -> str:
        if pool.node == "bravo":
            raise StorageError(["copy", vol_name], errno.ENOSPC, "No space left on device",
                               correction="free space")
        return super().rollback_volume(pool, vol_name, snapshot)


class FullAndStuck(Full):
    """As ``Full``, and alpha's data cannot be put back either."""

    def undo_rollback(self, pool: PoolSpec, vol_name: str) -> str:
        raise StorageError(["rename", vol_name], errno.EIO, "Input/output error")


def controller(tmp_path: Path, satellite: type[Satellite] = Satellite) -> Controller:
    state = tmp_path / "state"
    ctl = Controller(state, satellite=satellite(state, use_loop=False), drbd_loaded=False)
    ctl.open()
    return ctl


def image(tmp_path: Path, node: str, name: str = "vm1_00000.img") -> Path:
    return tmp_path / node / name


def write_all(tmp_path: Path, data: bytes) -> None:
    for node in NODES:
        with open(image(tmp_path, node), "r+b") as handle:
            handle.write(data)


def heads(tmp_path: Path) -> dict[str, bytes]:
    return {node: image(tmp_path, node).read_bytes()[:8] for node in NODES}


def deploy_vm1(ctl: Controller, tmp_path: Path, kind: str) -> None:
    """vm1 with one 1 MiB volume on alpha and bravo, each in a pool of ``kind``."""
    with ctl.change(0) as change:
        for node in NODES:
            nodes.create_node(ctl, change, node, "SATELLITE", "10.0.0.1", {})
            nodes.create_pool(ctl, change, node, "pool", kind, {"StorDriver/FileDir": str(tmp_path / node)})
        definitions.create_rd(ctl, change, "vm1", layers=["STORAGE"])
        definitions.create_vds(ctl, change, "vm1", [1024])
        resources.create_many(ctl, change, "vm1", [(n, "pool", False) for n in NODES])


@pytest.fixture
def snapped(tmp_path: Path) -> Path:
    """vm1 on alpha and bravo (FILE) holding "snapshot" in s1 and "newdata!" now."""
    ctl = controller(tmp_path)
    try:
        deploy_vm1(ctl, tmp_path, "FILE")
        write_all(tmp_path, b"snapshot")
        with ctl.change(rc.MASK_SNAPSHOT) as change:
            snapshots.create_snapshot(ctl, change, "vm1", "s1", [])
        write_all(tmp_path, b"newdata!")
    finally:
        ctl.close()
    return tmp_path


def pending(ctl: Controller) -> list[str]:
    with ctl.read() as repo:
        return snapshots.pending_rollbacks(repo)


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for node in NODES for p in (tmp_path / node).iterdir() if p.suffix == ".tmp")


def test_a_failed_rollback_request_is_undone_and_forgotten(snapped: Path) -> None:
    ctl = controller(snapped, Full)
    try:
        with pytest.raises(ApiError) as caught, ctl.change(rc.MASK_SNAPSHOT) as change:
            snapshots.rollback(ctl, change, "vm1", "s1")
        assert pending(ctl) == []
    finally:
        ctl.close()
    reply = caught.value.replies[0]
    assert reply.message == ("Rollback of 'vm1' to 's1' failed: command copy failed with exit "
                             "code 28: No space left on device")
    assert reply.correction == ("Repeat the rollback when the cause is fixed (free space); every "
                                "replica was put back as it was, and nothing is finished later.")
    assert heads(snapped) == {"alpha": b"newdata!", "bravo": b"newdata!"}
    assert leftovers(snapped) == []


def test_a_replica_that_cannot_be_put_back_is_named_and_the_record_still_dropped(snapped: Path) -> None:
    ctl = controller(snapped, FullAndStuck)
    try:
        with pytest.raises(ApiError) as caught, ctl.change(rc.MASK_SNAPSHOT) as change:
            snapshots.rollback(ctl, change, "vm1", "s1")
        assert pending(ctl) == []
    finally:
        ctl.close()
    reply = caught.value.replies[0]
    assert "putting back failed on some replicas (details)" in reply.correction
    assert ("putting back the data of vm1_00000 on alpha failed too: command rename failed "
            "with exit code 5") in reply.details


def test_a_start_up_finish_that_fails_is_undone_and_dropped(snapped: Path) -> None:
    """The disk is served as it is afterwards: finishing it at a later start would overwrite
    what is written to it meanwhile."""
    ctl = controller(snapped, Full)
    try:
        with ctl.store.write() as tx:
            tx.run("INSERT INTO rollbacks (rd, snapshot) VALUES ('vm1', 's1')")
        with pytest.raises(StorageError, match="No space left"):
            snapshots.finish_rollback(ctl, "vm1")
        assert pending(ctl) == []
    finally:
        ctl.close()
    assert heads(snapped) == {"alpha": b"newdata!", "bravo": b"newdata!"}
    assert leftovers(snapped) == []


def test_a_rollback_that_succeeds_keeps_no_replaced_data(snapped: Path) -> None:
    ctl = controller(snapped)
    try:
        with ctl.change(rc.MASK_SNAPSHOT) as change:
            snapshots.rollback(ctl, change, "vm1", "s1")
        assert pending(ctl) == []
    finally:
        ctl.close()
    assert heads(snapped) == {"alpha": b"snapshot", "bravo": b"snapshot"}
    assert leftovers(snapped) == []


def test_undo_puts_the_old_data_back_behind_the_same_loop_device(tmp_path: Path) -> None:
    loops = FakeLoops()
    pool = PoolSpec("alpha", "pool", "FILE", tmp_path / "pool")
    sat = Satellite(tmp_path / "state", loops=loops, use_loop=True)
    sat.check_pool(pool)
    path = sat.pool_directory(pool) / "rsc_00000.img"
    path.write_bytes(b"now")
    (sat.pool_directory(pool) / "rsc_00000.snap.s1.img").write_bytes(b"then")
    for _ in range(2):  # the rollback, then the undo: each re-points /dev/loop3
        loops.expect(LIST, listing(("/dev/loop3", str(path))))
        loops.expect(detach("/dev/loop3"))
        loops.expect(attach(path, device="/dev/loop3"), "/dev/loop3").expect(flush("/dev/loop3"))
    assert sat.rollback_volume(pool, "rsc_00000", "s1") == "/dev/loop3"
    assert path.read_bytes() == b"then"
    assert sat.undo_rollback(pool, "rsc_00000") == "/dev/loop3"
    loops.assert_done()
    assert path.read_bytes() == b"now"
    assert sorted(p.name for p in sat.pool_directory(pool).iterdir()) == ["rsc_00000.img",
                                                                          "rsc_00000.snap.s1.img"]


def test_a_switch_that_fails_after_its_rename_puts_the_data_back(
        snapped: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The directory's fsync fails once the snapshot's copy was renamed over alpha's volume:
    the data it replaced, kept only in the ``.replaced.tmp`` link, is what alpha gets back."""
    ctl = controller(snapped)
    try:
        dir_fsync_fails_once(monkeypatch)
        with pytest.raises(ApiError) as caught, ctl.change(rc.MASK_SNAPSHOT) as change:
            snapshots.rollback(ctl, change, "vm1", "s1")
        monkeypatch.undo()
    finally:
        ctl.close()
    reply = caught.value.replies[0]
    assert "Input/output error (storage pool 'pool' on node 'alpha')" in reply.message
    assert "every replica was put back as it was" in reply.correction
    assert heads(snapped) == {"alpha": b"newdata!", "bravo": b"newdata!"}
    assert leftovers(snapped) == []
