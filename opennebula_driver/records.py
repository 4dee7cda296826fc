"""What the driver knows about OpenNebula objects: frozen records built once from XML or pyone.

Only the fields an action reads are kept. Sizes are MiB, as OpenNebula counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Datastore:
    """A datastore and its template (``LINSTOR_CONTROLLERS``, ``LINSTOR_RESOURCE_GROUP``, ...)."""

    id: int
    name: str = ""
    base_path: str = ""
    tm_mad: str = ""
    template: Mapping[str, str] = field(default_factory=dict)
    disk_type: str = ""
    """How libvirt is told to open its disks (oned's ``DISK_TYPE``: ``FILE``, ``BLOCK``, ...);
    empty when the document does not say."""


@dataclass(frozen=True)
class Image:
    """The image of a datastore action (``DS_DRIVER_ACTION_DATA/IMAGE``)."""

    id: int | None
    """None only in ``stat``'s document, which oned makes of the PATH alone (the image is not
    created yet, and the action's argument is a request id)."""
    name: str = ""
    size_mib: int | None = None
    path: str = ""
    source: str = ""
    format: str = ""
    fstype: str = ""
    target_snapshot: int | None = None
    cloning_id: int | None = None
    md5: str = ""
    """``TEMPLATE/MD5``: what the file to register must hash to (with ``sha1``, optional)."""
    sha1: str = ""


@dataclass(frozen=True)
class DriverAction:
    """A decoded ``DS_DRIVER_ACTION_DATA`` document (datastore and, except for monitor, image)."""

    datastore: Datastore
    image: Image | None = None


@dataclass(frozen=True)
class VmDisk:
    """One ``VM/TEMPLATE/DISK``: where it comes from and whether the VM owns a copy (CLONE)."""

    disk_id: int
    source: str = ""
    clone: bool = True
    image_id: int | None = None
    tm_mad: str = ""
    size_mib: int | None = None
    save_as: int | None = None
    disk_type: str = ""
    fs: str = ""
    datastore_id: int | None = None


@dataclass(frozen=True)
class Vm:
    """A VM as far as its disks go; ``context_disk_id`` is the CONTEXT CD-ROM's disk id."""

    id: int
    name: str = ""
    disks: tuple[VmDisk, ...] = ()
    context_disk_id: int | None = None
    lcm_state: int | None = None
    """``LCM_STATE``: what oned is doing with the VM (``PROLOG_MIGRATE``, ``EPILOG_STOP``...)."""
    state: int | None = None
    """``STATE``: ``ACTIVE``, ``POWEROFF``, ``SUSPENDED``, ``UNDEPLOYED``, ``DONE``..."""
    hosts: tuple[str, ...] = ()
    """The hosts of the VM's history records, oldest first: the last is the one it is on (or
    is being deployed or migrated to)."""

    def disk(self, disk_id: int) -> VmDisk | None:
        """The disk with ``disk_id``, or None (volatile and context disks are often absent)."""
        return next((d for d in self.disks if d.disk_id == disk_id), None)
