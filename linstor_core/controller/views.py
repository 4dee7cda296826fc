"""Records -> REST v1 JSON bodies, exactly in the OpenAPI spec's shapes.

Resources are listed from one joined query by ``ResourceRenderer`` (see there), so listing
10,000 resources costs one query, not one per resource. DRBD state is told
honestly: this controller does not bring DRBD devices up when the kernel module is missing, so
such volumes report disk state ``Unknown`` with a warning in ``reports``, never ``UpToDate``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from linstor_core import retcodes as rc
from linstor_core.controller.model import (FILE_DIR_PROP, GroupRec, NodeRec, PoolRec, RdRec, Repo,
                                           RscRec, SnapRec, VdRec, parse_flags, parse_props)


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


class ResourceRenderer:
    """Renders ``ResourceWithVolumes`` JSON texts, one joined query per listing.

    Listing thousands of resources is the hot read path (every hypervisor polls it). Each
    resource's text is a pure function of its joined rows (and of whether DRBD is loaded), so
    the text is remembered under exactly those inputs: an unchanged resource is not rendered
    again, a changed row renders it anew; nothing is ever served stale.
    """

    MAX_ENTRIES = 200_000

    def __init__(self) -> None:
        self._texts: dict[tuple[str, str], tuple[tuple[Any, ...], str]] = {}

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
        result = []
        for rows in groups:
            head = rows[0]
            rsc: RscRec | None = None
            if keep is not None:
                rsc = _rsc(head)
                if not keep(rsc.rd, rsc.node, rsc.visible_props):
                    continue
            inputs = (drbd_loaded, *rows)
            key = (head[0].lower(), head[1].lower())
            cached = self._texts.get(key)
            if cached is None or cached[0] != inputs:
                body = _resource(drbd_loaded, rsc or _rsc(head), rows)
                cached = (inputs, _COMPACT.encode(body))
                self._texts[key] = cached
            result.append(cached[1])
        return result


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _rsc(head: tuple[Any, ...]) -> RscRec:
    """The resource record of a listing's first row for it."""
    return RscRec(head[0], head[1], head[2], parse_flags(head[3]), head[4], head[6],
                  parse_props(head[5]))


def _resource(drbd_loaded: bool, rsc: RscRec, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    drbd = rows[0][7] == "DRBD,STORAGE"
    rendered = [_volume(drbd_loaded, rsc, row, drbd) for row in rows if row[9] is not None]
    storage = {"type": "STORAGE",
               "storage": {"storage_volumes": [layers[-1]["data"] for _, layers in rendered]}}
    layer_object: dict[str, Any] = storage
    if drbd:
        port = rows[0][8]
        layer_object = {"type": "DRBD", "children": [storage], "drbd": {
            "drbd_resource_definition": {"port": port}, "node_id": rsc.node_id,
            "tcp_ports": [port], "flags": [f for f in rsc.flags if f != "DISKLESS"],
            "drbd_volumes": [layers[0]["data"] for _, layers in rendered]}}
    return {"name": rsc.rd, "node_name": rsc.node, "props": rsc.visible_props,
            "flags": list(rsc.flags), "layer_object": layer_object, "state": {},
            "create_timestamp": rsc.created_ms, "volumes": [body for body, _ in rendered]}


def _volume(drbd_loaded: bool, rsc: RscRec, row: Any,
            drbd: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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
    if drbd:
        state = "Diskless" if rsc.diskless else "Unknown"
        body["state"] = {"disk_state": state}
        why = ("the DRBD kernel module is not loaded on this host" if not drbd_loaded
               else "the embedded controller does not bring DRBD devices up")
        body["reports"] = [{"ret_code": rc.WARN_NOT_CONNECTED, "cause": why,
                            "message": f"{device} is not up: {why}; the DRBD configuration "
                                       f"is rendered under nodes/{rsc.node}/drbd.d/."}]
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


def snapshot_json(snap: SnapRec, rd: RdRec | None) -> dict[str, Any]:
    return {
        "name": snap.name, "resource_name": snap.rd, "nodes": list(snap.node_names),
        "props": dict(snap.props), "flags": ["SUCCESSFUL"],
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
