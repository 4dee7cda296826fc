"""A snapshot as a device: what PVE reads when it asks for a snapshot's path.

LINSTOR gives a snapshot no device. vzdump's ``snapshot`` mode (the default of PVE's backup
jobs) takes the ``vzdump`` snapshot of every container volume, asks for its path, mounts it
read-only and archives it. So the path of a snapshot is a *view*: a resource definition restored from the snapshot (cheap
where the pool shares extents: LVM_THIN, ZFS, FILE_THIN), attached on the asking node.

A view is named after its disk and snapshot, and its owner props say both, but no storage id:
no image listing shows it, and no volume name reaches it. It goes when PVE deactivates the
snapshot, deletes the snapshot, or frees the disk; vzdump only unmounts and deletes the
snapshot, so the deletion is what removes a backup's view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from linstor_core import naming
from linstor_core.errors import AlreadyExists, LinstorError
from linstor_core.models import Disk

from proxmox_plugin.catalog import PLATFORM, key

if TYPE_CHECKING:
    from linstor_core.disks import DiskService

VIEW_PREFIX = "pvesnap"
"""What a view's resource definition name starts with (``pvesnap-<disk>-<snapshot>``)."""
VIEW_OF = "pve-view-of"
VIEW_SNAPSHOT = "pve-view-snapshot"


def view_name(disk: str, snapshot: str) -> str:
    """The view's resource definition name; shortened with a digest where it would be too long."""
    return naming.disk_resource_name(VIEW_PREFIX, None, disk, disk=snapshot)


@dataclass(frozen=True)
class SnapshotViews:
    """The views of one controller's PVE disks; no I/O until a method runs."""

    disks: DiskService

    def expose(self, disk: Disk, vmid: int, snapshot: str, node: str) -> str:
        """The device of ``disk``'s ``snapshot`` on ``node``: its view, restored on first use.

        Asked again (PVE asks for a path more than once), the view is reused; one a killed
        call left half-made (no replica holds the data yet) is made again, never attached
        empty. The view is recognised by what it shows (disk and snapshot), not by the
        guest's id, which ``rename_volume`` may have changed since.
        """
        name = view_name(disk.name, snapshot)
        identity = {**naming.owner_filter(PLATFORM), key(VIEW_OF): disk.name, key(VIEW_SNAPSHOT): snapshot}
        props = {**naming.owner_props(PLATFORM, vmid), **identity}
        try:
            self.disks.restore(disk.name, snapshot, name, props)
        except AlreadyExists:
            existing = self.disks.get(name)
            if not naming.carries(existing.props, identity):
                raise LinstorError(
                    f"cannot show snapshot {snapshot} of {disk.name}: resource definition {name} "
                    "exists and is not its view",
                    correction=f"remove {name} if nothing uses it (linstor resource-definition delete {name})",
                ) from None
            if not existing.nodes:
                self.disks.delete(name)
                self.disks.restore(disk.name, snapshot, name, props)
        return self.disks.attach(name, node)

    def remove(self, disk: str, snapshot: str | None = None) -> None:
        """Delete the views of ``disk`` (of one ``snapshot``, or all): one listing, one delete
        each. A view still mounted is refused as in use, and stays."""
        wanted = {**naming.owner_filter(PLATFORM), key(VIEW_OF): disk}
        if snapshot is not None:
            wanted[key(VIEW_SNAPSHOT)] = snapshot
        for view in self.disks.list(wanted, placement=False):
            self.disks.delete(view.name)


__all__ = ["SnapshotViews", "view_name"]
