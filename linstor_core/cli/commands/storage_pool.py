"""``storage-pool``: the pools on each node that volumes are carved from."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import PurePosixPath

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group
from linstor_core.errors import InvalidInput
from linstor_core.naming import validate_node_name, validate_storage_pool_name
from linstor_core.units import format_kib

FILE_DIR_PROP = "StorDriver/FileDir"


@dataclass(frozen=True)
class _Kind:
    provider_kind: str
    summary: str
    has_directory: bool


# The kinds the embedded controller implements, by the linstor client's subcommand names.
KINDS: dict[str, _Kind] = {
    "filethin": _Kind("FILE_THIN", "sparse files in a directory (thin; reflink snapshots on xfs/btrfs)", True),
    "file": _Kind("FILE", "preallocated files in a directory (thick; snapshots are full copies)", True),
    "diskless": _Kind("DISKLESS", "no local storage: the node reaches data over DRBD only", False),
}


def _directory(text: str) -> str:
    """The controller resolves the path on its own host, so a relative path would be a guess."""
    if not PurePosixPath(text).is_absolute():
        raise InvalidInput("directory", text, "must be an absolute path", correction="e.g. /srv/linstor/thinpool")
    return text


def create(args: argparse.Namespace, ctx: Context) -> None:
    kind = KINDS[args.kind]
    props = {FILE_DIR_PROP: args.directory} if args.directory else {}
    ctx.client.storage_pools.create(args.node, args.pool, kind.provider_kind, props=props)
    ctx.out.success(f"storage pool {args.pool} ({kind.provider_kind}) created on node {args.node}",
                    node=args.node, storage_pool=args.pool)


def _capacity(kib: int | None) -> str:
    return "" if kib is None else format_kib(kib)


def list_pools(args: argparse.Namespace, ctx: Context) -> None:
    pools = ctx.client.storage_pools.list(nodes=args.nodes or (), pools=args.storage_pools or ())
    rows = [
        [p.name, p.node_name, p.provider_kind, p.props.get(FILE_DIR_PROP, ""),
         _capacity(p.free_capacity_kib), _capacity(p.total_capacity_kib)]
        for p in pools
    ]
    ctx.out.table(["StoragePool", "Node", "Driver", "PoolName", "FreeCapacity", "TotalCapacity"], rows, pools)


def delete(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.storage_pools.delete(args.node, args.pool)
    ctx.out.success(f"storage pool {args.pool} deleted from node {args.node}",
                    node=args.node, storage_pool=args.pool)


def _register_create(group: Subparsers) -> None:
    kinds = add_group(
        group, "create", aliases=("c",), summary="create a storage pool of a given kind",
        description="Create the storage pool POOL on NODE. The kind comes first, as in the linstor\n"
        "client: " + ", ".join(KINDS) + ".",
    )
    for name, kind in KINDS.items():
        example = f"storage-pool create {name} vulcan thinpool" + (" /srv/linstor/thinpool" if kind.has_directory else "")
        parser = add_command(
            kinds, name, summary=kind.summary,
            description=f"Create a {kind.provider_kind} storage pool: {kind.summary}."
            + ("\n\nDIR is on the controller's host; the embedded controller creates it if missing and\n"
               "defaults to STATE_DIR/nodes/NODE/pools/POOL." if kind.has_directory else ""),
            examples=(example,),
            idempotent="no: an existing pool of that name on the node fails with 'already exists' (exit 1).",
            handler=create,
        )
        parser.set_defaults(kind=name, directory=None)
        parser.add_argument("node", metavar="NODE", type=validate_node_name, help="node to create the pool on")
        parser.add_argument("pool", metavar="POOL", type=validate_storage_pool_name, help="storage pool name")
        if kind.has_directory:
            parser.add_argument("directory", metavar="DIR", nargs="?", type=_directory,
                                help="absolute directory holding the volume files")


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "storage-pool", aliases=("sp",), summary="create, list and delete storage pools",
        description="A storage pool is a place on one node where volumes are created. Resources\n"
        "name the pool they use (--storage-pool); pools of the same name on several nodes let\n"
        "LINSTOR place replicas across them.",
    )
    _register_create(group)

    parser = add_command(
        group, "list", aliases=("l",), summary="list storage pools with their capacity",
        description="List storage pools with driver, directory and free/total capacity as the\n"
        "node's filesystem reports it.",
        examples=("storage-pool list", "sp l -n vulcan", "-m storage-pool list -s thinpool"),
        idempotent="yes: read-only.", handler=list_pools,
    )
    parser.add_argument("-n", "--nodes", nargs="+", metavar="NODE", type=validate_node_name,
                        help="show only pools on these nodes")
    parser.add_argument("-s", "--storage-pools", nargs="+", metavar="POOL", type=validate_storage_pool_name,
                        help="show only these pools")

    parser = add_command(
        group, "delete", aliases=("d",), summary="delete a storage pool",
        description="Delete the storage pool POOL from NODE; refused while volumes use it.",
        examples=("storage-pool delete vulcan thinpool",),
        idempotent="no: an unknown pool fails with 'not found' (exit 1).", handler=delete,
    )
    parser.add_argument("node", metavar="NODE", type=validate_node_name, help="node holding the pool")
    parser.add_argument("pool", metavar="POOL", type=validate_storage_pool_name, help="storage pool name")
