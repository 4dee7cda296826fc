"""A resize that one replica's pool has no room for, over real HTTP: refused with the pool named
and what to free, and undone on the replicas already grown, so the definition, every backing
file and every device keep the old size and a snapshot restores at that size; once there is
room the resize succeeds.

Bravo's FILE pool is a 6 MiB tmpfs (a 4 MiB volume cannot become 8 MiB there), alpha's a
directory with room. Root only (tmpfs, loop devices); unmounted afterwards, failed or not.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from small_filesystem import resize_tmpfs, small_tmpfs

pytestmark = pytest.mark.root

VD = "/v1/resource-definitions/vm1/volume-definitions/0"


@pytest.fixture
def bravo_pool(tmp_path: Path) -> Iterator[Path]:
    """Bravo's pool directory, on a 6 MiB tmpfs (set up before, so removed after, the controller)."""
    with small_tmpfs(tmp_path / "bravo-pool", "6m") as mount:
        yield mount


def device_kib(rest, node: str) -> int:
    view = rest.call("GET", f"/v1/resource-definitions/vm1/resources/{node}", status=200)
    fd = os.open(view["volumes"][0]["device_path"], os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END) // 1024
    finally:
        os.close(fd)


def sizes(rest, files: dict[str, Path]) -> dict[str, tuple[int, int]]:
    """Per node: (backing file KiB, device KiB)."""
    return {node: (path.stat().st_size // 1024, device_kib(rest, node)) for node, path in files.items()}


def test_a_resize_failing_on_one_replica_is_undone_on_the_others(bravo_pool: Path, rest, pool_root: Path):
    alpha_pool = pool_root / "alpha-file"
    for node, directory in (("alpha", alpha_pool), ("bravo", bravo_pool)):
        rest.ok("POST", f"/v1/nodes/{node}/storage-pools", {
            "storage_pool_name": "filepool", "provider_kind": "FILE",
            "props": {"StorDriver/FileDir": str(directory)}}, status=201)
    rest.ok("POST", "/v1/resource-groups", {"name": "pair", "select_filter": {
        "place_count": 2, "node_name_list": ["alpha", "bravo"], "storage_pool": "filepool",
        "layer_stack": ["storage"]}}, status=201)
    rest.ok("POST", "/v1/resource-groups/pair/spawn", {
        "resource_definition_name": "vm1", "volume_sizes": [4096]}, status=201)
    files = {"alpha": alpha_pool / "vm1_00000.img", "bravo": bravo_pool / "vm1_00000.img"}

    refused = rest.error("PUT", VD, {"size_kib": 8192}, status=500, code=rc.FAIL_UNKNOWN_ERROR)
    assert "No space left on device (storage pool 'filepool' on node 'bravo')" in refused["message"]
    assert refused["correction"].startswith(
        f"free space on the filesystem of {bravo_pool} (storage pool 'filepool' on node 'bravo')")
    assert rest.call("GET", VD, status=200)["size_kib"] == 4096
    assert sizes(rest, files) == {"alpha": (4096, 4096), "bravo": (4096, 4096)}
    rest.ok("POST", "/v1/resource-definitions/vm1/snapshots", {"name": "s1", "nodes": ["alpha"]},
            status=201)
    rest.ok("POST", "/v1/resource-definitions/vm1/snapshot-restore-resource/s1",
            {"to_resource": "vm1r", "nodes": ["alpha"]})
    rest.ok("DELETE", "/v1/resource-definitions/vm1r")
    rest.ok("DELETE", "/v1/resource-definitions/vm1/snapshots/s1")

    resize_tmpfs(bravo_pool, "16m")
    rest.ok("PUT", VD, {"size_kib": 8192})
    assert rest.call("GET", VD, status=200)["size_kib"] == 8192
    assert sizes(rest, files) == {"alpha": (8192, 8192), "bravo": (8192, 8192)}
