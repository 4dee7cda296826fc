"""``resource-group``: templates of placement rules, and spawning resources from them."""

from __future__ import annotations

import argparse

from linstor_core.cli import placement
from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group, comma_list, positive_int, size_kib
from linstor_core.naming import among, validate_resource_group_name, validate_resource_name, validate_storage_pool_name
from linstor_core.units import format_kib


def _pools(text: str) -> list[str]:
    return [validate_storage_pool_name(pool) for pool in comma_list(text)]


def create(args: argparse.Namespace, ctx: Context) -> None:
    selection = placement.select_filter(args, place_count=args.place_count, storage_pools=args.storage_pool)
    ctx.client.resource_groups.create(args.name, select_filter=selection, description=args.description or "")
    ctx.out.success(f"resource group {args.name} created", resource_group=args.name)


def list_groups(args: argparse.Namespace, ctx: Context) -> None:
    groups = [g for g in ctx.client.resource_groups.list()
              if not args.resource_groups or among(g.name, args.resource_groups)]
    rows = [[g.name, placement.describe(g.select_filter), g.description] for g in groups]
    ctx.out.table(["ResourceGroup", "SelectFilter", "Description"], rows, groups)


def delete(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.resource_groups.delete(args.name)
    ctx.out.success(f"resource group {args.name} deleted", resource_group=args.name)


def spawn(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.resource_groups.spawn(args.group, args.resource, args.sizes, definitions_only=args.definition_only)
    sizes = ", ".join(format_kib(kib) for kib in args.sizes)
    where = "definitions only" if args.definition_only else "placed by the group's rules"
    ctx.out.success(f"resource {args.resource} spawned from group {args.group} ({sizes}; {where})",
                    resource_group=args.group, resource=args.resource)


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "resource-group", aliases=("rg",), summary="resource groups: placement templates",
        description="A resource group holds placement rules (place count, storage pools, layers,\n"
        "replicas on same/different node properties). 'spawn' creates a resource definition, its\n"
        "volume definitions and its placed resources from the group in one call. The bundle's\n"
        "profiles ('linstor-core profiles apply') are resource groups.",
    )
    parser = add_command(
        group, "create", aliases=("c",), summary="create a resource group",
        description="Create the resource group NAME with the given placement rules.",
        examples=("resource-group create --place-count 3 --storage-pool thinpool --layer-list drbd,storage gold",
                  "rg c --place-count 2 --replicas-on-different Aux/site --description 'two sites' silver"),
        idempotent="no: an existing group fails with 'already exists' (exit 1); "
        "use 'profiles apply' for idempotent set-up.",
        handler=create,
    )
    parser.add_argument("name", metavar="NAME", type=validate_resource_group_name, help="resource group name")
    parser.add_argument("--place-count", type=positive_int, metavar="N", help="number of diskful replicas")
    parser.add_argument("-s", "--storage-pool", type=_pools, action="extend", metavar="POOL,...",
                        help="storage pool(s) replicas may use")
    parser.add_argument("--description", metavar="TEXT", help="free text shown by 'list'")
    placement.add_placement_options(parser)

    parser = add_command(
        group, "list", aliases=("l",), summary="list resource groups",
        description="List resource groups with their placement rules.",
        examples=("resource-group list", "-m rg l"), idempotent="yes: read-only.", handler=list_groups,
    )
    parser.add_argument("-r", "--resource-groups", nargs="+", metavar="GROUP",
                        type=validate_resource_group_name, help="show only these groups")

    parser = add_command(
        group, "delete", aliases=("d",), summary="delete a resource group",
        description="Delete the resource group NAME; LINSTOR refuses while resource definitions use it.",
        examples=("resource-group delete silver",),
        idempotent="no: an unknown group fails with 'not found' (exit 1).", handler=delete,
    )
    parser.add_argument("name", metavar="NAME", type=validate_resource_group_name, help="resource group name")

    parser = add_command(
        group, "spawn-resources", aliases=("spawn",), summary="create a resource from a group",
        description="Create resource definition RESOURCE with one volume per SIZE and place it by the\n"
        "group's rules - one REST call (POST /v1/resource-groups/GROUP/spawn).",
        examples=("resource-group spawn gold web01-disk-0 10G", "rg spawn --definition-only gold db 1G 20G"),
        idempotent="no: an existing RESOURCE fails with 'already exists' (exit 1).", handler=spawn,
    )
    parser.add_argument("group", metavar="GROUP", type=validate_resource_group_name, help="resource group")
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="new resource name")
    parser.add_argument("sizes", metavar="SIZE", nargs="+", type=size_kib,
                        help="volume size(s), e.g. 150m or 10GiB (plain number: GiB)")
    parser.add_argument("--definition-only", action="store_true",
                        help="create only the definitions; place nothing")
