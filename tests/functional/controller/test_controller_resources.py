"""Resources: named nodes, autoplace, tiebreaker, make-available, views, delete."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from linstor_core.runner import run
from prerequisites import require


def make_rd(rest, name: str, layers=("STORAGE",), size_kib: int = 4096, props=None) -> None:
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": name, "props": props or {}, "layer_data": [{"type": t} for t in layers]}},
        status=201)
    rest.ok("POST", f"/v1/resource-definitions/{name}/volume-definitions",
            {"volume_definition": {"size_kib": size_kib}}, status=201)


def place_on(rest, name: str, *nodes: str, pool: str = "thinpool") -> list:
    return rest.ok("POST", f"/v1/resource-definitions/{name}/resources",
                   [{"resource": {"node_name": n, "props": {"StorPoolName": pool}}}
                    for n in nodes], status=201)


def resources(rest, name: str) -> dict[str, dict]:
    """The definition's resources with their volumes: the view, as LINSTOR's per-definition
    listing carries no volumes."""
    listed = rest.call("GET", "/v1/view/resources", params={"resources": [name]}, status=200,
                       schema="ResourceWithVolumes", many=True)
    return {r["node_name"]: r for r in listed}


def test_storage_resource_on_named_nodes(rest, pool_root: Path):
    make_rd(rest, "LocalData", size_kib=150 * 1024)
    replies = place_on(rest, "LocalData", "alpha", "bravo")
    assert [r["message"] for r in replies] == [
        "New resource 'LocalData' on node 'alpha' registered.",
        "New resource 'LocalData' on node 'bravo' registered."]
    found = resources(rest, "LocalData")
    assert set(found) == {"alpha", "bravo"}
    volume = found["alpha"]["volumes"][0]
    assert volume["storage_pool_name"] == "thinpool"
    assert volume["provider_kind"] == "FILE_THIN"
    assert volume["usable_size_kib"] == 150 * 1024
    assert volume["state"]["disk_state"] == "UpToDate"
    image = pool_root / "alpha" / "LocalData_00000.img"
    assert image.stat().st_size == 150 * 1024 * 1024
    if os.geteuid() == 0:
        assert stat.S_ISBLK(os.stat(volume["device_path"]).st_mode)
    else:
        assert volume["device_path"] == str(image.resolve())
    rest.error("POST", "/v1/resource-definitions/LocalData/resources",
               [{"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}],
               status=500, code=rc.FAIL_EXISTS_RSC)
    rest.error("POST", "/v1/resource-definitions/LocalData/resources",
               [{"resource": {"node_name": "zulu", "props": {"StorPoolName": "thinpool"}}}],
               status=404, code=rc.FAIL_NOT_FOUND_NODE)
    rest.error("POST", "/v1/resource-definitions/LocalData/resources",
               [{"resource": {"node_name": "charlie", "props": {"StorPoolName": "nopool"}}}],
               status=404, code=rc.FAIL_NOT_FOUND_STOR_POOL)
    assert set(resources(rest, "LocalData")) == {"alpha", "bravo"}


def test_delete_resource_removes_volume(rest, pool_root: Path):
    make_rd(rest, "temp")
    place_on(rest, "temp", "alpha")
    replies = rest.ok("DELETE", "/v1/resource-definitions/temp/resources/alpha")
    assert replies[0]["message"] == "Resource 'temp' on node 'alpha' deleted."
    assert not (pool_root / "alpha" / "temp_00000.img").exists()
    (again,) = rest.call("DELETE", "/v1/resource-definitions/temp/resources/alpha", status=200)
    assert rc.code_of(again["ret_code"]) == rc.WARN_NOT_FOUND
    rest.error("DELETE", "/v1/resource-definitions/temp/resources/nowhere", status=404,
               code=rc.FAIL_NOT_FOUND_NODE)
    rest.error("DELETE", "/v1/resource-definitions/untemp/resources/alpha", status=404,
               code=rc.FAIL_NOT_FOUND_RSC_DFN)


def test_drbd_resource_layers_and_honest_state(rest, controller):
    make_rd(rest, "SharedData", ("DRBD", "STORAGE"))
    place_on(rest, "SharedData", "alpha", "bravo")
    found = resources(rest, "SharedData")
    alpha = found["alpha"]
    drbd = alpha["layer_object"]["drbd"]
    assert drbd["drbd_resource_definition"]["port"] == 7000
    assert {found["alpha"]["layer_object"]["drbd"]["node_id"],
            found["bravo"]["layer_object"]["drbd"]["node_id"]} == {0, 1}
    volume = alpha["volumes"][0]
    assert volume["device_path"] == "/dev/drbd1000"
    assert volume["state"]["disk_state"] != "UpToDate"
    assert volume["reports"] and "not up" in volume["reports"][0]["message"]
    for node in ("alpha", "bravo"):
        res_file = controller.state_dir / "nodes" / node / "drbd.d" / "SharedData.res"
        text = res_file.read_text()
        assert ":7000;" in text and "minor 1000;" in text
        assert 'on "alpha"' in text and 'on "bravo"' in text
        # drbd-utils parses the .res files: required as root and in CI (make sysdeps installs it)
        run([require("drbdadm", package="drbd-utils"), "--config-file", str(res_file), "dump"])


def test_tiebreaker_kept_for_two_replicas(rest):
    make_rd(rest, "quorum", ("DRBD", "STORAGE"))
    replies = place_on(rest, "quorum", "alpha", "bravo")
    assert any(rc.code_of(r["ret_code"]) == rc.code_of(rc.INFO_TIE_BREAKER_CREATED)
               for r in replies), replies
    found = resources(rest, "quorum")
    assert "TIE_BREAKER" in found["charlie"]["flags"]
    assert "DISKLESS" in found["charlie"]["flags"]
    assert found["charlie"]["volumes"][0]["state"]["disk_state"] == "Diskless"
    rest.ok("DELETE", "/v1/resource-definitions/quorum/resources/bravo")
    assert set(resources(rest, "quorum")) == {"alpha"}, "one replica needs no tiebreaker"
    place_on(rest, "quorum", "bravo")
    assert "TIE_BREAKER" in resources(rest, "quorum")["charlie"]["flags"]


def test_keep_tiebreaker_converts_diskless(rest):
    nodes = ("alpha", "bravo")
    make_rd(rest, "client", ("DRBD", "STORAGE"))
    place_on(rest, "client", *nodes)
    rest.ok("POST", "/v1/resource-definitions/client/resources/charlie/make-available",
            {"diskful": False})
    charlie = resources(rest, "client")["charlie"]
    assert "TIE_BREAKER" not in charlie["flags"] and "DISKLESS" in charlie["flags"]
    replies = rest.ok("DELETE", "/v1/resource-definitions/client/resources/charlie",
                      params={"keep_tiebreaker": "true"})
    assert "tiebreaker" in replies[0]["message"]
    assert "TIE_BREAKER" in resources(rest, "client")["charlie"]["flags"]


def test_make_available(rest):
    make_rd(rest, "avail", ("DRBD", "STORAGE"))
    place_on(rest, "avail", "alpha")
    rest.ok("POST", "/v1/resource-definitions/avail/resources/bravo/make-available", {})
    assert "DISKLESS" in resources(rest, "avail")["bravo"]["flags"]
    rest.ok("POST", "/v1/resource-definitions/avail/resources/charlie/make-available",
            {"diskful": True})
    found = resources(rest, "avail")
    assert "DISKLESS" not in found["charlie"]["flags"]
    replies = rest.ok("POST", "/v1/resource-definitions/avail/resources/alpha/make-available",
                      {})
    assert rc.code_of(replies[0]["ret_code"]) == rc.code_of(rc.INFO_RSC_ALREADY_EXISTS)


def test_make_available_storage_only_is_diskful(rest, pool_root: Path):
    make_rd(rest, "plain")
    rest.ok("POST", "/v1/resource-definitions/plain/resources/bravo/make-available", {})
    assert (pool_root / "bravo" / "plain_00000.img").exists()


def test_diskless_needs_drbd(rest):
    make_rd(rest, "nodrbd")
    rest.error("POST", "/v1/resource-definitions/nodrbd/resources",
               [{"resource": {"node_name": "alpha", "flags": ["DISKLESS"]}}], status=400,
               code=rc.FAIL_INVLD_LAYER_STACK)


def test_autoplace_basic_and_deterministic(rest):
    make_rd(rest, "auto", ("DRBD", "STORAGE"))
    replies = rest.ok("POST", "/v1/resource-definitions/auto/autoplace",
                      {"select_filter": {"place_count": 2, "storage_pool": "thinpool"}},
                      status=201)
    found = resources(rest, "auto")
    diskful = sorted(n for n, r in found.items() if "DISKLESS" not in r["flags"])
    assert len(diskful) == 2
    assert any("TIE_BREAKER" in r["flags"] for r in found.values()), replies
    rest.ok("POST", "/v1/resource-definitions/auto/autoplace",
            {"select_filter": {"place_count": 3}}, status=201)
    found = resources(rest, "auto")
    assert all("DISKLESS" not in r["flags"] for r in found.values())
    assert len(found) == 3


def test_autoplace_not_enough_nodes(rest):
    make_rd(rest, "toomany")
    rest.error("POST", "/v1/resource-definitions/toomany/autoplace",
               {"select_filter": {"place_count": 4}}, status=500, code=rc.FAIL_NOT_ENOUGH_NODES)
    assert resources(rest, "toomany") == {}


def test_autoplace_constraints(rest):
    for node, site in (("alpha", "a"), ("bravo", "a"), ("charlie", "b")):
        rest.ok("PUT", f"/v1/nodes/{node}", {"override_props": {"Aux/site": site}})
    make_rd(rest, "same")
    rest.ok("POST", "/v1/resource-definitions/same/autoplace",
            {"select_filter": {"place_count": 2, "replicas_on_same": ["Aux/site"]}}, status=201)
    assert set(resources(rest, "same")) == {"alpha", "bravo"}
    make_rd(rest, "diff")
    rest.ok("POST", "/v1/resource-definitions/diff/autoplace",
            {"select_filter": {"place_count": 2, "replicas_on_different": ["Aux/site"]}},
            status=201)
    placed = set(resources(rest, "diff"))
    assert "charlie" in placed and len(placed) == 2
    make_rd(rest, "apart")
    rest.ok("POST", "/v1/resource-definitions/apart/autoplace",
            {"select_filter": {"place_count": 1, "not_place_with_rsc": ["same"]}}, status=201)
    assert set(resources(rest, "apart")) == {"charlie"}
    make_rd(rest, "apart2")
    rest.ok("POST", "/v1/resource-definitions/apart2/autoplace",
            {"select_filter": {"place_count": 1, "not_place_with_rsc_regex": "sa.*"}},
            status=201)
    assert set(resources(rest, "apart2")) == {"charlie"}
    rest.error("POST", "/v1/resource-definitions/apart2/autoplace",
               {"select_filter": {"place_count": 3, "replicas_on_different": ["Aux/site"]}},
               status=500, code=rc.FAIL_NOT_ENOUGH_NODES)


def test_autoplace_diskless_on_remaining(rest):
    make_rd(rest, "rest", ("DRBD", "STORAGE"))
    rest.ok("POST", "/v1/resource-definitions/rest/autoplace",
            {"select_filter": {"place_count": 1, "diskless_on_remaining": True}}, status=201)
    found = resources(rest, "rest")
    assert len(found) == 3
    assert sum("DISKLESS" in r["flags"] for r in found.values()) == 2
    assert not any("TIE_BREAKER" in r["flags"] for r in found.values())


def test_view_resources_filters(rest):
    make_rd(rest, "v1", props={"Aux/x": "1"})
    make_rd(rest, "v2")
    place_on(rest, "v1", "alpha", "bravo")
    place_on(rest, "v2", "bravo")
    every = rest.call("GET", "/v1/view/resources", status=200, schema="ResourceWithVolumes",
                      many=True)
    assert len(every) == 3
    on_bravo = rest.call("GET", "/v1/view/resources", params={"nodes": "bravo"}, status=200)
    assert {r["name"] for r in on_bravo} == {"v1", "v2"}
    only_v1 = rest.call("GET", "/v1/view/resources", params={"resources": ["v1"]}, status=200)
    assert {r["node_name"] for r in only_v1} == {"alpha", "bravo"}
    by_pool_prop = rest.call("GET", "/v1/view/resources",
                             params={"props": "StorPoolName=thinpool"}, status=200)
    assert len(by_pool_prop) == 3


@pytest.mark.parametrize("node", ["alpha", "bravo"])
def test_get_single_resource(rest, node):
    make_rd(rest, "single")
    place_on(rest, "single", node)
    got = rest.call("GET", f"/v1/resource-definitions/single/resources/{node}", status=200,
                    schema="ResourceWithVolumes")
    assert got["node_name"] == node


def test_node_ids_reused_after_delete(rest):
    make_rd(rest, "ids", ("DRBD", "STORAGE"))
    place_on(rest, "ids", "alpha", "bravo", "charlie")
    ids = {n: r["layer_object"]["drbd"]["node_id"] for n, r in resources(rest, "ids").items()}
    assert sorted(ids.values()) == [0, 1, 2]
    rest.ok("DELETE", "/v1/resource-definitions/ids/resources/bravo")
    place_on(rest, "ids", "bravo")
    again = resources(rest, "ids")["bravo"]["layer_object"]["drbd"]["node_id"]
    assert again == ids["bravo"]


def test_concurrent_spawns_serialise(rest, controller):
    import concurrent.futures

    import requests

    rest.ok("POST", "/v1/resource-groups", {"name": "par", "select_filter": {
        "place_count": 1, "layer_stack": ["drbd", "storage"]}}, status=201)

    def spawn(n: int) -> int:
        return requests.post(f"{controller.url}/v1/resource-groups/par/spawn", json={
            "resource_definition_name": f"par{n}", "volume_sizes": [1024]}, timeout=60
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(spawn, range(16)))
    assert statuses == [201] * 16
    rds = rest.call("GET", "/v1/resource-definitions", status=200,
                    params={"with_volume_definitions": "true"})
    ports = [r["layer_data"][0]["data"]["port"] for r in rds]
    minors = [r["volume_definitions"][0]["layer_data"][0]["data"]["minor_number"] for r in rds]
    assert sorted(ports) == list(range(7000, 7016))
    assert sorted(minors) == list(range(1000, 1016))


def test_deleted_replica_node_becomes_tiebreaker(rest, controller, pool_root: Path):
    make_rd(rest, "migrate", ("DRBD", "STORAGE"))
    place_on(rest, "migrate", "alpha", "bravo", "charlie")
    rest.ok("DELETE", "/v1/resource-definitions/migrate/resources/charlie")
    found = resources(rest, "migrate")
    assert "TIE_BREAKER" in found["charlie"]["flags"]
    assert not (pool_root / "charlie" / "migrate_00000.img").exists()
    res = controller.state_dir / "nodes" / "charlie" / "drbd.d" / "migrate.res"
    assert res.exists() and "none" in res.read_text()
