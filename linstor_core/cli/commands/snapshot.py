"""``snapshot``: create on nodes, list, delete, roll back, and restore into a new resource."""

from __future__ import annotations

import argparse

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command, add_group
from linstor_core.errors import NotFound
from linstor_core.models import Snapshot
from linstor_core.naming import validate_node_name, validate_resource_name, validate_snapshot_name
from linstor_core.units import format_kib


def state(snapshot: Snapshot) -> str:
    """The linstor client's snapshot state words, from the snapshot's flags."""
    for flag, word in (("DELETE", "DELETING"), ("FAILED_DEPLOYMENT", "Failed"), ("SUCCESSFUL", "Successful")):
        if flag in snapshot.flags:
            return word
    return "Incomplete"


def create(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.snapshots.create(args.resource, args.snapshot, nodes=tuple(args.nodes))
    where = ", ".join(args.nodes) or "every node holding it"
    ctx.out.success(f"snapshot {args.snapshot} of {args.resource} created on {where}",
                    resource=args.resource, snapshot=args.snapshot)


def list_snapshots(args: argparse.Namespace, ctx: Context) -> None:
    snapshots = ctx.client.snapshots.view(resources=args.resources or (), nodes=args.nodes or ())
    rows = [
        [s.resource_name, s.name, ", ".join(s.nodes),
         "\n".join(f"{number}: {format_kib(kib)}" for number, kib in enumerate(s.volume_sizes_kib)), state(s)]
        for s in snapshots
    ]
    ctx.out.table(["ResourceName", "SnapshotName", "NodeNames", "Volumes", "State"], rows, snapshots)


def delete(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.snapshots.delete(args.resource, args.snapshot)
    ctx.out.success(f"snapshot {args.snapshot} of {args.resource} deleted",
                    resource=args.resource, snapshot=args.snapshot)


def rollback(args: argparse.Namespace, ctx: Context) -> None:
    ctx.client.snapshots.rollback(args.resource, args.snapshot)
    ctx.out.success(f"{args.resource} rolled back to snapshot {args.snapshot}",
                    resource=args.resource, snapshot=args.snapshot)


def restore_volume_definitions(args: argparse.Namespace, ctx: Context) -> None:
    """Make ``--to-resource`` exist with the snapshot's volume definitions.

    LINSTOR restores into an existing resource definition; when it is missing it is created
    with the source's resource group and layers. Volume definitions are restored only when the
    target has none, so running the restore again after a partial failure continues it.
    """
    try:
        target = ctx.client.resource_definitions.get(args.to_resource)
    except NotFound:
        source = ctx.client.resource_definitions.get(args.from_resource)
        ctx.client.resource_definitions.create(args.to_resource, resource_group=source.resource_group_name or None,
                                               layers=source.layers)
        ctx.out.success(f"resource definition {args.to_resource} created (layers {','.join(source.layers)})",
                        resource=args.to_resource)
        target = None
    if target is None or not target.volume_definitions:
        ctx.client.snapshots.restore_volume_definitions(args.from_resource, args.from_snapshot, args.to_resource)
        ctx.out.success(f"volume definitions of {args.to_resource} restored from {args.from_resource}/"
                        f"{args.from_snapshot}", resource=args.to_resource)


def restore_resources(args: argparse.Namespace, ctx: Context) -> None:
    restore_volume_definitions(args, ctx)
    ctx.client.snapshots.restore_resources(args.from_resource, args.from_snapshot, args.to_resource,
                                           nodes=tuple(args.nodes))
    where = ", ".join(args.nodes) or "every node holding the snapshot"
    ctx.out.success(f"{args.to_resource} restored from snapshot {args.from_resource}/{args.from_snapshot} on {where}",
                    resource=args.to_resource, snapshot=args.from_snapshot)


def _add_restore_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from-resource", "--fr", required=True, metavar="RESOURCE", type=validate_resource_name,
                        help="resource definition holding the snapshot")
    parser.add_argument("--from-snapshot", "--fs", required=True, metavar="SNAPSHOT", type=validate_snapshot_name,
                        help="snapshot to restore from")
    parser.add_argument("--to-resource", "--tr", required=True, metavar="RESOURCE", type=validate_resource_name,
                        help="resource definition to restore into (created when missing)")


_RESTORE_IDEMPOTENT = ("partly: a missing target definition is created and volume definitions are restored only "
                       "when the target has none, so a rerun continues a restore interrupted before its resources; "
                       "once the target has resources (on any node), a rerun is refused with 'already has "
                       "resources' (exit 1), as LINSTOR refuses it, and no further nodes can be restored onto.")


def _register_restores(group: Subparsers) -> None:
    resource = add_group(group, "resource", aliases=("r",), summary="restore resources from a snapshot",
                         description="Restore a snapshot into new resources.")
    parser = add_command(
        resource, "restore", aliases=("rst",), summary="restore a snapshot into a new resource",
        description="Create resource definition --to-resource from snapshot --from-snapshot of --from-resource and\n"
        "deploy it on each NODE (default: every node holding the snapshot), initialised with the\n"
        "snapshot's data. Steps: create the target definition when missing (source's group and\n"
        "layers), restore the volume definitions, then restore the resources - the last two are\n"
        "LINSTOR's snapshot-restore-volume-definition and snapshot-restore-resource calls.",
        examples=("snapshot resource restore --from-resource SharedData --from-snapshot Snap1 "
                  "--to-resource SharedData_Restore romulus remus",
                  "s r rst --fr SharedData --fs Snap1 --tr Copy1"),
        idempotent=_RESTORE_IDEMPOTENT, handler=restore_resources,
    )
    _add_restore_source(parser)
    parser.add_argument("nodes", metavar="NODE", nargs="*", type=validate_node_name,
                        help="nodes to restore on (each must hold the snapshot)")

    volume_definition = add_group(group, "volume-definition", aliases=("vd",),
                                  summary="restore volume definitions from a snapshot",
                                  description="Restore only the volume definitions (numbers and sizes) of a snapshot.")
    parser = add_command(
        volume_definition, "restore", aliases=("rst",), summary="restore volume definitions only",
        description="Give --to-resource (created when missing) the volume numbers and sizes of the snapshot;\n"
        "deploy nothing. 'snapshot resource restore' does this step itself.",
        examples=("snapshot volume-definition restore --from-resource SharedData --from-snapshot Snap1 "
                  "--to-resource SharedData_Restore",),
        idempotent="yes: the target definition is created only when missing and given volume definitions "
        "only when it has none, so a rerun changes nothing.", handler=restore_volume_definitions,
    )
    _add_restore_source(parser)


def register(commands: Subparsers) -> None:
    group = add_group(
        commands, "snapshot", aliases=("s",), summary="snapshots of resources",
        description="A snapshot freezes a resource definition's volumes on some or all of its nodes.\n"
        "It belongs to the resource definition (it survives deleting the resources) and blocks\n"
        "deleting the definition until it is deleted. FILE_THIN pools snapshot by reflink and\n"
        "need xfs (reflink=1) or btrfs under the pool directory.",
    )
    parser = add_command(
        group, "create", aliases=("c",), summary="snapshot a resource",
        description="Snapshot RESOURCE as SNAPSHOT on each NODE (default: every node holding it).\n"
        "Nodes come first, then the resource and the snapshot name, as in the linstor client.",
        examples=("snapshot create romulus remus SharedData Snap1", "s c SharedData Snap2"),
        idempotent="no: an existing snapshot name fails with 'already exists' (exit 1).", handler=create,
    )
    parser.add_argument("nodes", metavar="NODE", nargs="*", type=validate_node_name, help="nodes to snapshot on")
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="resource definition")
    parser.add_argument("snapshot", metavar="SNAPSHOT", type=validate_snapshot_name, help="snapshot name")

    parser = add_command(
        group, "list", aliases=("l",), summary="list snapshots",
        description="List snapshots with their nodes, volume sizes and state.",
        examples=("snapshot list", "-m s l -r SharedData"), idempotent="yes: read-only.", handler=list_snapshots,
    )
    parser.add_argument("-r", "--resources", nargs="+", metavar="RESOURCE", type=validate_resource_name,
                        help="show only snapshots of these resources")
    parser.add_argument("-n", "--nodes", nargs="+", metavar="NODE", type=validate_node_name,
                        help="show only snapshots on these nodes")

    parser = add_command(
        group, "delete", aliases=("d",), summary="delete a snapshot",
        description="Delete SNAPSHOT of RESOURCE on every node.",
        examples=("snapshot delete SharedData Snap1",),
        idempotent="no: an unknown snapshot fails with 'not found' (exit 1).", handler=delete,
    )
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="resource definition")
    parser.add_argument("snapshot", metavar="SNAPSHOT", type=validate_snapshot_name, help="snapshot name")

    parser = add_command(
        group, "rollback", aliases=("rb",), summary="roll a resource back to a snapshot",
        description="Make RESOURCE's data the data of SNAPSHOT on every node; the snapshot stays.\n"
        "LINSTOR refuses while the resource is in use, while it is deployed on a node that does\n"
        "not hold the snapshot (delete that replica first), and for any but the newest snapshot.",
        examples=("snapshot rollback SharedData Snap1",),
        idempotent="yes: rolling back again to the same snapshot gives the same data.", handler=rollback,
    )
    parser.add_argument("resource", metavar="RESOURCE", type=validate_resource_name, help="resource definition")
    parser.add_argument("snapshot", metavar="SNAPSHOT", type=validate_snapshot_name, help="snapshot name")

    _register_restores(group)
