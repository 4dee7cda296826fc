"""Boundary records parse the OpenAPI shapes once and keep only what the bundle uses."""

from __future__ import annotations

from linstor_core.models import Resource, ResourceDefinition, SelectFilter, Snapshot, StoragePool


def test_resource_with_volumes() -> None:
    resource = Resource.from_json({
        "name": "vm-1", "node_name": "alpha", "flags": ["DRBD_DISKLESS", "TIE_BREAKER"],
        "state": {"in_use": False}, "props": {"Aux/x": 1},
        "volumes": [{"volume_number": 0, "device_path": "/dev/drbd1000", "allocated_size_kib": 10,
                     "state": {"disk_state": "Diskless"}, "storage_pool_name": "DfltDisklessStorPool"}],
    })
    assert resource.diskless and resource.tiebreaker and resource.in_use is False
    assert resource.volumes[0].device_path == "/dev/drbd1000"
    assert resource.volumes[0].disk_state == "Diskless"
    assert resource.props == {"Aux/x": "1"}


def test_resource_definition_layers_and_volumes() -> None:
    rd = ResourceDefinition.from_json({
        "name": "r", "resource_group_name": "gold",
        "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}],
        "volume_definitions": [{"volume_number": 0, "size_kib": 1024}],
    })
    assert rd.layers == ("drbd", "storage")
    assert rd.volume_definitions[0].size_kib == 1024


def test_select_filter_round_trip_drops_unset_fields() -> None:
    select = SelectFilter(place_count=2, storage_pool="thinpool", replicas_on_different=("Aux/site",))
    body = select.to_json()
    assert body == {"place_count": 2, "storage_pool": "thinpool", "replicas_on_different": ["Aux/site"]}
    assert SelectFilter.from_json(body) == select


def test_snapshot_and_storage_pool() -> None:
    snap = Snapshot.from_json({"name": "s1", "resource_name": "r", "nodes": ["a", "b"],
                               "volume_definitions": [{"volume_number": 0, "size_kib": 4096}]})
    assert snap.nodes == ("a", "b") and snap.volume_sizes_kib == (4096,)
    pool = StoragePool.from_json({"storage_pool_name": "thinpool", "node_name": "a",
                                  "provider_kind": "FILE_THIN", "free_capacity": 5, "total_capacity": 9})
    assert (pool.free_capacity_kib, pool.total_capacity_kib) == (5, 9)
