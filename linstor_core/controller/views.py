"""Records -> REST v1 JSON bodies, exactly in the OpenAPI spec's shapes.

Resources are listed from one joined query by ``ResourceRenderer`` (see there), so listing
10,000 resources costs one query, not one per resource. DRBD state is told honestly: only this
host's node with the drbd kernel module loaded has real devices (see ``deploy.py``); their disk
state is what ``drbdsetup status`` says (or a report that it could not be read). Every other
DRBD volume (module missing, or a node simulated on this host) reports disk state ``Unknown``
with a warning in ``reports`` saying why, never ``UpToDate``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from linstor_core import retcodes as rc
from linstor_core.controller.drbd import DrbdStatus
from linstor_core.controller.model import (FILE_DIR_PROP, GroupRec, NodeRec, PoolRec, RdRec, Repo,
                                           RscRec, SnapRec, VdRec, parse_flags, parse_props)
from linstor_core.errors import LinstorError
from linstor_core.models import SEQUENCE_NUMBER


def node_json(node: NodeRec) -> dict[str, Any]:
    return {
        "name": node.name,
        "type": node.type,
        "props": dict(node.props),
        "flags": [],
        "net_interfaces": [{"name": "default", "address": node.address, "satellite_port": 3366,
                            "satellite_encryption_type": "PLAIN", "is_active": True}],
        "connection_status": "ONLINE",
        "storage_providers": ["DISKLESS", "FILE", "FILE_THIN"],
        "resource_layers": ["DRBD", "STORAGE"],
    }


def pool_json(pool: PoolRec, capacity: tuple[int, int] | None = None,
              supports_snapshots: bool | None = None, directory: str | None = None,
              reports: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """``directory``: where a file pool created without one keeps its volumes (the default
    under the state directory), shown as LINSTOR shows a file pool's: ``StorDriver/FileDir``."""
    props = dict(pool.props)
    if directory is not None:
        props.setdefault(FILE_DIR_PROP, directory)
    body: dict[str, Any] = {
        "storage_pool_name": pool.name,
        "node_name": pool.node,
        "provider_kind": pool.kind,
        "props": props,
        "static_traits": {"Provisioning": "Thin" if pool.kind == "FILE_THIN" else "Fat",
                          "SupportsSnapshots": str(bool(supports_snapshots)).lower()},
        "free_space_mgr_name": f"{pool.node}:{pool.name}",
    }
    if capacity is not None:
        body["free_capacity"], body["total_capacity"] = capacity
    if supports_snapshots is not None:
        body["supports_snapshots"] = supports_snapshots
    if reports:
        body["reports"] = list(reports)
    return body


def group_json(group: GroupRec) -> dict[str, Any]:
    return {"name": group.name, "description": group.description, "props": dict(group.props),
            "select_filter": dict(group.select_filter)}


def _layer_data(rd: RdRec) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    for layer in rd.layers:
        if layer == "DRBD":
            layers.append({"type": "DRBD", "data": {"port": rd.port, "peer_slots": 7,
                                                    "transport_type": "IP"}})
        else:
            layers.append({"type": layer})
    return layers


def vd_json(rd: RdRec, vd: VdRec) -> dict[str, Any]:
    body: dict[str, Any] = {"volume_number": vd.vlmnr, "size_kib": vd.size_kib,
                            "props": dict(vd.props), "flags": []}
    if rd.drbd:
        body["layer_data"] = [{"type": "DRBD", "data": {"volume_number": vd.vlmnr,
                                                        "minor_number": vd.minor}},
                              {"type": "STORAGE"}]
    else:
        body["layer_data"] = [{"type": "STORAGE"}]
    return body


def rd_json(rd: RdRec, vds: Sequence[VdRec] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": rd.name, "props": dict(rd.props), "flags": [],
                            "layer_data": _layer_data(rd), "resource_group_name": rd.resource_group}
    if vds is not None:
        body["volume_definitions"] = [vd_json(rd, vd) for vd in vds]
    return body


_RESOURCES_SQL = """
SELECT r.rd, r.node, r.pool, r.flags, r.node_id, r.props, r.created_ms, d.layers, d.port,
       vd.vlmnr, vd.size_kib, vd.minor, v.device_path, v.backing, p.kind
FROM resources r
JOIN resource_definitions d ON d.name = r.rd
LEFT JOIN volume_definitions vd ON vd.rd = r.rd
LEFT JOIN volumes v ON v.rd = r.rd AND v.node = r.node AND v.vlmnr = vd.vlmnr
LEFT JOIN storage_pools p ON p.node = r.node AND p.name = r.pool
{where}
ORDER BY r.rd, r.node, vd.vlmnr
"""

Keep = Callable[[str, str, Mapping[str, str]], bool]
StatusReader = Callable[[], Mapping[str, DrbdStatus]]


@dataclass(frozen=True)
class Drbd:
    """How one resource's DRBD devices are reported. ``live``: they are real (this host's
    node, module loaded); then ``status`` is what the kernel said of the resource (``None``:
    not up) unless reading it failed (``error``). Not live: ``why`` they are not up."""

    live: bool
    status: DrbdStatus | None = None
    error: str = ""
    why: str = ""


class ResourceRenderer:
    """Renders ``ResourceWithVolumes`` JSON texts, one joined query per listing.

    Listing thousands of resources is the hot read path (every hypervisor polls it). Each
    resource's text is a pure function of its joined rows and its DRBD report (``Drbd``), so
    the text is remembered under exactly those inputs: an unchanged resource is not rendered
    again, a changed row or state renders it anew; nothing is ever served stale. The kernel's
    state is read once per listing, and only when it lists a real DRBD resource.
    """

    MAX_ENTRIES = 200_000

    def __init__(self, local_node: str, read_status: StatusReader) -> None:
        """``local_node``: this host's node; ``read_status``: the kernel's DRBD state."""
        self._texts: dict[tuple[str, str], tuple[tuple[Any, ...], str]] = {}
        self._local_name = local_node
        self._local = local_node.lower()
        self._read_status = read_status

    def texts(self, repo: Repo, drbd_loaded: bool, *, rd: str | None = None,
              keep: Keep | None = None) -> list[str]:
        """JSON texts of the resources (of ``rd``) that ``keep(rd, node, visible props)``
        accepts, ordered by resource then node."""
        where, args = ("WHERE r.rd = ?", [rd]) if rd is not None else ("", [])
        groups: list[list[tuple[Any, ...]]] = []
        current: tuple[str, str] | None = None
        for row in repo.tx.all(_RESOURCES_SQL.format(where=where), *args):
            if (row[0], row[1]) != current:
                current = (row[0], row[1])
                groups.append([])
            groups[-1].append(tuple(row))
        if len(self._texts) > self.MAX_ENTRIES:
            self._texts.clear()
        kernel: Mapping[str, DrbdStatus] | str | None = None
        not_up: dict[str, Drbd] = {}
        result = []
        for rows in groups:
            head = rows[0]
            rsc: RscRec | None = None
            if keep is not None:
                rsc = _rsc(head)
                if not keep(rsc.rd, rsc.node, rsc.visible_props):
                    continue
            report = None
            if head[7] == "DRBD,STORAGE":
                node = head[1].lower()
                if drbd_loaded and node == self._local:
                    kernel = self._kernel() if kernel is None else kernel
                    report = _live(head[0], kernel)
                else:
                    report = not_up.get(node)
                    if report is None:
                        report = not_up[node] = self._not_up(drbd_loaded, head[1])
            inputs = (report, *rows)
            key = (head[0].lower(), head[1].lower())
            cached = self._texts.get(key)
            if cached is None or cached[0] != inputs:
                body = _resource(report, rsc or _rsc(head), rows)
                cached = (inputs, _COMPACT.encode(body))
                self._texts[key] = cached
            result.append(cached[1])
        return result

    def _kernel(self) -> Mapping[str, DrbdStatus] | str:
        """The kernel's DRBD resources by lower-cased name, or why they could not be read."""
        try:
            return self._read_status()
        except LinstorError as error:
            return str(error)

    def _not_up(self, drbd_loaded: bool, node: str) -> Drbd:
        if not drbd_loaded:
            return Drbd(False, why="the DRBD kernel module is not loaded on this host")
        return Drbd(False, why=f"node {node} is simulated on this host; only the node named as "
                               f"this host ({self._local_name}) has real DRBD devices")


def _live(rd: str, kernel: Mapping[str, DrbdStatus] | str) -> Drbd:
    if isinstance(kernel, str):
        return Drbd(True, error=kernel)
    return Drbd(True, status=kernel.get(rd.lower()))


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _rsc(head: tuple[Any, ...]) -> RscRec:
    """The resource record of a listing's first row for it."""
    return RscRec(head[0], head[1], head[2], parse_flags(head[3]), head[4], head[6],
                  parse_props(head[5]))


def _resource(report: Drbd | None, rsc: RscRec, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """``report``: the DRBD report (``None`` for a storage-only resource)."""
    rendered = [_volume(report, rsc, row) for row in rows if row[9] is not None]
    storage = {"type": "STORAGE",
               "storage": {"storage_volumes": [layers[-1]["data"] for _, layers in rendered]}}
    layer_object: dict[str, Any] = storage
    state: dict[str, Any] = {}
    if report is not None:
        port = rows[0][8]
        layer_object = {"type": "DRBD", "children": [storage], "drbd": {
            "drbd_resource_definition": {"port": port}, "node_id": rsc.node_id,
            "tcp_ports": [port], "flags": [f for f in rsc.flags if f != "DISKLESS"],
            "drbd_volumes": [layers[0]["data"] for _, layers in rendered]}}
        if report.status is not None:
            state["in_use"] = report.status.role == "Primary"
    return {"name": rsc.rd, "node_name": rsc.node, "props": rsc.visible_props,
            "flags": list(rsc.flags), "layer_object": layer_object, "state": state,
            "create_timestamp": rsc.created_ms, "volumes": [body for body, _ in rendered]}


def _volume(report: Drbd | None, rsc: RscRec,
            row: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Volume body and its layer list (DRBD first when present, STORAGE last)."""
    vlmnr, size, minor, device, backing, kind = row[9], row[10], row[11], row[12], row[13], row[14]
    device = device or ""
    storage_state = "Diskless" if rsc.diskless else "UpToDate"
    layers: list[dict[str, Any]] = []
    body: dict[str, Any] = {
        "volume_number": vlmnr, "storage_pool_name": rsc.pool or "",
        "provider_kind": kind or "DISKLESS", "device_path": device, "usable_size_kib": size,
        "state": {"disk_state": storage_state}, "layer_data_list": layers,
    }
    if report is not None:
        state, why = _drbd_state(report, rsc, vlmnr)
        body["state"] = {"disk_state": state}
        if why:
            message = (f"{device}: {why}." if report.live else
                       f"{device} is not up: {why}; the DRBD configuration is rendered under "
                       f"nodes/{rsc.node}/drbd.d/.")
            body["reports"] = [{"ret_code": rc.WARN_NOT_CONNECTED, "cause": why,
                                "message": message}]
        layers.append({"type": "DRBD", "data": {
            "drbd_volume_definition": {"volume_number": vlmnr, "minor_number": minor},
            "device_path": device, "backing_device": backing or "none",
            "meta_disk": "internal", "usable_size_kib": size, "disk_state": state}})
    layers.append({"type": "STORAGE", "data": {
        "volume_number": vlmnr, "device_path": backing or "", "usable_size_kib": size,
        "disk_state": storage_state}})
    if kind == "FILE":
        body["allocated_size_kib"] = size
    return body, layers


def _drbd_state(report: Drbd, rsc: RscRec, vlmnr: int) -> tuple[str, str]:
    """The DRBD volume's disk state and, when it is not the kernel's word, why not."""
    if not report.live:
        return ("Diskless" if rsc.diskless else "Unknown"), report.why
    if report.error:
        return "Unknown", f"reading its state from the kernel failed: {report.error}"
    state = report.status.disk_states.get(vlmnr) if report.status is not None else None
    if state is None:
        return "Unknown", f"the kernel has no DRBD device of resource {rsc.rd} volume {vlmnr}"
    return state, ""


def snapshot_json(snap: SnapRec, rd: RdRec | None) -> dict[str, Any]:
    return {
        "name": snap.name, "resource_name": snap.rd, "nodes": list(snap.node_names),
        "props": {**snap.props, SEQUENCE_NUMBER: str(snap.sequence)}, "flags": ["SUCCESSFUL"],
        "resource_definition_props": dict(rd.props) if rd else {},
        "volume_definitions": [{"volume_number": n, "size_kib": s} for n, s in snap.volumes],
        "snapshots": [{"snapshot_name": snap.name, "node_name": node,
                       "create_timestamp": snap.created_ms, "flags": [],
                       "snapshot_volumes": [{"vlm_nr": n, "state": "Successful"}
                                            for n, _ in snap.volumes]}
                      for node in snap.node_names],
    }


def snapshots_json(snaps: Iterable[SnapRec], rds: Mapping[str, RdRec]) -> list[dict[str, Any]]:
    return [snapshot_json(s, rds.get(s.rd.lower())) for s in snaps]
