"""``volume list`` (also ``resource list-volumes``): every volume of every resource, per node.

The listing a LINSTOR user reads to find a device: node, resource, pool, volume number, DRBD
minor and port, the device path, sizes, whether it is in use, and its disk state.
"""

from __future__ import annotations

import argparse
import dataclasses

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group
from linstor_core.models import Resource
from linstor_core.naming import among, validate_node_name, validate_resource_name, validate_storage_pool_name
from linstor_core.units import format_kib

HEADERS = ["Node", "Resource", "StoragePool", "VolNr", "MinorNr", "Port", "DeviceName", "Allocated",
           "Size", "InUse", "State"]


def _size(kib: int | None) -> str:
    return "" if kib is None else format_kib(kib)


def usage(resource: Resource) -> str:
    """``InUse``/``Unused`` as the linstor client prints it; empty when the node did not say."""
    return "" if resource.in_use is None else ("InUse" if resource.in_use else "Unused")


def list_volumes(args: argparse.Namespace, ctx: Context) -> None:
    resources = ctx.client.resources.view(resources=args.resources or (), nodes=args.nodes or ())
    if args.storage_pools:  # -m shows what the table shows
        resources = [
            dataclasses.replace(r, volumes=tuple(v for v in r.volumes if among(v.storage_pool_name, args.storage_pools)))
            for r in resources
        ]
        resources = [r for r in resources if r.volumes]
    rows = [
        [r.node_name, r.name, v.storage_pool_name, v.volume_number, v.drbd_minor, r.drbd_port,
         v.device_path, _size(v.allocated_size_kib), _size(v.usable_size_kib), usage(r), v.disk_state]
        for r in resources
        for v in r.volumes
    ]
    ctx.out.table(HEADERS, rows, resources)


def add_list_volumes(group: Subparsers, name: str, aliases: tuple[str, ...], example: str) -> None:
    """Register the volume listing under ``volume list`` and ``resource list-volumes`` alike."""
    parser = add_command(
        group, name, aliases=aliases, summary="list volumes with device paths",
        description="List every volume of every resource on every node: storage pool, volume number,\n"
        "DRBD minor and port (empty without the drbd layer), device path, allocated and usable\n"
        "size, usage and disk state.",
        examples=(example, f"-m {example} -r SharedData"),
        idempotent="yes: read-only.", handler=list_volumes,
    )
    parser.add_argument("-n", "--nodes", nargs="+", metavar="NODE", type=validate_node_name,
                        help="show only volumes on these nodes")
    parser.add_argument("-r", "--resources", nargs="+", metavar="RESOURCE", type=validate_resource_name,
                        help="show only these resources")
    parser.add_argument("-s", "--storage-pools", nargs="+", metavar="POOL", type=validate_storage_pool_name,
                        help="show only volumes in these storage pools")


def register(commands: Subparsers) -> None:
    group = add_group(commands, "volume", aliases=("v",), summary="list volumes",
                      description="Volumes are the per-node instances of volume definitions.")
    add_list_volumes(group, "list", ("l",), "volume list")
