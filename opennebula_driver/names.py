"""OpenNebula objects -> LINSTOR names and owner props (through ``linstor_core.naming``).

Images are owned by ``img<id>`` (``one-img7-ubuntu``); a VM's own disks (clones of
non-persistent images, volatile disks, the context CD-ROM) by ``vm<id>`` and carry the disk id
(``one-vm22-web01-disk-1``). Persistent images are used in place: the VM disk is the image's
resource. Snapshots are per resource, named after OpenNebula's snapshot id (``snap-3``).
"""

from __future__ import annotations

import re

from linstor_core import naming
from linstor_core.errors import InvalidInput
from opennebula_driver.records import Vm

PLATFORM = "one"
PROP_DISK = naming.PROP_PREFIX + "disk"
PROP_KIND = naming.PROP_PREFIX + "kind"
"""What a VM's own disk is when it is not a clone: ``volatile``, ``swap`` or ``context``."""
PROP_IMAGE = naming.PROP_PREFIX + "image"
"""On a VM's copy of an image (a clone): the id of the image it copies."""
CONTEXT = "context"
"""The kind of a VM's context CD-ROM disk."""
_SNAPSHOT = re.compile(r"snap-(0|[1-9][0-9]*)")


def image_owner(image_id: int) -> str:
    """The owner id of an image: ``img<id>`` (VM ids are ``vm<id>``; the two never collide)."""
    return f"img{image_id}"


def vm_owner(vm_id: int) -> str:
    """The owner id of a VM's own disks."""
    return f"vm{vm_id}"


def image_id_of(source: str) -> int:
    """The image id inside an image resource name (``one-img7-...`` -> 7), as cpds needs it."""
    owner = naming.owner_id_from_name(PLATFORM, source)
    if not (owner.startswith("img") and owner[3:].isdigit()):
        raise InvalidInput("SOURCE", source, "is not an image resource made by this driver")
    return int(owner[3:])


def image_disk(image_id: int, image_name: str) -> str:
    """The resource of an image, which is also its OpenNebula SOURCE."""
    return naming.disk_resource_name(PLATFORM, image_owner(image_id), image_name)


def image_props(image_id: int, image_name: str) -> dict[str, str]:
    """Owner props of an image's resource."""
    return naming.owner_props(PLATFORM, image_owner(image_id), image_name)


def vm_disk(vm: Vm, disk_id: int) -> str:
    """The resource of a VM's own disk ``disk_id``, named after the VM as it is now."""
    return naming.disk_resource_name(PLATFORM, vm_owner(vm.id), vm.name, disk_id)


def vm_disk_props(vm: Vm, disk_id: int, **extra: object) -> dict[str, str]:
    """Owner props of a VM's own disk: the disk id is what finds it again after a rename."""
    return naming.owner_props(PLATFORM, vm_owner(vm.id), vm.name, disk=disk_id, **extra)


def vm_filter(vm_id: int) -> dict[str, str]:
    """Props selecting every resource a VM owns."""
    return naming.owner_filter(PLATFORM, vm_owner(vm_id))


def vm_kind_filter(vm_id: int, kind: str) -> dict[str, str]:
    """Props selecting a VM's own disks of one ``kind`` (see ``PROP_KIND``)."""
    return {**vm_filter(vm_id), PROP_KIND: kind}


def vm_disk_filter(vm_id: int, disk_id: int) -> dict[str, str]:
    """Props selecting a VM's own disk ``disk_id`` whatever the VM is called now."""
    return {**vm_filter(vm_id), PROP_DISK: str(disk_id)}


def snapshot(snapshot_id: int) -> str:
    """The LINSTOR snapshot for OpenNebula snapshot ``snapshot_id``."""
    return naming.validate_snapshot_name(f"snap-{snapshot_id}")


def is_snapshot(name: str) -> bool:
    """Whether LINSTOR snapshot ``name`` is one of oned's (made by :func:`snapshot`)."""
    return _SNAPSHOT.fullmatch(name) is not None
