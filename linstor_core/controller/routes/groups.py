"""Resource groups: CRUD, spawn, size queries (``/v1/resource-groups``, ``/v1/queries``)."""

from __future__ import annotations

from flask import Blueprint, Response

from linstor_core import retcodes as rc
from linstor_core.controller.api import (body, controller, field, json_response, mutate,
                                         names_arg, paginate, strings)
from linstor_core.controller.ops import groups as ops
from linstor_core.controller.ops.common import names_filter, props_match
from linstor_core.controller.views import group_json

blueprint = Blueprint("groups", __name__)
MASK = rc.MASK_RSC_GRP


@blueprint.get("/v1/resource-groups")
def list_groups() -> Response:
    wanted = names_filter(names_arg("resource_groups"))
    props = names_arg("props")
    with controller().read() as repo:
        found = [group_json(g) for g in repo.groups()
                 if (wanted is None or g.name.lower() in wanted) and props_match(g.props, props)]
    return json_response(paginate(found))


@blueprint.get("/v1/resource-groups/<group>")
def get_group(group: str) -> Response:
    with controller().read() as repo:
        return json_response(group_json(repo.group(group)))


@blueprint.post("/v1/resource-groups")
def create_group() -> Response:
    data = body()
    return mutate(MASK | rc.MASK_CRT, ops.create_group, field(data, "name", str, required=True),
                  field(data, "description", str, ""), field(data, "select_filter", dict, {}),
                  field(data, "props", dict, {}), status=201)


@blueprint.put("/v1/resource-groups/<group>")
def modify_group(group: str) -> Response:
    data = body()
    return mutate(MASK | rc.MASK_MOD, ops.modify_group, group,
                  description=field(data, "description", str, None),
                  select_filter=field(data, "select_filter", dict, None),
                  override=field(data, "override_props", dict, {}),
                  delete=strings(data, "delete_props"),
                  delete_namespaces=strings(data, "delete_namespaces"))


@blueprint.delete("/v1/resource-groups/<group>")
def delete_group(group: str) -> Response:
    return mutate(MASK | rc.MASK_DEL, ops.delete_group, group)


@blueprint.post("/v1/resource-groups/<group>/spawn")
def spawn(group: str) -> Response:
    data = body()
    sizes = field(data, "volume_sizes", list, [])
    return mutate(rc.MASK_RSC_DFN | rc.MASK_CRT, ops.spawn, group,
                  field(data, "resource_definition_name", str, required=True), sizes,
                  props=field(data, "resource_definition_props", dict, {}),
                  definitions_only=bool(field(data, "definitions_only", bool, False)),
                  select_filter=field(data, "select_filter", dict, None), status=201)


@blueprint.post("/v1/resource-groups/<group>/query-size-info")
def query_size_info(group: str) -> Response:
    data = body()
    ctl = controller()
    with ctl.read() as repo:
        return json_response(ops.size_info(ctl, repo, repo.group(group),
                                           field(data, "select_filter", dict, None)))


@blueprint.post("/v1/queries/resource-groups/query-all-size-info")
def query_all_size_info() -> Response:
    data = body()
    ctl = controller()
    with ctl.read() as repo:
        result = {g.name: ops.size_info(ctl, repo, g, field(data, "select_filter", dict, None))
                  for g in repo.groups()}
    return json_response({"result": result})
