"""A rollback to a snapshot taken before the volume grew grows it back to the definition's
size: the snapshot's data, then zeros, on a device as large as every listing says."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

MIB = 1024


def test_rollback_after_a_resize_keeps_the_grown_size(rest, pool_root: Path) -> None:
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": "AA", "layer_data": [{"type": "STORAGE"}]}}, status=201)
    rest.ok("POST", "/v1/resource-definitions/AA/volume-definitions",
            {"volume_definition": {"size_kib": 4 * MIB}}, status=201)
    rest.ok("POST", "/v1/resource-definitions/AA/resources",
            [{"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}],
            status=201)
    image = pool_root / "alpha" / "AA_00000.img"
    with open(image, "r+b") as handle:
        handle.write(b"OLD!")
    rest.ok("POST", "/v1/resource-definitions/AA/snapshots", {"name": "s1"}, status=201)
    rest.ok("PUT", "/v1/resource-definitions/AA/volume-definitions/0", {"size_kib": 8 * MIB})
    with open(image, "r+b") as handle:
        handle.write(b"NEW!")
        handle.seek(6 * MIB * 1024)
        handle.write(b"tail")

    rest.ok("POST", "/v1/resource-definitions/AA/snapshot-rollback/s1", {})

    vd = rest.call("GET", "/v1/resource-definitions/AA/volume-definitions/0")
    device = subprocess.run(["losetup", "-j", str(image)], capture_output=True, text=True,
                            check=True).stdout.split(":")[0]
    blockdev = subprocess.run(["blockdev", "--getsize64", device], capture_output=True,
                              text=True, check=True).stdout
    assert (vd["size_kib"], image.stat().st_size // 1024, int(blockdev) // 1024) == (
        8 * MIB, 8 * MIB, 8 * MIB)
    with open(image, "rb") as handle:
        assert handle.read(4) == b"OLD!"
        handle.seek(6 * MIB * 1024)
        assert handle.read(4) == b"\0\0\0\0"
    rest.ok("PUT", "/v1/resource-definitions/AA/volume-definitions/0", {"size_kib": 12 * MIB})
