"""A resize is all or none across the replicas, even when a replica stops midway.

The controller runs on real FILE_THIN files in tmp_path without loop devices; the stop is
injected by a satellite subclass right after bravo's file grew.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core.controller.core import Controller
from linstor_core.controller.ops import definitions
from linstor_core.controller.satellite import Satellite
from linstor_core.errors import Stopped, StorageError
from test_rollback_all_or_none import controller as open_controller, deploy_vm1

NODES = ("alpha", "bravo")


class StopsAfterBravoGrew(Satellite):
    """A SIGTERM (``Stopped``) arrives once bravo's file is larger, before its loop device
    would see it: no ``StorageError``, so the satellite's own cut-back does not run."""

    def _refresh_size(self, image: Path) -> None:
        if image.parent.name == "bravo":
            raise Stopped("stopped by SIGTERM")
        super()._refresh_size(image)


def controller(tmp_path: Path, satellite: type[Satellite] = Satellite) -> Controller:
    """vm1 with one 1 MiB volume on alpha and bravo (FILE_THIN)."""
    ctl = open_controller(tmp_path, satellite)
    deploy_vm1(ctl, tmp_path, "FILE_THIN")
    return ctl


def test_a_replica_stopped_after_its_grow_is_cut_back(tmp_path: Path) -> None:
    ctl = controller(tmp_path, StopsAfterBravoGrew)
    try:
        with pytest.raises(Stopped), ctl.change(0) as change:
            definitions.resize_vd(ctl, change, "vm1", 0, 2048, {}, [])
        with ctl.read() as repo:
            assert repo.vd("vm1", 0).size_kib == 1024
    finally:
        ctl.close()
    assert {node: (tmp_path / node / "vm1_00000.img").stat().st_size for node in NODES} == {
        "alpha": 1024 * 1024, "bravo": 1024 * 1024}


def test_the_undo_of_a_replica_whose_file_is_missing_has_nothing_to_cut(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Its resize failed on the missing file; its undo, registered before, is not a second
    failure in the log."""
    ctl = controller(tmp_path)
    try:
        (tmp_path / "bravo" / "vm1_00000.img").unlink()
        with pytest.raises(StorageError, match="is missing"), ctl.change(0) as change:
            definitions.resize_vd(ctl, change, "vm1", 0, 2048, {}, [])
    finally:
        ctl.close()
    assert (tmp_path / "alpha" / "vm1_00000.img").stat().st_size == 1024 * 1024
    assert "undo step" not in caplog.text
