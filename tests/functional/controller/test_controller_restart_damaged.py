"""A restart over damaged storage: what cannot be reconciled is reported, the rest is, and the
controller serves.

Before, one volume whose backing file was gone, or one pool whose directory was not mounted,
made start-up reconciliation raise, and the controller did not start at all.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from linstor_core.controller.satellite import PoolSpec, Satellite, VolumeSpec
from linstor_core.controller.server import ControllerServer


def repairs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("reconciled: ")]


def killed_request_leftover(state: Path, pool_root: Path) -> Path:
    """A volume file on alpha as a request killed before its commit leaves it: made by the
    satellite (so start-up knows it as the controller's), with no record."""
    Satellite(state, use_loop=False).create_volume(
        PoolSpec("alpha", "thinpool", "FILE_THIN", pool_root / "alpha"), VolumeSpec("stray", 0, 1024))
    return pool_root / "alpha" / "stray_00000.img"


def nodes_of(url: str, rd: str) -> set[str]:
    answer = requests.get(f"{url}/v1/resource-definitions/{rd}/resources", timeout=30)
    assert answer.status_code == 200, answer.text
    return {r["node_name"] for r in answer.json()}


@pytest.fixture
def two_disks(rest, controller: ControllerServer) -> Path:
    """``vm1`` and ``vm2`` on alpha and bravo; the controller is stopped; returns its state."""
    rest.ok("POST", "/v1/resource-groups", {"name": "pair", "select_filter": {
        "place_count": 2, "node_name_list": ["alpha", "bravo"], "layer_stack": ["storage"]}},
        status=201)
    for name in ("vm1", "vm2"):
        rest.ok("POST", "/v1/resource-groups/pair/spawn", {
            "resource_definition_name": name, "volume_sizes": [2048]}, status=201)
    controller.stop()
    return controller.state_dir


def test_a_missing_backing_file_is_reported_and_the_rest_reconciled(
        two_disks: Path, pool_root: Path, caplog: pytest.LogCaptureFixture):
    (pool_root / "bravo" / "vm1_00000.img").unlink()
    stray = killed_request_leftover(two_disks, pool_root)
    with caplog.at_level(logging.WARNING), ControllerServer(two_disks, "127.0.0.1", 0) as server:
        lines = repairs(caplog)
        assert any(line.startswith("reconciled: bravo/thinpool: volume vm1_00000 has no device")
                   for line in lines), lines
        assert any("removed" in line and str(stray.name) in line for line in lines), lines
        assert not stray.exists()
        assert nodes_of(server.url, "vm1") == {"alpha", "bravo"}, "the record stays"
        assert nodes_of(server.url, "vm2") == {"alpha", "bravo"}
        assert (pool_root / "alpha" / "vm1_00000.img").exists()


def test_a_pool_directory_gone_is_reported_and_the_controller_serves(
        two_disks: Path, pool_root: Path, caplog: pytest.LogCaptureFixture):
    (pool_root / "bravo").rename(pool_root / "bravo-unmounted")
    stray = killed_request_leftover(two_disks, pool_root)
    with caplog.at_level(logging.WARNING), ControllerServer(two_disks, "127.0.0.1", 0) as server:
        lines = repairs(caplog)
        for name in ("vm1_00000", "vm2_00000"):
            assert f"reconciled: bravo/thinpool: volume {name}: pool directory " \
                   f"{(pool_root / 'bravo').resolve()} is missing" in lines, lines
        assert not stray.exists(), "alpha's pool is reconciled all the same"
        assert nodes_of(server.url, "vm2") == {"alpha", "bravo"}
        pools = requests.get(server.url + "/v1/view/storage-pools", timeout=30).json()
        bravo = next(p for p in pools if (p["node_name"], p["storage_pool_name"])
                     == ("bravo", "thinpool"))
        assert "is missing" in bravo["reports"][0]["message"]
