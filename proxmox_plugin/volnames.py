"""PVE volume names and snapshot names: parsed once, refused with the field and the reason.

PVE hands the plugin volume names, never LINSTOR names, and ``parse_volname`` gets no storage
configuration: everything PVE needs (vmid, base, isBase) must therefore be readable from the
volume name alone. The names we accept are the ones PVE itself generates,

``vm-<vmid>-disk-<n>``, ``vm-<vmid>-cloudinit``, ``vm-<vmid>-state-<snap>``,
``vm-<vmid>-fleece-<n>``, ``vm-<vmid>-pvc-<name>``, and any other ``vm-<vmid>-<name>`` PVE's
content API lets a user allocate (``pvesm alloc STORE 100 vm-100-data 4G``; PVE only asks for
the ``vm-<vmid>-`` start, the name here is up to 64 letters, digits, ``_`` and ``-``, no dots),
their ``base-`` forms after ``create_base``,
``base-<X>-disk-<n>/vm-<Y>-disk-<m>`` for a linked clone of a template disk, and
``base-<X>-disk-<n>/base-<Y>-disk-<m>`` once such a clone is made a template itself (as RBD
and ZFS name it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linstor_core import naming
from linstor_core.errors import InvalidInput

_NAME = re.compile(
    r"^(?P<prefix>vm|base)-(?P<vmid>[1-9][0-9]{0,8})-"
    r"(?P<disk>[A-Za-z0-9][A-Za-z0-9_-]{0,63})$"
)

BASE_SNAPSHOT = "__base__"
"""The snapshot ``create_base`` takes; linked clones are restored from it (RBD's convention)."""

_RESERVED_SNAPSHOTS = frozenset({"current", BASE_SNAPSHOT, "__migration__"})
_REPLICATION_SNAPSHOT = re.compile(r"^__replicate_.*__$")


@dataclass(frozen=True)
class VolName:
    """One PVE volume name; ``base`` is the template disk a linked clone was made from."""

    vmid: int
    disk: str
    is_base: bool = False
    base: "VolName | None" = None

    @property
    def name(self) -> str:
        """The disk's own name, without the base part (``vm-101-disk-0``)."""
        return f"{'base' if self.is_base else 'vm'}-{self.vmid}-{self.disk}"

    @property
    def volname(self) -> str:
        """What PVE stores after ``<storeid>:``: ``base-100-disk-0/vm-101-disk-0`` for a clone."""
        return f"{self.base.name}/{self.name}" if self.base else self.name

    @property
    def is_cloudinit(self) -> bool:
        return self.disk == "cloudinit"

    def as_base(self) -> "VolName":
        """The name after ``create_base``: same disk, ``base-`` prefix, linked-clone part kept."""
        return VolName(self.vmid, self.disk, True, self.base)

    def renamed(self, vmid: int, disk: str) -> "VolName":
        """The name after ``rename_volume`` to another guest (the base part is kept, as PVE does)."""
        return VolName(vmid, disk, self.is_base, self.base)


def _parse_one(text: str, field: str, whole: str | None = None) -> VolName:
    if not isinstance(text, str):
        raise InvalidInput(field, text, "must be a string")
    match = _NAME.fullmatch(text)  # match() would let a trailing newline through ($)
    if not match:
        raise InvalidInput(
            field, whole or text, "not a volume name this storage uses",
            correction="expected vm-<vmid>-<name> (disk-<n>, cloudinit, state-<snap> or up to 64 letters, "
            "digits, _ and -), base-<vmid>-<name>, or base-<vmid>-<name>/vm-<vmid>-<name>",
        )
    return VolName(int(match["vmid"]), match["disk"], match["prefix"] == "base")


def parse_volname(text: str) -> VolName:
    """Parse a PVE volume name; ``InvalidInput`` for anything this storage never hands out."""
    if not isinstance(text, str):
        raise InvalidInput("volname", text, "must be a string")
    base_text, slash, own_text = text.rpartition("/")
    own = _parse_one(own_text, "volname", text)
    if not slash:
        return own
    base = _parse_one(base_text, "volname", text)
    if not base.is_base:
        raise InvalidInput("volname", text, "a linked clone is written base-<X>-disk-<n>/vm-<Y>-...")
    return VolName(own.vmid, own.disk, own.is_base, base)


def disk_volname(vmid: int, number: int) -> VolName:
    """The standard name PVE would generate for disk ``number`` of guest ``vmid``."""
    return VolName(vmid, f"disk-{number}")


def new_volname(text: str | None, vmid: int) -> VolName | None:
    """Check a name PVE asks ``alloc_image`` for: a plain ``vm-<vmid>-...`` of that guest."""
    if text is None or text == "":
        return None
    volname = _parse_one(text, "name")
    if volname.is_base:
        raise InvalidInput("name", text, "new disks are vm-<vmid>-...; base- names come from create_base")
    if volname.vmid != vmid:
        raise InvalidInput("name", text, f"belongs to VM {volname.vmid}, not to VM {vmid}",
                           correction=f"use a name starting with vm-{vmid}-")
    return volname


def check_snapshot_name(snapshot: str) -> str:
    """Refuse the snapshot names PVE reserves for itself; return the name unchanged otherwise.

    ``current`` is the running state, ``__base__`` holds a template's content, and
    ``__migration__`` and ``__replicate_*__`` are taken by PVE's storage migration and
    replication, which send snapshots with ``volume_export`` (ZFS only). ``vzdump`` is
    allowed: vzdump takes it to back up a container (see :mod:`proxmox_plugin.snapviews`).
    """
    if not isinstance(snapshot, str) or not snapshot:
        raise InvalidInput("snapshot", snapshot, "a snapshot name is required")
    if snapshot in _RESERVED_SNAPSHOTS or _REPLICATION_SNAPSHOT.match(snapshot):
        raise InvalidInput("snapshot", snapshot, "the name is reserved by Proxmox VE",
                           correction="choose another snapshot name")
    return naming.validate_snapshot_name(snapshot)
