"""Every LinstorClient call: the method, path, query and body it sends (bodies validated against
the OpenAPI request schema), and what it makes of the controller's answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses
from client_helpers import BASE, failure, ok, sent_json, sent_path, sent_query
from openapi_schema import validate

from linstor_core import retcodes
from linstor_core.client import LinstorClient
from linstor_core.errors import AlreadyExists, ApiError, InUse, InvalidInput, NotFound
from linstor_core.models import (
    Capacity,
    Node,
    Resource,
    ResourceDefinition,
    ResourceGroup,
    SelectFilter,
    Snapshot,
    StoragePool,
    Volume,
    VolumeDefinition,
)

NODE = {"name": "n1", "type": "Satellite", "connection_status": "ONLINE", "props": {"Aux/site": "a"},
        "net_interfaces": [{"name": "default", "address": "10.0.0.1", "satellite_port": 3366}]}
POOL = {"storage_pool_name": "thin", "node_name": "n1", "provider_kind": "FILE_THIN",
        "free_capacity": 1000, "total_capacity": 2000, "props": {"StorDriver/FileDir": "/srv/p"}}
GROUP = {"name": "gold", "select_filter": {"place_count": 2, "storage_pool": "thin"},
         "props": {"DrbdOptions/Net/protocol": "C"}}
RD_JSON = {"name": "d1", "resource_group_name": "gold", "props": {"Aux/x": "1"},
           "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}],
           "volume_definitions": [{"volume_number": 0, "size_kib": 4096}]}
RSC = {"name": "d1", "node_name": "n1", "flags": ["DRBD_DISKLESS"], "state": {"in_use": False},
       "volumes": [{"volume_number": 0, "device_path": "/dev/drbd1000", "allocated_size_kib": 0,
                    "storage_pool_name": "DfltDisklessStorPool", "provider_kind": "DISKLESS",
                    "state": {"disk_state": "Diskless"}}]}
SNAP = {"name": "s1", "resource_name": "d1", "nodes": ["n1", "n2"], "flags": ["SUCCESSFUL"],
        "volume_definitions": [{"volume_number": 0, "size_kib": 4096}]}
SPACE = {"space_info": {"max_vlm_size_in_kib": 100, "available_size_in_kib": 200,
                        "capacity_in_kib": 300}}

RSC_MODEL = Resource(name="d1", node_name="n1", flags=("DRBD_DISKLESS",), in_use=False, volumes=(
    Volume(volume_number=0, device_path="/dev/drbd1000", allocated_size_kib=0, disk_state="Diskless",
           storage_pool_name="DfltDisklessStorPool", provider_kind="DISKLESS"),))
RD_MODEL = ResourceDefinition(name="d1", resource_group_name="gold", layers=("drbd", "storage"),
                              volume_definitions=(VolumeDefinition(0, 4096),), props={"Aux/x": "1"})
SNAP_MODEL = Snapshot(name="s1", resource_name="d1", nodes=("n1", "n2"), flags=("SUCCESSFUL",),
                      volume_sizes_kib=(4096,))
RD = "/v1/resource-definitions"


@dataclass(frozen=True)
class Case:
    """One client call and the one HTTP exchange it makes."""

    id: str
    call: Callable[[LinstorClient], Any]
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Any = None
    schema: str | None = None          # the request body's schema in the spec
    many: bool = False                 # the body is a list of ``schema``
    reply: Any = field(default_factory=ok)
    status: int = 200
    result: Any = None


CASES = [
    Case("controller.version", lambda c: c.controller.version(), "GET", "/v1/controller/version",
         reply={"version": "1.28.0", "rest_api_version": "1.28.0"},
         result={"version": "1.28.0", "rest_api_version": "1.28.0"}),
    Case("controller.health", lambda c: c.controller.health(), "GET", "/v1/health"),
    Case("nodes.create", lambda c: c.nodes.create("n1", "10.0.0.1"), "POST", "/v1/nodes",
         body={"name": "n1", "type": "Satellite",
               "net_interfaces": [{"name": "default", "address": "10.0.0.1"}]},
         schema="Node", status=201),
    Case("nodes.create combined", lambda c: c.nodes.create("n1", "::1", node_type="combined"),
         "POST", "/v1/nodes", body={"name": "n1", "type": "Combined",
                                    "net_interfaces": [{"name": "default", "address": "::1"}]},
         schema="Node", status=201),
    Case("nodes.list", lambda c: c.nodes.list(), "GET", "/v1/nodes", reply=[NODE],
         result=[Node("n1", "Satellite", "10.0.0.1", "ONLINE", {"Aux/site": "a"})]),
    Case("nodes.get", lambda c: c.nodes.get("n1"), "GET", "/v1/nodes/n1", reply=NODE,
         result=Node("n1", "Satellite", "10.0.0.1", "ONLINE", {"Aux/site": "a"})),
    Case("nodes.delete", lambda c: c.nodes.delete("n1"), "DELETE", "/v1/nodes/n1", result=True),
    Case("nodes.delete of a missing node", lambda c: c.nodes.delete("n1"), "DELETE", "/v1/nodes/n1",
         reply=[{"ret_code": retcodes.WARN_NOT_FOUND, "message": "Deletion of node 'n1' had no effect."}],
         result=False),
    Case("storage_pools.create",
         lambda c: c.storage_pools.create("n1", "thin", "FILE_THIN", {"StorDriver/FileDir": "/srv/p"}),
         "POST", "/v1/nodes/n1/storage-pools", schema="StoragePool", status=201,
         body={"storage_pool_name": "thin", "provider_kind": "FILE_THIN",
               "props": {"StorDriver/FileDir": "/srv/p"}}),
    Case("storage_pools.create diskless", lambda c: c.storage_pools.create("n1", "dl", "DISKLESS"),
         "POST", "/v1/nodes/n1/storage-pools", schema="StoragePool", status=201,
         body={"storage_pool_name": "dl", "provider_kind": "DISKLESS"}),
    Case("storage_pools.list", lambda c: c.storage_pools.list(), "GET", "/v1/view/storage-pools",
         reply=[POOL], result=[StoragePool("thin", "n1", "FILE_THIN", 1000, 2000,
                                           {"StorDriver/FileDir": "/srv/p"})]),
    Case("storage_pools.list filtered",
         lambda c: c.storage_pools.list(nodes=["n1", "n2"], pools=["thin"]), "GET",
         "/v1/view/storage-pools", query={"nodes": ["n1", "n2"], "storage_pools": ["thin"]},
         reply=[], result=[]),
    Case("storage_pools.delete", lambda c: c.storage_pools.delete("n1", "thin"), "DELETE",
         "/v1/nodes/n1/storage-pools/thin"),
    Case("resource_groups.create",
         lambda c: c.resource_groups.create("gold", SelectFilter(place_count=2, storage_pool="thin"),
                                            props={"DrbdOptions/Net/protocol": "C"}),
         "POST", "/v1/resource-groups", schema="ResourceGroup", status=201,
         body={"name": "gold", "select_filter": {"place_count": 2, "storage_pool": "thin"},
               "props": {"DrbdOptions/Net/protocol": "C"}}),
    Case("resource_groups.create plain", lambda c: c.resource_groups.create("gold"), "POST",
         "/v1/resource-groups", schema="ResourceGroup", status=201,
         body={"name": "gold", "select_filter": {}}),
    Case("resource_groups.modify",
         lambda c: c.resource_groups.modify("gold", SelectFilter(place_count=3),
                                            override_props={"Aux/a": "1"}, delete_props=["Aux/b"]),
         "PUT", "/v1/resource-groups/gold", schema="ResourceGroupModify",
         body={"select_filter": {"place_count": 3}, "override_props": {"Aux/a": "1"},
               "delete_props": ["Aux/b"]}),
    Case("resource_groups.modify nothing", lambda c: c.resource_groups.modify("gold"), "PUT",
         "/v1/resource-groups/gold", schema="ResourceGroupModify", body={}),
    Case("resource_groups.get", lambda c: c.resource_groups.get("gold"), "GET",
         "/v1/resource-groups/gold", reply=GROUP,
         result=ResourceGroup("gold", "", SelectFilter(place_count=2, storage_pool="thin"),
                              {"DrbdOptions/Net/protocol": "C"})),
    Case("resource_groups.list", lambda c: c.resource_groups.list(), "GET", "/v1/resource-groups",
         reply=[GROUP, {"name": "DfltRscGrp"}],
         result=[ResourceGroup("gold", "", SelectFilter(place_count=2, storage_pool="thin"),
                               {"DrbdOptions/Net/protocol": "C"}), ResourceGroup("DfltRscGrp")]),
    Case("resource_groups.delete", lambda c: c.resource_groups.delete("gold"), "DELETE",
         "/v1/resource-groups/gold"),
    Case("resource_groups.spawn", lambda c: c.resource_groups.spawn("gold", "d1", [4096]), "POST",
         "/v1/resource-groups/gold/spawn", schema="ResourceGroupSpawn", status=201,
         body={"resource_definition_name": "d1", "volume_sizes": [4096], "definitions_only": False,
               "partial": True}),
    Case("resource_groups.spawn everything",
         lambda c: c.resource_groups.spawn("gold", "d1", (4096, 8192), props={"Aux/p": "pve"},
                                           definitions_only=True,
                                           select_filter=SelectFilter(node_name_list=("n1",))),
         "POST", "/v1/resource-groups/gold/spawn", schema="ResourceGroupSpawn", status=201,
         body={"resource_definition_name": "d1", "volume_sizes": [4096, 8192],
               "definitions_only": True, "partial": True, "resource_definition_props": {"Aux/p": "pve"},
               "select_filter": {"node_name_list": ["n1"]}}),
    Case("resource_groups.query_size_info", lambda c: c.resource_groups.query_size_info("gold"),
         "POST", "/v1/resource-groups/gold/query-size-info", schema="QuerySizeInfoRequest",
         body={}, reply=SPACE, result=Capacity(100, 200, 300)),
    Case("resource_groups.query_size_info filtered",
         lambda c: c.resource_groups.query_size_info("gold", SelectFilter(place_count=1)),
         "POST", "/v1/resource-groups/gold/query-size-info", schema="QuerySizeInfoRequest",
         body={"select_filter": {"place_count": 1}}, reply={"space_info": {"max_vlm_size_in_kib": 5}},
         result=Capacity(5, 0, 0)),
    Case("resource_groups.query_all_size_info",
         lambda c: c.resource_groups.query_all_size_info(), "POST",
         "/v1/queries/resource-groups/query-all-size-info", schema="QueryAllSizeInfoRequest",
         body={}, reply={"result": {"gold": SPACE}}, result={"gold": Capacity(100, 200, 300)}),
    Case("resource_definitions.create", lambda c: c.resource_definitions.create("d1"), "POST", RD,
         schema="ResourceDefinitionCreate", status=201, body={"resource_definition": {"name": "d1"}}),
    Case("resource_definitions.create everything",
         lambda c: c.resource_definitions.create("d1", resource_group="gold", layers=["drbd", "storage"],
                                                 props={"Aux/x": "1"}),
         "POST", RD, schema="ResourceDefinitionCreate", status=201,
         body={"resource_definition": {"name": "d1", "resource_group_name": "gold",
                                       "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}],
                                       "props": {"Aux/x": "1"}}}),
    # LINSTOR's GET .../resource-definitions/{rd} ignores with_volume_definitions: a filtered listing
    Case("resource_definitions.get", lambda c: c.resource_definitions.get("d1"), "GET", RD,
         query={"with_volume_definitions": ["true"], "resource_definitions": ["d1"]}, reply=[RD_JSON],
         result=RD_MODEL),
    Case("resource_definitions.list", lambda c: c.resource_definitions.list(), "GET", RD,
         query={"with_volume_definitions": ["true"]}, reply=[RD_JSON], result=[RD_MODEL]),
    Case("resource_definitions.list filtered",
         lambda c: c.resource_definitions.list(names=["d1", "d2"], props=["Aux/a=1", "Aux/b=2"]),
         "GET", RD, query={"with_volume_definitions": ["true"], "resource_definitions": ["d1", "d2"],
                           "props": ["Aux/a=1", "Aux/b=2"]}, reply=[], result=[]),
    Case("resource_definitions.delete", lambda c: c.resource_definitions.delete("d1"), "DELETE",
         f"{RD}/d1", result=True),
    Case("resource_definitions.delete of a missing one", lambda c: c.resource_definitions.delete("d1"), "DELETE",
         f"{RD}/d1", reply=[{"ret_code": retcodes.WARN_NOT_FOUND, "message": "Resource definition 'd1' not found."}],
         result=False),
    Case("resource_definitions.set_props",
         lambda c: c.resource_definitions.set_props("d1", {"Aux/a": "1"}, ["Aux/b"]), "PUT",
         f"{RD}/d1", schema="ResourceDefinitionModify",
         body={"override_props": {"Aux/a": "1"}, "delete_props": ["Aux/b"]}),
    Case("resource_definitions.clone", lambda c: c.resource_definitions.clone("d1", "d2"), "POST",
         f"{RD}/d1/clone", schema="ResourceDefinitionCloneRequest", body={"name": "d2"}, status=201,
         reply={"location": f"{RD}/d1/clone/d2", "source_name": "d1", "clone_name": "d2",
                "messages": ok()}),
    Case("resource_definitions.clone everything",
         lambda c: c.resource_definitions.clone("d1", "d2", layers=["storage"], resource_group="gold"),
         "POST", f"{RD}/d1/clone", schema="ResourceDefinitionCloneRequest", status=201,
         body={"name": "d2", "layer_list": ["STORAGE"], "resource_group": "gold"},
         reply={"location": f"{RD}/d1/clone/d2", "source_name": "d1", "clone_name": "d2"}),
    Case("resource_definitions.clone with new props",
         lambda c: c.resource_definitions.clone("d1", "d2", override_props={"Aux/a": "1"}, delete_props=["Aux/b"]),
         "POST", f"{RD}/d1/clone", schema="ResourceDefinitionCloneRequest", status=201,
         body={"name": "d2", "override_props": {"Aux/a": "1"}, "delete_props": ["Aux/b"]},
         reply={"location": f"{RD}/d1/clone/d2", "source_name": "d1", "clone_name": "d2"}),
    Case("resource_definitions.clone_status", lambda c: c.resource_definitions.clone_status("d1", "d2"),
         "GET", f"{RD}/d1/clone/d2", reply={"status": "CLONING"}, result="CLONING"),
    Case("volume_definitions.create", lambda c: c.volume_definitions.create("d1", 4096), "POST",
         f"{RD}/d1/volume-definitions", schema="VolumeDefinitionCreate", status=201,
         body={"volume_definition": {"size_kib": 4096}}),
    Case("volume_definitions.create numbered",
         lambda c: c.volume_definitions.create("d1", 4096, volume_number=2), "POST",
         f"{RD}/d1/volume-definitions", schema="VolumeDefinitionCreate", status=201,
         body={"volume_definition": {"size_kib": 4096, "volume_number": 2}}),
    Case("volume_definitions.resize", lambda c: c.volume_definitions.resize("d1", 0, 8192), "PUT",
         f"{RD}/d1/volume-definitions/0", schema="VolumeDefinitionModify", body={"size_kib": 8192}),
    Case("volume_definitions.list", lambda c: c.volume_definitions.list("d1"), "GET",
         f"{RD}/d1/volume-definitions", reply=[{"volume_number": 0, "size_kib": 4096}],
         result=[VolumeDefinition(0, 4096)]),
    Case("resources.create", lambda c: c.resources.create("d1", "n1", storage_pool="thin"), "POST",
         f"{RD}/d1/resources", schema="ResourceCreate", many=True, status=201,
         body=[{"resource": {"node_name": "n1", "props": {"StorPoolName": "thin"}}}]),
    Case("resources.create diskless", lambda c: c.resources.create("d1", "n1", diskless=True), "POST",
         f"{RD}/d1/resources", schema="ResourceCreate", many=True, status=201,
         body=[{"resource": {"node_name": "n1", "flags": ["DRBD_DISKLESS"]}}]),
    Case("resources.autoplace", lambda c: c.resources.autoplace("d1"), "POST", f"{RD}/d1/autoplace",
         schema="AutoPlaceRequest", status=201, body={"select_filter": {}}),
    Case("resources.autoplace filtered",
         lambda c: c.resources.autoplace("d1", SelectFilter(place_count=3, diskless_on_remaining=True)),
         "POST", f"{RD}/d1/autoplace", schema="AutoPlaceRequest", status=201,
         body={"select_filter": {"place_count": 3, "diskless_on_remaining": True}}),
    # LINSTOR's GET .../resource-definitions/{rd}/resources answers Resource objects, without volumes
    Case("resources.list", lambda c: c.resources.list("d1"), "GET", "/v1/view/resources",
         query={"resources": ["d1"]}, reply=[RSC], result=[RSC_MODEL]),
    Case("resources.view", lambda c: c.resources.view(), "GET", "/v1/view/resources", reply=[RSC],
         result=[RSC_MODEL]),
    Case("resources.view filtered",
         lambda c: c.resources.view(resources=["d1"], nodes=["n1"], props=["Aux/a=1"]), "GET",
         "/v1/view/resources", query={"resources": ["d1"], "nodes": ["n1"], "props": ["Aux/a=1"]},
         reply=[], result=[]),
    Case("resources.delete", lambda c: c.resources.delete("d1", "n1"), "DELETE", f"{RD}/d1/resources/n1",
         result=True),
    Case("resources.delete of a missing resource", lambda c: c.resources.delete("d1", "n1"), "DELETE",
         f"{RD}/d1/resources/n1", reply=[{"ret_code": retcodes.WARN_NOT_FOUND, "message": "not found"}],
         result=False),
    Case("resources.delete keep tiebreaker",
         lambda c: c.resources.delete("d1", "n1", keep_tiebreaker=True), "DELETE",
         f"{RD}/d1/resources/n1", query={"keep_tiebreaker": ["true"]}, result=True),
    Case("resources.make_available", lambda c: c.resources.make_available("d1", "n9"), "POST",
         f"{RD}/d1/resources/n9/make-available", schema="ResourceMakeAvailable",
         body={"diskful": False}),
    Case("resources.make_available diskful",
         lambda c: c.resources.make_available("d1", "n9", diskful=True), "POST",
         f"{RD}/d1/resources/n9/make-available", schema="ResourceMakeAvailable",
         body={"diskful": True}),
    Case("snapshots.create", lambda c: c.snapshots.create("d1", "s1"), "POST", f"{RD}/d1/snapshots",
         schema="Snapshot", status=201, body={"name": "s1"}),
    Case("snapshots.create on nodes", lambda c: c.snapshots.create("d1", "s1", nodes=("n1",)), "POST",
         f"{RD}/d1/snapshots", schema="Snapshot", status=201, body={"name": "s1", "nodes": ["n1"]}),
    Case("snapshots.list", lambda c: c.snapshots.list("d1"), "GET", f"{RD}/d1/snapshots",
         reply=[SNAP], result=[SNAP_MODEL]),
    Case("snapshots.view", lambda c: c.snapshots.view(resources=["d1"], nodes=["n2"]), "GET",
         "/v1/view/snapshots", query={"resources": ["d1"], "nodes": ["n2"]}, reply=[SNAP],
         result=[SNAP_MODEL]),
    Case("snapshots.delete", lambda c: c.snapshots.delete("d1", "s1"), "DELETE",
         f"{RD}/d1/snapshots/s1"),
    Case("snapshots.restore_volume_definitions",
         lambda c: c.snapshots.restore_volume_definitions("d1", "s1", "d2"), "POST",
         f"{RD}/d1/snapshot-restore-volume-definition/s1", schema="SnapshotRestore",
         body={"to_resource": "d2"}),
    Case("snapshots.restore_resources", lambda c: c.snapshots.restore_resources("d1", "s1", "d2"),
         "POST", f"{RD}/d1/snapshot-restore-resource/s1", schema="SnapshotRestore",
         body={"to_resource": "d2"}),
    Case("snapshots.restore_resources on nodes",
         lambda c: c.snapshots.restore_resources("d1", "s1", "d2", nodes=["n1"]), "POST",
         f"{RD}/d1/snapshot-restore-resource/s1", schema="SnapshotRestore",
         body={"to_resource": "d2", "nodes": ["n1"]}),
    Case("snapshots.rollback", lambda c: c.snapshots.rollback("d1", "s1"), "POST",
         f"{RD}/d1/snapshot-rollback/s1", schema="SnapshotRollback", body={}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_call_sends_the_spec_request_and_parses_the_answer(
    http: responses.RequestsMock, client: LinstorClient, case: Case
) -> None:
    http.add(case.method, f"{BASE}{case.path}", json=case.reply, status=case.status)
    assert case.call(client) == case.result
    (call,) = http.calls
    assert call.request.method == case.method
    assert sent_path(call) == case.path
    assert sent_query(call) == case.query
    assert sent_json(call) == case.body
    if case.schema is not None:
        validate(case.body, case.schema, many=case.many)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_call_raises_the_controllers_error(
    http: responses.RequestsMock, client: LinstorClient, case: Case
) -> None:
    http.add(case.method, f"{BASE}{case.path}", status=500, json=failure(
        retcodes.FAIL_UNKNOWN_ERROR | retcodes.MASK_RSC_DFN, "it broke", cause="a cause",
        correction="a fix"))
    with pytest.raises(ApiError) as info:
        case.call(client)
    assert type(info.value) is ApiError
    assert (info.value.message, info.value.cause, info.value.correction) == ("it broke", "a cause", "a fix")
    assert info.value.status == 500
    assert info.value.replies[0].ret_code == retcodes.FAIL_UNKNOWN_ERROR | retcodes.MASK_RSC_DFN


def test_health_takes_any_success_and_refuses_any_error(http: responses.RequestsMock,
                                                      client: LinstorClient) -> None:
    """LINSTOR's health answer has no body in the spec; only its status counts."""
    http.get(f"{BASE}/v1/health", body="", status=200)
    http.get(f"{BASE}/v1/health", body="<html>down</html>", status=503)
    assert client.controller.health() is None
    with pytest.raises(ApiError) as info:
        client.controller.health()
    assert info.value.status == 503 and "HTTP 503" in info.value.message


def test_a_resource_group_description_is_sent(http: responses.RequestsMock, client: LinstorClient) -> None:
    """The spec's ResourceGroup lacks ``description``; LINSTOR and the embedded controller keep it."""
    http.post(f"{BASE}/v1/resource-groups", json=ok(), status=201)
    http.put(f"{BASE}/v1/resource-groups/gold", json=ok())
    client.resource_groups.create("gold", description="3 replicas")
    client.resource_groups.modify("gold", description="")
    assert [sent_json(c)["description"] for c in http.calls] == ["3 replicas", ""]


def test_names_are_quoted_into_the_path(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.delete(f"{BASE}/v1/resource-definitions/a%2Fb%3Fc", json=ok())
    client.resource_definitions.delete("a/b?c")
    assert http.calls[0].request.path_url == "/v1/resource-definitions/a%2Fb%3Fc"


@pytest.mark.parametrize("name", [".", "..", ""])
def test_dot_segments_are_refused_before_sending(http: responses.RequestsMock, client: LinstorClient,
                                                 name: str) -> None:
    """Quoting keeps ``..`` as is and the HTTP client would resolve it into another route."""
    with pytest.raises(InvalidInput, match="not a LINSTOR object name"):
        client.snapshots.delete("d1", name)
    with pytest.raises(InvalidInput):
        client.resource_definitions.delete(name)
    assert len(http.calls) == 0


def test_an_unknown_node_type_is_refused_before_sending(client: LinstorClient) -> None:
    with pytest.raises(InvalidInput, match="node type"):
        client.nodes.create("n1", "10.0.0.1", node_type="SATELITE")


@pytest.mark.parametrize(("code", "error"), [
    (retcodes.FAIL_NOT_FOUND_RSC_DFN, NotFound),
    (retcodes.FAIL_EXISTS_RSC_DFN, AlreadyExists),
    (retcodes.FAIL_IN_USE, InUse),
])
def test_a_clone_refused_inside_its_messages_raises(
    http: responses.RequestsMock, client: LinstorClient, code: int, error: type[ApiError]
) -> None:
    http.post(f"{BASE}{RD}/d1/clone", status=201, json={
        "location": "", "source_name": "d1", "clone_name": "d2", "messages": failure(code)})
    with pytest.raises(error):
        client.resource_definitions.clone("d1", "d2")


def test_size_info_error_reports_raise(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.post(f"{BASE}/v1/resource-groups/gold/query-size-info",
              json={"reports": failure(retcodes.FAIL_NOT_FOUND_STOR_POOL, "no pool thin")})
    with pytest.raises(NotFound, match="no pool thin"):
        client.resource_groups.query_size_info("gold")


def test_size_info_without_space_info_raises(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.post(f"{BASE}/v1/resource-groups/gold/query-size-info", json={})
    with pytest.raises(ApiError, match="no space info for resource group gold"):
        client.resource_groups.query_size_info("gold")
