"""Resources: create, list, view, delete, autoplace, make-available."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, request

from linstor_core import retcodes as rc
from linstor_core.controller.api import (body, body_list, controller, field, json_list_response,
                                         json_text_response, mutate, names_arg, paginate, strings)
from linstor_core.controller.core import Change, Controller
from linstor_core.controller.ops import resources as ops
from linstor_core.controller.ops.common import names_filter, props_match
from linstor_core.controller.replies import refuse

blueprint = Blueprint("resources", __name__)
RSC = rc.MASK_RSC
DISKLESS_FLAGS = {"DISKLESS", "DRBD_DISKLESS", "TIE_BREAKER"}


BY_NAME_MAX = 40
"""Up to this many named definitions, a resources view reads each one's rows by name."""


def _resources(*, rds: Sequence[str] = (), nodes: Sequence[str] = (),
               pools: Sequence[str] = (), props: Sequence[str] = (),
               rd: str | None = None) -> list[str]:
    ctl = controller()
    want_rd, want_node, want_pool = names_filter(rds), names_filter(nodes), names_filter(pools)

    def keep(rd_name: str, node: str, visible: Mapping[str, str]) -> bool:
        return ((want_rd is None or rd_name.lower() in want_rd)
                and (want_node is None or node.lower() in want_node)
                and (want_pool is None or visible["StorPoolName"].lower() in want_pool)
                and props_match(visible, props))

    with ctl.read() as repo:
        if rd is None and want_rd is not None and len(want_rd) <= BY_NAME_MAX:
            # a view of a few definitions (a client's look at one disk): their rows only, in
            # the listing's order (names ignore case), not a pass over every resource
            return [text for name in sorted(want_rd)
                    for text in ctl.renderer.texts(repo, ctl.drbd_loaded, rd=name, keep=keep)]
        return ctl.renderer.texts(repo, ctl.drbd_loaded, rd=rd, keep=keep)


@blueprint.get("/v1/resource-definitions/<rd>/resources")
def list_resources(rd: str) -> Response:
    with controller().read() as repo:
        name = repo.rd(rd).name
    return json_list_response([_without_volumes(text) for text in paginate(_resources(rd=name))])


@blueprint.get("/v1/resource-definitions/<rd>/resources/<node>")
def get_resource(rd: str, node: str) -> Response:
    with controller().read() as repo:
        repo.rsc(rd, node)
    return json_text_response(_resources(rd=rd, nodes=[node])[0])


def _without_volumes(text: str) -> str:
    """A ``ResourceWithVolumes`` text as LINSTOR's per-definition listing answers it: the spec's
    ``Resource``, without ``volumes`` (only ``/v1/view/resources`` carries them)."""
    resource = json.loads(text)
    resource.pop("volumes", None)
    return json.dumps(resource, separators=(",", ":"))


@blueprint.get("/v1/view/resources")
def view_resources() -> Response:
    return json_list_response(paginate(_resources(
        rds=names_arg("resources"), nodes=names_arg("nodes"), pools=names_arg("storage_pools"),
        props=names_arg("props"))))


def _create_item(item: Any, node: str | None = None) -> tuple[str, str | None, bool]:
    if not isinstance(item, dict):
        raise refuse(rc.FAIL_INVLD_REQUEST, "Each resource to create is a ResourceCreate object.")
    rsc = field(item, "resource", dict, {})
    node_name = node or field(rsc, "node_name", str, required=True)
    flags = {str(f).upper() for f in field(rsc, "flags", list, [])}
    diskless = bool(flags & DISKLESS_FLAGS) or bool(field(item, "drbd_client", bool, False))
    pool = field(field(rsc, "props", dict, {}), "StorPoolName", str, None)
    return node_name, pool or None, diskless


def _layer_list(item: Any) -> list[str]:
    """The item's ``layer_list`` (ResourceCreate), checked by ``create_many``."""
    return strings(item, "layer_list") if isinstance(item, dict) else []


@blueprint.post("/v1/resource-definitions/<rd>/resources")
def create_resources(rd: str) -> Response:
    items = body_list()
    if not items:
        raise refuse(rc.FAIL_INVLD_REQUEST, "Send a non-empty list of ResourceCreate objects.")
    return mutate(RSC | rc.MASK_CRT, ops.create_many, rd, [_create_item(i) for i in items],
                  [_layer_list(i) for i in items], status=201)


@blueprint.post("/v1/resource-definitions/<rd>/resources/<node>")
def create_resource(rd: str, node: str) -> Response:
    item = body()
    return mutate(RSC | rc.MASK_CRT, ops.create_many, rd, [_create_item(item, node)],
                  [_layer_list(item)], status=201)


@blueprint.delete("/v1/resource-definitions/<rd>/resources/<node>")
def delete_resource(rd: str, node: str) -> Response:
    keep = request.args.get("keep_tiebreaker", "").lower() == "true"
    return mutate(RSC | rc.MASK_DEL, ops.delete_resource, rd, node, keep)


@blueprint.post("/v1/resource-definitions/<rd>/resources/<node>/make-available")
def make_available(rd: str, node: str) -> Response:
    data = body()
    return mutate(RSC | rc.MASK_CRT, ops.make_available, rd, node,
                  bool(field(data, "diskful", bool, False)))


@blueprint.post("/v1/resource-definitions/<rd>/autoplace")
def autoplace(rd: str) -> Response:
    data = body()
    select_filter = dict(field(data, "select_filter", dict, {}))
    on_remaining = field(data, "diskless_on_remaining", bool, None)
    if on_remaining is not None:
        select_filter["diskless_on_remaining"] = on_remaining

    def run(ctl: Controller, change: Change) -> None:
        wanted = ops.clean_filter(select_filter)
        group = change.repo.group(change.repo.rd(rd).resource_group)
        ops.autoplace(ctl, change, rd, ops.Placement.from_filters(group.select_filter, wanted))

    return mutate(RSC | rc.MASK_CRT, run, status=201)
