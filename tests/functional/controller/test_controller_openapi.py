"""Every REST v1 route the controller serves answers a body LINBIT's spec accepts.

One walk calls each route once, with data behind it (nodes, a pool, a group, a DRBD definition
with replicas, a snapshot, a clone), through the ``rest`` fixture, which checks each answer
against the schema the spec gives for its route and status. The walk then compares the routes it
checked with the Flask app's ``/v1`` rules: a route added later without a check here fails.
Snapshots and clones are reflinks, so this runs as root (always in CI).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core.controller.api import create_app
from linstor_core.controller.server import ControllerServer
from spec_routes import template_of

pytestmark = pytest.mark.root

RD = "/v1/resource-definitions"
POOL = {"StorPoolName": "thinpool"}
# Routes real LINSTOR serves that are newer than the bundled spec; tested by their own tests.
OUTSIDE_SPEC = {("GET", "/v1/health")}


def app_routes(server: ControllerServer) -> set[tuple[str, str]]:
    """(method, spec path) of each REST v1 rule of the app ``server`` runs."""
    app = create_app(server.controller)
    return {(method, template_of(rule.rule)) for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/v1/")
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}


def walk_nodes_and_pools(rest, pool_root: Path) -> None:
    rest.call("GET", "/v1/controller/version", status=200)
    rest.ok("POST", "/v1/nodes", {"name": "delta", "type": "SATELLITE", "net_interfaces": [
        {"name": "default", "address": "127.0.0.14"}]}, status=201)
    rest.ok("PUT", "/v1/nodes/delta", {"override_props": {"Aux/site": "b"}})
    rest.call("GET", "/v1/nodes", status=200)
    rest.call("GET", "/v1/nodes/delta", status=200)
    rest.ok("POST", "/v1/nodes/delta/storage-pools", {
        "storage_pool_name": "extra", "provider_kind": "FILE_THIN",
        "props": {"StorDriver/FileDir": str(pool_root / "delta-extra")}}, status=201)
    rest.call("GET", "/v1/nodes/delta/storage-pools", status=200)
    rest.call("GET", "/v1/nodes/delta/storage-pools/extra", status=200)
    rest.call("GET", "/v1/view/storage-pools", status=200)
    rest.ok("DELETE", "/v1/nodes/delta/storage-pools/extra")
    rest.ok("DELETE", "/v1/nodes/delta")


def walk_groups(rest) -> None:
    rest.ok("POST", "/v1/resource-groups", {"name": "gold", "select_filter": {
        "place_count": 2, "storage_pool": "thinpool"}}, status=201)
    rest.ok("PUT", "/v1/resource-groups/gold", {"override_props": {"Aux/tier": "1"}})
    rest.call("GET", "/v1/resource-groups", status=200)
    rest.call("GET", "/v1/resource-groups/gold", status=200)
    rest.call("POST", "/v1/resource-groups/gold/query-size-info", {}, status=200)
    rest.call("POST", "/v1/queries/resource-groups/query-all-size-info", {}, status=200)
    rest.ok("POST", "/v1/resource-groups/gold/spawn", {
        "resource_definition_name": "spawned", "volume_sizes": [4096]}, status=201)


def walk_definitions_and_resources(rest) -> None:
    rest.ok("POST", RD, {"resource_definition": {
        "name": "web", "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}]}}, status=201)
    rest.ok("PUT", f"{RD}/web", {"override_props": {"Aux/owner": "101"}})
    rest.ok("POST", f"{RD}/web/volume-definitions", {"volume_definition": {"size_kib": 4096}},
            status=201)
    rest.ok("POST", f"{RD}/web/volume-definitions", {"volume_definition": {"size_kib": 2048}},
            status=201)
    rest.ok("DELETE", f"{RD}/web/volume-definitions/1")
    rest.ok("PUT", f"{RD}/web/volume-definitions/0", {"size_kib": 8192})
    rest.call("GET", RD, status=200)
    rest.call("GET", f"{RD}/web", status=200)
    rest.call("GET", f"{RD}/web/volume-definitions", status=200)
    rest.call("GET", f"{RD}/web/volume-definitions/0", status=200)
    rest.ok("POST", f"{RD}/web/resources", [{"resource": {"node_name": "alpha", "props": POOL}}],
            status=201)
    rest.ok("POST", f"{RD}/web/resources/bravo", {"resource": {"props": POOL}}, status=201)
    rest.ok("POST", f"{RD}/web/resources/charlie/make-available", {"diskful": False})
    rest.call("GET", f"{RD}/web/resources", status=200)
    rest.call("GET", f"{RD}/web/resources/charlie", status=200)
    rest.call("GET", "/v1/view/resources", status=200)
    rest.ok("DELETE", f"{RD}/web/resources/charlie")
    rest.ok("POST", f"{RD}/spawned/autoplace", {"select_filter": {"place_count": 1}}, status=201)


def walk_snapshots_and_clones(rest) -> None:
    rest.ok("POST", f"{RD}/web/snapshots", {"name": "s1"}, status=201)
    rest.call("GET", f"{RD}/web/snapshots", status=200)
    rest.call("GET", f"{RD}/web/snapshots/s1", status=200)
    rest.call("GET", "/v1/view/snapshots", status=200)
    rest.ok("POST", RD, {"resource_definition": {
        "name": "web2", "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}]}}, status=201)
    rest.ok("POST", f"{RD}/web/snapshot-restore-volume-definition/s1", {"to_resource": "web2"})
    rest.ok("POST", f"{RD}/web/snapshot-restore-resource/s1", {"to_resource": "web2",
                                                               "nodes": ["alpha"]})
    rest.ok("POST", f"{RD}/web/snapshot-rollback/s1", {})
    rest.call("POST", f"{RD}/web/clone", {"name": "web3"}, status=201)
    rest.call("GET", f"{RD}/web/clone/web3", status=200)
    rest.ok("DELETE", f"{RD}/web/snapshots/s1")
    for name in ("web", "web2", "web3", "spawned"):
        rest.ok("DELETE", f"{RD}/{name}")
    rest.ok("DELETE", "/v1/resource-groups/gold")


def test_every_route_answers_what_the_spec_promises(rest, controller, pool_root: Path) -> None:
    walk_nodes_and_pools(rest, pool_root)
    walk_groups(rest)
    walk_definitions_and_resources(rest)
    walk_snapshots_and_clones(rest)
    assert app_routes(controller) - OUTSIDE_SPEC - rest.seen == set()
    assert rest.call("GET", RD, status=200) == []
