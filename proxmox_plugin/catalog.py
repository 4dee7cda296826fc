"""Where a PVE volume name lives in LINSTOR: ``Aux/`` properties, found by server-side filters.

Why properties and not a resource name that embeds the volume name: the resource is named after
the VM (``pve-101-web01-disk-0``), which ``parse_volname`` cannot know, and PVE renames volumes
(``rename_volume`` to another guest, ``create_base`` to ``base-``) while LINSTOR cannot rename a
resource definition. So the resource name is chosen once at allocation and never parsed again;
the PVE volume name, the storage id and a linked clone's base are recorded as properties, and
every lookup is one resource-definition list filtered by the controller, never one call per disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linstor_core import naming
from linstor_core.errors import ApiReply, InvalidInput, LinstorError, NotFound
from linstor_core.models import Disk
from linstor_core.retcodes import FAIL_NOT_FOUND_RSC_DFN

from proxmox_plugin.volnames import VolName, parse_volname

if TYPE_CHECKING:
    from linstor_core.disks import DiskService

PLATFORM = "pve"
STORAGE = "pve-storage"
VOLNAME = "pve-volname"
BASE = "pve-base"


def key(name: str) -> str:
    """The full property key ``naming.owner_props`` gives an extra owner property."""
    return naming.PROP_PREFIX + name


def owner_props(storeid: str, volname: VolName, vm_name: str | None) -> dict[str, str]:
    """Everything recorded on a disk's resource definition; ``rename_volume`` rewrites it."""
    extra = {STORAGE: storeid, VOLNAME: volname.name}
    if volname.base:
        extra[BASE] = volname.base.name
    return naming.owner_props(PLATFORM, str(volname.vmid), vm_name or "", **extra)


def volname_of(disk: Disk) -> VolName:
    """The PVE volume name a disk of ours carries (with its base for a linked clone)."""
    own = disk.props.get(key(VOLNAME), "")
    base = disk.props.get(key(BASE))
    return parse_volname(f"{base}/{own}" if base else own)


@dataclass(frozen=True)
class Catalog:
    """The disks of one PVE storage id, looked up through ``DiskService.list`` filters."""

    disks: DiskService
    storeid: str

    def _filter(self, vmid: int | None = None, **extra: str) -> Mapping[str, str]:
        return {**naming.owner_filter(PLATFORM, vmid), key(STORAGE): self.storeid,
                **{key(k): v for k, v in extra.items()}}

    def all(self, vmid: int | None = None) -> list[Disk]:
        """Every disk of the storage, or of one guest: one filtered definition list (the disks
        carry names, sizes and props, not placement)."""
        return self.disks.list(self._filter(vmid), placement=False)

    def find(self, volname: VolName, *, snapshots: bool = False) -> Disk | None:
        """The disk behind a volume name, or ``None``; the base part must match what is recorded.

        One filtered definition list; ``snapshots=True`` also reads the disk's snapshots and
        placement (the views, still never one call per disk).
        """
        found = self.disks.list(self._filter(**{VOLNAME: volname.name}), placement=snapshots)
        if not found:
            return None
        if len(found) > 1:  # two nodes' alloc of one name (PVE locks per node without `shared`)
            names = ", ".join(d.name for d in found)
            raise LinstorError(
                f"volume {self.storeid}:{volname.volname} is recorded on {len(found)} disks: {names}",
                cause="two disks carry the same PVE volume name, so either could be the guest's",
                correction="check which one the guest uses (qm config), then remove the other with "
                           "linstor-core resource-definition delete NAME")
        disk = found[0]
        recorded = volname_of(disk)
        if recorded.volname != volname.volname:
            raise InvalidInput("volname", volname.volname,
                               f"the disk is recorded as {recorded.volname!r}",
                               correction=f"use {self.storeid}:{recorded.volname}")
        return disk

    def get(self, volname: VolName, *, snapshots: bool = False) -> Disk:
        """Like ``find`` but a missing volume is ``NotFound`` naming the PVE volume id."""
        disk = self.find(volname, snapshots=snapshots)
        if disk is None:
            message = f"volume {self.storeid}:{volname.volname} does not exist"
            raise NotFound([ApiReply(ret_code=FAIL_NOT_FOUND_RSC_DFN, message=message)])
        return disk

    def clones_of(self, base: VolName) -> list[Disk]:
        """Linked clones restored from a template disk's ``__base__`` snapshot."""
        return self.disks.list(self._filter(**{BASE: base.name}), placement=False)

