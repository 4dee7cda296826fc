"""A rollback that one replica's pool has no room for, over real HTTP and a restart: refused with
the pool named and what to free, every replica keeps the data it had, and the restarted
controller does not replay the failed rollback over what was written since.

Bravo's FILE pool is a 16 MiB tmpfs that a filler file leaves too small for the copy of the
4 MiB snapshot; alpha's a directory with room, so alpha is switched first and must be put back.
Root only (tmpfs, loop devices); unmounted afterwards, failed or not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from linstor_core import retcodes as rc
from linstor_core.controller.server import ControllerServer
from small_filesystem import small_tmpfs

pytestmark = pytest.mark.root

ROLLBACK = "/v1/resource-definitions/vm1/snapshot-rollback/s1"


@pytest.fixture
def bravo_pool(tmp_path: Path) -> Iterator[Path]:
    """Bravo's pool directory, on a 16 MiB tmpfs (set up before, so removed after, the controller)."""
    with small_tmpfs(tmp_path / "bravo-pool", "16m") as mount:
        yield mount


def devices(url: str) -> dict[str, Path]:
    return {node: Path(requests.get(f"{url}/v1/resource-definitions/vm1/resources/{node}",
                                    timeout=30).json()["volumes"][0]["device_path"])
            for node in ("alpha", "bravo")}


def write(path: Path, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.write(data)


def heads(paths: dict[str, Path]) -> dict[str, bytes]:
    found = {}
    for node, path in paths.items():
        with open(path, "rb") as handle:
            found[node] = handle.read(8)
    return found


def test_a_failed_rollback_is_undone_and_not_replayed_at_the_next_start(
        bravo_pool: Path, rest, controller: ControllerServer, pool_root: Path) -> None:
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
    for device in devices(controller.url).values():
        write(device, b"AAAAAAAA")
    rest.ok("POST", "/v1/resource-definitions/vm1/snapshots", {"name": "s1"}, status=201)
    for device in devices(controller.url).values():
        write(device, b"BBBBBBBB")
    filler = bravo_pool / "filler"
    filler.write_bytes(bytes(6 * 1024 * 1024))

    refused = rest.error("POST", ROLLBACK, {}, status=500, code=rc.FAIL_UNKNOWN_ERROR)
    assert "No space left on device (storage pool 'filepool' on node 'bravo')" in refused["message"]
    assert refused["correction"].startswith(
        f"Repeat the rollback when the cause is fixed (free space on the filesystem of {bravo_pool}")
    assert heads(devices(controller.url)) == {"alpha": b"BBBBBBBB", "bravo": b"BBBBBBBB"}
    with sqlite3.connect(controller.state_dir / "controller.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM rollbacks").fetchone() == (0,)
    assert not [p for d in (alpha_pool, bravo_pool) for p in d.iterdir() if p.suffix == ".tmp"]

    write(devices(controller.url)["alpha"], b"CCCCCCCC")
    controller.stop()
    filler.unlink()
    with ControllerServer(controller.state_dir, "127.0.0.1", 0) as server:
        assert heads(devices(server.url)) == {"alpha": b"CCCCCCCC", "bravo": b"BBBBBBBB"}
        answer = requests.post(server.url + ROLLBACK, json={}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert heads(devices(server.url)) == {"alpha": b"AAAAAAAA", "bravo": b"AAAAAAAA"}
