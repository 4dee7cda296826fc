"""``node``: register, list and remove satellites."""

from __future__ import annotations

import argparse

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group
from linstor_core.naming import among, validate_node_name

NODE_TYPES = ("SATELLITE", "COMBINED", "CONTROLLER")


def create(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.nodes.create(args.name, args.address, node_type=args.node_type)
    ctx.out.success(f"node {args.name} created ({args.node_type}, {args.address})", node=args.name)


def list_nodes(args: argparse.Namespace, ctx: Context) -> None:
    nodes = [n for n in ctx.client.nodes.list() if not args.nodes or among(n.name, args.nodes)]
    rows = [[n.name, n.type, n.address, n.connection_status] for n in nodes]
    ctx.out.table(["Node", "NodeType", "Addresses", "State"], rows, nodes)


def delete(args: argparse.Namespace, ctx: Context) -> None:
    if ctx.client.nodes.delete(args.name):
        ctx.out.success(f"node {args.name} deleted", node=args.name)
    else:
        ctx.out.warning(f"node {args.name} not found: nothing deleted")


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "node", aliases=("n",), summary="register, list and remove nodes (satellites)",
        description="Nodes are the satellites that hold storage pools and resources.\n\n"
        "On the embedded controller every node is simulated on this host: its storage lives\n"
        "under STATE_DIR/nodes/NAME. A cluster of separate hosts is real LINSTOR's job.",
    )
    parser = add_command(
        group, "create", aliases=("c",), summary="register a node",
        description="Register the satellite NAME reachable at ADDRESS (an IP address).",
        examples=("node create vulcan 10.43.70.1", "n c kronos 10.43.70.2"),
        idempotent="no: creating an existing node fails with an 'already exists' error (exit 1).",
        handler=create,
    )
    parser.add_argument("name", metavar="NAME", type=validate_node_name,
                        help="node name (host name rules: letters, digits, '-', '.')")
    parser.add_argument("address", metavar="ADDRESS", help="IP address of the satellite")
    parser.add_argument("--node-type", default="SATELLITE", type=str.upper, choices=NODE_TYPES,
                        help="node type (default: %(default)s)")

    parser = add_command(
        group, "list", aliases=("l",), summary="list nodes",
        description="List the registered nodes with their type, address and connection state.",
        examples=("node list", "-m node list", "n l -n vulcan kronos"),
        idempotent="yes: read-only.", handler=list_nodes,
    )
    parser.add_argument("-n", "--nodes", nargs="+", metavar="NODE", type=validate_node_name,
                        help="show only these nodes")

    parser = add_command(
        group, "delete", aliases=("d",), summary="remove a node",
        description="Remove the node NAME. LINSTOR refuses while resources are deployed on it.",
        examples=("node delete romulus",),
        idempotent="yes: an unknown node is a warning, nothing changes (exit 0), as in LINSTOR.", handler=delete,
    )
    parser.add_argument("name", metavar="NAME", type=validate_node_name, help="node to remove")
