"""Snapshots: create, list, view, delete, restore, rollback."""

from __future__ import annotations

from flask import Blueprint, Response

from linstor_core import retcodes as rc
from linstor_core.controller.api import (body, controller, field, json_response, mutate,
                                         names_arg, paginate, strings)
from linstor_core.controller.ops import snapshots as ops
from linstor_core.controller.ops.common import names_filter
from linstor_core.controller.views import snapshot_json, snapshots_json

blueprint = Blueprint("snapshots", __name__)
SNAP = rc.MASK_SNAPSHOT


@blueprint.get("/v1/resource-definitions/<rd>/snapshots")
def list_snapshots(rd: str) -> Response:
    with controller().read() as repo:
        record = repo.rd(rd)
        return json_response(paginate(snapshots_json(repo.snapshots(record.name),
                                                     {record.name.lower(): record})))


@blueprint.get("/v1/resource-definitions/<rd>/snapshots/<snapshot>")
def get_snapshot(rd: str, snapshot: str) -> Response:
    with controller().read() as repo:
        record = repo.rd(rd)
        return json_response(snapshot_json(repo.snapshot(record.name, snapshot), record))


@blueprint.get("/v1/view/snapshots")
def view_snapshots() -> Response:
    want_rd, want_node = names_filter(names_arg("resources")), names_filter(names_arg("nodes"))
    with controller().read() as repo:
        rds = {rd.name.lower(): rd for rd in repo.rds()}
        snaps = [s for s in repo.snapshots()
                 if (want_rd is None or s.rd.lower() in want_rd)
                 and (want_node is None or any(n.lower() in want_node for n in s.node_names))]
        return json_response(paginate(snapshots_json(snaps, rds)))


@blueprint.post("/v1/resource-definitions/<rd>/snapshots")
def create_snapshot(rd: str) -> Response:
    data = body()
    return mutate(SNAP | rc.MASK_CRT, ops.create_snapshot, rd,
                  field(data, "name", str, required=True), strings(data, "nodes"),
                  status=201)


@blueprint.delete("/v1/resource-definitions/<rd>/snapshots/<snapshot>")
def delete_snapshot(rd: str, snapshot: str) -> Response:
    return mutate(SNAP | rc.MASK_DEL, ops.delete_snapshot, rd, snapshot, names_arg("nodes"))


@blueprint.post("/v1/resource-definitions/<rd>/snapshot-restore-volume-definition/<snapshot>")
def restore_volume_definitions(rd: str, snapshot: str) -> Response:
    data = body()
    return mutate(SNAP | rc.MASK_CRT, ops.restore_volume_definitions, rd, snapshot,
                  field(data, "to_resource", str, required=True))


@blueprint.post("/v1/resource-definitions/<rd>/snapshot-restore-resource/<snapshot>")
def restore_resources(rd: str, snapshot: str) -> Response:
    data = body()
    return mutate(SNAP | rc.MASK_CRT, ops.restore_resources, rd, snapshot,
                  field(data, "to_resource", str, required=True), strings(data, "nodes"))


@blueprint.post("/v1/resource-definitions/<rd>/snapshot-rollback/<snapshot>")
def rollback(rd: str, snapshot: str) -> Response:
    body()
    return mutate(SNAP | rc.MASK_MOD, ops.rollback, rd, snapshot)
