"""Snapshots (create, list, view, delete, restore, rollback) and clones over real HTTP.

FILE_THIN snapshots and clones are reflinks, so these run where the ``controller`` fixture
puts its pools on xfs: as root (always in CI).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from linstor_core.errors import StorageError

pytestmark = pytest.mark.root

MIB = 1024


def make_rd(rest, name: str, *nodes: str, layers=("STORAGE",), size_kib: int = 4 * MIB) -> None:
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": name, "layer_data": [{"type": t} for t in layers]}}, status=201)
    rest.ok("POST", f"/v1/resource-definitions/{name}/volume-definitions",
            {"volume_definition": {"size_kib": size_kib}}, status=201)
    if nodes:
        rest.ok("POST", f"/v1/resource-definitions/{name}/resources",
                [{"resource": {"node_name": n, "props": {"StorPoolName": "thinpool"}}}
                 for n in nodes], status=201)


def write(path: Path, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.write(data)


def read(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def test_snapshot_create_list_view_delete(rest, pool_root: Path):
    make_rd(rest, "SharedData", "alpha", "bravo", "charlie")
    replies = rest.ok("POST", "/v1/resource-definitions/SharedData/snapshots",
                      {"name": "Snap1", "nodes": ["alpha", "bravo"]}, status=201)
    assert replies[0]["message"] == "New snapshot 'Snap1' of resource 'SharedData' registered."
    assert (pool_root / "alpha" / "SharedData_00000.snap.Snap1.img").exists()
    assert not (pool_root / "charlie" / "SharedData_00000.snap.Snap1.img").exists()
    listed = rest.call("GET", "/v1/resource-definitions/SharedData/snapshots", status=200,
                       schema="Snapshot", many=True)
    assert listed[0]["nodes"] == ["alpha", "bravo"]
    assert listed[0]["volume_definitions"] == [{"volume_number": 0, "size_kib": 4 * MIB}]
    rest.ok("POST", "/v1/resource-definitions/SharedData/snapshots", {"name": "All"},
            status=201)
    every = rest.call("GET", "/v1/view/snapshots", status=200, schema="Snapshot", many=True)
    assert {s["name"]: len(s["nodes"]) for s in every} == {"Snap1": 2, "All": 3}
    on_charlie = rest.call("GET", "/v1/view/snapshots", params={"nodes": "charlie"}, status=200)
    assert [s["name"] for s in on_charlie] == ["All"]
    rest.error("POST", "/v1/resource-definitions/SharedData/snapshots", {"name": "Snap1"},
               status=500, code=rc.FAIL_EXISTS_SNAPSHOT_DFN)
    rest.ok("DELETE", "/v1/resource-definitions/SharedData/snapshots/Snap1",
            params={"nodes": "alpha"})
    assert not (pool_root / "alpha" / "SharedData_00000.snap.Snap1.img").exists()
    assert (pool_root / "bravo" / "SharedData_00000.snap.Snap1.img").exists()
    left = rest.call("GET", "/v1/resource-definitions/SharedData/snapshots/Snap1", status=200,
                     schema="Snapshot")
    assert left["nodes"] == ["bravo"]
    rest.error("DELETE", "/v1/resource-definitions/SharedData/snapshots/Snap1", status=404,
               params={"nodes": "charlie"}, code=rc.FAIL_NOT_FOUND_SNAPSHOT)
    rest.ok("DELETE", "/v1/resource-definitions/SharedData/snapshots/Snap1")
    assert not (pool_root / "bravo" / "SharedData_00000.snap.Snap1.img").exists()
    rest.error("DELETE", "/v1/resource-definitions/SharedData/snapshots/Snap1", status=404,
               code=rc.FAIL_NOT_FOUND_SNAPSHOT_DFN)


def test_invalid_snapshot_name_changes_nothing(rest, pool_root: Path):
    make_rd(rest, "named", "alpha")
    rest.error("POST", "/v1/resource-definitions/named/snapshots", {"name": "1-bad"},
               status=400, code=rc.FAIL_INVLD_SNAPSHOT_NAME)
    rest.error("POST", "/v1/resource-definitions/named/snapshots",
               {"name": "good", "nodes": ["bravo"]}, status=404, code=rc.FAIL_NOT_FOUND_RSC)
    assert list((pool_root / "alpha").glob("*.snap.*")) == []
    assert rest.call("GET", "/v1/view/snapshots", status=200) == []


def test_delete_rd_with_snapshots_refused(rest, controller, pool_root: Path):
    make_rd(rest, "keep", "alpha")
    rest.ok("POST", "/v1/resource-definitions/keep/snapshots", {"name": "s1"}, status=201)
    first = rest.error("DELETE", "/v1/resource-definitions/keep", status=500,
                       code=rc.FAIL_EXISTS_SNAPSHOT_DFN)
    assert first["message"] == "Cannot delete resource definition 'keep' because it has snapshots."
    assert (pool_root / "alpha" / "keep_00000.img").exists()
    rest.call("GET", "/v1/resource-definitions/keep/resources/alpha", status=200)


def test_snapshot_survives_resource_deletion_and_restores(rest, pool_root: Path):
    make_rd(rest, "SharedData", "alpha", "bravo")
    device = rest.call("GET", "/v1/resource-definitions/SharedData/resources/alpha",
                       status=200)["volumes"][0]["device_path"]
    write(Path(device), b"before-snapshot")
    rest.ok("POST", "/v1/resource-definitions/SharedData/snapshots", {"name": "Snap1"},
            status=201)
    write(Path(device), b"AFTER-snapshot!")
    rest.ok("DELETE", "/v1/resource-definitions/SharedData/resources/alpha")
    assert rest.call("GET", "/v1/resource-definitions/SharedData/snapshots", status=200)
    rest.error("POST", "/v1/resource-definitions/SharedData/snapshot-restore-resource/Snap1",
               {"to_resource": "Restore", "nodes": ["charlie"]}, status=404,
               code=rc.FAIL_NOT_FOUND_SNAPSHOT)
    rest.ok("POST", "/v1/resource-definitions/SharedData/snapshot-restore-resource/Snap1",
            {"to_resource": "SharedData_Restore", "nodes": ["alpha"]})
    restored = rest.call("GET", "/v1/view/resources", params={"resources": ["SharedData_Restore"]},
                         status=200, schema="ResourceWithVolumes", many=True)
    assert [r["node_name"] for r in restored] == ["alpha"]
    assert read(Path(restored[0]["volumes"][0]["device_path"]), 15) == b"before-snapshot"


def test_restore_volume_definitions_then_resources(rest):
    make_rd(rest, "src", "alpha", size_kib=8 * MIB)
    rest.ok("POST", "/v1/resource-definitions/src/snapshots", {"name": "s0"}, status=201)
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": "dst", "layer_data": [{"type": "STORAGE"}]}}, status=201)
    rest.ok("POST", "/v1/resource-definitions/src/snapshot-restore-volume-definition/s0",
            {"to_resource": "dst"})
    vds = rest.call("GET", "/v1/resource-definitions/dst/volume-definitions", status=200)
    assert [v["size_kib"] for v in vds] == [8 * MIB]
    rest.ok("POST", "/v1/resource-definitions/src/snapshot-restore-resource/s0",
            {"to_resource": "dst"})
    assert len(rest.call("GET", "/v1/resource-definitions/dst/resources", status=200)) == 1


def test_restore_copies_the_source_definitions_props_over_the_targets(rest):
    """As LINSTOR's snapshot-restore-resource: the target made with props of its own carries
    the source's afterwards where both name a key, and keeps its own other keys."""
    make_rd(rest, "psrc", "alpha")
    rest.ok("PUT", "/v1/resource-definitions/psrc", {"override_props": {
        "Aux/owner": "source", "Aux/only-source": "x"}})
    rest.ok("POST", "/v1/resource-definitions/psrc/snapshots", {"name": "s0"}, status=201)
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": "pdst", "layer_data": [{"type": "STORAGE"}],
        "props": {"Aux/owner": "target", "Aux/only-target": "y"}}}, status=201)
    rest.ok("POST", "/v1/resource-definitions/psrc/snapshot-restore-resource/s0", {"to_resource": "pdst"})
    props = rest.call("GET", "/v1/resource-definitions/pdst", status=200)["props"]
    assert {k: v for k, v in props.items() if k.startswith("Aux/")} == {
        "Aux/owner": "source", "Aux/only-source": "x", "Aux/only-target": "y"}


def test_restore_into_a_definition_with_resources_is_refused_and_changes_nothing(rest):
    """LINSTOR refuses it: a replica of the snapshot's data would join one holding other data."""
    make_rd(rest, "src2", "alpha")
    rest.ok("POST", "/v1/resource-definitions/src2/snapshots", {"name": "s0"}, status=201)
    make_rd(rest, "live", "bravo")
    rest.error("POST", "/v1/resource-definitions/src2/snapshot-restore-resource/s0",
               {"to_resource": "live", "nodes": ["alpha"]}, status=500, code=rc.FAIL_EXISTS_RSC)
    assert [r["node_name"] for r in rest.call("GET", "/v1/resource-definitions/live/resources",
                                              status=200)] == ["bravo"]


def test_rollback(rest):
    make_rd(rest, "rb", "alpha", "bravo")
    devices = [rest.call("GET", f"/v1/resource-definitions/rb/resources/{n}",
                         status=200)["volumes"][0]["device_path"] for n in ("alpha", "bravo")]
    for device in devices:
        write(Path(device), b"original")
    rest.ok("POST", "/v1/resource-definitions/rb/snapshots", {"name": "s1"}, status=201)
    for device in devices:
        write(Path(device), b"changed!")
    replies = rest.ok("POST", "/v1/resource-definitions/rb/snapshot-rollback/s1", {})
    assert replies[0]["message"] == "Snapshot 's1' of resource 'rb' marked down for rollback."
    for node in ("alpha", "bravo"):
        device = rest.call("GET", f"/v1/resource-definitions/rb/resources/{node}",
                           status=200)["volumes"][0]["device_path"]
        assert read(Path(device), 8) == b"original"


def test_a_rollback_failing_on_a_replica_fails_and_a_repeat_finishes_it(rest, controller):
    """The client must hear it (not a warning on a 200), the replica already switched is put
    back and nothing stays recorded, and repeating it makes every replica the snapshot's."""
    make_rd(rest, "rbf", "alpha", "bravo")
    devices = {n: rest.call("GET", f"/v1/resource-definitions/rbf/resources/{n}",
                            status=200)["volumes"][0]["device_path"] for n in ("alpha", "bravo")}
    for device in devices.values():
        write(Path(device), b"original")
    rest.ok("POST", "/v1/resource-definitions/rbf/snapshots", {"name": "s1"}, status=201)
    for device in devices.values():
        write(Path(device), b"changed!")
    satellite = controller.controller.satellite
    real = satellite.rollback_volume
    calls = []

    def second_fails(spec, name, snapshot):
        calls.append(spec.node)
        if len(calls) == 2:
            raise StorageError(["cp", "--reflink=always"], 1, "No space left on device")
        return real(spec, name, snapshot)

    satellite.rollback_volume = second_fails
    try:
        refused = rest.error("POST", "/v1/resource-definitions/rbf/snapshot-rollback/s1", {},
                             status=500, code=rc.FAIL_UNKNOWN_ERROR)
    finally:
        satellite.rollback_volume = real
    assert refused["message"].startswith("Rollback of 'rbf' to 's1' failed:")
    assert "No space left" in refused["message"] + refused.get("cause", "") + refused.get("details", "")
    assert "Repeat the rollback" in refused["correction"]
    for node in ("alpha", "bravo"):
        device = rest.call("GET", f"/v1/resource-definitions/rbf/resources/{node}",
                           status=200)["volumes"][0]["device_path"]
        assert read(Path(device), 8) == b"changed!"
    with sqlite3.connect(controller.state_dir / "controller.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM rollbacks").fetchone() == (0,)
    rest.ok("POST", "/v1/resource-definitions/rbf/snapshot-rollback/s1", {})
    for node in ("alpha", "bravo"):
        device = rest.call("GET", f"/v1/resource-definitions/rbf/resources/{node}",
                           status=200)["volumes"][0]["device_path"]
        assert read(Path(device), 8) == b"original"
    with sqlite3.connect(controller.state_dir / "controller.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM rollbacks").fetchone() == (0,)


def test_rollback_refused_on_node_without_snapshot(rest, pool_root: Path):
    make_rd(rest, "rb2", "alpha")
    rest.ok("POST", "/v1/resource-definitions/rb2/snapshots", {"name": "s1"}, status=201)
    rest.ok("POST", "/v1/resource-definitions/rb2/resources",
            [{"resource": {"node_name": "bravo", "props": {"StorPoolName": "thinpool"}}}],
            status=201)
    device = rest.call("GET", "/v1/resource-definitions/rb2/resources/alpha",
                       status=200)["volumes"][0]["device_path"]
    write(Path(device), b"kept")
    first = rest.error("POST", "/v1/resource-definitions/rb2/snapshot-rollback/s1", {},
                       status=404, code=rc.FAIL_NOT_FOUND_SNAPSHOT)
    assert first["message"] == "Snapshot 's1' of resource 'rb2' on node 'bravo' not found."
    assert read(Path(device), 4) == b"kept"


def test_rollback_only_most_recent(rest):
    make_rd(rest, "rb3", "alpha")
    rest.ok("POST", "/v1/resource-definitions/rb3/snapshots", {"name": "old"}, status=201)
    rest.ok("POST", "/v1/resource-definitions/rb3/snapshots", {"name": "new"}, status=201)
    first = rest.error("POST", "/v1/resource-definitions/rb3/snapshot-rollback/old", {},
                       status=500, code=rc.FAIL_EXISTS_SNAPSHOT_DFN)
    assert first["message"] == "Rollback is only allowed with the most recent snapshot"


def test_clone_and_status(rest, controller, pool_root: Path):
    make_rd(rest, "base", "alpha", "bravo")
    device = rest.call("GET", "/v1/resource-definitions/base/resources/alpha",
                       status=200)["volumes"][0]["device_path"]
    write(Path(device), b"template")
    started = rest.call("POST", "/v1/resource-definitions/base/clone",
                        {"name": "copy", "override_props": {"Aux/x": "1"}}, status=201,
                        schema="ResourceDefinitionCloneStarted")
    assert started["location"] == "/v1/resource-definitions/base/clone/copy"
    status = rest.call("GET", "/v1/resource-definitions/base/clone/copy", status=200,
                       schema="ResourceDefinitionCloneStatus")
    assert status == {"status": "COMPLETE"}
    clone = rest.call("GET", "/v1/resource-definitions/copy/resources/alpha", status=200)
    assert read(Path(clone["volumes"][0]["device_path"]), 8) == b"template"
    assert rest.call("GET", "/v1/resource-definitions/copy", status=200)["props"]["Aux/x"] == "1"
    rest.error("GET", "/v1/resource-definitions/base/clone/nope", status=404,
               code=rc.FAIL_NOT_FOUND_RSC_DFN)
    rest.error("POST", "/v1/resource-definitions/base/clone", {"name": "copy"}, status=500,
               code=rc.FAIL_EXISTS_RSC_DFN)
    rest.error("POST", "/v1/resource-definitions/base/clone", {"name": "1bad"}, status=400,
               code=rc.FAIL_INVLD_RSC_NAME)
    with sqlite3.connect(controller.state_dir / "controller.sqlite3") as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM resource_definitions")]
    assert sorted(names) == ["base", "copy"]
    assert sorted(p.name for p in (pool_root / "alpha").glob("*.img")) == [
        "base_00000.img", "copy_00000.img"]


def test_a_clone_into_a_group_goes_to_its_pools_as_a_copy_of_their_kind(rest, controller, pool_root: Path):
    """LINSTOR's clone request: "Place clone into the given resource group and use storage pools
    of this group". Into a thick group the copy is thick, back into a thin one thin; a node
    that has none of the group's pools is refused before anything is made."""
    (pool_root / "thick").mkdir()
    rest.ok("POST", "/v1/nodes/alpha/storage-pools", {
        "storage_pool_name": "thick", "provider_kind": "FILE",
        "props": {"StorDriver/FileDir": str(pool_root / "thick")}}, status=201)
    for group, pool in (("thickgrp", "thick"), ("thingrp", "thinpool")):
        rest.ok("POST", "/v1/resource-groups", {"name": group, "select_filter": {
            "place_count": 1, "storage_pool": pool, "layer_stack": ["storage"]}}, status=201)

    def volume(rd: str) -> dict:
        (resource,) = rest.call("GET", "/v1/view/resources", status=200, params={"resources": rd})
        return resource["volumes"][0]

    make_rd(rest, "both", "alpha", "bravo")
    refused = rest.error("POST", "/v1/resource-definitions/both/clone", {"name": "nowhere", "resource_group": "thickgrp"},
                         status=404, code=rc.FAIL_NOT_FOUND_STOR_POOL)
    assert "none of which is on node 'bravo'" in refused["message"]
    rest.call("GET", "/v1/resource-definitions/nowhere", status=404)

    make_rd(rest, "base", "alpha")
    write(Path(volume("base")["device_path"]), b"template")
    rest.call("POST", "/v1/resource-definitions/base/clone", {"name": "heavy", "resource_group": "thickgrp"},
              status=201, schema="ResourceDefinitionCloneStarted")
    heavy = volume("heavy")
    assert heavy["storage_pool_name"] == "thick" and read(Path(heavy["device_path"]), 8) == b"template"
    image = pool_root / "thick" / "heavy_00000.img"
    assert image.stat().st_blocks * 512 >= 4 * MIB * 1024  # every block reserved, as FILE promises
    assert rest.call("GET", "/v1/resource-definitions/heavy", status=200)["resource_group_name"] == "thickgrp"

    rest.call("POST", "/v1/resource-definitions/heavy/clone", {"name": "light", "resource_group": "thingrp"},
              status=201, schema="ResourceDefinitionCloneStarted")
    light = volume("light")
    assert light["storage_pool_name"] == "thinpool" and read(Path(light["device_path"]), 8) == b"template"
    assert (pool_root / "alpha" / "light_00000.img").stat().st_blocks * 512 < MIB * 1024  # the zeros stay holes


def test_mounted_volume_refuses_delete_and_rollback(rest, tmp_path: Path, pool_root: Path):
    import subprocess

    make_rd(rest, "mounted", "alpha", size_kib=32 * MIB)
    rest.ok("POST", "/v1/resource-definitions/mounted/snapshots", {"name": "s1"}, status=201)
    device = rest.call("GET", "/v1/resource-definitions/mounted/resources/alpha",
                       status=200)["volumes"][0]["device_path"]
    subprocess.run(["mkfs.ext4", "-q", device], check=True, capture_output=True)
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    subprocess.run(["mount", device, str(mountpoint)], check=True, capture_output=True)
    try:
        first = rest.error("DELETE", "/v1/resource-definitions/mounted/resources/alpha",
                           status=500, code=rc.FAIL_IN_USE)
        assert first["message"] == "Resource 'mounted' on node 'alpha' is still in use."
        rest.error("POST", "/v1/resource-definitions/mounted/snapshot-rollback/s1", {},
                   status=500, code=rc.FAIL_IN_USE)
        assert (pool_root / "alpha" / "mounted_00000.img").exists()
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False, capture_output=True)
    rest.ok("POST", "/v1/resource-definitions/mounted/snapshot-rollback/s1", {})
    rest.ok("DELETE", "/v1/resource-definitions/mounted/resources/alpha")


def test_client_reports_delete_with_snapshots_as_in_use(client) -> None:
    """The controller refuses with LINSTOR's code (EXISTS_SNAPSHOT_DFN on a delete); the client
    turns that into InUse, the error adapters render as 'still in use'."""
    from linstor_core.errors import InUse

    client.resource_definitions.create("held", layers=("storage",))
    client.volume_definitions.create("held", 8 * MIB)
    client.resources.create("held", "alpha", storage_pool="thinpool")
    client.snapshots.create("held", "s1")
    with pytest.raises(InUse, match="snapshots"):
        client.resource_definitions.delete("held")
    assert client.resource_definitions.get("held").name == "held"
