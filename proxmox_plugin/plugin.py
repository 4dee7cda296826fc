"""The PVE storage plugin methods: PVE's call in, ``DiskService`` calls out, PVE's answer back.

Each method has the name and arguments of its ``PVE::Storage::Plugin`` counterpart (minus
``$class``, ``$storeid`` and ``$scfg``, which are this object's state) and returns what PVE
expects, in PVE's units: ``alloc_image`` sizes are KiB, ``volume_resize`` bytes, ``status`` and
``volume_size_info`` answer bytes. Anything refused raises before any change is made.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linstor_core import naming
from linstor_core.errors import AlreadyExists, ApiReply, InUse, InvalidInput, LinstorError, noted_on
from linstor_core.models import Disk
from linstor_core.retcodes import FAIL_EXISTS_RSC_DFN, FAIL_IN_USE
from linstor_core.units import bytes_to_kib, kib_to_bytes, mib_to_kib

from proxmox_plugin.catalog import PLATFORM, VOLNAME, Catalog, key, owner_props, volname_of
from proxmox_plugin.options import StorageOptions
from proxmox_plugin import transfer
from proxmox_plugin.guests import Guests, PveGuestConfigs
from proxmox_plugin.snapviews import SnapshotViews
from proxmox_plugin.statuscache import StatusCache
from proxmox_plugin.vmnames import VmNames
from proxmox_plugin.volnames import (
    BASE_SNAPSHOT, VolName, check_snapshot_name, disk_volname, new_volname, parse_volname,
)

if TYPE_CHECKING:  # only the interface; the HTTP stack is loaded by cli.connect when needed
    from linstor_core.disks import DiskService

SIZE_FLOOR_KIB = mib_to_kib(3)
"""EFI disks ask for 540 KiB; 3 MiB leaves room for the metadata DRBD puts on every volume."""

ABSENT_DEVICES = "/dev/linstor-pve/absent"
"""Where ``path`` points a volume whose disk is deployed nowhere (or gone): no such directory
exists, so nothing can open what is not there."""
MAX_DISKS_PER_GUEST = 1024  # PVE's $MAX_VOLUMES_PER_GUEST
NAME_ATTEMPTS = 10
CLONE_TIMEOUT = 45.0
"""PVE holds its storage lock for at most 60 s; a full clone must finish (or be undone) first."""

_FEATURES = {
    "snapshot": {"current", "snap"},
    "clone": {"base", "snap"},
    "template": {"current"},
    "copy": {"base", "current"},
    "sparseinit": {"base", "current"},
    "rename": {"current"},
}
"""A copy *from* a snapshot (``copy``/``snap``, qemu-img reading the snapshot's path) is not
offered: that path is a restored view (:mod:`proxmox_plugin.snapviews`), a whole second disk,
which PVE would leave behind (it deactivates a cloned snapshot only when the clone goes to
another node). A clone from one is offered (``clone_image`` restores it into the new disk
directly). ``sparseinit`` is
only where the volume also started zeroed (``volume_starts_zeroed``): with it qemu-img skips
writing zero blocks (its ``zeroinit`` filter), so elsewhere a copy would show old data where
the source had zeros."""


def pve_parse_volname(volname: str) -> list[Any]:
    """``parse_volname``'s 7-tuple: (vtype, name, vmid, basename, basevmid, isBase, format)."""
    vol = parse_volname(volname)
    base = vol.base
    return ["images", vol.name, vol.vmid, base.name if base else None, base.vmid if base else None,
            1 if vol.is_base else 0, "raw"]


def volume_has_feature(feature: str, volname: str, snapname: str | None = None) -> int | None:
    """PVE's feature matrix keyed by snap / base / current; 1 or ``None`` as PVE expects."""
    if not isinstance(feature, str):
        raise InvalidInput("feature", feature, "must be a string, e.g. snapshot or clone")
    vol = parse_volname(volname)
    state = "snap" if snapname else "base" if vol.is_base else "current"
    return 1 if state in _FEATURES.get(feature, ()) else None


def _vmid(value: Any) -> int:
    try:
        vmid = int(str(value))
    except ValueError:
        raise InvalidInput("vmid", value, "must be a number") from None
    if not 0 < vmid < 10**9:
        raise InvalidInput("vmid", value, "must be between 1 and 999999999")
    return vmid


class _LostRace(AlreadyExists):
    """A racing allocation took the volume name; ``taken`` lists the guest's disks as the loser
    found them, so it picks its next number without listing them again."""

    def __init__(self, replies: list[ApiReply], taken: list[Disk]) -> None:
        super().__init__(replies)
        self.taken = taken


@dataclass(frozen=True)
class LinstorStorage:
    """One PVE storage id on one node: its options, the disk service and the name sources."""

    disks: DiskService
    options: StorageOptions
    node: str
    vm_names: VmNames
    status_cache: StatusCache
    progress: Callable[[str], None]
    guests: Guests = PveGuestConfigs()

    @property
    def storeid(self) -> str:
        return self.options.storeid

    @property
    def catalog(self) -> Catalog:
        return Catalog(self.disks, self.storeid)

    @property
    def views(self) -> SnapshotViews:
        return SnapshotViews(self.disks)

    def _disk(self, volname: str, *, snapshots: bool = False) -> tuple[VolName, Disk]:
        vol = parse_volname(volname)
        return vol, self.catalog.get(vol, snapshots=snapshots)

    def _exists(self, volname: VolName) -> AlreadyExists:
        return AlreadyExists([ApiReply(ret_code=FAIL_EXISTS_RSC_DFN,
                                       message=f"volume {self.storeid}:{volname.name} already exists")])

    def _next_free(self, vmid: int, taken: list[Disk]) -> VolName:
        used = {volname_of(d).disk for d in taken}
        for number in range(MAX_DISKS_PER_GUEST):
            volname = disk_volname(vmid, number)
            if volname.disk not in used:
                return volname
        raise InvalidInput("vmid", vmid, f"all {MAX_DISKS_PER_GUEST} disk numbers are in use "
                           f"on storage {self.storeid}")

    def _lost_race(self, volname: VolName) -> _LostRace | None:
        """The error for a racing allocation that took ``volname``, or None if nothing took it."""
        taken = self.catalog.all(volname.vmid)
        if volname.disk not in {volname_of(d).disk for d in taken}:
            return None
        return _LostRace(self._exists(volname).replies, taken)

    def _place_next(self, vmid: int, taken: list[Disk], make: Callable[[str, dict[str, str]], Disk],
                    base: VolName | None = None) -> tuple[VolName, Disk]:
        """Create a disk under the guest's lowest free disk number (``base``: a linked clone's).

        PVE workers on other nodes may allocate for the same guest at the same moment and pick
        the same number: ``make`` must then refuse the existing disk (AlreadyExists), and the
        loser reads the numbers in use again and takes the next one, so no volume name is
        handed out twice. Each lost race means one more number in use, so this ends.
        """
        for _ in range(MAX_DISKS_PER_GUEST):
            free = self._next_free(vmid, taken)
            target = VolName(vmid, free.disk, base=base)
            try:
                return target, self._place(target, make)
            except _LostRace as lost:
                taken = lost.taken
        raise InvalidInput("vmid", vmid, f"all {MAX_DISKS_PER_GUEST} disk numbers are in use "
                           f"on storage {self.storeid}")

    def _place(self, volname: VolName, make: Callable[[str, dict[str, str]], Disk]) -> Disk:
        """Name a new disk after its guest and let ``make`` create it under that name.

        The VM-named resource name can be taken by a disk PVE knows under another volume name
        (a volume renamed to another guest keeps its resource, and a reused vmid names it
        again): then the next suffixed name is tried, so no disk is ever handed out twice. If
        the name is taken because the volume name itself is now in use (a racing allocation),
        that is AlreadyExists for the volume.
        """
        vm_name = self.vm_names.name_of(volname.vmid)
        props = owner_props(self.storeid, volname, vm_name)
        for attempt in range(NAME_ATTEMPTS):
            disk_part = volname.disk if attempt == 0 else f"{volname.disk}-{attempt}"
            name = naming.disk_resource_name(PLATFORM, volname.vmid, vm_name or "", disk_part)
            try:
                disk = make(name, props)
            except AlreadyExists:
                lost = self._lost_race(volname)
                if lost is not None:
                    raise lost from None
                continue
            if naming.carries(disk.props, props):
                return self._without_copied_props(disk, props)
        raise AlreadyExists([ApiReply(
            ret_code=FAIL_EXISTS_RSC_DFN,
            message=f"no free resource name for {self.storeid}:{volname.volname} "
            f"after {NAME_ATTEMPTS} attempts", correction="delete stale pve- resource definitions")])

    def _without_copied_props(self, disk: Disk, props: dict[str, str]) -> Disk:
        """A clone or restore copies the source's owner properties; ours replaced most, the
        rest (a base the new disk does not have, an owner name) would mislead later lookups."""
        stale = sorted(k for k in disk.props if k.startswith(naming.PROP_PREFIX) and k not in props)
        if stale:
            self.disks.set_props(disk.name, delete=stale)
        return disk

    def alloc_image(self, vmid: Any, fmt: str | None, name: str | None, size: int) -> str:
        """Create a raw disk of ``size`` KiB, rounded up (at least 3 MiB); a repeated cloudinit is a no-op.

        With ``preferlocal``, one of the profile's replicas is placed on this node when it has
        the profile's storage pool (the VM then reads locally); otherwise the profile decides.
        """
        if fmt not in (None, "", "raw"):
            raise InvalidInput("format", fmt, "LINSTOR volumes are raw block devices")
        vmid = _vmid(vmid)
        wanted = new_volname(name, vmid)
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) or size < 0:
            raise InvalidInput("size", size, "must be a number of KiB, 0 or more")
        existing = self.catalog.all(vmid)
        # qemu-server passes an imported or moved image's bytes / 1024, a fraction when the
        # image is not a whole number of KiB: the disk is rounded up, so the image fits.
        size_kib = max(math.ceil(size), SIZE_FLOOR_KIB)
        prefer_node = self.node if self.options.prefer_local else None
        if wanted is None:
            return self._place_next(vmid, existing, lambda rd, props: self.disks.create(
                self.options.profile, rd, size_kib, props, prefer_node=prefer_node,
                exist_ok=False))[0].volname
        if wanted.disk in {volname_of(d).disk for d in existing}:
            if wanted.is_cloudinit:
                return wanted.volname
            raise self._exists(wanted)
        self._place(wanted, lambda rd, props: self.disks.create(
            self.options.profile, rd, size_kib, props, prefer_node=prefer_node))
        return wanted.volname

    def free_image(self, volname: str) -> None:
        """Delete a disk with its snapshots; a template disk with linked clones is refused."""
        vol = parse_volname(volname)
        disk = self.catalog.find(vol)
        if disk is None:
            return
        if vol.is_base:
            clones = [f"{self.storeid}:{volname_of(c).volname}" for c in self.catalog.clones_of(vol)]
            if clones:
                raise InUse([ApiReply(
                    ret_code=FAIL_IN_USE,
                    message=f"base volume {self.storeid}:{vol.volname} has linked clones: "
                    + ", ".join(clones),
                    correction="remove the linked clones (or the VMs using them) first")])
        self.views.remove(disk.name)
        self.disks.delete(disk.name, with_snapshots=True)

    def list_images(self, vmid: Any = None, vollist: list[str] | None = None) -> list[dict[str, Any]]:
        """PVE's image list: one filtered listing for the storage (or the guest)."""
        if vollist is not None and not (isinstance(vollist, list) and all(isinstance(v, str) for v in vollist)):
            raise InvalidInput("vollist", vollist, "must be a list of volume ids (storeid:volname)")
        by_vm = _vmid(vmid) if vmid not in (None, "") and not vollist else None
        wanted = set(vollist or ())
        images = []
        for disk in self.catalog.all(by_vm):
            vol = volname_of(disk)
            volid = f"{self.storeid}:{vol.volname}"
            if wanted and volid not in wanted:
                continue
            size = kib_to_bytes(disk.size_kib)
            image: dict[str, Any] = {"volid": volid, "format": "raw", "size": size, "used": size,
                                     "vmid": vol.vmid}
            if vol.base:
                image["parent"] = f"{vol.base.name}@{BASE_SNAPSHOT}"
            images.append(image)
        return sorted(images, key=lambda i: i["volid"])

    def status(self) -> list[int]:
        """(total, free, used, active) in bytes of the profile, shared via the status cache."""
        cache_key = "|".join([",".join(self.options.controllers), self.options.profile])
        capacity = self.status_cache.get(cache_key, lambda: self.disks.capacity(self.options.profile))
        total = kib_to_bytes(capacity.capacity_kib)
        free = kib_to_bytes(capacity.available_size_kib)
        return [total, free, max(total - free, 0), 1]

    def check_connection(self) -> int:
        """PVE asks before using the storage; answering status proves controller and group."""
        self.status()
        return 1

    def path(self, volname: str, snapname: str | None = None) -> list[Any]:
        """(device path on this node, vmid, vtype), looked up: nothing is attached or made.

        PVE asks for paths as plain lookups, and deactivates nothing after them: a rescan
        asks for every volume, so do the content API's volume info and delete, ``pvesm path``
        and ``qm showcmd``. An attaching ``path`` left diskless clients behind, and one that
        failed aborted a whole rescan or kept a dangling volume from being deleted.

        qemu-server builds a guest's command line (one ``path`` per disk) before it calls
        ``activate_volume``, so the answer is the device that activation gives this node: its
        own resource's, else the DRBD device the disk's other resources show (one minor on
        every node; see ``DiskService.device_path``). A storage-only disk held elsewhere
        answers its holder's device, a name only: ``activate_volume`` refuses it here. A
        disk that does not exist, or is deployed nowhere, answers a path under
        ``ABSENT_DEVICES``, which exists nowhere, so PVE can still show and delete the
        volume (``free_image`` takes a missing disk as done).

        A snapshot's path is its view's device (see :mod:`proxmox_plugin.snapviews`), made
        here: vzdump mounts it to back up a container.
        """
        if snapname:
            vol, disk = self._disk(volname)
            device = self.views.expose(disk, vol.vmid, check_snapshot_name(snapname), self.node)
            return [device, vol.vmid, "images"]
        vol = parse_volname(volname)
        found = self.catalog.find(vol)
        device = self.disks.device_path(found.name, self.node) if found is not None else None
        return [device or f"{ABSENT_DEVICES}/{self.storeid}/{vol.volname}", vol.vmid, "images"]

    def activate_volume(self, volname: str, snapname: str | None = None) -> int:
        """Make the device exist on this node (a diskless client when no replica is here).

        While the disk's VM is locked for a live migration from another node (see
        :mod:`proxmox_plugin.guests`) and its disk is in use there, this is the migration
        arriving: DRBD allows two primaries until the deactivation that ends the migration, on
        the source after success or here after a failure. Two primaries a hand-over left on
        (its end never came) are withdrawn at the next activation outside a migration.

        A snapshot needs no activation, and gets none (no REST call): PVE activates a
        snapshot before it clones from it (``clone_image`` restores it without a device) and
        before vzdump mounts it (``path`` makes the device).
        """
        if snapname:
            parse_volname(volname)
            check_snapshot_name(snapname)
            return 1
        vol, disk = self._disk(volname)
        source = self.guests.migrating_from(vol.vmid)
        if source is not None and source.lower() != self.node.lower():
            self.disks.attach_handing_over(disk.name, self.node)
            return 1
        self.disks.attach(disk.name, self.node)
        if disk.hand_over_nodes:
            self.disks.end_two_primaries(disk.name)
        return 1

    def deactivate_volume(self, volname: str, snapname: str | None = None) -> int:
        """Remove this node's diskless client, if any; replicas and tie-breakers stay. A live
        migration's two primaries end here when this node is its source or destination: its
        QEMU has let go of the disk (another node's deactivation leaves them, and so does any
        for two primaries an admin set). For a snapshot, its view goes (if ``path`` made one)."""
        disk = self.catalog.find(parse_volname(volname))
        if disk is None:
            return 1
        if snapname:
            self.views.remove(disk.name, check_snapshot_name(snapname))
            return 1
        if self.node.lower() in (n.lower() for n in disk.hand_over_nodes):
            self.disks.end_migration(disk.name, self.node)
        else:
            self.disks.detach(disk.name, self.node)
        return 1

    def volume_resize(self, volname: str, size: int) -> None:
        """Grow to ``size`` bytes (rounded up to KiB); shrinking is refused."""
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise InvalidInput("size", size, "must be a whole number of bytes")
        _, disk = self._disk(volname)
        self.disks.resize(disk.name, bytes_to_kib(size))

    def volume_snapshot(self, volname: str, snap: str) -> None:
        """Snapshot under the user's name, verbatim; PVE's reserved names are refused."""
        check_snapshot_name(snap)
        _, disk = self._disk(volname)
        self.disks.snapshot(disk.name, snap)

    def volume_starts_zeroed(self, volname: str, snapname: str | None = None) -> int | None:
        """``sparseinit`` as PVE asks for it (the shim sends it here): offered by the volume's
        name (``volume_has_feature``) and where the volume read as zeros when new
        (``DiskService.starts_zeroed``), else None as PVE expects."""
        if volume_has_feature("sparseinit", volname, snapname) is None:
            return None
        _, disk = self._disk(volname)
        return 1 if self.disks.starts_zeroed(disk.name) else None

    def volume_rollback_is_possible(self, volname: str, snap: str) -> list[str]:
        """PVE asks before it stops the guest for ``volume_snapshot_rollback``: the snapshot must
        exist, and the answer lists the newer snapshots, which block it (LINSTOR rolls back only
        to the most recent one); the shim hands them to PVE as ``$blockers``."""
        check_snapshot_name(snap)
        _, disk = self._disk(volname)
        newer = self.disks.newer_snapshots(disk.name, snap)
        if newer is None:
            raise InvalidInput("snapshot", snap, f"volume {self.storeid}:{volname} has no such snapshot")
        return newer

    def volume_snapshot_rollback(self, volname: str, snap: str) -> None:
        """Roll back in place; LINSTOR refuses while the disk is in use (the VM must be stopped)."""
        check_snapshot_name(snap)
        _, disk = self._disk(volname)
        self.disks.rollback(disk.name, snap)

    def volume_snapshot_delete(self, volname: str, snap: str) -> None:
        """Idempotent; ``__base__`` cannot be deleted this way, it belongs to a template. The
        snapshot's view goes first (vzdump deletes its snapshot without deactivating it)."""
        check_snapshot_name(snap)
        _, disk = self._disk(volname)
        self.views.remove(disk.name, snap)
        self.disks.delete_snapshot(disk.name, snap)

    def volume_size_info(self, volname: str) -> dict[str, Any]:
        """Size in bytes; ``used`` is the provisioned size (an upper bound) as LINSTOR reports."""
        vol, disk = self._disk(volname)
        size = kib_to_bytes(disk.size_kib)
        parent = f"{vol.base.name}@{BASE_SNAPSHOT}" if vol.base else None
        return {"size": size, "format": "raw", "used": size, "parent": parent}

    def rename_volume(self, source_volname: str, target_vmid: Any, target_volname: str | None = None) -> str:
        """Give a disk to another guest: only its owner properties change, never the resource."""
        source, disk = self._disk(source_volname)
        if source.is_base:
            raise InvalidInput("volname", source_volname, "template (base) volumes cannot be renamed")
        vmid = _vmid(target_vmid)
        existing = self.catalog.all(vmid)
        wanted = new_volname(target_volname, vmid) or self._next_free(vmid, existing)
        if wanted.disk in {volname_of(d).disk for d in existing}:
            raise self._exists(wanted)
        target = source.renamed(vmid, wanted.disk)
        vm_name = self.vm_names.name_of(vmid)
        stale = () if vm_name else (naming.PROP_OWNER_NAME,)
        self.disks.set_props(disk.name, override=owner_props(self.storeid, target, vm_name), delete=stale)
        return f"{self.storeid}:{target.volname}"

    def volume_export(self, volname: str, format: str, snapshot: str | None = None,
                      base_snapshot: str | None = None, with_snapshots: Any = None, data_fd: Any = None) -> None:
        """Send the disk as PVE's ``raw+size`` stream on ``data_fd`` (see :mod:`proxmox_plugin.transfer`),
        attached here to be read; progress lines go to PVE's task log."""
        transfer.check_request(format, snapshot, base_snapshot, with_snapshots)
        fd = transfer.data_fd(data_fd, reading=False)
        _, disk = self._disk(volname)
        attachment = self.disks.attachment(disk.name, self.node)
        try:
            transfer.send(attachment.device, fd, self.progress)
        finally:
            if attachment.diskless:  # a client made only to read it; one a running guest uses stays
                with contextlib.suppress(InUse):
                    self.disks.detach(disk.name, self.node)
        self.progress(f"exported {self.storeid}:{volname}")

    def volume_import(self, volname: str, format: str, snapshot: str | None = None,
                      base_snapshot: str | None = None, with_snapshots: Any = None, allow_rename: Any = False,
                      data_fd: Any = None) -> str:
        """A new disk named ``volname`` (the next free ``vm-<vmid>-disk-<n>`` when that is taken
        and ``allow_rename``) filled from the ``raw+size`` stream on ``data_fd``; its volume id.

        The header is read before anything is made; a stream that fails after that deletes the
        new disk again, so nothing is left half-filled.
        """
        transfer.check_request(format, snapshot, base_snapshot, with_snapshots)
        fd = transfer.data_fd(data_fd, reading=True)
        vol = parse_volname(volname)
        if vol.is_base or vol.base:
            raise InvalidInput("volname", volname, "template disks and linked clones cannot be imported",
                               correction="move the guest without its template, or convert it after the move")
        size = transfer.received_size(fd)
        name: str | None = vol.name
        if self.catalog.find(vol) is not None:
            if not allow_rename:
                raise self._exists(vol)
            name = None
        imported = self.alloc_image(vol.vmid, "raw", name, math.ceil(size / 1024))
        try:
            _, disk = self._disk(imported)
            attachment = self.disks.attachment(disk.name, self.node)
            # No progress lines while it runs: a remote migration's tunnel reads the importer's
            # output only once the export is done, and enough lines would fill the pipe and stall
            # both ends.
            transfer.receive(fd, size, attachment.device, device_is_zeroed=attachment.starts_zeroed,
                             progress=lambda line: None)
        except BaseException as error:
            with noted_on(error, f"deleting the half-imported {self.storeid}:{imported}"):
                self.free_image(imported)
            raise
        self.progress(f"imported {self.storeid}:{imported}")
        return f"{self.storeid}:{imported}"

    def create_base(self, volname: str) -> str:
        """Turn a disk into a template disk: a ``__base__`` snapshot and the ``base-`` name."""
        vol, disk = self._disk(volname)
        if vol.is_base:
            raise InvalidInput("volname", volname, "create_base not possible with base image")
        base = vol.as_base()
        try:
            self.disks.snapshot(disk.name, BASE_SNAPSHOT)
        except AlreadyExists:
            # Left by a create_base that timed out or was killed after the snapshot: PVE cannot
            # remove it (the name is reserved), and it may predate what the guest wrote since.
            # Nothing is cloned from it (only base- disks are), so it is taken again, now.
            self.disks.delete_snapshot(disk.name, BASE_SNAPSHOT)
            self.disks.snapshot(disk.name, BASE_SNAPSHOT)
        try:
            self.disks.set_props(disk.name, override={key(VOLNAME): base.name})
        except LinstorError:
            self.disks.delete_snapshot(disk.name, BASE_SNAPSHOT)
            raise
        return base.volname

    def clone_image(self, volname: str, vmid: Any, snapname: str | None = None) -> str:
        """A new disk for guest ``vmid`` from a template (linked clone, ``base-X/vm-Y``), from a
        snapshot (restored, independent), or from a plain disk (full copy via the clone API)."""
        source, disk = self._disk(volname, snapshots=bool(snapname))
        vmid = _vmid(vmid)
        taken = self.catalog.all(vmid)
        if snapname:
            if snapname not in disk.snapshots:
                raise InvalidInput("snapname", snapname, f"volume {self.storeid}:{volname} has no such snapshot")
            target, made = self._place_next(vmid, taken, lambda rd, props: self.disks.restore(
                disk.name, snapname, rd, props))
        elif source.is_base:
            target, made = self._place_next(vmid, taken, lambda rd, props: self.disks.restore(
                disk.name, BASE_SNAPSHOT, rd, props), base=VolName(source.vmid, source.disk, True))
        else:
            target, made = self._place_next(vmid, taken, lambda rd, props: self.disks.clone(
                disk.name, rd, props, progress=self.progress, timeout=CLONE_TIMEOUT))
        self.progress(f"cloned {self.storeid}:{volname} to {self.storeid}:{target.volname} ({made.name})")
        return target.volname
