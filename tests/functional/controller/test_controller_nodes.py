"""Controller version, nodes and storage pools over real HTTP."""

from __future__ import annotations

from pathlib import Path

import requests

from linstor_core import retcodes as rc
from linstor_core.controller.server import ControllerServer


def test_version_validates(rest):
    body = rest.call("GET", "/v1/controller/version", status=200, schema="ControllerVersion")
    assert body["rest_api_version"]


def test_health_answers_while_the_database_does(controller, tmp_path: Path):
    """``/v1/health`` is newer than the bundled spec: its answer is checked here, not by schema."""
    answer = requests.get(controller.url + "/v1/health", timeout=10)
    assert (answer.status_code, answer.json()) == (200, [])
    with ControllerServer(tmp_path / "guarded", "127.0.0.1", 0, token="s3cret") as guarded:
        refused = requests.get(guarded.url + "/v1/health", timeout=10)
        assert refused.status_code == 401 and refused.json()[0]["ret_code"] < 0


def test_fixture_nodes_and_pools(rest):
    nodes = rest.call("GET", "/v1/nodes", status=200, schema="Node", many=True)
    assert [n["name"] for n in nodes] == ["alpha", "bravo", "charlie"]
    pools = rest.call("GET", "/v1/view/storage-pools", status=200, schema="StoragePool",
                      many=True)
    thin = [p for p in pools if p["storage_pool_name"] == "thinpool"]
    assert len(thin) == 3
    for pool in thin:
        assert pool["provider_kind"] == "FILE_THIN"
        assert 0 < pool["free_capacity"] <= pool["total_capacity"]
    diskless = [p for p in pools if p["provider_kind"] == "DISKLESS"]
    assert {p["node_name"] for p in diskless} == {"alpha", "bravo", "charlie"}


def test_node_filters_and_get(rest):
    only = rest.call("GET", "/v1/nodes", params={"nodes": ["bravo"]}, status=200,
                     schema="Node", many=True)
    assert [n["name"] for n in only] == ["bravo"]
    one = rest.call("GET", "/v1/nodes/charlie", status=200, schema="Node")
    assert one["net_interfaces"][0]["address"] == "127.0.0.13"
    rest.error("GET", "/v1/nodes/zulu", status=404, code=rc.FAIL_NOT_FOUND_NODE)


def test_node_create_refusals_change_nothing(rest):
    rest.error("POST", "/v1/nodes", {"name": "-bad", "type": "SATELLITE",
                                     "net_interfaces": [{"name": "default", "address": "1.2.3.4"}]},
               status=400, code=rc.FAIL_INVLD_NODE_NAME)
    rest.error("POST", "/v1/nodes", {"name": "delta", "type": "SATELLITE",
                                     "net_interfaces": [{"name": "default", "address": "nope"}]},
               status=400, code=rc.FAIL_INVLD_NET_ADDR)
    rest.error("POST", "/v1/nodes", {"name": "alpha", "type": "SATELLITE",
                                     "net_interfaces": [{"name": "default", "address": "1.2.3.4"}]},
               status=500, code=rc.FAIL_EXISTS_NODE)
    assert len(rest.call("GET", "/v1/nodes", status=200)) == 3


def test_node_delete(rest):
    rest.ok("POST", "/v1/nodes", {"name": "delta", "type": "Satellite",
                                  "net_interfaces": [{"name": "default", "address": "10.1.1.1"}]},
            status=201)
    replies = rest.ok("DELETE", "/v1/nodes/delta")
    assert rc.code_of(replies[0]["ret_code"]) == rc.DELETED
    assert replies[0]["message"] == "Node 'delta' deleted."
    (again,) = rest.call("DELETE", "/v1/nodes/delta", status=200)  # LINSTOR: a warning, not an error
    assert rc.code_of(again["ret_code"]) == rc.WARN_NOT_FOUND
    assert again["message"] == "Deletion of node 'delta' had no effect."


def test_pool_create_list_delete(rest, pool_root: Path):
    directory = pool_root / "extra"
    rest.ok("POST", "/v1/nodes/alpha/storage-pools", {
        "storage_pool_name": "fatpool", "provider_kind": "FILE",
        "props": {"StorDriver/FileDir": str(directory)}}, status=201)
    assert directory.is_dir()
    pools = rest.call("GET", "/v1/nodes/alpha/storage-pools", status=200, schema="StoragePool",
                      many=True)
    assert {p["storage_pool_name"] for p in pools} == {"DfltDisklessStorPool", "thinpool",
                                                        "fatpool"}
    rest.ok("DELETE", "/v1/nodes/alpha/storage-pools/fatpool")
    rest.error("DELETE", "/v1/nodes/alpha/storage-pools/fatpool", status=404,
               code=rc.FAIL_NOT_FOUND_STOR_POOL)


def test_pool_directory_from_generic_pool_name(rest, pool_root: Path):
    """What python-linstor and the linstor CLI send since REST 1.2."""
    directory = pool_root / "generic"
    rest.ok("POST", "/v1/nodes/bravo/storage-pools", {
        "storage_pool_name": "filepool", "provider_kind": "FILE_THIN",
        "props": {"StorDriver/StorPoolName": str(directory)}}, status=201)
    assert directory.is_dir()
    pool = rest.call("GET", "/v1/nodes/bravo/storage-pools/filepool", status=200,
                     schema="StoragePool")
    assert pool["props"]["StorDriver/FileDir"] == str(directory)


def test_pool_without_directory_shows_its_default_one(rest, controller):
    rest.ok("POST", "/v1/nodes/charlie/storage-pools", {
        "storage_pool_name": "plain", "provider_kind": "FILE_THIN"}, status=201)
    pool = rest.call("GET", "/v1/nodes/charlie/storage-pools/plain", status=200)
    directory = controller.state_dir / "nodes" / "charlie" / "pools" / "plain"
    assert pool["props"]["StorDriver/FileDir"] == str(directory.resolve())
    assert directory.is_dir()


def test_pool_refusals(rest):
    rest.error("POST", "/v1/nodes/alpha/storage-pools",
               {"storage_pool_name": "lvm", "provider_kind": "LVM"}, status=500,
               code=rc.FAIL_STLT_DOES_NOT_SUPPORT_PROVIDER)
    rest.error("POST", "/v1/nodes/alpha/storage-pools",
               {"storage_pool_name": "x", "provider_kind": "FILE_THIN"}, status=400,
               code=rc.FAIL_INVLD_STOR_POOL_NAME)
    rest.error("POST", "/v1/nodes/zulu/storage-pools",
               {"storage_pool_name": "thinpool", "provider_kind": "FILE_THIN"}, status=404,
               code=rc.FAIL_NOT_FOUND_NODE)


def test_pool_directory_belongs_to_one_pool(rest, pool_root: Path):
    first = rest.error("POST", "/v1/nodes/alpha/storage-pools", {
        "storage_pool_name": "again", "provider_kind": "FILE_THIN",
        "props": {"StorDriver/FileDir": str(pool_root / "bravo")}}, status=500,
        code=rc.FAIL_STOR_POOL_CONFIGURATION_ERROR)
    assert "already belongs to storage pool 'thinpool' on node 'bravo'" in first["message"]


def test_unknown_path_and_method_are_apicallrc(rest):
    rest.error("GET", "/v1/no-such-thing", status=404, code=rc.code_of(rc.UNKNOWN_API_CALL))
    rest.error("PATCH", "/v1/nodes", status=405)
    rest.error("POST", "/v1/nodes", status=400)


def test_bad_json_is_400(controller: ControllerServer):
    import requests

    answer = requests.post(controller.url + "/v1/nodes", data=b"{nope", timeout=10,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()[0]["ret_code"] < 0


def test_wrong_field_types_are_400(rest):
    rest.error("PUT", "/v1/nodes/alpha", {"delete_props": [1, 2]}, status=400,
               code=rc.FAIL_INVLD_REQUEST)
    rest.error("POST", "/v1/nodes", {"name": 5, "type": "SATELLITE"}, status=400,
               code=rc.FAIL_INVLD_REQUEST)
    rest.error("POST", "/v1/resource-groups", {"name": "grp", "select_filter": []}, status=400,
               code=rc.FAIL_INVLD_REQUEST)
    rest.error("POST", "/v1/resource-definitions", [1], status=400)


def test_a_pool_whose_directory_vanished_is_listed_with_an_error_report(rest, pool_root: Path):
    """One broken pool must not hide every other pool (pvestatd, /metrics, profiles use the view)."""
    directory = pool_root / "vanishing"
    rest.ok("POST", "/v1/nodes/alpha/storage-pools", {
        "storage_pool_name": "gone", "provider_kind": "FILE_THIN",
        "props": {"StorDriver/FileDir": str(directory)}}, status=201)
    directory.rmdir()
    pools = rest.call("GET", "/v1/view/storage-pools", status=200, schema="StoragePool",
                      many=True)
    broken = [p for p in pools if p["storage_pool_name"] == "gone"]
    assert len(broken) == 1 and "free_capacity" not in broken[0]
    report = broken[0]["reports"][0]
    assert rc.code_of(report["ret_code"]) == rc.FAIL_STOR_POOL_CONFIGURATION_ERROR
    assert report["message"].endswith("directory of pool gone on alpha is missing")
    healthy = [p for p in pools if p["storage_pool_name"] == "thinpool"]
    assert len(healthy) == 3 and all(p["free_capacity"] > 0 for p in healthy)
