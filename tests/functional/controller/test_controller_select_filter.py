"""Select filters are checked against the OpenAPI AutoSelectFilter types wherever they come in.

Group create and modify, spawn, autoplace and the size query share one checker: a value of
the wrong type (or a regex that does not compile) is a 400 with LINSTOR's FAIL_INVLD_* code
for the field, and nothing is stored. Before, such values answered 500 (TypeError, re.error),
or were stored and then broke query-all-size-info for every group.
"""

from __future__ import annotations

import pytest

from linstor_core import retcodes as rc

BAD_VALUES = [
    ("place_count", "2", rc.FAIL_INVLD_PLACE_COUNT),
    ("place_count", True, rc.FAIL_INVLD_PLACE_COUNT),
    ("place_count", 2 ** 31, rc.FAIL_INVLD_PLACE_COUNT),
    ("additional_place_count", 1.5, rc.FAIL_INVLD_PLACE_COUNT),
    ("node_name_list", 5, rc.FAIL_INVLD_NODE_NAME),
    ("node_name_list", "alpha", rc.FAIL_INVLD_NODE_NAME),
    ("node_name_list", ["alpha", 7], rc.FAIL_INVLD_NODE_NAME),
    ("storage_pool", ["thinpool"], rc.FAIL_INVLD_STOR_POOL_NAME),
    ("storage_pool_list", "thinpool", rc.FAIL_INVLD_STOR_POOL_NAME),
    ("storage_pool_diskless_list", {"a": 1}, rc.FAIL_INVLD_STOR_POOL_NAME),
    ("not_place_with_rsc", "other", rc.FAIL_INVLD_RSC_NAME),
    ("not_place_with_rsc_regex", "(", rc.FAIL_INVLD_RSC_NAME),
    ("not_place_with_rsc_regex", ["vm.*"], rc.FAIL_INVLD_RSC_NAME),
    ("replicas_on_same", "abc", rc.FAIL_INVLD_PROP),
    ("replicas_on_different", 7, rc.FAIL_INVLD_PROP),
    ("x_replicas_on_different_map", {"site": "2"}, rc.FAIL_INVLD_PROP),
    ("layer_stack", "drbd", rc.FAIL_INVLD_LAYER_STACK),
    ("provider_list", "FILE_THIN", rc.FAIL_INVLD_PROVIDER),
    ("diskless_on_remaining", "false", rc.FAIL_INVLD_REQUEST),
    ("diskless_type", 1, rc.FAIL_INVLD_REQUEST),
    ("overprovision", "2", rc.FAIL_INVLD_REQUEST),
    ("port_count", [1], rc.FAIL_INVLD_REQUEST),
]
IDS = [f"{key}={value!r}" for key, value, _code in BAD_VALUES]


@pytest.fixture
def placed(rest) -> None:
    """Group ``rg`` (one replica) and its definition ``vm1`` placed once."""
    rest.ok("POST", "/v1/resource-groups", {"name": "rg", "select_filter": {
        "place_count": 1, "layer_stack": ["drbd", "storage"]}}, status=201)
    rest.ok("POST", "/v1/resource-groups/rg/spawn", {
        "resource_definition_name": "vm1", "volume_sizes": [2048]}, status=201)


def refused(rest, method: str, path: str, body: dict, key: str, code: int) -> None:
    first = rest.error(method, path, body, status=400, code=code)
    assert f"'{key}'" in first["message"], first


def size_queries_answer(rest) -> None:
    answer = rest.call("POST", "/v1/queries/resource-groups/query-all-size-info", {},
                       status=200, schema="QueryAllSizeInfoResponse")
    assert all("space_info" in info for info in answer["result"].values())


@pytest.mark.parametrize(("key", "value", "code"), BAD_VALUES, ids=IDS)
def test_group_create_refuses_and_stores_nothing(rest, key, value, code):
    refused(rest, "POST", "/v1/resource-groups",
            {"name": "bad", "select_filter": {key: value}}, key, code)
    rest.error("GET", "/v1/resource-groups/bad", status=404, code=rc.FAIL_NOT_FOUND_RSC_GRP)
    size_queries_answer(rest)


@pytest.mark.usefixtures("placed")
@pytest.mark.parametrize(("key", "value", "code"), BAD_VALUES, ids=IDS)
def test_group_modify_spawn_autoplace_and_size_query_refuse(rest, key, value, code):
    before = rest.call("GET", "/v1/resource-groups/rg", status=200)
    refused(rest, "PUT", "/v1/resource-groups/rg", {"select_filter": {key: value}}, key, code)
    assert rest.call("GET", "/v1/resource-groups/rg", status=200) == before

    refused(rest, "POST", "/v1/resource-groups/rg/spawn", {
        "resource_definition_name": "vm2", "volume_sizes": [2048],
        "select_filter": {key: value}}, key, code)
    rest.error("GET", "/v1/resource-definitions/vm2", status=404,
               code=rc.FAIL_NOT_FOUND_RSC_DFN)

    listed = rest.call("GET", "/v1/resource-definitions/vm1/resources", status=200)
    refused(rest, "POST", "/v1/resource-definitions/vm1/autoplace",
            {"select_filter": {"place_count": 3, key: value}}, key, code)
    assert rest.call("GET", "/v1/resource-definitions/vm1/resources", status=200) == listed

    refused(rest, "POST", "/v1/resource-groups/rg/query-size-info",
            {"select_filter": {key: value}}, key, code)
    size_queries_answer(rest)


def test_every_field_of_the_right_type_is_accepted(rest):
    rest.ok("POST", "/v1/resource-groups", {"name": "full", "select_filter": {
        "place_count": 2, "additional_place_count": 0, "node_name_list": ["alpha", "bravo"],
        "storage_pool": "thinpool", "storage_pool_list": ["thinpool"],
        "storage_pool_diskless_list": ["DfltDisklessStorPool"], "not_place_with_rsc": ["x"],
        "not_place_with_rsc_regex": "^tmp-.*", "replicas_on_same": [],
        "replicas_on_different": [], "x_replicas_on_different_map": {"site": 1},
        "layer_stack": ["storage"], "provider_list": ["FILE_THIN"],
        "diskless_on_remaining": False, "diskless_type": "DRBD", "overprovision": 2.0,
        "port_count": 1}}, status=201)
    stored = rest.call("GET", "/v1/resource-groups/full", status=200)["select_filter"]
    assert "x_replicas_on_different_map" not in stored and "overprovision" not in stored
    assert stored["layer_stack"] == ["STORAGE"]
    rest.ok("POST", "/v1/resource-groups/full/spawn", {
        "resource_definition_name": "vm9", "volume_sizes": [2048]}, status=201)
    listed = rest.call("GET", "/v1/resource-definitions/vm9/resources", status=200)
    assert {r["node_name"] for r in listed} == {"alpha", "bravo"}


@pytest.mark.usefixtures("placed")
def test_autoplace_diskless_on_remaining_is_a_boolean(rest):
    first = rest.error("POST", "/v1/resource-definitions/vm1/autoplace", {
        "select_filter": {}, "diskless_on_remaining": "false"}, status=400,
        code=rc.FAIL_INVLD_REQUEST)
    assert "diskless_on_remaining" in first["message"]
    rest.ok("POST", "/v1/resource-definitions/vm1/autoplace", {
        "select_filter": {}, "diskless_on_remaining": False}, status=201)
    listed = rest.call("GET", "/v1/resource-definitions/vm1/resources", status=200)
    assert [r["flags"] for r in listed] == [[]], "false adds no diskless resources"
    rest.ok("POST", "/v1/resource-definitions/vm1/autoplace", {
        "select_filter": {}, "diskless_on_remaining": True}, status=201)
    listed = rest.call("GET", "/v1/resource-definitions/vm1/resources", status=200)
    assert sum("DISKLESS" in r["flags"] for r in listed) == 2
