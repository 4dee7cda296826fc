"""Start-up reconciliation over a real restart: it removes what the controller left behind and
nothing else in a pool directory, not an operator's ``operator-notes.tmp`` or a
``backup_00001.img`` named like a volume, nor a loop device over such a file.

The controller's leftover is a volume whose post-commit removal failed (the pool directory was
immutable, ``chattr +i``, while the definition was deleted): the delete warned that the
leftover goes at the next start. Root only (chattr, losetup); the directory is made mutable and
the loop device detached again even when the test fails.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from controller_setup import detach_loops_under, serving
from linstor_core.controller.server import ControllerServer

pytestmark = pytest.mark.root

OPERATOR_FILES = {"operator-notes.tmp": b"keep me", "backup_00001.img": b"someone else's image",
                  "backup_00001.img.tmp": b"half a copy", "vm1_00000.snap.mine.img": b"mine"}


def test_start_up_removes_only_the_controllers_own_leftovers(tmp_path: Path, pool_root: Path) -> None:
    directory = pool_root / "alpha"
    with serving(tmp_path, pool_root) as server:
        http = requests.Session()
        for path, body in [
            ("/v1/resource-definitions", {"resource_definition": {
                "name": "vm1", "layer_data": [{"type": "STORAGE"}]}}),
            ("/v1/resource-definitions/vm1/volume-definitions", {"volume_definition": {"size_kib": 4096}}),
            ("/v1/resource-definitions/vm1/resources",
             [{"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}]),
        ]:
            assert http.post(server.url + path, json=body, timeout=30).status_code == 201
        subprocess.run(["chattr", "+i", str(directory)], check=True)
        try:
            deleted = http.delete(server.url + "/v1/resource-definitions/vm1", timeout=30)
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        assert deleted.status_code == 200
        assert "removed at the next controller start" in deleted.text
    assert (directory / "vm1_00000.img").exists()
    for name, data in OPERATOR_FILES.items():
        (directory / name).write_bytes(data)
    backup = directory / "backup_00001.img"
    backup.write_bytes(bytes(1024 * 1024))
    loop = subprocess.run(["losetup", "--find", "--show", str(backup)], check=True,
                          capture_output=True, text=True).stdout.strip()
    restarted = ControllerServer(tmp_path / "state", "127.0.0.1", 0)
    try:
        restarted.start()
        assert requests.get(restarted.url + "/v1/resource-definitions", timeout=30).json() == []
        assert not (directory / "vm1_00000.img").exists()
        for name, data in OPERATOR_FILES.items():
            if name != backup.name:
                assert (directory / name).read_bytes() == data, name
        assert backup.exists()
        listed = subprocess.run(["losetup", "--list", "--noheadings", "--output", "NAME", loop],
                                capture_output=True, text=True)
        assert listed.stdout.strip() == loop, "the operator's loop device was detached"
    finally:
        restarted.stop()
        subprocess.run(["losetup", "-d", loop], check=False, capture_output=True)
        detach_loops_under(pool_root)
