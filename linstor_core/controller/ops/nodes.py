"""Nodes and their storage pools.

On this embedded controller every satellite is local: a node is a name whose storage lives
under ``DIR/nodes/NAME`` (or a directory its pools name). Each node gets LINSTOR's implicit
``DfltDisklessStorPool``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from linstor_core import naming
from linstor_core import retcodes as rc
from linstor_core.controller.core import Change, Controller
from linstor_core.controller.model import FILE_DIR_PROP, NodeRec, PoolRec, dump
from linstor_core.controller.ops.common import edit_props
from linstor_core.controller.replies import refuse

DISKLESS_POOL = "DfltDisklessStorPool"
NODE_TYPES = {"SATELLITE": "Satellite", "COMBINED": "Combined", "CONTROLLER": "Controller",
              "AUXILIARY": "Auxiliary"}
POOL_KINDS = ("FILE_THIN", "FILE", "DISKLESS")
POOL_NAME_PROP = "StorDriver/StorPoolName"


def create_node(ctl: Controller, change: Change, name: str, node_type: str, address: str,
                props: Mapping[str, str]) -> None:
    """Register a node (name and IP address checked) with its implicit diskless pool."""
    naming.validate_node_name(name)
    kind = NODE_TYPES.get(node_type.upper())
    if kind is None:
        raise refuse(rc.FAIL_INVLD_REQUEST, f"Invalid node type '{node_type}'.",
                     correction="Use SATELLITE, COMBINED, CONTROLLER or AUXILIARY.")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise refuse(rc.FAIL_INVLD_NET_ADDR, f"Invalid IP address '{address}'.",
                     correction="Give the node's IPv4 or IPv6 address.") from None
    repo = change.repo
    if repo.find_node(name):
        raise refuse(rc.FAIL_EXISTS_NODE, f"Node '{name}' already exists.")
    repo.insert_node(NodeRec(name, kind, address, edit_props({}, props, ())))
    repo.insert_pool(PoolRec(name, DISKLESS_POOL, "DISKLESS", None, {}))
    change.reply(rc.CREATED, f"New node '{name}' registered.", obj_refs={"Node": name})


def delete_node(ctl: Controller, change: Change, name: str) -> None:
    """Remove a node; refused while it holds resources or snapshots. A node that is not there
    is LINSTOR's warning, not an error."""
    repo = change.repo
    node = repo.find_node(naming.validate_node_name(name))
    if node is None:
        change.reply(rc.WARN_NOT_FOUND, f"Deletion of node '{name}' had no effect.",
                     details=f"Node '{name}' does not exist.")
        return
    if repo.rscs(node=node.name):
        raise refuse(rc.FAIL_IN_USE, f"Node '{node.name}' still has resources deployed.",
                     correction="Delete the node's resources first.")
    if repo.tx.one("SELECT 1 FROM snapshot_nodes WHERE node = ?", node.name):
        raise refuse(rc.FAIL_IN_USE, f"Node '{node.name}' still holds snapshots.",
                     correction="Delete the snapshots first.")
    repo.delete_node(node.name)
    change.reply(rc.DELETED, f"Node '{node.name}' deleted.", obj_refs={"Node": node.name})


def create_pool(ctl: Controller, change: Change, node: str, name: str, kind: str,
                props: Mapping[str, object]) -> None:
    """Register a FILE_THIN/FILE/DISKLESS pool; its directory is checked (made) first.

    The directory must be an absolute path without NUL: a relative one would be resolved
    against whatever the controller's working directory happens to be.
    """
    naming.validate_storage_pool_name(name)
    kind = kind.upper()
    if kind not in POOL_KINDS:
        raise refuse(rc.FAIL_STLT_DOES_NOT_SUPPORT_PROVIDER,
                     f"Storage provider '{kind}' is not supported by the embedded controller.",
                     correction="Use FILE_THIN, FILE or DISKLESS (or a real LINSTOR cluster).")
    repo = change.repo
    node_rec = repo.node(node)
    if repo.find_pool(node_rec.name, name):
        raise refuse(rc.FAIL_EXISTS_STOR_POOL,
                     f"Storage pool '{name}' already exists on node '{node_rec.name}'.")
    stored = edit_props({}, props, ())
    directory = None
    if kind != "DISKLESS":
        # LINSTOR clients since REST 1.2 send the generic StorPoolName; for file pools it is
        # the directory, which LINSTOR keeps as StorDriver/FileDir.
        prop = FILE_DIR_PROP if stored.get(FILE_DIR_PROP) else POOL_NAME_PROP
        directory = stored.get(prop)
        if directory:
            _check_directory(prop, directory)
            stored[FILE_DIR_PROP] = directory
    pool = PoolRec(node_rec.name, name, kind, directory, stored)
    if kind != "DISKLESS":
        _refuse_shared_directory(ctl, change, pool)
        ctl.satellite.check_pool(ctl.pool_spec(pool))
    repo.insert_pool(pool)
    change.reply(rc.CREATED, f"New storage pool '{name}' on node '{node_rec.name}' registered.",
                 obj_refs={"Node": node_rec.name, "StorPool": name})


def _check_directory(prop: str, directory: str) -> None:
    if "\0" in directory or not directory.startswith("/"):
        raise refuse(rc.FAIL_INVLD_PROP, f"The property {prop} must be an absolute path without "
                     f"NUL bytes, not {directory!r}.",
                     correction="Give the pool directory as an absolute path, e.g. "
                                "/var/lib/linstor-core/pools/NAME.")


def _refuse_shared_directory(ctl: Controller, change: Change, pool: PoolRec) -> None:
    """Two pools in one directory would hold each other's volumes (names carry no node) and
    reconcile each other's files away, so a directory belongs to one pool."""
    wanted = ctl.satellite.pool_directory(ctl.pool_spec(pool))
    for other in change.repo.pools():
        if not other.diskless and ctl.satellite.pool_directory(ctl.pool_spec(other)) == wanted:
            raise refuse(rc.FAIL_STOR_POOL_CONFIGURATION_ERROR,
                         f"Directory {wanted} already belongs to storage pool '{other.name}' on "
                         f"node '{other.node}'.",
                         correction="Give each storage pool its own directory.")


def delete_pool(ctl: Controller, change: Change, node: str, name: str) -> None:
    """Remove a pool record; refused while resources or snapshots live in it."""
    repo = change.repo
    pool = repo.pool(node, name)
    used = repo.tx.one("SELECT rd FROM resources WHERE node = ? AND pool = ?", pool.node, pool.name)
    if used or repo.tx.one("SELECT rd FROM snapshot_nodes WHERE node = ? AND pool = ?",
                           pool.node, pool.name):
        holder = used["rd"] if used else "a snapshot"
        raise refuse(rc.FAIL_IN_USE,
                     f"Storage pool '{pool.name}' on node '{pool.node}' is still in use "
                     f"({holder}).", correction="Delete the resources and snapshots in it first.")
    repo.delete_pool(pool.node, pool.name)
    change.reply(rc.DELETED, f"Storage pool '{pool.name}' on node '{pool.node}' deleted.",
                 obj_refs={"Node": pool.node, "StorPool": pool.name})


def modify_node(ctl: Controller, change: Change, name: str, override: Mapping[str, object],
                delete: Sequence[str], delete_namespaces: Sequence[str]) -> None:
    """Set/delete node properties (e.g. ``Aux/site`` for replicas_on_same/different)."""
    repo = change.repo
    node = repo.node(name)
    props = edit_props(node.props, override, delete, delete_namespaces)
    repo.tx.run("UPDATE nodes SET props = ? WHERE name = ?", dump(props), node.name)
    change.reply(rc.MODIFIED, f"Node '{node.name}' modified.", obj_refs={"Node": node.name})
