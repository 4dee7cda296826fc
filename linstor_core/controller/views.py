"""Records -> REST v1 JSON bodies, exactly in the OpenAPI spec's shapes.

List views take everything they need in bulk (one query per table, joined here in memory), so
listing 10,000 resources costs a handful of queries, not one per resource. DRBD state is told
honestly: this controller does not bring DRBD devices up when the kernel module is missing, so
such volumes report disk state ``Unknown`` with a warning in ``reports``, never ``UpToDate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from linstor_core import retcodes as rc
from linstor_core.controller.model import (GroupRec, NodeRec, PoolRec, RdRec, Repo, RscRec,
                                           SnapRec, VdRec, VolRec)

FILE_PROVIDERS = ("FILE_THIN", "FILE")


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
              supports_snapshots: bool | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "storage_pool_name": pool.name,
        "node_name": pool.node,
        "provider_kind": pool.kind,
        "props": dict(pool.props),
        "static_traits": {"Provisioning": "Thin" if pool.kind == "FILE_THIN" else "Fat",
                          "SupportsSnapshots": str(bool(supports_snapshots)).lower()},
        "free_space_mgr_name": f"{pool.node}:{pool.name}",
    }
    if capacity is not None:
        body["free_capacity"], body["total_capacity"] = capacity
    if supports_snapshots is not None:
        body["supports_snapshots"] = supports_snapshots
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


class ResourceViews:
    """Everything needed to render many resources, loaded with one query per table."""

    def __init__(self, repo: Repo, drbd_loaded: bool) -> None:
        self.drbd_loaded = drbd_loaded
        self.rds = {rd.name.lower(): rd for rd in repo.rds()}
        self.vds: dict[str, list[VdRec]] = {}
        for vd in repo.vds():
            self.vds.setdefault(vd.rd.lower(), []).append(vd)
        self.pools = {(p.node.lower(), p.name.lower()): p for p in repo.pools()}
        self.volumes: dict[tuple[str, str], dict[int, VolRec]] = {}
        for vol in repo.volumes():
            self.volumes.setdefault((vol.rd.lower(), vol.node.lower()), {})[vol.vlmnr] = vol

    def resource(self, rsc: RscRec, *, with_volumes: bool = True) -> dict[str, Any]:
        rd = self.rds[rsc.rd.lower()]
        vols = self.volumes.get((rsc.rd.lower(), rsc.node.lower()), {})
        volumes = [self._volume(rd, rsc, vd, vols.get(vd.vlmnr))
                   for vd in self.vds.get(rd.name.lower(), [])]
        body: dict[str, Any] = {
            "name": rsc.rd, "node_name": rsc.node, "props": rsc.visible_props,
            "flags": list(rsc.flags), "layer_object": self._layer_object(rd, rsc, volumes),
            "state": {}, "create_timestamp": rsc.created_ms,
        }
        if with_volumes:
            body["volumes"] = volumes
        return body

    def _layer_object(self, rd: RdRec, rsc: RscRec,
                      volumes: list[dict[str, Any]]) -> dict[str, Any]:
        storage = {"type": "STORAGE", "resource_name_suffix": "", "storage": {"storage_volumes": [
            _storage_layer(v) for v in volumes]}}
        if not rd.drbd:
            return storage
        drbd_volumes = [layer["data"] for v in volumes for layer in v["layer_data_list"]
                        if layer["type"] == "DRBD"]
        return {"type": "DRBD", "resource_name_suffix": "", "children": [storage], "drbd": {
            "drbd_resource_definition": {"port": rd.port, "peer_slots": 7, "transport_type": "IP",
                                         "resource_name_suffix": ""},
            "node_id": rsc.node_id, "tcp_ports": [rd.port], "peer_slots": 7,
            "flags": [f for f in rsc.flags if f != "DISKLESS"], "drbd_volumes": drbd_volumes}}

    def _volume(self, rd: RdRec, rsc: RscRec, vd: VdRec, vol: VolRec | None) -> dict[str, Any]:
        pool = self.pools.get((rsc.node.lower(), (rsc.pool or "").lower()))
        kind = pool.kind if pool else "DISKLESS"
        backing = vol.backing if vol else None
        device = vol.device_path if vol else ""
        storage_state = "Diskless" if rsc.diskless else "UpToDate"
        layers: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        state = storage_state
        if rd.drbd:
            state = "Diskless" if rsc.diskless else "Unknown"
            why = ("the DRBD kernel module is not loaded on this host" if not self.drbd_loaded
                   else "the embedded controller does not bring DRBD devices up")
            reports.append({"ret_code": rc.WARN_NOT_CONNECTED,
                            "message": f"{device} is not up: {why}; the DRBD configuration is "
                                       f"rendered under nodes/{rsc.node}/drbd.d/.",
                            "cause": why})
            layers.append({"type": "DRBD", "data": {
                "drbd_volume_definition": {"volume_number": vd.vlmnr, "minor_number": vd.minor,
                                           "resource_name_suffix": ""},
                "device_path": device, "backing_device": backing or "none",
                "meta_disk": "internal", "usable_size_kib": vd.size_kib, "disk_state": state}})
        layers.append({"type": "STORAGE", "data": {
            "volume_number": vd.vlmnr, "device_path": backing or "", "usable_size_kib": vd.size_kib,
            "disk_state": storage_state}})
        body: dict[str, Any] = {
            "volume_number": vd.vlmnr, "storage_pool_name": rsc.pool or "",
            "provider_kind": kind, "device_path": device, "usable_size_kib": vd.size_kib,
            "props": {}, "flags": [], "state": {"disk_state": state},
            "layer_data_list": layers, "reports": reports,
        }
        if kind == "FILE":
            body["allocated_size_kib"] = vd.size_kib
        return body


def _storage_layer(volume: Mapping[str, Any]) -> dict[str, Any]:
    return next(dict(layer["data"]) for layer in volume["layer_data_list"]
                if layer["type"] == "STORAGE")


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
