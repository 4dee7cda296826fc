"""Start-up reconciliation keeps going past a rollback the OS refuses (a full disk).

A crash-cut rollback is finished at start-up; one that fails again must be reported and
dropped, not keep the controller (and every other rollback and pool) from starting, and not
be finished at a later start over what was written to the disk in between. The
OS error is injected by a satellite whose pool fills up during one definition's rollback;
everything else is real files in tmp_path.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from linstor_core import retcodes as rc
from linstor_core.controller.core import Controller
from linstor_core.controller.ops import definitions, nodes, resources, snapshots
from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec


class FillsUp(Satellite):
    """A satellite whose pool is full while it copies a snapshot of definition ``full``."""

    def rollback_volume(self, pool: PoolSpec, vol_name: str, snapshot: str) -> str:
        if vol_name.startswith("full_"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), vol_name)
        return super().rollback_volume(pool, vol_name, snapshot)


def crashed_during_rollbacks(state: Path, pool_dir: Path) -> None:
    """Definitions ``full`` and ``fine`` (one FILE replica on alpha, snapshot ``s1``) whose
    rollbacks were recorded and then cut off by a crash."""
    ctl = Controller(state, satellite=Satellite(state, use_loop=False), drbd_loaded=False)
    ctl.open()
    try:
        with ctl.change(0) as change:
            nodes.create_node(ctl, change, "alpha", "SATELLITE", "10.0.0.1", {})
            nodes.create_pool(ctl, change, "alpha", "pool", "FILE",
                              {"StorDriver/FileDir": str(pool_dir)})
            for name in ("full", "fine"):
                definitions.create_rd(ctl, change, name, layers=["STORAGE"])
                definitions.create_vds(ctl, change, name, [1024])
                resources.create_many(ctl, change, name, [("alpha", "pool", False)])
        with ctl.change(rc.MASK_SNAPSHOT) as change:
            for name in ("full", "fine"):
                snapshots.create_snapshot(ctl, change, name, "s1", [])
        with ctl.store.write() as tx:
            for name in ("full", "fine"):
                tx.run("INSERT INTO rollbacks (rd, snapshot) VALUES (?, 's1')", name)
    finally:
        ctl.close()


def test_a_rollback_the_os_refuses_is_reported_and_dropped_and_the_rest_goes_on(tmp_path: Path) -> None:
    state, pool_dir = tmp_path / "state", tmp_path / "pool"
    crashed_during_rollbacks(state, pool_dir)
    stray = pool_dir / "stray_00000.img"  # made by a request killed before its commit
    Satellite(state, use_loop=False).create_volume(PoolSpec("alpha", "pool", "FILE", pool_dir),
                                                   VolumeSpec("stray", 0, 1024))

    ctl = Controller(state, satellite=FillsUp(state, use_loop=False), drbd_loaded=False)
    try:
        lines = ctl.open()
        with ctl.read() as repo:
            pending = snapshots.pending_rollbacks(repo)
    finally:
        ctl.close()

    refused = next(line for line in lines if line.startswith("rollback of full"))
    assert "could not be finished: [Errno 28] No space left on device: 'full_00000'" in refused, lines
    assert "it is dropped" in refused and "repeat it" in refused
    assert "finished the rollback of fine a crash had cut off" in lines
    assert pending == []
    assert any(line.startswith("alpha/pool: removed") and stray.name in line for line in lines)
    assert not stray.exists()


def test_a_later_start_does_not_finish_it_over_what_was_written_in_between(tmp_path: Path) -> None:
    state, pool_dir = tmp_path / "state", tmp_path / "pool"
    crashed_during_rollbacks(state, pool_dir)
    full = Controller(state, satellite=FillsUp(state, use_loop=False), drbd_loaded=False)
    full.open()
    full.close()
    volume = pool_dir / "full_00000.img"
    with open(volume, "r+b") as handle:  # a guest writes while the controller serves the disk
        handle.write(b"written after the failed start")

    ctl = Controller(state, satellite=Satellite(state, use_loop=False), drbd_loaded=False)
    try:
        lines = ctl.open()
        with ctl.read() as repo:
            assert snapshots.pending_rollbacks(repo) == []
    finally:
        ctl.close()
    assert not any("rollback" in line for line in lines), lines
    assert volume.read_bytes().startswith(b"written after the failed start")

def test_a_volume_smaller_than_its_definition_is_grown_again(tmp_path: Path) -> None:
    """A committed grow a power cut took back (the file's size not yet on disk): start-up
    gives the volume its definition's size again, so the device matches every listing."""
    state, pool_dir = tmp_path / "state", tmp_path / "pool"
    crashed_during_rollbacks(state, pool_dir)
    ctl = Controller(state, satellite=Satellite(state, use_loop=False), drbd_loaded=False)
    ctl.open()
    try:
        with ctl.change(0) as change:
            definitions.resize_vd(ctl, change, "fine", 0, 2048, {}, [])
    finally:
        ctl.close()
    volume = pool_dir / "fine_00000.img"
    os.truncate(volume, 1024 * 1024)

    ctl = Controller(state, satellite=Satellite(state, use_loop=False), drbd_loaded=False)
    try:
        lines = ctl.open()
    finally:
        ctl.close()
    assert ("alpha/pool: grew volume fine_00000 again to its 2048 KiB (a committed grow a power "
            "cut took back; what was written past its old end is lost)") in lines
    assert volume.stat().st_size == 2048 * 1024
