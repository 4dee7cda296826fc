"""The bundle's own LinstorClient against the embedded controller: the seed walkthrough."""

from __future__ import annotations

import pytest

from linstor_core.errors import AlreadyExists, ApiError, InvalidInput, NotFound
from linstor_core.models import SelectFilter

MIB = 1024


def test_nodes_pools_and_version(client):
    assert client.controller.version()["rest_api_version"]
    assert client.controller.health() is None
    assert [n.name for n in client.nodes.list()] == ["alpha", "bravo", "charlie"]
    assert client.nodes.get("bravo").address == "127.0.0.12"
    pools = [p for p in client.storage_pools.list() if p.name == "thinpool"]
    assert len(pools) == 3 and all(p.free_capacity_kib for p in pools)
    with pytest.raises(NotFound):
        client.nodes.get("zulu")


def test_local_data_walkthrough(client):
    client.resource_definitions.create("LocalData", layers=["storage"])
    client.volume_definitions.create("LocalData", 150 * MIB)
    client.resources.create("LocalData", "alpha", storage_pool="thinpool")
    client.resources.create("LocalData", "bravo", storage_pool="thinpool")
    found = {r.node_name: r for r in client.resources.list("LocalData")}
    assert set(found) == {"alpha", "bravo"}
    assert found["alpha"].volumes[0].usable_size_kib == 150 * MIB
    with pytest.raises(AlreadyExists):
        client.resource_definitions.create("LocalData", layers=["storage"])
    client.resource_definitions.delete("LocalData")
    with pytest.raises(NotFound):
        client.resource_definitions.get("LocalData")


def test_shared_data_autoplace_migrate_and_tiebreaker(client):
    client.resource_definitions.create("SharedData", layers=["drbd", "storage"])
    client.volume_definitions.create("SharedData", 10 * MIB)
    client.resources.autoplace("SharedData", SelectFilter(place_count=2, storage_pool="thinpool"))
    placed = client.resources.list("SharedData")
    assert sum(not r.diskless for r in placed) == 2
    assert sum(r.tiebreaker for r in placed) == 1
    assert placed[0].drbd_port == 7000
    assert {v.drbd_minor for r in placed for v in r.volumes} == {1000}
    breaker = next(r.node_name for r in placed if r.tiebreaker)
    client.resources.create("SharedData", breaker, storage_pool="thinpool")
    placed = client.resources.list("SharedData")
    assert all(not r.diskless for r in placed)
    client.resources.delete("SharedData", placed[0].node_name)
    assert sum(r.tiebreaker for r in client.resources.list("SharedData")) == 1


def test_group_spawn_props_filter_and_views(client):
    client.resource_groups.create("gold", SelectFilter(place_count=2, storage_pool="thinpool",
                                                       layer_stack=("storage",)))
    client.resource_groups.spawn("gold", "pve-101-disk-0", [4 * MIB],
                                 props={"Aux/bundle/platform": "pve"})
    client.resource_groups.spawn("gold", "one-7-disk-0", [4 * MIB],
                                 props={"Aux/bundle/platform": "one"})
    pve = client.resource_definitions.list(props=["Aux/bundle/platform=pve"])
    assert [rd.name for rd in pve] == ["pve-101-disk-0"]
    assert pve[0].volume_definitions[0].size_kib == 4 * MIB
    assert len(client.resources.view(resources=["pve-101-disk-0"])) == 2
    capacity = client.resource_groups.query_size_info("gold")
    assert capacity.max_volume_size_kib > 0
    assert "gold" in client.resource_groups.query_all_size_info()
    client.volume_definitions.resize("pve-101-disk-0", 0, 8 * MIB)
    assert client.volume_definitions.list("pve-101-disk-0")[0].size_kib == 8 * MIB


def test_refusals_raise(client):
    with pytest.raises((ApiError, InvalidInput)):
        client.resource_definitions.create("1bad")
    with pytest.raises(NotFound):
        client.resources.delete("nothing", "alpha")


@pytest.mark.root
def test_snapshot_restore_rollback_clone(client):
    client.resource_definitions.create("SharedData", layers=["storage"])
    client.volume_definitions.create("SharedData", 4 * MIB)
    for node in ("alpha", "bravo"):
        client.resources.create("SharedData", node, storage_pool="thinpool")
    client.snapshots.create("SharedData", "Snap1", nodes=["alpha", "bravo"])
    assert [s.name for s in client.snapshots.list("SharedData")] == ["Snap1"]
    assert client.snapshots.list("SharedData")[0].nodes == ("alpha", "bravo")
    client.snapshots.restore_resources("SharedData", "Snap1", "SharedData_Restore",
                                       nodes=["alpha"])
    assert [r.node_name for r in client.resources.list("SharedData_Restore")] == ["alpha"]
    client.snapshots.rollback("SharedData", "Snap1")
    client.resource_definitions.clone("SharedData", "SharedClone")
    assert client.resource_definitions.clone_status("SharedData", "SharedClone") == "COMPLETE"
    with pytest.raises(ApiError, match="because it has snapshots"):
        client.resource_definitions.delete("SharedData")
    client.snapshots.delete("SharedData", "Snap1")
    client.resource_definitions.delete("SharedData")
