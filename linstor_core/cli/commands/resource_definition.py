"""``resource-definition``: the cluster-wide definition of a resource (name, layers, group)."""

from __future__ import annotations

import argparse

from linstor_core.cli import placement
from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group
from linstor_core.naming import validate_resource_group_name, validate_resource_name
from linstor_core.units import format_kib


def create(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.resource_definitions.create(args.name, resource_group=args.resource_group,
                                           layers=tuple(args.layer_list or ()))
    ctx.out.success(f"resource definition {args.name} created", resource=args.name)


def list_definitions(args: argparse.Namespace, ctx: Context) -> None:
    definitions = ctx.client.resource_definitions.list(names=args.resources or ())
    rows = [
        [rd.name, rd.resource_group_name, ",".join(rd.layers),
         "\n".join(f"{vd.volume_number}: {format_kib(vd.size_kib)}" for vd in rd.volume_definitions)]
        for rd in definitions
    ]
    ctx.out.table(["ResourceName", "ResourceGroup", "Layers", "Volumes"], rows, definitions)


def delete(args: argparse.Namespace, ctx: Context) -> None:
    if ctx.client.resource_definitions.delete(args.name):
        ctx.out.success(f"resource definition {args.name} and its resources deleted", resource=args.name)
    else:
        ctx.out.warning(f"resource definition {args.name} not found: nothing deleted")


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "resource-definition", aliases=("rd",), summary="resource definitions",
        description="A resource definition names a resource cluster-wide and fixes its layer stack;\n"
        "its volume definitions give the sizes, its resources are the per-node deployments.",
    )
    parser = add_command(
        group, "create", aliases=("c",), summary="create a resource definition",
        description="Create the resource definition NAME. Without --layer-list the layers come\n"
        "from its resource group (LINSTOR's default: drbd,storage).",
        examples=("resource-definition create --layer-list storage LocalData",
                  "resource-definition create SharedData", "rd c --resource-group gold web01"),
        idempotent="no: an existing name fails with 'already exists' (exit 1).", handler=create,
    )
    parser.add_argument("name", metavar="NAME", type=validate_resource_name, help="resource name")
    placement.add_layer_list(parser)
    parser.add_argument("--resource-group", metavar="GROUP", type=validate_resource_group_name,
                        help="resource group to inherit rules and properties from")

    parser = add_command(
        group, "list", aliases=("l",), summary="list resource definitions",
        description="List resource definitions with group, layers and volume sizes.",
        examples=("resource-definition list", "-m rd l -r SharedData"),
        idempotent="yes: read-only.", handler=list_definitions,
    )
    parser.add_argument("-r", "--resources", nargs="+", metavar="RESOURCE", type=validate_resource_name,
                        help="show only these resource definitions")

    parser = add_command(
        group, "delete", aliases=("d",), summary="delete a resource definition and its resources",
        description="Delete resource definition NAME together with its volume definitions and its\n"
        "resources on every node. LINSTOR refuses while snapshots of it exist: delete those first.",
        examples=("resource-definition delete LocalData",),
        idempotent="yes: an unknown name is a warning, nothing changes (exit 0), as in LINSTOR.", handler=delete,
    )
    parser.add_argument("name", metavar="NAME", type=validate_resource_name, help="resource name")
