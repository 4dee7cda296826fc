"""Controller version, nodes, storage pools (``/v1/controller``, ``/v1/nodes``, pool views)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response

from linstor_core import retcodes as rc
from linstor_core.controller.api import (body, controller, field, json_response, mutate,
                                         names_arg, paginate, strings)
from linstor_core.controller.ops import nodes as ops
from linstor_core.controller.ops.common import names_filter, props_match
from linstor_core.controller.replies import entry
from linstor_core.controller.views import node_json, pool_json
from linstor_core.errors import LinstorError

blueprint = Blueprint("nodes", __name__)

VERSION = {"version": "1.28.0", "git_hash": "linstor-core-embedded", "build_time": "",
           "rest_api_version": "1.28.0"}


@blueprint.get("/v1/controller/version")
def version() -> Response:
    return json_response(VERSION)


@blueprint.get("/v1/health")
def health() -> Response:
    """LINSTOR's health check (not in the bundled spec): 200 while the database answers a read;
    a failing database is the usual ApiCallRc error answer."""
    with controller().read() as repo:
        repo.tx.one("SELECT 1")
    return json_response([])


@blueprint.get("/v1/nodes")
def list_nodes() -> Response:
    wanted = names_filter(names_arg("nodes"))
    props = names_arg("props")
    with controller().read() as repo:
        found = [node_json(n) for n in repo.nodes()
                 if (wanted is None or n.name.lower() in wanted) and props_match(n.props, props)]
    return json_response(paginate(found))


@blueprint.get("/v1/nodes/<node>")
def get_node(node: str) -> Response:
    with controller().read() as repo:
        return json_response(node_json(repo.node(node)))


@blueprint.post("/v1/nodes")
def create_node() -> Response:
    data = body()
    interfaces = field(data, "net_interfaces", list, [])
    address = interfaces[0].get("address", "") if interfaces and isinstance(interfaces[0], dict) \
        else ""
    return mutate(rc.MASK_NODE | rc.MASK_CRT, ops.create_node, field(data, "name", str,
                  required=True), field(data, "type", str, "SATELLITE"), str(address),
                  field(data, "props", dict, {}), status=201)


@blueprint.put("/v1/nodes/<node>")
def modify_node(node: str) -> Response:
    data = body()
    return mutate(rc.MASK_NODE | rc.MASK_MOD, ops.modify_node, node,
                  field(data, "override_props", dict, {}), strings(data, "delete_props"),
                  strings(data, "delete_namespaces"))


@blueprint.delete("/v1/nodes/<node>")
def delete_node(node: str) -> Response:
    return mutate(rc.MASK_NODE | rc.MASK_DEL, ops.delete_node, node)


@blueprint.post("/v1/nodes/<node>/storage-pools")
def create_pool(node: str) -> Response:
    data = body()
    return mutate(rc.MASK_STOR_POOL | rc.MASK_CRT, ops.create_pool, node,
                  field(data, "storage_pool_name", str, required=True),
                  field(data, "provider_kind", str, required=True),
                  field(data, "props", dict, {}), status=201)


@blueprint.delete("/v1/nodes/<node>/storage-pools/<pool>")
def delete_pool(node: str, pool: str) -> Response:
    return mutate(rc.MASK_STOR_POOL | rc.MASK_DEL, ops.delete_pool, node, pool)


@blueprint.get("/v1/nodes/<node>/storage-pools")
def list_node_pools(node: str) -> Response:
    with controller().read() as repo:
        repo.node(node)
    return json_response(paginate(_pools(node_names=[node])))


@blueprint.get("/v1/nodes/<node>/storage-pools/<pool>")
def get_pool(node: str, pool: str) -> Response:
    with controller().read() as repo:
        repo.pool(node, pool)
    return json_response(_pools(node_names=[node], pool_names=[pool])[0])


@blueprint.get("/v1/view/storage-pools")
def view_pools() -> Response:
    return json_response(paginate(_pools(node_names=names_arg("nodes"),
                                         pool_names=names_arg("storage_pools"),
                                         props=names_arg("props"))))


def _pools(node_names: Sequence[str] = (), pool_names: Sequence[str] = (),
           props: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The pools as LINSTOR lists them; one the satellite cannot read (its directory is gone)
    is listed without capacity and with an error report, as LINSTOR lists a broken pool,
    instead of failing the whole listing."""
    ctl = controller()
    nodes, pools = names_filter(node_names), names_filter(pool_names)
    with ctl.read() as repo:
        records = [p for p in repo.pools()
                   if (nodes is None or p.node.lower() in nodes)
                   and (pools is None or p.name.lower() in pools) and props_match(p.props, props)]
    result = []
    for pool in records:
        if pool.diskless:
            result.append(pool_json(pool, supports_snapshots=False))
            continue
        spec = ctl.pool_spec(pool)
        directory = str(ctl.satellite.pool_directory(spec))
        try:
            capacity = ctl.satellite.capacity(spec)
            snapshots = ctl.satellite.supports_reflink(spec) or pool.kind == "FILE"
        except LinstorError as error:
            result.append(pool_json(pool, directory=directory, reports=[
                entry(rc.FAIL_STOR_POOL_CONFIGURATION_ERROR, error.message,
                      details=error.correction)]))
            continue
        result.append(pool_json(pool, capacity, snapshots, directory))
    return result
