"""Files a failed clean-up leaves behind, over real HTTP: a disk or snapshot made later under the
same name starts from its own data, never from the leftover's.

The clean-up is made to fail the way an operator's mistake or a read-only remount would: the
pool directory is made immutable (``chattr +i``) while the definition and its snapshot are
deleted, so the controller answers with a warning and the files stay. Root only (chattr, loop
devices, reflink snapshots); the directory is made mutable again even when a test fails.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from linstor_core.retcodes import MASK_WARN

pytestmark = pytest.mark.root

OLD, NEW = b"OLDSECRET", b"NEWDATA!!"


@contextmanager
def immutable(directory: Path) -> Iterator[None]:
    subprocess.run(["chattr", "+i", str(directory)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


def make_disk(rest, name: str) -> Path:
    """Definition ``name`` with one 4 MiB volume on alpha; the path of its device."""
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": name, "layer_data": [{"type": "STORAGE"}]}}, status=201)
    rest.ok("POST", f"/v1/resource-definitions/{name}/volume-definitions",
            {"volume_definition": {"size_kib": 4096}}, status=201)
    rest.ok("POST", f"/v1/resource-definitions/{name}/resources",
            [{"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}], status=201)
    view = rest.call("GET", f"/v1/resource-definitions/{name}/resources/alpha", status=200)
    return Path(view["volumes"][0]["device_path"])


def write(path: Path, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.write(data)


def head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(len(OLD))


def warned(replies: list[dict]) -> list[str]:
    return [r["message"] for r in replies if r["ret_code"] & MASK_WARN == MASK_WARN]


def test_a_disk_and_snapshot_made_over_leftovers_hold_only_their_own_data(rest, pool_root: Path) -> None:
    directory = pool_root / "alpha"
    write(make_disk(rest, "vm1"), OLD)
    rest.ok("POST", "/v1/resource-definitions/vm1/snapshots", {"name": "vzdump"}, status=201)
    with immutable(directory):
        dropped = rest.call("DELETE", "/v1/resource-definitions/vm1/snapshots/vzdump", status=200)
        deleted = rest.call("DELETE", "/v1/resource-definitions/vm1", status=200)
    assert warned(dropped) and warned(deleted), (dropped, deleted)
    assert (directory / "vm1_00000.img").exists()
    assert (directory / "vm1_00000.snap.vzdump.img").exists()

    device = make_disk(rest, "vm1")
    assert head(device) == bytes(len(OLD))
    write(device, NEW)
    rest.ok("POST", "/v1/resource-definitions/vm1/snapshots", {"name": "vzdump"}, status=201)
    assert head(directory / "vm1_00000.snap.vzdump.img") == NEW
    restored = rest.call("GET", "/v1/resource-definitions/vm1/resources/alpha", status=200)
    assert head(Path(restored["volumes"][0]["device_path"])) == NEW
