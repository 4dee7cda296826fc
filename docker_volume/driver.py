"""What each Docker volume call does: one ``DiskService`` call plus the mount work on this node.

The driver speaks Python (names, options, caller IDs in; paths and ``VolumeInfo`` out) and
raises ``linstor_core.errors``; :mod:`docker_volume.protocol` turns both into Docker's JSON.

Promises Docker relies on:

* Create is idempotent for the same name and options, and refuses the same name with others.
* The first Mount attaches the disk on this node (diskless when no replica is here), makes the
  filesystem if it is not made yet (below), and mounts it; later Mounts only add a holder. The
  last Unmount unmounts and detaches (a diskful replica stays; the Mount remembered which). Holders survive restarts
  (:class:`~docker_volume.mounts.MountTable`).
* Whether the volume has its filesystem is recorded on it (``Aux/bundle/filesystem``):
  ``pending`` from Create until the first Mount has made it, then the filesystem's type. So a
  volume this plugin made is never probed (a probe of a new device reads it at ~100 places,
  3-7 ms) and never formatted twice, on any node. Only a volume without the record (made by an
  older release or by hand) is probed with blkid, and formatted only when blank. A ``pending``
  volume is formatted again, xfs forced: the first Mount failed after mkfs, nothing used it.
  A mount nobody holds (the plugin was killed after the kernel mounted, before the record was
  stored) gets its record before a container is given it.
* A first Mount that fails anywhere (mkfs, which gets ``MKFS_TIMEOUT``, the mount, the mount
  point, saving the holder) detaches again and leaves no holder: Docker sends no Unmount for it.
* Remove refuses while a container holds the volume; removing a missing volume is done.
* Calls for one volume run one at a time; different volumes proceed in parallel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeGuard

from linstor_core import filesystems, naming, units
from linstor_core.errors import (
    AlreadyExists, ApiError, InvalidInput, LinstorError, NotFound, StorageError, noted_on,
)
from linstor_core.models import Attachment, Disk, SelectFilter
from linstor_core.runner import TIMED_OUT, Runner, run

from docker_volume.mounts import MountTable
from docker_volume.names import PLATFORM, check_volume_name, resource_name
from docker_volume.options import PLACEMENT_OPTIONS, VolumeOptions, parse_options

log = logging.getLogger(__name__)

PROP_CREATED_AT = naming.PROP_PREFIX + "created-at"
PROP_FILESYSTEM = naming.PROP_PREFIX + "filesystem"
FILESYSTEM_PENDING = "pending"
MKFS_TIMEOUT = 90.0
"""Seconds a first Mount gives mkfs. dockerd gives up on a Mount after 2 minutes and never
sends its Unmount, so a Mount finishing later would hold the volume for a container that does
not exist; past this the Mount fails and cleans up instead, saying how to make mkfs quicker."""


class Disks(Protocol):
    """The part of ``linstor_core.disks.DiskService`` this plugin uses (a fake in unit tests)."""

    def create(
        self, profile: str, name: str, size_kib: int, props: Mapping[str, str] = ..., *,
        select_filter: SelectFilter | None = ...,
    ) -> Disk: ...
    def get(self, name: str) -> Disk: ...
    def list(self, owner_props: Mapping[str, str] = ..., *, placement: bool = ...) -> list[Disk]: ...
    def definition(self, name: str) -> Disk | None: ...
    def attachment(
        self, name: str, node: str, *, accept: Callable[[Disk | None], object] | None = ...,
    ) -> Attachment: ...
    def detach(self, name: str, node: str) -> None: ...
    def set_props(self, name: str, override: Mapping[str, str] = ..., delete: Sequence[str] = ...) -> None: ...
    def delete(self, name: str, *, with_snapshots: bool = False) -> None: ...


@dataclass(frozen=True)
class VolumeInfo:
    """What Get and List report: ``mountpoint`` is empty unless the volume is mounted here."""

    name: str
    mountpoint: str
    created_at: str = ""
    status: Mapping[str, Any] = field(default_factory=dict)


class _VolumeLocks:
    """One lock per volume name, so Mount and Unmount of one volume never interleave."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            yield


class VolumeDriver:
    """The Docker volume calls for node ``node``. No I/O in the constructor."""

    def __init__(
        self,
        disks: Disks,
        mounts: MountTable,
        *,
        node: str,
        default_profile: str,
        runner: Runner = run,
        mounter: filesystems.Mounter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``runner`` runs mkfs and blkid; ``mounter`` mounts (default: libmount in-process)."""
        self._disks = disks
        self._mounts = mounts
        self._node = naming.validate_node_name(node)
        self._default_profile = default_profile
        self._runner = runner
        self._mounter = mounter
        self._clock = clock
        self._locks = _VolumeLocks()
        # Threads start on the first submit: the filesystem record is sent while the kernel mounts.
        self._recorder = ThreadPoolExecutor(max_workers=4, thread_name_prefix="linstor-fs-record")

    def create(self, name: str, opts: object) -> None:
        """Create volume ``name`` from Docker's ``Opts``: everything checked, then one spawn.

        ``replicas``, ``storagepool`` and ``nodes`` override the profile's placement for this
        volume only (a select filter on the spawn); the profile keeps the rest.
        The spawn is idempotent for the same profile and size, so asking again returns the
        existing volume; its recorded options must then match, or the error names each
        difference (read back only on that path, so a new volume costs one REST call).
        """
        rd = resource_name(name)
        options = parse_options(opts, default_profile=self._default_profile)
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock()))
        props = {
            **naming.owner_props(PLATFORM, None, name, **{"created-at": created, "filesystem": FILESYSTEM_PENDING}),
            **options.to_props(),
        }
        with self._locks.hold(name):
            try:
                disk = self._disks.create(
                    options.profile, rd, options.size_kib, props=props, select_filter=options.select_filter()
                )
            except AlreadyExists:
                existing = self._find(name, rd)
                if existing is None:  # a definition that is not this volume's
                    raise
                # This volume, its size changed in LINSTOR since (the recorded options are what was asked).
                self._check_same(name, VolumeOptions.from_props(existing.props), options)
                return
            except ApiError as error:  # LINSTOR's placement refusal names neither the node nor the pool
                placement = {key: value for key, value in options.to_docker_opts().items()
                             if key in PLACEMENT_OPTIONS}
                if placement:
                    error.add_note("asked with " + " ".join(f"-o {key}={value}" for key, value in placement.items())
                                   + ": check the names with linstor node list / linstor storage-pool list")
                raise
            self._check_owner(name, rd, disk)
            self._check_same(name, VolumeOptions.from_props(disk.props), options)

    def remove(self, name: str) -> None:
        """Delete volume ``name``; refused while mounted by a container, done if already gone."""
        rd = resource_name(name)
        with self._locks.hold(name):
            holders = self._mounts.holders(name)
            if holders:
                raise LinstorError(
                    f"volume {name} is in use by {len(holders)} container(s)",
                    cause=f"mounted at {self._mounts.mountpoint(name)}",
                    correction="stop and remove the containers that use it first",
                )
            if self._find(name, rd) is None:
                return
            self._unmount(name)
            self._disks.delete(rd)
            _remove_directory(self._mounts.mountpoint(name))

    def mount(self, name: str, caller: str) -> str:
        """Mount ``name`` for container ``caller``; return the mount point."""
        rd = resource_name(name)
        caller = _check_caller(caller)
        with self._locks.hold(name):
            if not self._mounts.is_mounted(name):
                attachment = self._mount_here(name, rd)
                try:
                    self._mounts.add(name, caller, keeps_attached=not attachment.diskless)
                except Exception as error:  # not recorded (a full disk): Docker will send no Unmount
                    with noted_on(error, f"unmounting {name} again"):
                        self._release(name, rd, detach=attachment.diskless)
                    raise
            else:
                if not self._mounts.holders(name):
                    self._record_made_filesystem(name, rd)
                self._mounts.add(name, caller)
            return str(self._mounts.mountpoint(name))

    def unmount(self, name: str, caller: str) -> None:
        """Drop ``caller``'s hold; the last holder's Unmount unmounts and detaches."""
        rd = resource_name(name)
        caller = _check_caller(caller)
        with self._locks.hold(name):
            keeps_attached = self._mounts.keeps_attached(name)
            if not self._mounts.remove(name, caller):
                self._release(name, rd, detach=not keeps_attached)

    def detach_released(self, names: list[str]) -> None:
        """At start: detach the volumes :meth:`MountTable.load` forgot (see ``released``), each
        under its lock; a refusal or an unreachable controller is logged, not fatal (the next
        Mount and Unmount of the volume detach it then)."""
        for name in names:
            with self._locks.hold(name):
                if self._mounts.holders(name):
                    continue  # Mounted again since start
                try:
                    self._disks.detach(resource_name(name), self._node)
                except LinstorError as error:
                    log.warning("volume %s: could not detach it after the restart: %s", name, error.one_line())

    def path(self, name: str) -> str:
        """The mount point while ``name`` is mounted here, else an empty string."""
        return self._mountpoint_if_mounted(check_volume_name(name))

    def get(self, name: str) -> VolumeInfo:
        """Volume ``name`` with its creation time and a status Docker shows in ``inspect``."""
        rd = resource_name(name)
        try:
            disk = self._disks.get(rd)
        except NotFound:
            raise _missing(name, rd) from None
        self._check_owner(name, rd, disk)
        return self._info(disk)

    def list(self) -> list[VolumeInfo]:
        """This plugin's volumes only: one filtered listing of definitions on the controller."""
        disks = self._disks.list(naming.owner_filter(PLATFORM), placement=False)
        return [
            VolumeInfo(name=name, mountpoint=self._mountpoint_if_mounted(name))
            for name in (disk.props.get(naming.PROP_OWNER_NAME) for disk in disks)
            if name
        ]

    def _find(self, name: str, rd: str) -> Disk | None:
        """The disk holding volume ``name``, or None: one GET of ``rd``, whose owner props must
        name this volume, so a definition that is not its (made by hand, or its case twin:
        LINSTOR names ignore case) is never used. A GET costs the same with 10 volumes or
        10,000, where a listing filtered on the owner props reads every definition."""
        disk = self._disks.definition(rd)
        return disk if _holds(disk, name) else None

    @staticmethod
    def _check_owner(name: str, rd: str, disk: Disk) -> None:
        """Refuse a definition that is not this Docker volume's (made by hand, or a case twin)."""
        owner = _owner(disk)
        if owner != (PLATFORM, name):
            raise LinstorError(
                f"resource definition {rd} does not hold Docker volume {name}",
                cause=f"it belongs to {owner[0] or 'no platform'} {owner[1] or ''}".rstrip()
                + " (LINSTOR names ignore case)",
                correction="choose another volume name",
            )

    def _own(self, name: str, rd: str) -> Disk:
        return _owned(name, rd, self._disks.definition(rd))

    def _mountpoint_if_mounted(self, name: str) -> str:
        return str(self._mounts.mountpoint(name)) if self._mounts.is_mounted(name) else ""

    @staticmethod
    def _check_same(name: str, existing: VolumeOptions, asked: VolumeOptions) -> None:
        differences = existing.differences(asked)
        if differences:
            raise InvalidInput(
                "Opts", name, "the volume exists with other options: " + "; ".join(differences),
                correction="create it with the same options, or choose another name",
            )

    def _mount_here(self, name: str, rd: str) -> Attachment:
        """Attach, make the filesystem if it is not made yet, mount; detach again if any step fails.

        The definition, whose owner must be this volume and whose properties say what to make
        and how to mount, is read alongside the resources (``accept``): a Mount waits for one
        round trip to the controller before mkfs, not two. A definition that is not this
        volume's is refused before anything is attached, and then nothing is detached either.
        """
        owned: list[Disk] = []
        try:
            attachment = self._disks.attachment(
                rd, self._node, accept=lambda disk: owned.append(_owned(name, rd, disk)))
            props = owned[0].props
            options = VolumeOptions.from_props(props)
            device = attachment.device
            recording = None
            recorded = props.get(PROP_FILESYSTEM)
            if self._needs_filesystem(device, recorded):
                log.info("making %s on %s for volume %s", options.fs, device, name)
                self._make_filesystem(device, options, overwrite=recorded == FILESYSTEM_PENDING)
                recording = self._recorder.submit(self._disks.set_props, rd, override={PROP_FILESYSTEM: options.fs})
            self._mount_awaiting(recording, name, device, options)
            log.info("volume %s: mounted %s at %s", name, device, self._mounts.mountpoint(name))
        except Exception as error:  # an OSError (the mount root) as much as a LinstorError
            if owned:  # this volume's: undo what this Mount may have attached
                with noted_on(error, f"detaching {rd} again"):
                    self._disks.detach(rd, self._node)
            raise
        return attachment

    def _make_filesystem(self, device: str, options: VolumeOptions, *, overwrite: bool) -> None:
        """mkfs within ``MKFS_TIMEOUT``. ``overwrite``: the volume is still ``pending``, so what
        may be on it is this plugin's own filesystem from a first Mount that failed after mkfs,
        never used; mkfs.xfs would refuse to replace it."""
        try:
            filesystems.make_filesystem(device, options.fs, options.fsopts, runner=self._runner,
                                        overwrite=overwrite, timeout=MKFS_TIMEOUT)
        except StorageError as error:
            if error.returncode != TIMED_OUT:
                raise
            raise StorageError(
                error.argv, error.returncode,
                f"mkfs.{options.fs} did not finish within {MKFS_TIMEOUT:g} s, and Docker gives up on a Mount "
                "after 2 minutes",
                correction="check how fast this node writes to the volume (a diskless attach writes over the "
                           "network, a resync slows every write), then mount again; or create the volume smaller",
            ) from None


    def _mount_awaiting(
        self, recording: Future[None] | None, name: str, device: str, options: VolumeOptions
    ) -> None:
        """Mount; with ``recording`` (the filesystem record on its way to LINSTOR, sent while the
        kernel mounts: both wait on I/O), return only once it is stored, unmounting again if it
        failed. The next Mount then formats again, which loses nothing: no container has
        written yet. A mount that fails still waits for the record, which is then true anyway.
        """
        target = str(self._mounts.mountpoint(name))
        try:
            filesystems.mount(device, target, options.mountopts, fstype=options.fs, mounter=self._mounter)
        except StorageError as error:
            if options.mountopts:
                error.add_note(f"the mount options {','.join(options.mountopts)} are this volume's -o mountopts, "
                               "fixed at its Create: if they are wrong, remove the volume and create it again "
                               "with the right ones")
            raise
        finally:
            failed = recording.exception() if recording is not None else None
        if failed is not None:
            filesystems.unmount(target, mounter=self._mounter, mountinfo=self._mounts.mountinfo)
            raise failed

    def _record_made_filesystem(self, name: str, rd: str) -> None:
        """Before a mount nobody holds is handed out (a plugin killed during the first Mount,
        after the kernel mounted and before the filesystem record was stored, leaves one):
        store the record if it still says ``pending``. The mount proves mkfs finished; without
        the record, the Mount after this holder's last Unmount would format the volume again
        over what its containers wrote."""
        props = self._own(name, rd).props
        if props.get(PROP_FILESYSTEM) == FILESYSTEM_PENDING:
            fs = VolumeOptions.from_props(props).fs
            log.warning("volume %s: mounted but its filesystem not recorded (the plugin stopped during "
                        "its first Mount); recording %s", name, fs)
            self._disks.set_props(rd, override={PROP_FILESYSTEM: fs})

    def _needs_filesystem(self, device: str, recorded: str | None) -> bool:
        """Whether to format: the volume's record says so; without one, only a blank device.

        ``pending`` also after a crash between mkfs and the mount: nothing was mounted, so
        nothing written, and formatting again loses nothing. A crash after the mount, before
        the record was stored, leaves a mount without holders: the Mount that takes it over
        stores the record first (``_record_made_filesystem``).
        """
        if recorded is not None:
            return recorded == FILESYSTEM_PENDING
        return not filesystems.has_filesystem(device, runner=self._runner)

    def _release(self, name: str, rd: str, *, detach: bool) -> None:
        """Unmount (if mounted) and, unless this node's resource holds the data, detach.

        Both are no-ops when already done. ``detach`` is True when this plugin does not know
        (mounted by an older release, or before a restart without the record): LINSTOR is asked.
        """
        log.info("volume %s: no holder left, unmounting%s %s", name, " and detaching" if detach else "", rd)
        self._unmount(name)
        if detach:
            self._disks.detach(rd, self._node)

    def _unmount(self, name: str) -> None:
        filesystems.unmount(
            str(self._mounts.mountpoint(name)), mounter=self._mounter, mountinfo=self._mounts.mountinfo
        )

    def _info(self, disk: Disk) -> VolumeInfo:
        name = disk.props[naming.PROP_OWNER_NAME]
        mounted = self._mounts.is_mounted(name)
        return VolumeInfo(
            name=name,
            mountpoint=self._mountpoint_if_mounted(name),
            created_at=disk.props.get(PROP_CREATED_AT, ""),
            status={
                "resource": disk.name,
                "profile": disk.profile,
                "size": units.format_kib(disk.size_kib),
                "replicas": list(disk.nodes),
                "diskless": list(disk.diskless_nodes),
                "mounted": mounted,
                "holders": len(self._mounts.holders(name)),
            },
        )


def _owner(disk: Disk) -> tuple[str | None, str | None]:
    """(platform, owner name) recorded on ``disk``: ``("docker", volume)`` for this plugin's."""
    return disk.props.get(naming.PROP_PLATFORM), disk.props.get(naming.PROP_OWNER_NAME)


def _holds(disk: Disk | None, name: str) -> TypeGuard[Disk]:
    """Whether ``disk`` is Docker volume ``name``'s (its owner props say so), not a definition
    made by hand or the case twin's (LINSTOR names ignore case)."""
    return disk is not None and _owner(disk) == (PLATFORM, name)


def _owned(name: str, rd: str, disk: Disk | None) -> Disk:
    """``disk`` when it is volume ``name``'s; else the volume does not exist."""
    if not _holds(disk, name):
        raise _missing(name, rd)
    return disk


def _missing(name: str, rd: str) -> LinstorError:
    return LinstorError(f"volume {name} does not exist", cause=f"no resource definition {rd} for it")


def _remove_directory(directory: Path) -> None:
    """Tidy the empty mount point away; one holding files (written while unmounted) stays."""
    try:
        directory.rmdir()
    except FileNotFoundError:
        pass
    except OSError as error:
        log.warning("left %s in place: %s", directory, error)


def _check_caller(caller: object) -> str:
    if not isinstance(caller, str) or not caller:
        raise InvalidInput("ID", caller, "Docker sends the container's ID with Mount and Unmount")
    return caller


__all__ = ["Disks", "VolumeInfo", "VolumeDriver"]
