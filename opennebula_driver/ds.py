"""Datastore (DS_MAD) actions: one function per action, ``(env, action) -> stdout``.

oned reads stdout: ``cp`` and ``clone`` answer ``SOURCE FORMAT``, ``mkfs`` answers ``SOURCE``,
``stat`` a size in MiB, ``monitor`` ``USED_MB=``/``TOTAL_MB=``/``FREE_MB=`` lines, ``export`` an
``IMPORT_INFO`` document; the rest answer nothing. SOURCE is the resource definition name.
Disks are written on the front-end's LINSTOR node (``LINSTOR_FRONTEND_NODE``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from linstor_core import datacopy, filesystems, units
from linstor_core.errors import InvalidInput, LinstorError, noted_on
from opennebula_driver import names
from opennebula_driver.partial import made_or_nothing
from opennebula_driver.args import size_mib_to_kib
from opennebula_driver.env import Env, profile_of
from opennebula_driver.records import Datastore, DriverAction, Image

if TYPE_CHECKING:
    from linstor_core.disks import DiskService
    from linstor_core.models import Disk

FORMAT = "raw"
SAVE_AS = "save_as"
_MIB = 1024 * 1024
_NOT_RAW: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"QFI\xfb", "a qcow2 image", "qemu-img convert -O raw {path} <file>.raw"),
    (0, b"KDMV", "a VMDK image", "qemu-img convert -O raw {path} <file>.raw"),
    (0, b"# Disk DescriptorFile", "a VMDK descriptor", "qemu-img convert -O raw {path} <file>.raw"),
    (64, b"\x7f\x10\xda\xbe", "a VDI image", "qemu-img convert -O raw {path} <file>.raw"),
    (0, b"vhdxfile", "a VHDX image", "qemu-img convert -O raw {path} <file>.raw"),
    (0, b"conectix", "a VHD image", "qemu-img convert -O raw {path} <file>.raw"),
    (0, b"\x1f\x8b", "gzip-compressed", "gunzip -k {path}"),
    (0, b"BZh", "bzip2-compressed", "bunzip2 -k {path}"),
    (0, b"\xfd7zXZ\x00", "xz-compressed", "unxz -k {path}"),
    (0, b"\x28\xb5\x2f\xfd", "zstd-compressed", "unzstd {path}"),
)
"""What an uploaded file may start with that is not raw disk data: (offset, magic, what it is,
the command that makes a raw file). Copied byte for byte it would be a disk no guest boots;
OpenNebula's own downloader would have decompressed or converted it."""


def _image(action: DriverAction) -> Image:
    if action.image is None:
        raise InvalidInput("driver action", "DS_DRIVER_ACTION_DATA", "has no IMAGE element")
    return action.image


def _under(path: str, directories: str) -> bool:
    return any(path == d.rstrip("/") or path.startswith(d.rstrip("/") + "/") for d in directories.split() if d)


def _local_image_file(env: Env, datastore: Datastore, path: str) -> str:
    """The image file to read, refused when it is in a restricted directory (the datastore's
    RESTRICTED_DIRS and, as OpenNebula's own drivers add, oned's own: ``Env.restricted_dirs``)
    outside its SAFE_DIRS, when it is empty, or when it is not raw disk data (see ``_NOT_RAW``)."""
    if "://" in path:
        raise InvalidInput(
            "PATH", path, "only files on the front-end can be copied into LINSTOR",
            correction="download the image to a SAFE_DIRS directory and register that path",
        )
    real = os.path.realpath(path)
    template = datastore.template
    restricted = " ".join([*env.restricted_dirs, template.get("RESTRICTED_DIRS", "")])
    if _under(real, restricted) and not _under(real, template.get("SAFE_DIRS", "")):
        raise InvalidInput("PATH", path, "is in a restricted directory (the datastore's RESTRICTED_DIRS, or "
                           f"oned's own: {', '.join(env.restricted_dirs) or 'none'})",
                           correction="register a copy from another directory, or add the directory to SAFE_DIRS")
    try:
        with open(real, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise InvalidInput("PATH", path, error.strerror or str(error)) from None
    if not head:
        raise InvalidInput("PATH", path, "is empty: there is no image to register",
                           correction="upload the file again (it may not have arrived)")
    for offset, magic, what, command in _NOT_RAW:
        if head[offset:offset + len(magic)] == magic:
            raise InvalidInput("PATH", path, f"is {what}; LINSTOR disks hold raw data",
                               correction=f"{command.format(path=path)} and register the raw file")
    return real


def _image_disk(image: Image) -> tuple[str, dict[str, str]]:
    """The name (the image's SOURCE) and owner props of ``image``'s disk."""
    if image.id is None:  # only stat's document has none, and stat makes no disk
        raise InvalidInput("IMAGE/ID", "", "is missing")
    return names.image_disk(image.id, image.name), names.image_props(image.id, image.name)


Write = Callable[[str, bool], None]
"""Fills a new disk: ``write(device, zeroed)``, ``zeroed`` saying whether the device reads as
zeros; where it does not, ``write`` leaves no byte of what the storage held before."""


def _new_disk_written(env: Env, action: DriverAction, size_kib: int, write: Write | None) -> str:
    """A new disk for the action's image, filled on the front-end (see ``_fill_on_frontend``),
    or nothing left behind (see ``partial.made_or_nothing``); returns its name."""
    profile = profile_of(action.datastore)
    service = env.service(action.datastore)
    name, props = _image_disk(_image(action))
    made_or_nothing(service, name, props, lambda: service.create(profile, name, size_kib, props, exist_ok=False),
                     lambda _disk: _fill_on_frontend(env, service, action.datastore, name, write))
    return name


def _fill_on_frontend(env: Env, service: DiskService, datastore: Datastore, name: str, write: Write | None) -> None:
    """``write`` the new disk on the front-end node; without ``write`` it is only zeroed, and
    only where its storage hands out old data (thick LVM): a tenant must never read an earlier
    one's. Nothing is attached for a blank disk on zeroed storage; a diskless attach is undone."""
    if write is None and service.starts_zeroed(name):
        return
    node = env.frontend_node(datastore)
    attachment = service.attachment(name, node)
    try:
        if write is None:
            datacopy.zero_device(attachment.device)
        else:
            write(attachment.device, attachment.starts_zeroed)
    finally:
        service.detach(name, node)


def cp(env: Env, action: DriverAction) -> str:
    """Copy a local image file into a new disk of the image's profile."""
    image = _image(action)
    path = _local_image_file(env, action.datastore, image.path)
    _check_digests(image, path)
    size_kib = units.bytes_to_kib(datacopy.size_of(path))
    if image.size_mib:
        size_kib = max(size_kib, size_mib_to_kib(image.size_mib, "IMAGE/SIZE"))
    name = _new_disk_written(env, action, size_kib, lambda device, zeroed: datacopy.copy_into_device(
        path, device, device_is_zeroed=zeroed, progress=env.progress))
    return f"{name} {FORMAT}"


def _check_digests(image: Image, path: str) -> None:
    """The file must hash to the image's MD5 and SHA1 where its template gives them, as
    OpenNebula's downloader checks; checked before any disk is made (one more read of the file,
    only for images that ask for it)."""
    for algorithm, wanted in (("md5", image.md5), ("sha1", image.sha1)):
        if wanted and datacopy.hexdigest_of(path, algorithm) != wanted.strip().lower():
            raise InvalidInput(f"IMAGE/TEMPLATE/{algorithm.upper()}", wanted, f"{path} does not hash to it",
                               correction="upload the file again (it may be truncated) or fix the image's "
                                          f"{algorithm.upper()}")


def mkfs(env: Env, action: DriverAction) -> str:
    """A new empty disk (zeros), formatted when FS asks; ``save_as`` only names it (cpds fills it)."""
    image = _image(action)
    if SAVE_AS in (image.format, image.fstype):
        return _image_disk(image)[0]
    if image.format not in ("", FORMAT):  # oned would set the VM disks' DRIVER to it: qemu reads a raw device as that
        raise InvalidInput("IMAGE/FORMAT", image.format, "LINSTOR disks are raw block devices",
                           correction="create the image with FORMAT=raw, or without FORMAT")
    size_kib = size_mib_to_kib(image.size_mib or "", "IMAGE/SIZE")
    fstype = image.fstype if image.fstype not in ("", FORMAT) else ""
    if fstype:
        filesystems.check_filesystem_type(fstype)
    return _new_disk_written(env, action, size_kib, partial(_formatted, fstype) if fstype else None)


def _formatted(fstype: str, device: str, zeroed: bool) -> None:
    """mkfs writes only its metadata: the rest must read as zeros already."""
    if not zeroed:
        datacopy.zero_device(device)
    filesystems.make_filesystem(device, fstype)


def clone(env: Env, action: DriverAction) -> str:
    """A new image from an existing one (IMAGE/PATH holds the source's SOURCE), grown to SIZE,
    in this datastore's profile (the source may be in another LINSTOR datastore's)."""
    image = _image(action)
    source = image.path or ""
    if not source:
        raise InvalidInput("IMAGE/PATH", "", "names no source image to clone")
    profile = profile_of(action.datastore)
    wanted = size_mib_to_kib(image.size_mib, "IMAGE/SIZE") if image.size_mib else 0
    service = env.service(action.datastore)
    name, props = _image_disk(image)

    def grow(disk: Disk) -> None:
        if wanted > disk.size_kib:
            service.resize(name, wanted)

    made_or_nothing(service, name, props, lambda: service.clone(source, name, props, profile=profile,
                                                                 progress=env.progress), grow)
    return f"{name} {FORMAT}"


def rm(env: Env, action: DriverAction) -> str:
    """Delete the image's disk and its snapshots; a disk already gone is fine."""
    env.service(action.datastore).delete(_source(action), with_snapshots=True)
    return ""


def monitor(env: Env, action: DriverAction) -> str:
    """Space of the datastore's profile, in MiB."""
    capacity = env.service(action.datastore).capacity(profile_of(action.datastore))
    total = capacity.capacity_kib // 1024
    free = capacity.available_size_kib // 1024
    return f"USED_MB={max(total - free, 0)}\nTOTAL_MB={total}\nFREE_MB={free}"


def stat(env: Env, action: DriverAction) -> str:
    """Size in MiB (rounded up) of a file about to be registered."""
    path = _local_image_file(env, action.datastore, _image(action).path)
    return str(-(-datacopy.size_of(path) // _MIB))


def _source(action: DriverAction) -> str:
    source = _image(action).source
    if not source:
        raise InvalidInput("IMAGE/SOURCE", "", "is empty: the image has no LINSTOR resource")
    return source


def _target_snapshot(action: DriverAction) -> str:
    snap = _image(action).target_snapshot
    if snap is None or snap < 0:
        raise InvalidInput("IMAGE/TARGET_SNAPSHOT", snap, "names no snapshot")
    return names.snapshot(snap)


def snap_delete(env: Env, action: DriverAction) -> str:
    """Delete an image snapshot; one already gone is fine (oned may retry)."""
    env.service(action.datastore).delete_snapshot(_source(action), _target_snapshot(action))
    return ""


def snap_revert(env: Env, action: DriverAction) -> str:
    """Roll the image back in place; its other snapshots stay usable."""
    env.service(action.datastore).rollback(_source(action), _target_snapshot(action))
    return ""


def snap_flatten(env: Env, action: DriverAction) -> str:
    """The image becomes the snapshot's data and keeps none of oned's snapshots (what oned
    expects after), whichever snapshot is the target.

    LINSTOR rolls back only to the most recent snapshot, so oned's snapshots taken after the
    target are deleted first: flattening drops them anyway. Everything is checked before the
    first deletion: the target exists, and no snapshot after it is someone else's (one not
    named like oned's, e.g. an operator's backup), which the rollback could not pass and this
    driver must not delete. Snapshots of others taken before the target stay.
    """
    source, snapshot = _source(action), _target_snapshot(action)
    service = env.service(action.datastore)
    newer = service.newer_snapshots(source, snapshot)
    if newer is None:
        raise InvalidInput("IMAGE/TARGET_SNAPSHOT", snapshot, f"image disk {source} has no such snapshot",
                           correction=f"check the image's snapshots (oneimage show; linstor snapshot list -r {source})")
    foreign = [name for name in newer if not names.is_snapshot(name)]
    if foreign:
        raise LinstorError(
            f"cannot flatten image disk {source} to {snapshot}",
            cause=f"LINSTOR rolls back only to the most recent snapshot, and {', '.join(foreign)} "
                  "after it was not made by OpenNebula",
            correction=f"delete or move {', '.join(foreign)} (linstor snapshot delete {source} <name>), then retry",
        )
    if newer:  # the rollback would refuse a disk in use only once they are gone
        service.refuse_if_in_use(source, correction="stop the VMs that use the image, then flatten again; "
                                                    "its snapshots are kept")
    for name in newer:
        service.delete_snapshot(source, name)
    try:
        service.rollback(source, snapshot)
    except LinstorError as error:
        if newer:  # oned keeps every snapshot of a flatten that failed: these it lists are gone
            error.add_note(f"the snapshots after {snapshot} are deleted already ({', '.join(newer)}): "
                           f"delete them in OpenNebula too (oneimage snapshot-delete), then flatten again")
        raise
    for name in service.get(source).snapshots:
        if names.is_snapshot(name):
            service.delete_snapshot(source, name)
    return ""


def export(env: Env, action: DriverAction) -> str:
    """Attach the image on the front-end and tell the marketplace where to read it.

    The marketplace downloads the whole device, which is the registered file rounded up to a
    MiB (and on a DRBD resource whatever LINSTOR gave it), so MD5 and SIZE are the device's:
    the image's own MD5 is that of the file it was registered from. The attachment stays for
    the marketplace to read (DISPOSE=NO: OpenNebula's markets dispose of an IMPORT_SOURCE by
    removing it, which would be the device node); if the export fails before it answers, a
    diskless attachment it made is undone.
    """
    source = _source(action)
    service = env.service(action.datastore)
    node = env.frontend_node(action.datastore)
    attachment = service.attachment(source, node)
    device = attachment.device
    try:
        size_mib = -(-datacopy.size_of(device) // _MIB)
        md5 = datacopy.hexdigest_of(device)
    except OSError as error:
        if attachment.diskless:
            with noted_on(error, f"detaching {source} from {node} again"):
                service.detach(source, node)
        raise
    return (
        "<IMPORT_INFO>"
        f"<IMPORT_SOURCE><![CDATA[{device}]]></IMPORT_SOURCE>"
        f"<MD5><![CDATA[{md5}]]></MD5>"
        f"<SIZE><![CDATA[{size_mib}]]></SIZE>"
        f"<FORMAT><![CDATA[{FORMAT}]]></FORMAT>"
        "<DISPOSE>NO</DISPOSE>"
        "</IMPORT_INFO>"
    )


ACTIONS: dict[str, Callable[[Env, DriverAction], str]] = {
    "cp": cp,
    "mkfs": mkfs,
    "clone": clone,
    "rm": rm,
    "monitor": monitor,
    "stat": stat,
    "snap_delete": snap_delete,
    "snap_revert": snap_revert,
    "snap_flatten": snap_flatten,
    "export": export,
}
