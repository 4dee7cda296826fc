"""``resource``: deploy a resource definition on nodes (named or auto-placed), list, remove."""

from __future__ import annotations

import argparse

from linstor_core.cli import placement
from linstor_core.cli.commands.volume import add_list_volumes, usage
from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, UsageError, add_command, add_group, positive_int
from linstor_core.models import Resource, SelectFilter
from linstor_core.naming import validate_node_name, validate_resource_name, validate_storage_pool_name


def state(resource: Resource) -> str:
    """One word per resource: its volumes' disk states, else what its flags say."""
    if resource.tiebreaker:
        return "TieBreaker"
    states = sorted({v.disk_state for v in resource.volumes if v.disk_state})
    if states:
        return ", ".join(states)
    return "Diskless" if resource.diskless else "Unknown"


def _auto_place(args: argparse.Namespace, ctx: Context) -> None:
    if args.nodes:
        raise UsageError("give either NODE names or --auto-place, not both")
    pools = [args.storage_pool] if args.storage_pool else None
    selection = placement.select_filter(args, place_count=args.auto_place, storage_pools=pools)
    before = {r.node_name for r in ctx.client.resources.list(args.resource)}
    ctx.client.resources.autoplace(args.resource, selection)
    placed = sorted(r.node_name for r in ctx.client.resources.list(args.resource)
                    if r.node_name not in before and not r.diskless)
    ctx.out.success(f"resource {args.resource} auto-placed on {', '.join(placed) or 'no new node'}",
                    resource=args.resource)


def create(args: argparse.Namespace, ctx: Context) -> None:
    if args.auto_place is not None:
        _auto_place(args, ctx)
        return
    if not args.nodes:
        raise UsageError("give the NODE(s) to create the resource on, or --auto-place N")
    if placement.select_filter(args, place_count=None, storage_pools=None) != SelectFilter():
        raise UsageError("placement options (--layer-list, --replicas-on-*, --do-not-place-with*, "
                         "--diskless-on-remaining) apply only with --auto-place")
    for node in args.nodes:
        ctx.client.resources.create(args.resource, node, storage_pool=args.storage_pool, diskless=args.diskless)
        kind = "diskless resource" if args.diskless else "resource"
        ctx.out.success(f"{kind} {args.resource} created on node {node}", resource=args.resource, node=node)


def delete(args: argparse.Namespace, ctx: Context) -> None:
    for node in args.nodes:
        if ctx.client.resources.delete(args.resource, node, keep_tiebreaker=args.keep_tiebreaker):
            ctx.out.success(f"resource {args.resource} deleted from node {node}", resource=args.resource, node=node)
        else:
            ctx.out.warning(f"resource {args.resource} not found on node {node}: nothing deleted")


def list_resources(args: argparse.Namespace, ctx: Context) -> None:
    resources = ctx.client.resources.view(resources=args.resources or (), nodes=args.nodes or ())
    rows = [[r.name, r.node_name, r.drbd_port, usage(r), state(r)] for r in resources]
    ctx.out.table(["ResourceName", "Node", "Port", "Usage", "State"], rows, resources)


_CREATE_HELP = """\
Deploy resource definition RESOURCE:

  with NODE names: one resource per node, in the given order, diskful in --storage-pool
  (or diskless with --diskless);
  with --auto-place N: LINSTOR picks N nodes (most free space first) that satisfy the
  storage pool and placement options, and the command prints which ones it picked.

Each node is one REST call; when one fails, the nodes before it keep their resource."""


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "resource", aliases=("r",), summary="deploy, list and remove resources",
        description="A resource is a resource definition deployed on one node: its volumes exist\n"
        "there (diskful) or are reached over DRBD (diskless).",
    )
    parser = add_command(
        group, "create", aliases=("c",), summary="deploy a resource on nodes or auto-place it",
        description=_CREATE_HELP,
        examples=("resource create --storage-pool thinpool vulcan kronos LocalData",
                  "resource create --storage-pool thinpool --auto-place 3 SharedData",
                  "resource create -s thinpool vulcan SharedData",
                  "r c --diskless romulus SharedData"),
        idempotent="no: a resource already on a node fails with 'already exists' (exit 1).",
        handler=create,
    )
    parser.add_argument("nodes", metavar="NODE", nargs="*", type=validate_node_name, help="nodes to deploy on")
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="resource definition")
    parser.add_argument("-s", "--storage-pool", metavar="POOL", type=validate_storage_pool_name,
                        help="storage pool for the volumes")
    parser.add_argument("-d", "--diskless", action="store_true", help="create diskless resources")
    parser.add_argument("--auto-place", type=positive_int, metavar="N", help="let LINSTOR place N replicas")
    placement.add_placement_options(parser)

    parser = add_command(
        group, "delete", aliases=("d",), summary="remove a resource from nodes",
        description="Remove RESOURCE from each NODE (its volumes there are deleted). The resource\n"
        "definition, its other replicas and its snapshots stay.",
        examples=("resource delete kronos SharedData", "r d vulcan kronos LocalData"),
        idempotent="yes: a node without the resource is a warning, nothing changes (exit 0); an unknown "
        "resource definition or node fails with 'not found' (exit 1).", handler=delete,
    )
    parser.add_argument("nodes", metavar="NODE", nargs="+", type=validate_node_name, help="nodes to remove from")
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="resource name")
    parser.add_argument("--keep-tiebreaker", action="store_true",
                        help="keep a diskless tiebreaker on the node if DRBD quorum needs it")

    parser = add_command(
        group, "list", aliases=("l",), summary="list resources",
        description="List resources per node with DRBD port, usage and state.",
        examples=("resource list", "-m r l -r SharedData", "r l -n vulcan"),
        idempotent="yes: read-only.", handler=list_resources,
    )
    parser.add_argument("-r", "--resources", nargs="+", metavar="RESOURCE", type=validate_resource_name,
                        help="show only these resources")
    parser.add_argument("-n", "--nodes", nargs="+", metavar="NODE", type=validate_node_name,
                        help="show only resources on these nodes")

    add_list_volumes(group, "list-volumes", ("lv",), "resource list-volumes")
