"""Resource and volume definitions, clones (``/v1/resource-definitions/...``)."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from linstor_core import retcodes as rc
from linstor_core.controller.api import (body, controller, field, json_response, mutate,
                                         names_arg, paginate, strings)
from linstor_core.controller.ops import definitions as ops
from linstor_core.controller.ops.common import names_filter, props_match
from linstor_core.controller.replies import refuse
from linstor_core.controller.model import VdRec
from linstor_core.controller.views import rd_json, vd_json

blueprint = Blueprint("definitions", __name__)
BY_NAME_MAX = 40
"""Up to this many named definitions, a listing reads each one by name."""
RD = rc.MASK_RSC_DFN
VD = rc.MASK_VLM_DFN


def _volume_number(vlmnr: int) -> int:
    """``vlmnr`` if LINSTOR could have it (``ops.VOLUME_NUMBERS``; the path takes any digits); to
    change or delete another is invalid input (and a number too large for SQLite never reaches
    the store)."""
    if vlmnr not in ops.VOLUME_NUMBERS:
        raise refuse(rc.FAIL_INVLD_VLM_NR, f"Invalid volume number {vlmnr}.",
                     correction="Volume numbers are 0 to 31999.")
    return vlmnr


@blueprint.get("/v1/resource-definitions")
def list_rds() -> Response:
    wanted = names_filter(names_arg("resource_definitions"))
    props = names_arg("props")
    with_vds = request.args.get("with_volume_definitions", "").lower() == "true"
    with controller().read() as repo:
        if wanted is not None and len(wanted) <= BY_NAME_MAX:
            # a few named definitions (a client's look at one disk): read by name, not a pass
            # over every definition; in the listing's order (names ignore case)
            named = [rd for rd in map(repo.find_rd, sorted(wanted))
                     if rd is not None and props_match(rd.props, props)]
            found = [rd_json(rd, repo.vds(rd.name) if with_vds else None) for rd in named]
            return json_response(paginate(found))
        vds: dict[str, list[VdRec]] = {}
        if with_vds:
            for vd in repo.vds(rd_props=props):
                vds.setdefault(vd.rd.lower(), []).append(vd)
        found = [rd_json(rd, vds.get(rd.name.lower(), []) if with_vds else None)
                 for rd in repo.rds(props)
                 if (wanted is None or rd.name.lower() in wanted) and props_match(rd.props, props)]
    return json_response(paginate(found))


@blueprint.get("/v1/resource-definitions/<rd>")
def get_rd(rd: str) -> Response:
    """Not in the REST spec; LINSTOR answers it without volume definitions, whatever
    ``with_volume_definitions`` says (the filtered listing carries them)."""
    with controller().read() as repo:
        return json_response(rd_json(repo.rd(rd)))


_ALLOCATED_FIELDS = ("drbd_port", "drbd_secret", "drbd_peer_slots", "drbd_transport_type")
"""ResourceDefinitionCreate fields LINSTOR honours and this controller does not."""


@blueprint.post("/v1/resource-definitions")
def create_rd() -> Response:
    request_body = body()
    data = field(request_body, "resource_definition", dict, required=True)
    for name in _ALLOCATED_FIELDS:  # dropping one would answer success for something not done
        if request_body.get(name) is not None:
            raise refuse(rc.FAIL_INVLD_REQUEST, f"The field '{name}' is not supported by this controller.",
                         correction="Leave it out: the controller allocates DRBD ports and secrets itself.")
    layers = [str(layer.get("type", "")) for layer in field(data, "layer_data", list, [])
              if isinstance(layer, dict)]
    return mutate(RD | rc.MASK_CRT, ops.create_rd, field(data, "name", str, required=True),
                  group=field(data, "resource_group_name", str, None), layers=layers,
                  props=field(data, "props", dict, {}), status=201)


@blueprint.put("/v1/resource-definitions/<rd>")
def modify_rd(rd: str) -> Response:
    data = body()
    return mutate(RD | rc.MASK_MOD, ops.modify_rd, rd,
                  override=field(data, "override_props", dict, {}),
                  delete=strings(data, "delete_props"),
                  delete_namespaces=strings(data, "delete_namespaces"),
                  group=field(data, "resource_group", str, None),
                  layers=strings(data, "layer_stack"))


@blueprint.delete("/v1/resource-definitions/<rd>")
def delete_rd(rd: str) -> Response:
    return mutate(RD | rc.MASK_DEL, ops.delete_rd, rd)


@blueprint.get("/v1/resource-definitions/<rd>/volume-definitions")
def list_vds(rd: str) -> Response:
    with controller().read() as repo:
        record = repo.rd(rd)
        return json_response(paginate([vd_json(record, vd) for vd in repo.vds(record.name)]))


@blueprint.get("/v1/resource-definitions/<rd>/volume-definitions/<int:vlmnr>")
def get_vd(rd: str, vlmnr: int) -> Response:
    with controller().read() as repo:
        record = repo.rd(rd)
        if vlmnr not in ops.VOLUME_NUMBERS:
            raise refuse(rc.FAIL_NOT_FOUND_VLM_DFN, f"Volume definition {vlmnr} of resource "
                         f"definition '{record.name}' not found.")
        return json_response(vd_json(record, repo.vd(record.name, vlmnr)))


@blueprint.post("/v1/resource-definitions/<rd>/volume-definitions")
def create_vd(rd: str) -> Response:
    data = field(body(), "volume_definition", dict, required=True)
    size = data.get("size_kib")
    ops.check_size(size)
    return mutate(VD | rc.MASK_CRT, ops.create_vds, rd, [size],
                  vlmnr=field(data, "volume_number", int, None),
                  props=field(data, "props", dict, {}), status=201)


@blueprint.put("/v1/resource-definitions/<rd>/volume-definitions/<int:vlmnr>")
def modify_vd(rd: str, vlmnr: int) -> Response:
    data = body()
    size = data.get("size_kib")
    if size is not None:
        ops.check_size(size)
    return mutate(VD | rc.MASK_MOD, ops.resize_vd, rd, _volume_number(vlmnr), size,
                  field(data, "override_props", dict, {}), strings(data, "delete_props"))


@blueprint.delete("/v1/resource-definitions/<rd>/volume-definitions/<int:vlmnr>")
def delete_vd(rd: str, vlmnr: int) -> Response:
    return mutate(VD | rc.MASK_DEL, ops.delete_vd, rd, _volume_number(vlmnr))


@blueprint.post("/v1/resource-definitions/<rd>/clone")
def clone(rd: str) -> Response:
    data = body()
    target = field(data, "name", str, required=True)
    layers = strings(data, "layer_list")
    ctl = controller()
    g.mask = RD | rc.MASK_CRT
    with ctl.change(g.mask) as change:
        made = ops.clone_rd(ctl, change, rd, target, layers=layers,
                            group=field(data, "resource_group", str, None),
                            override=field(data, "override_props", dict, {}),
                            delete=strings(data, "delete_props"))
        source = change.repo.rd(rd).name
    return json_response({"location": f"/v1/resource-definitions/{source}/clone/{made.name}",
                          "source_name": source, "clone_name": made.name,
                          "messages": change.replies}, 201)


@blueprint.get("/v1/resource-definitions/<rd>/clone/<target>")
def clone_status(rd: str, target: str) -> Response:
    with controller().read() as repo:
        source = repo.rd(rd)
        made = repo.find_rd(target)
        if made is None or (made.clone_source or "").lower() != source.name.lower():
            raise refuse(rc.FAIL_NOT_FOUND_RSC_DFN,
                         f"No clone '{target}' of resource definition '{source.name}' found.")
        return json_response({"status": made.clone_status or "COMPLETE"})

