"""Resource groups: CRUD, spawn, size queries."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from linstor_core import retcodes as rc


def test_group_crud(rest):
    rest.ok("POST", "/v1/resource-groups", {
        "name": "gold", "description": "3 replicas",
        "select_filter": {"place_count": 3, "storage_pool": "thinpool",
                          "layer_stack": ["drbd", "storage"]},
        "props": {"DrbdOptions/Net/protocol": "C"}}, status=201)
    groups = rest.call("GET", "/v1/resource-groups", status=200, schema="ResourceGroup",
                       many=True)
    assert {g["name"] for g in groups} == {"DfltRscGrp", "gold"}
    gold = rest.call("GET", "/v1/resource-groups/gold", status=200, schema="ResourceGroup")
    assert gold["select_filter"] == {"place_count": 3, "storage_pool": "thinpool",
                                     "layer_stack": ["DRBD", "STORAGE"]}
    rest.ok("PUT", "/v1/resource-groups/gold", {"select_filter": {"place_count": 2},
                                                 "description": "2 replicas",
                                                 "override_props": {"Aux/x": "y"}})
    gold = rest.call("GET", "/v1/resource-groups/gold", status=200)
    assert gold["select_filter"]["place_count"] == 2
    assert gold["description"] == "2 replicas"
    assert gold["props"] == {"DrbdOptions/Net/protocol": "C", "Aux/x": "y"}
    rest.error("POST", "/v1/resource-groups", {"name": "gold"}, status=500,
               code=rc.FAIL_EXISTS_RSC_GRP)
    rest.error("POST", "/v1/resource-groups", {"name": "9x"}, status=400,
               code=rc.FAIL_INVLD_RSC_GRP_NAME)
    rest.error("POST", "/v1/resource-groups", {"name": "bad", "select_filter": {
        "place_count": 0}}, status=400, code=rc.FAIL_INVLD_PLACE_COUNT)
    rest.ok("DELETE", "/v1/resource-groups/gold")
    rest.error("GET", "/v1/resource-groups/gold", status=404, code=rc.FAIL_NOT_FOUND_RSC_GRP)


def test_spawn_places_and_records_props(rest, pool_root: Path):
    rest.ok("POST", "/v1/resource-groups", {"name": "silver", "select_filter": {
        "place_count": 2, "storage_pool": "thinpool", "layer_stack": ["storage"]}}, status=201)
    replies = rest.ok("POST", "/v1/resource-groups/silver/spawn", {
        "resource_definition_name": "pve-101-web-disk-0", "volume_sizes": [16 * 1024],
        "resource_definition_props": {"Aux/bundle/platform": "pve"}}, status=201)
    assert replies[0]["message"] == "New resource definition 'pve-101-web-disk-0' created."
    rd = rest.call("GET", "/v1/resource-definitions/pve-101-web-disk-0", status=200,
                   schema="ResourceDefinition")
    assert rd["resource_group_name"] == "silver"
    assert rd["props"] == {"Aux/bundle/platform": "pve"}
    assert rd["layer_data"] == [{"type": "STORAGE"}]
    placed = rest.call("GET", "/v1/resource-definitions/pve-101-web-disk-0/resources",
                       status=200)
    assert len(placed) == 2
    for rsc in placed:
        image = pool_root / rsc["node_name"] / "pve-101-web-disk-0_00000.img"
        assert image.stat().st_size == 16 * 1024 * 1024


def test_spawn_definitions_only(rest):
    rest.ok("POST", "/v1/resource-groups", {"name": "defs", "select_filter": {
        "place_count": 2}}, status=201)
    rest.ok("POST", "/v1/resource-groups/defs/spawn", {
        "resource_definition_name": "onlydefs", "volume_sizes": [1024, 2048],
        "definitions_only": True}, status=201)
    (rd,) = rest.call("GET", "/v1/resource-definitions", params={  # LINSTOR's single GET has no VDs
        "resource_definitions": ["onlydefs"], "with_volume_definitions": "true"}, status=200)
    assert [v["size_kib"] for v in rd["volume_definitions"]] == [1024, 2048]
    assert rest.call("GET", "/v1/resource-definitions/onlydefs/resources", status=200) == []


def test_failed_spawn_leaves_nothing(rest, controller, pool_root: Path):
    rest.ok("POST", "/v1/resource-groups", {"name": "big", "select_filter": {
        "place_count": 4, "layer_stack": ["storage"]}}, status=201)
    rest.error("POST", "/v1/resource-groups/big/spawn", {
        "resource_definition_name": "nope", "volume_sizes": [1024]}, status=500,
        code=rc.FAIL_NOT_ENOUGH_NODES)
    rest.error("POST", "/v1/resource-groups/big/spawn", {
        "resource_definition_name": "nope", "volume_sizes": [0]}, status=400,
        code=rc.FAIL_INVLD_VLM_SIZE)
    rest.error("POST", "/v1/resource-groups/missing/spawn", {
        "resource_definition_name": "nope", "volume_sizes": [1024]}, status=404,
        code=rc.FAIL_NOT_FOUND_RSC_GRP)
    with sqlite3.connect(controller.state_dir / "controller.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM resource_definitions").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM volume_definitions").fetchone()[0] == 0
    assert not list(pool_root.glob("*/*.img"))


def test_spawn_failing_on_storage_undoes_made_volumes(rest, controller, pool_root: Path):
    rest.ok("POST", "/v1/resource-groups", {"name": "pair", "select_filter": {
        "place_count": 2, "node_name_list": ["alpha", "bravo"], "layer_stack": ["storage"]}},
        status=201)
    # The placer goes by the free space last reported, so bravo is chosen once it is broken.
    rest.call("POST", "/v1/resource-groups/pair/query-size-info", {}, status=200)
    broken = pool_root / "bravo"
    broken.rmdir()
    broken.write_text("not a directory")
    rest.error("POST", "/v1/resource-groups/pair/spawn", {
        "resource_definition_name": "halfmade", "volume_sizes": [1024]}, status=500)
    assert not (pool_root / "alpha" / "halfmade_00000.img").exists()
    assert not list((pool_root / "alpha").glob("*.tmp"))
    assert rest.call("GET", "/v1/view/resources", status=200) == []
    with sqlite3.connect(controller.state_dir / "controller.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM resource_definitions").fetchone()[0] == 0
    if os.geteuid() == 0:
        listing = subprocess.run(["losetup", "--list", "--noheadings", "--output", "BACK-FILE"],
                                 capture_output=True, text=True, check=True).stdout
        assert "halfmade" not in listing


def test_delete_group_in_use_refused(rest):
    rest.ok("POST", "/v1/resource-groups", {"name": "used"}, status=201)
    rest.ok("POST", "/v1/resource-groups/used/spawn", {
        "resource_definition_name": "inuse", "volume_sizes": [1024]}, status=201)
    rest.error("DELETE", "/v1/resource-groups/used", status=500, code=rc.FAIL_IN_USE)
    rest.error("DELETE", "/v1/resource-groups/DfltRscGrp", status=500, code=rc.FAIL_IN_USE)


def test_query_size_info(rest):
    rest.ok("POST", "/v1/resource-groups", {"name": "sized", "select_filter": {
        "place_count": 2, "storage_pool": "thinpool"}}, status=201)
    info = rest.call("POST", "/v1/resource-groups/sized/query-size-info", {}, status=200,
                     schema="QuerySizeInfoResponse")
    space = info["space_info"]
    pools = [p for p in rest.call("GET", "/v1/view/storage-pools", status=200)
             if p["storage_pool_name"] == "thinpool"]
    assert space["max_vlm_size_in_kib"] == min(p["free_capacity"] for p in pools)
    assert space["capacity_in_kib"] == sum(p["total_capacity"] for p in pools)
    assert len(space["next_spawn_result"]) == 2
    narrow = rest.call("POST", "/v1/resource-groups/sized/query-size-info",
                       {"select_filter": {"place_count": 4}}, status=200)
    assert narrow["space_info"]["max_vlm_size_in_kib"] == 0
    every = rest.call("POST", "/v1/queries/resource-groups/query-all-size-info", {},
                      status=200, schema="QueryAllSizeInfoResponse")
    assert set(every["result"]) == {"DfltRscGrp", "sized"}


def test_a_pool_list_replaces_the_single_pool_it_follows(rest, pool_root: Path):
    """storage_pool and storage_pool_list are one setting (LINSTOR folds the single pool into
    the list): a group moved from pool aaa to bbb, thinpool never places in aaa again, and a
    spawn asking for one pool gets that pool only."""
    for pool in ("aaa", "bbb"):
        (pool_root / pool).mkdir(exist_ok=True)
        rest.ok("POST", "/v1/nodes/alpha/storage-pools", {
            "storage_pool_name": pool, "provider_kind": "FILE_THIN",
            "props": {"StorDriver/FileDir": str(pool_root / pool)}}, status=201)
    rest.ok("POST", "/v1/resource-groups", {"name": "moved", "select_filter": {
        "place_count": 1, "storage_pool": "aaa", "storage_pool_list": ["aaa"],
        "node_name_list": ["alpha"], "layer_stack": ["storage"]}}, status=201)
    rest.ok("PUT", "/v1/resource-groups/moved", {"select_filter": {"storage_pool_list": ["bbb", "thinpool"]}})
    group = rest.call("GET", "/v1/resource-groups/moved", status=200, schema="ResourceGroup")
    assert group["select_filter"]["storage_pool_list"] == ["bbb", "thinpool"]
    assert "storage_pool" not in group["select_filter"]

    def pool_of(rd: str) -> str:
        (resource,) = rest.call("GET", "/v1/view/resources", status=200, params={"resources": rd})
        return resource["volumes"][0]["storage_pool_name"]

    rest.ok("POST", "/v1/resource-groups/moved/spawn", {
        "resource_definition_name": "moved-a", "volume_sizes": [4096]}, status=201)
    assert pool_of("moved-a") == "bbb"
    rest.ok("POST", "/v1/resource-groups/moved/spawn", {
        "resource_definition_name": "moved-b", "volume_sizes": [4096],
        "select_filter": {"storage_pool": "aaa"}}, status=201)
    assert pool_of("moved-b") == "aaa"
    for rd in ("moved-a", "moved-b"):
        rest.ok("DELETE", f"/v1/resource-definitions/{rd}")
