"""Start-up reconciliation over a real restart: it removes what the controller left behind and
nothing else in a pool directory, not an operator's ``operator-notes.tmp`` or a
``backup_00001.img`` named like a volume, nor a loop device over such a file.

The controller's leftover is a volume whose post-commit removal failed (the pool directory was
immutable, ``chattr +i``, while the definition was deleted): the delete warned that the
leftover goes at the next start. Likewise a volume whose undo failed after a spawn failed on
another node: the refusal says so. Root only (chattr, losetup); the directory is made mutable
and the loop device detached again even when the test fails.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from controller_setup import detach_loops_under, serving
from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig
from linstor_core.controller.server import ControllerServer
from linstor_core.errors import ApiError
from linstor_core.models import SelectFilter

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


def test_a_spawn_whose_undo_fails_too_says_what_is_left_and_the_next_start_removes_it(
        tmp_path: Path, pool_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []
    with serving(tmp_path, pool_root) as server:
        client = LinstorClient(ClientConfig(controllers=(server.url,)))
        satellite = server.controller.satellite
        real_create = satellite.create_volume

        def first_frozen_then_broken(pool: Any, vol: Any) -> str:
            """The first replica is made, then its directory is frozen (its undo cannot remove
            it); the second node's pool directory is a file by then, so its replica fails."""
            directory = pool_root / pool.node
            if made:
                directory.rmdir()
                directory.write_text("not a directory")
            device = real_create(pool, vol)
            made.append(directory)
            subprocess.run(["chattr", "+i", str(directory)], check=True)
            return device

        monkeypatch.setattr(satellite, "create_volume", first_frozen_then_broken)
        client.resource_groups.create("pair", SelectFilter(
            place_count=2, node_name_list=("alpha", "bravo"), layer_stack=("storage",)))
        try:
            with pytest.raises(ApiError) as refused:
                client.resource_groups.spawn("pair", "halfmade", [4096])
        finally:
            for directory in made:
                subprocess.run(["chattr", "-i", str(directory)], check=True)
        broken = next(pool_root / node for node in ("alpha", "bravo") if (pool_root / node).is_file())
        broken.unlink()
        broken.mkdir()
    frozen = made[0]
    leftover = frozen / "halfmade_00000.img"
    assert leftover.exists()
    message = refused.value.one_line()
    assert f"undoing it failed too: remove volume halfmade_00000 on {frozen.name}" in message, message
    assert "Operation not permitted" in message and "the next controller start repairs what is left" in message
    restarted = ControllerServer(tmp_path / "state", "127.0.0.1", 0)
    try:
        restarted.start()
        assert requests.get(restarted.url + "/v1/resource-definitions", timeout=30).json() == []
        assert not leftover.exists()
        listing = subprocess.run(["losetup", "--list", "--noheadings", "--output", "BACK-FILE"],
                                 capture_output=True, text=True, check=True).stdout
        assert "halfmade" not in listing
    finally:
        restarted.stop()
        detach_loops_under(pool_root)
