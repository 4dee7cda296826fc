"""The controller's records and the SQL that loads and saves them.

Records are frozen dataclasses read from one transaction (``Tx``); nothing here talks to storage
or HTTP. Lookups that must succeed (``Repo.node`` etc.) raise the ``NotFound`` LINSTOR would
answer, with its message and ret code, so every route reports a missing object the same way.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from linstor_core import retcodes as rc
from linstor_core.controller.replies import refuse
from linstor_core.controller.store import Tx

Props = dict[str, str]
FILE_DIR_PROP = "StorDriver/FileDir"  # a file pool's directory, as LINSTOR names it
DISKLESS_FLAGS = ("DISKLESS", "DRBD_DISKLESS")
TIE_BREAKER = "TIE_BREAKER"


def _props_where(props: Sequence[str]) -> tuple[str, list[str]]:
    """A ``WHERE`` clause (or ``""``) for definitions whose props likely match ``props``.

    SQLite narrows the rows so that a filtered listing reads and parses only the likely matches
    (the adapters find a platform's disk by its owner props among thousands of definitions on
    every call): each ``Key=Value`` is looked for as text in the stored JSON (``instr``, no JSON
    parse per row), as :func:`dump` writes it, ``"key": "value"`` (``"key": `` for a ``Key``
    alone). A stored string escapes its quotes, so the text cannot match inside another key or
    value; callers still check every row with ``props_match``, which decides.
    """
    if not props:
        return "", []
    needles = []
    for item in props:
        key, sep, value = item.partition("=")
        needles.append(f"{json.dumps(key)}: {json.dumps(value) if sep else ''}")
    return " WHERE " + " AND ".join("instr(props, ?) > 0" for _ in needles), needles


def parse_props(text: str) -> Props:
    """Props from their stored JSON text (the common empty case without a parse)."""
    if text == "{}":
        return {}
    return {str(k): str(v) for k, v in json.loads(text).items()}


def parse_flags(text: str) -> tuple[str, ...]:
    """Flags from their stored JSON text."""
    return () if text == "[]" else tuple(json.loads(text))


def dump(value: Any) -> str:
    """The JSON text stored for props, flags and select filters (stable key order)."""
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class NodeRec:
    name: str
    type: str
    address: str
    props: Props = field(default_factory=dict)


@dataclass(frozen=True)
class PoolRec:
    node: str
    name: str
    kind: str
    directory: str | None
    props: Props = field(default_factory=dict)

    @property
    def diskless(self) -> bool:
        return self.kind == "DISKLESS"


@dataclass(frozen=True)
class GroupRec:
    name: str
    description: str
    select_filter: dict[str, Any]
    props: Props = field(default_factory=dict)


@dataclass(frozen=True)
class RdRec:
    name: str
    resource_group: str
    layers: tuple[str, ...]
    port: int | None
    props: Props = field(default_factory=dict)
    clone_source: str | None = None
    clone_status: str | None = None

    @property
    def drbd(self) -> bool:
        return "DRBD" in self.layers


@dataclass(frozen=True)
class VdRec:
    rd: str
    vlmnr: int
    size_kib: int
    minor: int | None
    props: Props = field(default_factory=dict)


@dataclass(frozen=True)
class RscRec:
    rd: str
    node: str
    pool: str | None
    flags: tuple[str, ...]
    node_id: int | None
    created_ms: int
    props: Props = field(default_factory=dict)

    @property
    def diskless(self) -> bool:
        return "DISKLESS" in self.flags

    @property
    def tiebreaker(self) -> bool:
        return TIE_BREAKER in self.flags

    @property
    def visible_props(self) -> Props:
        """Props as LINSTOR shows them: the storage pool is the ``StorPoolName`` property."""
        return {"StorPoolName": self.pool or "", **self.props}


@dataclass(frozen=True)
class VolRec:
    rd: str
    node: str
    vlmnr: int
    device_path: str
    backing: str | None


@dataclass(frozen=True)
class SnapRec:
    rd: str
    name: str
    sequence: int
    created_ms: int
    nodes: tuple[tuple[str, str], ...]
    volumes: tuple[tuple[int, int], ...]
    props: Props = field(default_factory=dict)

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(node for node, _ in self.nodes)


def _node(row: sqlite3.Row) -> NodeRec:
    return NodeRec(row["name"], row["type"], row["address"], parse_props(row["props"]))


def _pool(row: sqlite3.Row) -> PoolRec:
    return PoolRec(row["node"], row["name"], row["kind"], row["directory"],
                   parse_props(row["props"]))


def _group(row: sqlite3.Row) -> GroupRec:
    return GroupRec(row["name"], row["description"], json.loads(row["select_filter"]),
                    parse_props(row["props"]))


def _rd(row: sqlite3.Row) -> RdRec:
    return RdRec(row["name"], row["resource_group"], tuple(row["layers"].split(",")), row["port"],
                 parse_props(row["props"]), row["clone_source"], row["clone_status"])


def _vd(row: sqlite3.Row) -> VdRec:
    return VdRec(row["rd"], row["vlmnr"], row["size_kib"], row["minor"], parse_props(row["props"]))


def _rsc(row: sqlite3.Row) -> RscRec:
    return RscRec(row["rd"], row["node"], row["pool"], parse_flags(row["flags"]),
                  row["node_id"], row["created_ms"], parse_props(row["props"]))


def _vol(row: sqlite3.Row) -> VolRec:
    return VolRec(row["rd"], row["node"], row["vlmnr"], row["device_path"], row["backing"])


class Repo:
    """Typed reads and writes over one transaction."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    # nodes -------------------------------------------------------------------------------
    def nodes(self) -> list[NodeRec]:
        return [_node(r) for r in self.tx.all("SELECT * FROM nodes ORDER BY name")]

    def find_node(self, name: str) -> NodeRec | None:
        row = self.tx.one("SELECT * FROM nodes WHERE name = ?", name)
        return _node(row) if row else None

    def node(self, name: str) -> NodeRec:
        found = self.find_node(name)
        if found is None:
            raise refuse(rc.FAIL_NOT_FOUND_NODE, f"Node '{name}' not found.")
        return found

    def insert_node(self, node: NodeRec) -> None:
        self.tx.run("INSERT INTO nodes (name, type, address, props) VALUES (?, ?, ?, ?)",
                    node.name, node.type, node.address, dump(node.props))

    def delete_node(self, name: str) -> None:
        self.tx.touch("storage_pools")
        self.tx.run("DELETE FROM storage_pools WHERE node = ?", name)
        self.tx.run("DELETE FROM nodes WHERE name = ?", name)

    # storage pools -----------------------------------------------------------------------
    def pools(self, node: str | None = None) -> list[PoolRec]:
        if node is None:
            rows = self.tx.all("SELECT * FROM storage_pools ORDER BY node, name")
        else:
            rows = self.tx.all("SELECT * FROM storage_pools WHERE node = ? ORDER BY name", node)
        return [_pool(r) for r in rows]

    def find_pool(self, node: str, name: str) -> PoolRec | None:
        row = self.tx.one("SELECT * FROM storage_pools WHERE node = ? AND name = ?", node, name)
        return _pool(row) if row else None

    def pool(self, node: str, name: str) -> PoolRec:
        found = self.find_pool(node, name)
        if found is None:
            raise refuse(rc.FAIL_NOT_FOUND_STOR_POOL,
                         f"Storage pool '{name}' on node '{node}' not found.")
        return found

    def insert_pool(self, pool: PoolRec) -> None:
        self.tx.touch("storage_pools")
        self.tx.run("INSERT INTO storage_pools (node, name, kind, directory, props) "
                    "VALUES (?, ?, ?, ?, ?)",
                    pool.node, pool.name, pool.kind, pool.directory, dump(pool.props))

    def delete_pool(self, node: str, name: str) -> None:
        self.tx.touch("storage_pools")
        self.tx.run("DELETE FROM storage_pools WHERE node = ? AND name = ?", node, name)

    # resource groups ---------------------------------------------------------------------
    def groups(self) -> list[GroupRec]:
        return [_group(r) for r in self.tx.all("SELECT * FROM resource_groups ORDER BY name")]

    def find_group(self, name: str) -> GroupRec | None:
        row = self.tx.one("SELECT * FROM resource_groups WHERE name = ?", name)
        return _group(row) if row else None

    def group(self, name: str) -> GroupRec:
        found = self.find_group(name)
        if found is None:
            raise refuse(rc.FAIL_NOT_FOUND_RSC_GRP, f"Resource group '{name}' not found.")
        return found

    def save_group(self, group: GroupRec) -> None:
        self.tx.run("INSERT OR REPLACE INTO resource_groups (name, description, select_filter, "
                    "props) VALUES (?, ?, ?, ?)", group.name, group.description,
                    dump(group.select_filter), dump(group.props))

    def delete_group(self, name: str) -> None:
        self.tx.run("DELETE FROM resource_groups WHERE name = ?", name)

    # resource definitions ----------------------------------------------------------------
    def rds(self, props: Sequence[str] = ()) -> list[RdRec]:
        """Every definition, or those whose props likely match every ``Key=Value`` / ``Key`` of
        ``props`` (see :func:`_props_where`; the caller's ``props_match`` decides)."""
        where, args = _props_where(props)
        return [_rd(r) for r in self.tx.all(f"SELECT * FROM resource_definitions{where} ORDER BY name", *args)]

    def counts(self) -> tuple[int, int, int]:
        """(resource definitions, resources, snapshots), counted without loading a record."""
        row = self.tx.one("SELECT (SELECT COUNT(*) FROM resource_definitions), "
                          "(SELECT COUNT(*) FROM resources), (SELECT COUNT(*) FROM snapshots)")
        assert row is not None  # an aggregate query always answers one row
        return int(row[0]), int(row[1]), int(row[2])

    def find_rd(self, name: str) -> RdRec | None:
        row = self.tx.one("SELECT * FROM resource_definitions WHERE name = ?", name)
        return _rd(row) if row else None

    def rd(self, name: str) -> RdRec:
        found = self.find_rd(name)
        if found is None:
            raise refuse(rc.FAIL_NOT_FOUND_RSC_DFN, f"Resource definition '{name}' not found.")
        return found

    def insert_rd(self, rd: RdRec) -> None:
        self.tx.run("INSERT INTO resource_definitions (name, resource_group, layers, port, props, "
                    "clone_source, clone_status) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rd.name, rd.resource_group, ",".join(rd.layers), rd.port, dump(rd.props),
                    rd.clone_source, rd.clone_status)

    def set_rd_props(self, name: str, props: Mapping[str, str]) -> None:
        self.tx.run("UPDATE resource_definitions SET props = ? WHERE name = ?", dump(props), name)

    def delete_rd(self, name: str) -> None:
        self.tx.run("DELETE FROM volume_definitions WHERE rd = ?", name)
        self.tx.run("DELETE FROM resource_definitions WHERE name = ?", name)

    # volume definitions ------------------------------------------------------------------
    def vds(self, rd: str | None = None, *, rd_props: Sequence[str] = ()) -> list[VdRec]:
        """The volume definitions of ``rd``, or of every definition :meth:`rds` finds for
        ``rd_props`` (all of them without it)."""
        if rd is None and not rd_props:
            rows = self.tx.all("SELECT * FROM volume_definitions ORDER BY rd, vlmnr")
        elif rd is None:
            where, args = _props_where(rd_props)
            rows = self.tx.all("SELECT * FROM volume_definitions WHERE rd IN "
                               f"(SELECT name FROM resource_definitions{where}) ORDER BY rd, vlmnr", *args)
        else:
            rows = self.tx.all("SELECT * FROM volume_definitions WHERE rd = ? ORDER BY vlmnr", rd)
        return [_vd(r) for r in rows]

    def vd(self, rd: str, vlmnr: int) -> VdRec:
        row = self.tx.one("SELECT * FROM volume_definitions WHERE rd = ? AND vlmnr = ?", rd, vlmnr)
        if row is None:
            raise refuse(rc.FAIL_NOT_FOUND_VLM_DFN,
                         f"Volume definition {vlmnr} of resource definition '{rd}' not found.")
        return _vd(row)

    def insert_vd(self, vd: VdRec) -> None:
        self.tx.run("INSERT INTO volume_definitions (rd, vlmnr, size_kib, minor, props) "
                    "VALUES (?, ?, ?, ?, ?)", vd.rd, vd.vlmnr, vd.size_kib, vd.minor,
                    dump(vd.props))

    def set_vd_size(self, rd: str, vlmnr: int, size_kib: int) -> None:
        self.tx.run("UPDATE volume_definitions SET size_kib = ? WHERE rd = ? AND vlmnr = ?",
                    size_kib, rd, vlmnr)

    # resources ---------------------------------------------------------------------------
    def rscs(self, rd: str | None = None, node: str | None = None) -> list[RscRec]:
        sql, args = "SELECT * FROM resources", []
        where = []
        if rd is not None:
            where.append("rd = ?")
            args.append(rd)
        if node is not None:
            where.append("node = ?")
            args.append(node)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_rsc(r) for r in self.tx.all(sql + " ORDER BY rd, node", *args)]

    def find_rsc(self, rd: str, node: str) -> RscRec | None:
        row = self.tx.one("SELECT * FROM resources WHERE rd = ? AND node = ?", rd, node)
        return _rsc(row) if row else None

    def rsc(self, rd: str, node: str) -> RscRec:
        found = self.find_rsc(rd, node)
        if found is None:
            raise refuse(rc.FAIL_NOT_FOUND_RSC, f"Resource '{rd}' on node '{node}' not found.")
        return found

    def insert_rsc(self, rsc: RscRec) -> None:
        self.tx.run("INSERT INTO resources (rd, node, pool, flags, node_id, props, created_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rsc.rd, rsc.node, rsc.pool,
                    dump(list(rsc.flags)), rsc.node_id, dump(rsc.props), rsc.created_ms)

    def set_rsc_flags(self, rd: str, node: str, flags: Iterable[str]) -> None:
        self.tx.run("UPDATE resources SET flags = ? WHERE rd = ? AND node = ?",
                    dump(list(flags)), rd, node)

    def delete_rsc(self, rd: str, node: str) -> None:
        self.tx.run("DELETE FROM resources WHERE rd = ? AND node = ?", rd, node)

    def volumes(self, rd: str | None = None) -> list[VolRec]:
        if rd is None:
            rows = self.tx.all("SELECT * FROM volumes")
        else:
            rows = self.tx.all("SELECT * FROM volumes WHERE rd = ? ORDER BY node, vlmnr", rd)
        return [_vol(r) for r in rows]

    def insert_volume(self, vol: VolRec) -> None:
        self.tx.run("INSERT INTO volumes (rd, node, vlmnr, device_path, backing) "
                    "VALUES (?, ?, ?, ?, ?)", vol.rd, vol.node, vol.vlmnr, vol.device_path,
                    vol.backing)

    def set_volume_paths(self, vol: VolRec) -> None:
        self.tx.run("UPDATE volumes SET device_path = ?, backing = ? "
                    "WHERE rd = ? AND node = ? AND vlmnr = ?",
                    vol.device_path, vol.backing, vol.rd, vol.node, vol.vlmnr)

    # snapshots ---------------------------------------------------------------------------
    def snapshots(self, rd: str | None = None) -> list[SnapRec]:
        if rd is None:
            heads = self.tx.all("SELECT * FROM snapshots ORDER BY rd, sequence")
            nodes = self.tx.all("SELECT * FROM snapshot_nodes ORDER BY node")
            vols = self.tx.all("SELECT * FROM snapshot_volumes ORDER BY vlmnr")
        else:
            heads = self.tx.all("SELECT * FROM snapshots WHERE rd = ? ORDER BY sequence", rd)
            nodes = self.tx.all("SELECT * FROM snapshot_nodes WHERE rd = ? ORDER BY node", rd)
            vols = self.tx.all("SELECT * FROM snapshot_volumes WHERE rd = ? ORDER BY vlmnr", rd)
        by_node: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for row in nodes:
            by_node.setdefault((row["rd"].lower(), row["snapshot"].lower()), []).append(
                (row["node"], row["pool"]))
        by_vol: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for row in vols:
            by_vol.setdefault((row["rd"].lower(), row["snapshot"].lower()), []).append(
                (row["vlmnr"], row["size_kib"]))
        result = []
        for row in heads:
            key = (row["rd"].lower(), row["name"].lower())
            result.append(SnapRec(row["rd"], row["name"], row["sequence"], row["created_ms"],
                                  tuple(by_node.get(key, ())), tuple(by_vol.get(key, ())),
                                  parse_props(row["props"])))
        return result

    def snapshot(self, rd: str, name: str) -> SnapRec:
        for snap in self.snapshots(rd):
            if snap.name.lower() == name.lower():
                return snap
        raise refuse(rc.FAIL_NOT_FOUND_SNAPSHOT_DFN,
                     f"Snapshot definition '{name}' of resource definition '{rd}' not found.")

    def insert_snapshot(self, snap: SnapRec) -> None:
        self.tx.run("INSERT INTO snapshots (rd, name, sequence, props, created_ms) "
                    "VALUES (?, ?, ?, ?, ?)", snap.rd, snap.name, snap.sequence, dump(snap.props),
                    snap.created_ms)
        for node, pool in snap.nodes:
            self.tx.run("INSERT INTO snapshot_nodes (rd, snapshot, node, pool) VALUES (?, ?, ?, ?)",
                        snap.rd, snap.name, node, pool)
        for vlmnr, size in snap.volumes:
            self.tx.run("INSERT INTO snapshot_volumes (rd, snapshot, vlmnr, size_kib) "
                        "VALUES (?, ?, ?, ?)", snap.rd, snap.name, vlmnr, size)

    def next_snapshot_sequence(self, rd: str) -> int:
        row = self.tx.one("SELECT COALESCE(MAX(sequence), 0) + 1 FROM snapshots WHERE rd = ?", rd)
        return int(row[0]) if row else 1

    def delete_snapshot(self, rd: str, name: str) -> None:
        self.tx.run("DELETE FROM snapshots WHERE rd = ? AND name = ?", rd, name)
