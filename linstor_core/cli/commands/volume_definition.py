"""``volume-definition``: the volumes (and their sizes) of a resource definition."""

from __future__ import annotations

import argparse

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group, size_kib
from linstor_core.naming import validate_resource_name
from linstor_core.units import format_kib


def _volume_number(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"volume number {text!r} must be a whole number, 0 or more")
    return int(text)


def create(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.volume_definitions.create(args.resource, args.size, volume_number=args.vlmnr)
    ctx.out.success(f"volume definition of {format_kib(args.size)} created for {args.resource}",
                    resource=args.resource)


def list_volume_definitions(args: argparse.Namespace, ctx: Context) -> None:
    definitions = ctx.client.resource_definitions.list(names=args.resources or ())
    pairs = [(rd.name, vd) for rd in definitions for vd in rd.volume_definitions]
    rows = [[name, vd.volume_number, format_kib(vd.size_kib)] for name, vd in pairs]
    records = [{"resource_name": name, "volume_number": vd.volume_number, "size_kib": vd.size_kib,
                "props": dict(vd.props)} for name, vd in pairs]
    ctx.out.table(["ResourceName", "VolumeNr", "Size"], rows, records)


def set_size(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.volume_definitions.resize(args.resource, args.volume_number, args.size)
    ctx.out.success(f"volume {args.volume_number} of {args.resource} resized to {format_kib(args.size)}",
                    resource=args.resource)


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "volume-definition", aliases=("vd",), summary="volume definitions (sizes)",
        description="A volume definition adds one volume of a given size to a resource definition;\n"
        "every resource of it then carries that volume (e.g. LocalData_00000).",
    )
    parser = add_command(
        group, "create", aliases=("c",), summary="add a volume to a resource definition",
        description="Add a volume of SIZE to RESOURCE. SIZE takes the linstor client's suffixes:\n"
        "K, M, G, T (and KiB, MiB...) are 1024-based, KB, MB, GB 1000-based; a plain number is GiB.",
        examples=("volume-definition create LocalData 150m", "vd c --vlmnr 1 LocalData 2GiB"),
        idempotent="no: an existing volume number fails with 'already exists' (exit 1).", handler=create,
    )
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="resource definition")
    parser.add_argument("size", metavar="SIZE", type=size_kib, help="volume size, e.g. 150m")
    parser.add_argument("--vlmnr", type=_volume_number, metavar="N",
                        help="volume number (default: the next free one, starting at 0)")

    parser = add_command(
        group, "list", aliases=("l",), summary="list volume definitions",
        description="List volume definitions (resource, volume number, size).",
        examples=("volume-definition list", "-m vd l -r LocalData"),
        idempotent="yes: read-only.", handler=list_volume_definitions,
    )
    parser.add_argument("-r", "--resources", nargs="+", metavar="RESOURCE", type=validate_resource_name,
                        help="show only these resource definitions")

    parser = add_command(
        group, "set-size", summary="grow a volume",
        description="Grow volume VOLUME_NR of RESOURCE to SIZE on every node (backing file and loop\n"
        "device on the embedded controller). Shrinking is refused.",
        examples=("volume-definition set-size LocalData 0 300m",),
        idempotent="yes: setting the current size again changes nothing.", handler=set_size,
    )
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="resource definition")
    parser.add_argument("volume_number", metavar="VOLUME_NR", type=_volume_number, help="volume number")
    parser.add_argument("size", metavar="SIZE", type=size_kib, help="new size, e.g. 300m")
