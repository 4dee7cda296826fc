"""One storage pool whose free space cannot be read (its directory is gone) is left out of
placement and size queries instead of failing all of them; a request naming only that pool is
refused with its error.

Before, the placer asked every pool, the filtered-out ones too, so the missing directory of
charlie's pool made a spawn pinned to alpha, and query-all-size-info, answer 400.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from linstor_core import retcodes as rc
from linstor_core.errors import ApiError

BROKEN = "Not enough available nodes: the free space of storage pool 'thinpool' on node " \
         "'charlie' cannot be read."


@pytest.fixture
def charlie_broken(rest, pool_root: Path) -> None:
    """Groups ``onalpha``, ``anywhere`` (2 replicas), ``oncharlie``; charlie's pool is gone."""
    for name, select_filter in (("onalpha", {"place_count": 1, "node_name_list": ["alpha"]}),
                                ("anywhere", {"place_count": 2}),
                                ("oncharlie", {"place_count": 1,
                                               "node_name_list": ["charlie"]})):
        rest.ok("POST", "/v1/resource-groups", {"name": name, "select_filter": {
            **select_filter, "layer_stack": ["storage"]}}, status=201)
    shutil.rmtree(pool_root / "charlie")


def nodes_of(rest, rd: str) -> set[str]:
    listed = rest.call("GET", f"/v1/resource-definitions/{rd}/resources", status=200)
    return {r["node_name"] for r in listed}


@pytest.mark.usefixtures("charlie_broken")
def test_spawns_that_need_no_broken_pool_are_placed(rest):
    rest.ok("POST", "/v1/resource-groups/onalpha/spawn", {
        "resource_definition_name": "pinned", "volume_sizes": [2048]}, status=201)
    assert nodes_of(rest, "pinned") == {"alpha"}
    rest.ok("POST", "/v1/resource-groups/anywhere/spawn", {
        "resource_definition_name": "spread", "volume_sizes": [2048]}, status=201)
    assert nodes_of(rest, "spread") == {"alpha", "bravo"}


@pytest.mark.usefixtures("charlie_broken")
def test_size_queries_leave_the_broken_pool_out(rest):
    answer = rest.call("POST", "/v1/queries/resource-groups/query-all-size-info", {},
                       status=200, schema="QueryAllSizeInfoResponse")
    result = answer["result"]
    assert set(result) == {"DfltRscGrp", "onalpha", "anywhere", "oncharlie"}
    for name in ("onalpha", "anywhere"):
        assert result[name]["space_info"]["max_vlm_size_in_kib"] > 0
        assert "reports" not in result[name]
    assert {c["node_name"] for c in result["anywhere"]["space_info"]["next_spawn_result"]} \
        == {"alpha", "bravo"}
    only = result["oncharlie"]
    assert only["space_info"]["max_vlm_size_in_kib"] == 0
    assert rc.code_of(only["reports"][0]["ret_code"]) == rc.FAIL_NOT_ENOUGH_NODES
    assert only["reports"][0]["message"] == BROKEN
    assert "is missing" in only["reports"][0]["details"]


@pytest.mark.usefixtures("charlie_broken")
def test_a_request_naming_only_the_broken_pool_gets_its_error(rest, client):
    refused = rest.error("POST", "/v1/resource-groups/oncharlie/spawn", {
        "resource_definition_name": "nowhere", "volume_sizes": [2048]}, status=500,
        code=rc.FAIL_NOT_ENOUGH_NODES)
    assert refused["message"] == BROKEN
    assert refused["correction"] == "create the directory or the storage pool again"
    rest.error("GET", "/v1/resource-definitions/nowhere", status=404,
               code=rc.FAIL_NOT_FOUND_RSC_DFN)

    rest.ok("POST", "/v1/resource-groups/onalpha/spawn", {
        "resource_definition_name": "moving", "volume_sizes": [2048]}, status=201)
    refused = rest.error("POST", "/v1/resource-definitions/moving/autoplace", {
        "select_filter": {"place_count": 2, "node_name_list": ["charlie"]}}, status=500,
        code=rc.FAIL_NOT_ENOUGH_NODES)
    assert refused["message"] == BROKEN
    refused = rest.error("POST", "/v1/resource-definitions/moving/resources/charlie/"
                         "make-available", {"diskful": True}, status=500,
                         code=rc.FAIL_NOT_ENOUGH_NODES)
    assert refused["message"] == BROKEN
    assert nodes_of(rest, "moving") == {"alpha"}

    with pytest.raises(ApiError) as raised:
        client.resource_groups.query_size_info("oncharlie")
    assert raised.value.message == BROKEN
