"""Transfer manager (TM_MAD) actions: one function per action, ``(env, args) -> stdout``.

Arguments are oned's, after the action name (``host:path`` forms, ids, sizes in MiB); each
function checks all of them before the first LINSTOR call. Every disk a VM uses is a LINSTOR
resource made available on the VM's host (diskless where the host holds no replica) and linked
as ``<vm dir>/disk.<i>`` (DISK_TYPE=BLOCK). Persistent images are used in place; clones,
volatile and context disks are the VM's own resources (see ``names``).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from linstor_core import datacopy, filesystems, naming
from linstor_core.errors import (
    AlreadyExists, ConfigError, InUse, InvalidInput, LinstorError, NotFound, Stopped, StorageError, noted_on,
)
from opennebula_driver import contextiso, names, vmstates
from opennebula_driver.args import (
    HostPath, check_count, host_path, object_id, size_mib_to_kib, snapshot_id, source_of,
)
from opennebula_driver.env import DRIVER_NAME, Env, profile_of
from opennebula_driver.hosts import check_vm_directory
from opennebula_driver.partial import finished_or_deleted, made_or_nothing
from opennebula_driver.records import Datastore, Vm
from opennebula_driver.xmldoc import parse_vm

if TYPE_CHECKING:
    from linstor_core.disks import DiskService
    from linstor_core.models import Disk

log = logging.getLogger(__name__)

_NO_FILESYSTEM = ("", "raw")
"""mkimage FORMATs that name no filesystem to make."""


@dataclass(frozen=True)
class _DiskCall:
    """The common shape ``host:.../disk.<i> ... vmid dsid``, checked."""

    target: HostPath
    disk_id: int
    vm_id: int
    ds_id: int


def _disk_call(target: str, vm_id: str, ds_id: str) -> _DiskCall:
    where = host_path(target)
    return _DiskCall(where, where.require_disk_id(), object_id(vm_id, "vmid"), object_id(ds_id, "dsid"))


def _find_disk(env: Env, service: DiskService, vm_id: int, disk_id: int) -> tuple[str, bool] | None:
    """The resource behind disk ``disk_id`` of VM ``vm_id`` and whether the VM owns it, or None.

    The VM's own disks (clones, volatile, context) are found by their owner props in one
    listing, which also finds them after the VM was renamed. Only when there is none is oned
    asked: the disk is then a persistent image used in place, whose SOURCE only the VM
    template names.
    """
    own = service.list(names.vm_disk_filter(vm_id, disk_id), placement=False)
    if own:
        return _only_one(own, vm_id, disk_id).name, True
    source = _image_in_place(env, vm_id, disk_id)
    return (source, False) if source else None


def _only_one(disks: Sequence[Disk], vm_id: int, disk_id: int) -> Disk:
    """The one resource of VM ``vm_id``'s disk ``disk_id``; two are refused, never guessed
    between: a deploy retried after the VM was renamed (``onevm rename``, then ``onevm
    recover --retry``) makes a second one under the new name."""
    if len(disks) > 1:
        listed = ", ".join(sorted(d.name for d in disks))
        raise LinstorError(
            f"VM {vm_id} disk {disk_id} has {len(disks)} LINSTOR resources: {listed}",
            cause="a deploy retried after the VM was renamed makes a second one under the new name",
            correction="keep the one the VM's disk.<i> links to (ls -l in the VM directory) and delete the "
                       "other (linstor-core resource-definition delete NAME)",
        )
    return disks[0]


def _image_in_place(env: Env, vm_id: int, disk_id: int) -> str | None:
    """The SOURCE of the persistent image VM ``vm_id`` uses in place as disk ``disk_id``."""
    disk = env.oned.vm(vm_id).disk(disk_id)
    return disk.source if disk is not None and not disk.clone and disk.source else None


def _disk_of(env: Env, service: DiskService, vm_id: int, disk_id: int) -> tuple[str, bool]:
    """``_find_disk``, where a disk without a resource is an error."""
    found = _find_disk(env, service, vm_id, disk_id)
    if found is None:
        raise LinstorError(
            f"VM {vm_id} disk {disk_id} has no LINSTOR resource",
            correction="check the VM's disks with onevm show and the controller with linstor-core",
        )
    return found


def _leave_image(env: Env, service: DiskService, name: str, host: str, vm_id: int) -> None:
    """An image used in place (not the VM's own: persistent, CD-ROM, shareable) leaves ``host``
    with VM ``vm_id``, unless another VM there still needs it (``_needed_by_another``); the
    last VM to go detaches it. A detach LINSTOR refuses as in use (a guest oned does not name
    has the device open) leaves it in place too."""
    if _needed_by_another(env, name, host, vm_id):
        return
    try:
        service.detach(name, host)
    except InUse:
        pass


def _needed_by_another(env: Env, name: str, host: str, vm_id: int) -> bool:
    """Whether a VM other than ``vm_id`` among image ``name``'s users (oned's ``IMAGE/VMS``) is
    on ``host`` (``vmstates.holds_host``). CD-ROM, shareable and immutable images keep one
    resource for all their VMs on a host, and one that is powered off or suspended there holds
    no device open: LINSTOR would detach the image, and that VM's resume would find no device
    behind its ``disk.<i>``. A SOURCE this driver did not name has no image id to ask about."""
    try:
        image_id = names.image_id_of(name)
    except InvalidInput:
        return False
    others = [user for user in env.oned.image_users(image_id) if user != vm_id]
    needing = next((vm for vm in env.oned.vms(others) if vmstates.holds_host(vm, host)), None)
    if needing is not None:
        log.info("image %s stays on %s: VM %s there uses it too", name, host, needing.id)
    return needing is not None


def _attach_and_link(env: Env, service: DiskService, name: str, where: HostPath) -> None:
    env.hosts.link(where.host, service.attach(name, where.host), where.path)


def ln(env: Env, args: Sequence[str]) -> str:
    """Persistent image: use the image's resource on the host, in place. When the link cannot
    be made, the image leaves the host again as a VM leaving it would (``_leave_image``): after
    a failed hot-attach oned sends no tm delete, and a diskless client would stay there."""
    check_count("ln", list(args), "fe:SOURCE host:dir/disk.<i> vmid dsid", 4)
    source = source_of(args[0])
    call = _disk_call(args[1], args[2], args[3])
    service = env.service(env.oned.datastore(call.ds_id))
    device = service.attach(source, call.target.host)
    try:
        env.hosts.link(call.target.host, device, call.target.path)
    except BaseException as error:
        with noted_on(error, f"taking {source} off {call.target.host} again"):
            _leave_image(env, service, source, call.target.host, call.vm_id)
        raise
    return ""


def clone(env: Env, args: Sequence[str]) -> str:
    """Non-persistent image: the VM's own copy, named after the VM, grown to the disk's SIZE."""
    check_count("clone", list(args), "fe:SOURCE host:dir/disk.<i> vmid dsid", 4)
    source = source_of(args[0])
    call = _disk_call(args[1], args[2], args[3])
    vm, datastore = env.oned.vm_and_datastore(call.vm_id, call.ds_id)
    service = env.service(datastore)
    disk = vm.disk(call.disk_id)
    image_id = disk.image_id if disk is not None else None
    identity = {names.PROP_IMAGE: str(image_id)} if image_id is not None else {}
    props = {**names.vm_disk_props(vm, call.disk_id), **identity}
    name = names.vm_disk(vm, call.disk_id)

    def grow_and_link(made: Disk) -> None:
        if disk is not None and disk.size_mib:
            wanted = size_mib_to_kib(disk.size_mib, "DISK/SIZE")
            if wanted > made.size_kib:
                service.resize(name, wanted)
        _attach_and_link(env, service, name, call.target)

    try:
        made = service.clone(source, name, props, progress=env.progress)
    except AlreadyExists:  # oned retries a failed deploy: the VM's copy is already there
        grow_and_link(_earlier_copy(service, name, call, identity, f"a copy of image {image_id}"))
        return ""
    finished_or_deleted(service, name, props, lambda: grow_and_link(made))
    return ""


def _earlier_copy(service: DiskService, name: str, call: _DiskCall, identity: Mapping[str, str],
                  what: str, size_kib: int | None = None) -> Disk:
    """The disk ``name`` an earlier run of this action made for disk ``call.disk_id`` of the VM
    (a deploy oned retries), to finish instead of making it again: it must be that disk of that
    VM and carry ``identity`` (the image it copies, the kind of a volatile disk) and, where
    given, ``size_kib``. Anything else is refused: a disk of another VM or a person's (LINSTOR
    names ignore case), or one a crashed action of an earlier attach left under this disk id."""
    made = service.get(name)
    if not naming.carries(made.props, names.vm_disk_filter(call.vm_id, call.disk_id)):
        raise LinstorError(
            f"disk {name} exists but is not disk {call.disk_id} of VM {call.vm_id}",
            cause="LINSTOR names ignore case, and another VM or a person may have made it",
            correction=f"rename the VM, or remove {name} if nothing uses it (linstor resource-definition delete {name})",
        )
    if not naming.carries(made.props, identity) or size_kib not in (None, made.size_kib):
        raise LinstorError(
            f"disk {name} exists for disk {call.disk_id} of VM {call.vm_id} but is not {what}"
            + (f" of {size_kib} KiB" if size_kib is not None else ""),
            cause="an earlier attach of that disk id stopped half way (the driver was killed)",
            correction=f"if the VM does not use it (onevm show {call.vm_id}), remove it "
                       f"(linstor-core resource-definition delete {name}) and retry",
        )
    return made


def _new_vm_disk(env: Env, call: _DiskCall, vm: Vm, datastore: Datastore, size_kib: int, kind: str,
                 finish: Callable[[DiskService, str], None]) -> None:
    """A new disk of ``kind`` for the VM, ``finish``ed (made blank, formatted, linked), or
    nothing left behind (``partial``); one an earlier run made is finished instead."""
    service = env.service(datastore)
    name = names.vm_disk(vm, call.disk_id)
    props = names.vm_disk_props(vm, call.disk_id, kind=kind)
    try:
        service.create(profile_of(datastore), name, size_kib, props, exist_ok=False)
    except AlreadyExists:
        _earlier_copy(service, name, call, {names.PROP_KIND: kind}, f"a {kind} disk", size_kib)
        finish(service, name)
        return
    finished_or_deleted(service, name, props, lambda: finish(service, name))


def _blank_on(env: Env, service: DiskService, name: str, size_kib: int, host: str) -> str:
    """Attach the new disk ``name`` on ``host`` and return its device, reading as zeros there:
    where its storage hands out old data (thick LVM), the guest would see an earlier tenant's
    data around what mkfs/mkswap write, so ``blkdiscard --zeroout`` clears it on the host first."""
    from linstor_core.disks import full_write_timeout  # loaded with the service, not with every action

    attachment = service.attachment(name, host)
    if not attachment.starts_zeroed:
        env.hosts.run(host, ["blkdiscard", "--zeroout", attachment.device], timeout=full_write_timeout(size_kib))
    return attachment.device


def _check_opened_as_block(datastore: Datastore, attribute: str, value: str, what: str) -> None:
    """Refuse, before anything is made, a system datastore that would have libvirt open one of
    this driver's disks as a file: volatile and swap disks are opened as its ``DISK_TYPE``
    says, the context CD-ROM as its ``CONTEXT_DISK_TYPE`` says, both FILE unless set, and
    QEMU (6.0 and later) refuses a block device opened as a file, so the VM would not boot."""
    if value.upper() != "BLOCK":
        raise ConfigError(
            f"system datastore {datastore.id} ({datastore.name or 'unnamed'}) has {attribute}={value or 'FILE'}: "
            f"libvirt would open the VM's {what}, a LINSTOR block device, as a file, which QEMU refuses",
            correction=f'add {attribute}="BLOCK" to its template (onedatastore update {datastore.id}), then retry',
        )


def mkimage(env: Env, args: Sequence[str]) -> str:
    """A volatile disk of SIZE MiB, with the disk's FS (or FORMAT naming a filesystem) made on it."""
    check_count("mkimage", list(args), "size format host:dir/disk.<i> vmid dsid", 5)
    size_kib = size_mib_to_kib(args[0])
    call = _disk_call(args[2], args[3], args[4])
    vm, datastore = env.oned.vm_and_datastore(call.vm_id, call.ds_id)
    _check_opened_as_block(datastore, "DISK_TYPE", datastore.disk_type, "volatile disk")
    disk = vm.disk(call.disk_id)
    if args[1].lower() == "qcow2":  # qemu would be told to read the raw device as qcow2
        raise InvalidInput("format", args[1], "LINSTOR disks are raw block devices",
                           correction="give the volatile disk FORMAT=raw (and DRIVER=raw), or set DRIVER=raw "
                                      "on the system datastore")
    fstype = (disk.fs if disk is not None else "") or (args[1] if args[1] not in _NO_FILESYSTEM else "")
    if fstype:
        filesystems.check_filesystem_type(fstype)

    def format_and_link(service: DiskService, name: str) -> None:
        device = _blank_on(env, service, name, size_kib, call.target.host)
        if fstype:  # over what may be there: only this disk's own filesystem, from a run that was cut off
            filesystems.make_filesystem(device, fstype, runner=env.hosts.runner_on(call.target.host), overwrite=True)
        env.hosts.link(call.target.host, device, call.target.path)

    _new_vm_disk(env, call, vm, datastore, size_kib, "volatile", format_and_link)
    return ""


def mkswap(env: Env, args: Sequence[str]) -> str:
    """A volatile swap disk of SIZE MiB."""
    check_count("mkswap", list(args), "size host:dir/disk.<i> vmid dsid", 4)
    size_kib = size_mib_to_kib(args[0])
    call = _disk_call(args[1], args[2], args[3])
    vm, datastore = env.oned.vm_and_datastore(call.vm_id, call.ds_id)
    _check_opened_as_block(datastore, "DISK_TYPE", datastore.disk_type, "swap disk")

    def format_and_link(service: DiskService, name: str) -> None:
        device = _blank_on(env, service, name, size_kib, call.target.host)
        env.hosts.run(call.target.host, ["mkswap", device])
        env.hosts.link(call.target.host, device, call.target.path)

    _new_vm_disk(env, call, vm, datastore, size_kib, "swap", format_and_link)
    return ""


def delete(env: Env, args: Sequence[str]) -> str:
    """A disk: the VM's own resource is deleted, a persistent image only leaves the host.
    The VM directory: removed from the host."""
    check_count("delete", list(args), "host:path vmid dsid", 3)
    where = host_path(args[0])
    vm_id, ds_id = object_id(args[1], "vmid"), object_id(args[2], "dsid")
    if where.disk_id is None:
        check_vm_directory(where.path, vm_id)  # before anything is deleted
        service = env.service(env.oned.datastore(ds_id))
        for disk in _context_disks(service, vm_id):
            service.delete(disk.name, with_snapshots=True)
        _unless_host_down(where.host, lambda: env.hosts.remove_vm_directory(where.host, where.path, vm_id))
        return ""
    service = env.service(env.oned.datastore(ds_id))
    own = service.list(names.vm_disk_filter(vm_id, where.disk_id), placement=False)
    for disk in own:  # more than one after a rename: a retried mkimage or clone named the copy anew
        service.delete(disk.name, with_snapshots=True)
    source = None if own else _image_in_place(env, vm_id, where.disk_id)
    if source:
        _leave_image(env, service, source, where.host, vm_id)
    _unless_host_down(where.host, lambda: env.hosts.unlink(where.host, where.path))
    return ""


SSH_UNREACHABLE = 255
"""ssh's exit status when it could not reach the host (rather than the command's own)."""


def _unless_host_down(host: str, remove: Callable[[], None]) -> None:
    """``remove`` what a deleted VM left on ``host`` (a link, its directory); a host that ssh
    cannot reach (down for good, the reason the VM is being deleted) is no error: what is in
    LINSTOR is gone already, and what is on that host is a dead VM's directory. Every other
    failure is the action's error."""
    try:
        remove()
    except StorageError as error:
        if not (error.argv[:1] == ["ssh"] and error.returncode == SSH_UNREACHABLE):
            raise
        log.warning("delete: %s cannot be reached; its copy of the VM directory stays: %s", host, error.one_line())


def mv(env: Env, args: Sequence[str]) -> str:
    """A disk moves hosts (undeploy, resume, cold migration): available on the new host first,
    then gone from the old one. The front-end (where undeploy and stop move disks) gets it when
    its LINSTOR node can have it; otherwise the disk only leaves the host, its data staying in
    LINSTOR. A VM directory (checkpoint, deployment files) is copied to the new host and removed
    from the old one, and the VM's context CD-ROM disks move with it: oned sends no MV of their
    own for them."""
    check_count("mv", list(args), "host:src host:dst vmid dsid", 4)
    src, dst = host_path(args[0], "source"), host_path(args[1], "destination")
    vm_id, ds_id = object_id(args[2], "vmid"), object_id(args[3], "dsid")
    if dst.disk_id is None and src.path != dst.path:  # another system datastore's directory
        raise InvalidInput(
            "destination", args[1], f"moves the VM directory {src.path} to another path",
            correction="move VMs within their system datastore: the driver is registered with DS_MIGRATE=NO "
                       "(packaging/opennebula/oned-linstor.conf)",
        )
    if dst.disk_id is None and src.host == dst.host:
        return ""
    service = env.service(env.oned.datastore(ds_id))
    if dst.disk_id is None:
        env.hosts.copy_directory(src.host, dst.host, src.path)
        for disk in _context_disks(service, vm_id):
            link = HostPath(dst.host, f"{dst.path}/disk.{disk.props[names.PROP_DISK]}")
            _move_disk(env, service, disk.name, src.host, link, vm_id)
        env.hosts.remove_vm_directory(src.host, src.path, vm_id)
        return ""
    name, own = _disk_of(env, service, vm_id, dst.disk_id)
    _move_disk(env, service, name, src.host, dst, vm_id, shared=not own)
    if src.host != dst.host:
        env.hosts.unlink(src.host, src.path)
    return ""


def _move_disk(env: Env, service: DiskService, name: str, src_host: str, dst: HostPath, vm_id: int, *,
               shared: bool = False) -> None:
    """``name`` available and linked at ``dst``, then detached from ``src_host`` (for a
    ``shared`` image as ``_leave_image`` does). Hosts are LINSTOR nodes by oned's names for
    them, as in every action that attaches a VM's disk, the front-end included.

    On the front-end the disk is attached too when LINSTOR lets it be: a front-end that is
    also a hypervisor may resume or receive the VM, by the same MV (src and dst the same host
    when the VM is resumed where it was undeployed to). A refusal of that attach (not a node,
    satellite offline, a disk without DRBD) is no error for an undeploy or stop, where the disk
    only leaves the host. Only then is oned asked what the MV is for: unless the VM is being
    stopped or undeployed (``vmstates.LCM_LEAVING``), it is to run there next (a cold migration, a
    resume, a resume of an undeployed VM), and the refusal is the action's error. A link that
    cannot be made is an error.
    """
    if env.hosts.is_local(dst.host):
        try:
            device = service.attach(name, dst.host)
        except Stopped:
            raise
        except LinstorError:
            if env.oned.vm(vm_id).lcm_state not in vmstates.LCM_LEAVING:
                raise
            device = None
        if device is not None:
            env.hosts.link(dst.host, device, dst.path)
    else:
        _attach_and_link(env, service, name, dst)
    if src_host == dst.host:
        return
    if shared:
        _leave_image(env, service, name, src_host, vm_id)
    else:
        service.detach(name, src_host)


def _context_disks(service: DiskService, vm_id: int) -> list[Disk]:
    """The VM's context CD-ROM disks (see ``context``)."""
    return service.list(names.vm_kind_filter(vm_id, names.CONTEXT), placement=False)


def mvds(env: Env, args: Sequence[str]) -> str:
    """A persistent image goes back to its datastore: it only leaves the host."""
    check_count("mvds", list(args), "host:dir/disk.<i> SOURCE vmid dsid", 4)
    call = _disk_call(args[0], args[2], args[3])
    source = source_of(args[1])
    _leave_image(env, env.service(env.oned.datastore(call.ds_id)), source, call.target.host, call.vm_id)
    env.hosts.unlink(call.target.host, call.target.path)
    return ""


def cpds(env: Env, args: Sequence[str]) -> str:
    """disk-saveas: the disk (or its snapshot) becomes the new image SOURCE that ``ds mkfs``
    named; the image's owner props are set from one.image.info."""
    check_count("cpds", list(args), "host:dir/disk.<i> SOURCE snapid vmid dsid", 5)
    where = host_path(args[0])
    disk_id = where.require_disk_id()
    target = source_of(args[1])
    snap = snapshot_id(args[2])
    vm_id, ds_id = object_id(args[3], "vmid"), object_id(args[4], "dsid")
    image_id = names.image_id_of(target)
    service = env.service(env.oned.datastore(ds_id))
    props = names.image_props(image_id, env.oned.image_name(image_id))
    source, _ = _disk_of(env, service, vm_id, disk_id)
    if snap == -1:
        service.clone(source, target, props, progress=env.progress)
    else:
        service.restore(source, names.snapshot(snap), target, props)
    return ""


def _snapshot_call(env: Env, action: str, args: Sequence[str],
                   operation: Callable[[DiskService, str, str, HostPath], None]) -> str:
    """The shared shape of snap_*: ``host:dir/disk.<i> snap_id vmid dsid``, checked first;
    ``operation(service, resource, snapshot, host:disk.<i>)``."""
    check_count(action, list(args), "host:dir/disk.<i> snap_id vmid dsid", 4)
    where = host_path(args[0])
    disk_id = where.require_disk_id()
    snap = snapshot_id(args[1])
    if snap < 0:
        raise InvalidInput("snapshot id", args[1], "must be zero or more")
    vm_id, ds_id = object_id(args[2], "vmid"), object_id(args[3], "dsid")
    service = env.service(env.oned.datastore(ds_id))
    operation(service, _disk_of(env, service, vm_id, disk_id)[0], names.snapshot(snap), where)
    return ""


def snap_create(env: Env, args: Sequence[str]) -> str:
    """A LINSTOR snapshot of the disk; LINSTOR suspends I/O across replicas while taking it,
    so the running VM needs nothing more (snap_create_live is the same call).

    A create that fails or is stopped (oned's timeout) deletes what it may have made: oned
    forgets the snapshot id, and numbers from 0 again once a disk has no snapshots. For the same
    reason a ``snap-<id>`` already there when oned asks for that id (oned asks only for ids it
    does not have) is such a leftover, from a driver that was killed: it is taken anew.
    """

    def take(service: DiskService, name: str, snap: str, _where: HostPath) -> None:
        try:
            try:
                service.snapshot(name, snap)
            except AlreadyExists:
                log.warning("snapshot %s of %s is left from a create oned gave up on; taking it again", snap, name)
                service.delete_snapshot(name, snap)
                service.snapshot(name, snap)
        except BaseException as error:
            with noted_on(error, f"removing the partial snapshot {snap} of {name}"):
                service.delete_snapshot(name, snap)
            raise

    return _snapshot_call(env, "snap_create", args, take)


def snap_delete(env: Env, args: Sequence[str]) -> str:
    """Delete the disk's snapshot; one already gone is fine."""
    return _snapshot_call(env, "snap_delete", args,
                          lambda service, name, snap, _: service.delete_snapshot(name, snap))


def snap_revert(env: Env, args: Sequence[str]) -> str:
    """Roll the disk back in place (unlike Ceph's revert-by-clone, nothing is left behind).

    The device may be a new one afterwards (a loop device taken by another process while the
    storage switched files), so ``disk.<i>`` is linked anew where the host has the disk.
    """

    def revert(service: DiskService, name: str, snap: str, where: HostPath) -> None:
        service.rollback(name, snap)
        try:
            device = service.path(name, where.host)
        except NotFound:
            return  # not on that host: no disk.<i> there uses it
        env.hosts.link(where.host, device, where.path)

    return _snapshot_call(env, "snap_revert", args, revert)


def resize(env: Env, args: Sequence[str]) -> str:
    """Grow the disk to SIZE MiB; shrinking is refused."""
    check_count("resize", list(args), "host:dir/disk.<i> size_mib vmid dsid", 4)
    where = host_path(args[0])
    disk_id = where.require_disk_id()
    size_kib = size_mib_to_kib(args[1])
    vm_id, ds_id = object_id(args[2], "vmid"), object_id(args[3], "dsid")
    service = env.service(env.oned.datastore(ds_id))
    service.resize(_disk_of(env, service, vm_id, disk_id)[0], size_kib)
    return ""


def context(env: Env, args: Sequence[str]) -> str:
    """The CONTEXT CD-ROM as a VM disk: ISO built on the front-end, written into a fresh
    resource there, then made available on the host (so migrations move it like any disk)."""
    if len(args) < 4:
        raise InvalidInput(
            "arguments", " ".join(args), f"context takes at least 4 arguments, got {len(args)}",
            correction="usage: context file... host:dir/disk.<i> vmid dsid",
        )
    files = list(args[:-3])
    call = _disk_call(args[-3], args[-2], args[-1])
    vm, datastore = env.oned.vm_and_datastore(call.vm_id, call.ds_id)
    _check_opened_as_block(datastore, "CONTEXT_DISK_TYPE", datastore.template.get("CONTEXT_DISK_TYPE", ""),
                           "context CD-ROM")
    service = env.service(datastore)
    name = names.vm_disk(vm, call.disk_id)
    with tempfile.TemporaryDirectory(prefix="linstor-one-context-") as workdir:
        iso = contextiso.build_iso(files, Path(workdir), env.hosts.runner)
        # The last context disk goes, found by its owner props: after a rename it is named
        # after the old name, and left beside the new one a migration could link either.
        previous = {disk.name for disk in service.list(names.vm_disk_filter(call.vm_id, call.disk_id),
                                                       placement=False)}
        for old in sorted(previous | {name}):
            service.delete(old, with_snapshots=True)
        size_kib = max(datacopy.size_of(iso) // 1024 + 1024, 1024)
        props = names.vm_disk_props(vm, call.disk_id, kind=names.CONTEXT)
        node = env.frontend_node(datastore)

        def write_and_link(_made: Disk) -> None:
            attachment = service.attachment(name, node)
            datacopy.copy_into_device(iso, attachment.device, device_is_zeroed=attachment.starts_zeroed)
            if node != call.target.host:
                service.detach(name, node)
            _attach_and_link(env, service, name, call.target)

        made_or_nothing(service, name, props, lambda: service.create(profile_of(datastore), name, size_kib, props),
                        write_and_link)
    return ""


@dataclass(frozen=True)
class _Migration:
    src: str
    dst: str
    directory: str
    vm_id: int
    ds_id: int
    template: bytes  # base64, as oned sent it (forwarded verbatim to other TMs)
    caller: str | None
    template_in_args: bool = False
    """oned (6.6 and earlier) passed the template as the 6th argument, not on stdin: the other
    TMs of that release read it there, and the calling TM as the 7th."""


def _migration(env: Env, action: str, args: Sequence[str]) -> _Migration:
    """``src dst dir vmid dsid`` + the VM template (stdin since 6.8, else the 6th argument) +
    the calling TM when another system datastore driver forwards the call to us."""
    check_count(action, list(args), "src_host dst_host vm_dir vmid dsid [template] [calling_tm]", 5, 6, 7)
    extra = list(args[5:])
    template: str | bytes | None = None
    if extra and _is_template(extra[0]):
        template = extra.pop(0)
    caller = extra.pop(0) if extra else None
    in_args = template is not None
    if template is None:
        template = env.read_stdin()
    where = host_path(f"{args[0]}:{args[2]}", "vm_dir")
    return _Migration(
        src=where.host, dst=naming.validate_node_name(args[1]), directory=where.path,
        vm_id=object_id(args[3], "vmid"), ds_id=object_id(args[4], "dsid"),
        template=template.encode() if isinstance(template, str) else template, caller=caller,
        template_in_args=in_args,
    )


def _is_template(text: str) -> bool:
    """A base64 ``<VM>`` document starts ``PFZN``; a TM name never does."""
    return text.startswith("PFZN") or text.startswith("PD94")


@dataclass(frozen=True, order=True)
class _MigratingDisk:
    disk_id: int
    name: str
    shared: bool
    """An image used in place (persistent, CD-ROM), which other guests may use too."""

    @property
    def link(self) -> str:
        return f"disk.{self.disk_id}"


def _migrating_disks(env: Env, migration: _Migration, vm: Vm) -> tuple[DiskService, list[_MigratingDisk]]:
    """Every disk of ours: persistent images in place, the VM's own."""
    ours = [d for d in vm.disks if d.tm_mad == DRIVER_NAME]
    ds_id = migration.ds_id if migration.caller is None or not ours else (ours[0].datastore_id or migration.ds_id)
    service = env.service(env.oned.datastore(ds_id))
    disks = [_MigratingDisk(d.disk_id, d.source, shared=True) for d in ours if not d.clone and d.source]
    own: dict[int, list[Disk]] = {}
    for disk in service.list(names.vm_filter(vm.id)):
        disk_id = disk.props.get(names.PROP_DISK, "")
        if disk_id.isdigit():
            own.setdefault(int(disk_id), []).append(disk)
    for disk_id, found in sorted(own.items()):
        disks.append(_MigratingDisk(disk_id, _only_one(found, vm.id, disk_id).name, shared=False))
    return service, sorted(disks)


Step = Callable[["DiskService", _Migration, _MigratingDisk], None]
Hook = Callable[[_Migration], None]


def _migrate(env: Env, action: str, args: Sequence[str], step: Step, *,
             before: Hook | None = None, after: Hook | None = None,
             undo: Step | None = None, undo_before: Hook | None = None) -> str:
    """``step`` for every disk of ours; ``before``/``after`` (the VM directory) and the other
    TMs only when we are the system datastore's driver, not when another one forwarded the call.

    When anything fails, ``undo`` runs for every disk ``step`` was begun on (the failed one
    included: its undo must be harmless on a disk half done) and ``undo_before`` for the
    directory: oned runs failmigrate only when the hypervisor's migration fails, never after a
    failed premigrate, so nothing else would take two primaries and the copies away again.
    Without ``undo`` (post- and failmigrate, which end a migration and which oned does not
    repeat) every disk gets its ``step`` even when one fails, then the first failure is raised,
    the others noted on it: a disk skipped would keep two primaries allowed.
    """
    migration = _migration(env, action, args)
    vm = parse_vm(migration.template)
    if migration.src == migration.dst:
        return ""
    service, disks = _migrating_disks(env, migration, vm)
    system = migration.caller is None
    begun: list[_MigratingDisk] = []
    try:
        if system and before is not None:
            before(migration)
        failed: LinstorError | None = None
        for disk in disks:
            begun.append(disk)
            try:
                step(service, migration, disk)
            except LinstorError as error:
                if undo is not None:  # premigrate: what it did is undone below
                    raise
                if failed is None:
                    failed = error
                else:
                    failed.add_note(f"{action} of {disk.name} failed too: {error}")
        if failed is not None:
            raise failed
        if system:
            _migrate_other(env, action, args[:5], migration, vm)
            if after is not None:
                after(migration)
    except BaseException as error:
        _undo_migration(service, migration, error, reversed(begun), undo,
                        undo_before if system else None)
        raise
    return ""


def _undo_migration(service: DiskService, migration: _Migration, error: BaseException,
                    begun: Iterable[_MigratingDisk], undo: Step | None, undo_before: Hook | None) -> None:
    """Undo what ``_migrate`` did before ``error``; each failure of that is noted on ``error``."""
    if undo is not None:
        for disk in begun:
            with noted_on(error, f"undoing {disk.name} on {migration.dst}"):
                undo(service, migration, disk)
    if undo_before is not None:
        with noted_on(error, f"undoing {migration.directory} on {migration.dst}"):
            undo_before(migration)


def _migrate_other(env: Env, action: str, args: Sequence[str], migration: _Migration, vm: Vm) -> None:
    """As oned's own system drivers do: let the other TMs of the VM's disks run ``action`` too,
    told (last argument) that we, the system datastore's driver, called them. The template goes
    where oned put it for us: on stdin, or (6.6 and earlier) as the argument before ours."""
    template = migration.template.strip()
    extra = [template.decode()] if migration.template_in_args else []
    for tm in sorted({d.tm_mad for d in vm.disks} - {DRIVER_NAME, ""}):
        script = env.remotes / "tm" / tm / action
        if script.exists():
            env.hosts.runner([str(script), *args, *extra, DRIVER_NAME], stdin=template + b"\n")


def premigrate(env: Env, args: Sequence[str]) -> str:
    """Before a migration: as the system datastore's driver, the VM directory (checkpoint,
    deployment file) copied to the destination; every disk available there, DRBD allowed two
    primaries for the hand-over, ``disk.<i>`` linked."""

    def step(service: DiskService, m: _Migration, disk: _MigratingDisk) -> None:
        env.hosts.link(m.dst, service.attach(disk.name, m.dst, migrating=True), f"{m.directory}/{disk.link}")

    return _migrate(env, "premigrate", args, step,
                    before=lambda m: env.hosts.copy_directory(m.src, m.dst, m.directory),
                    undo=lambda service, m, disk: _leave(env, service, m, m.dst, disk),
                    undo_before=lambda m: env.hosts.remove_vm_directory(m.dst, m.directory, m.vm_id))


def _leave(env: Env, service: DiskService, m: _Migration, host: str, disk: _MigratingDisk) -> None:
    """The migration is over for ``disk`` on ``host``: two primaries ended, detached (a shared
    image another VM there still needs stays, see ``_leave_image``), unlinked."""
    if disk.shared and _needed_by_another(env, disk.name, host, m.vm_id):
        service.end_two_primaries(disk.name)
    else:
        try:
            service.end_migration(disk.name, host)
        except InUse:
            if not disk.shared:
                raise
    env.hosts.unlink(host, f"{m.directory}/{disk.link}")


def postmigrate(env: Env, args: Sequence[str]) -> str:
    """After the move: diskless attachments leave the source host, two primaries end, and the
    VM directory there goes."""
    return _migrate(
        env, "postmigrate", args, lambda service, m, disk: _leave(env, service, m, m.src, disk),
        after=lambda m: env.hosts.remove_vm_directory(m.src, m.directory, m.vm_id),
    )


def failmigrate(env: Env, args: Sequence[str]) -> str:
    """The move failed: undo premigrate on the destination (disks and the copied directory)."""
    return _migrate(
        env, "failmigrate", args, lambda service, m, disk: _leave(env, service, m, m.dst, disk),
        after=lambda m: env.hosts.remove_vm_directory(m.dst, m.directory, m.vm_id),
    )


ACTIONS: dict[str, Callable[[Env, Sequence[str]], str]] = {
    "ln": ln,
    "clone": clone,
    "mkimage": mkimage,
    "mkswap": mkswap,
    "delete": delete,
    "mv": mv,
    "mvds": mvds,
    "cpds": cpds,
    "premigrate": premigrate,
    "postmigrate": postmigrate,
    "failmigrate": failmigrate,
    "resize": resize,
    "snap_create": snap_create,
    "snap_create_live": snap_create,
    "snap_delete": snap_delete,
    "snap_revert": snap_revert,
    "context": context,
}
