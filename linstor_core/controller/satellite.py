"""The storage side of a node: volumes as files (and loop devices) in a pool directory.

The controller decides *what* exists; the satellite makes it so on disk and is the only code that
touches pool directories (their layout: ``providers/layout.py``; how each kind stores data: the
providers).

Promises: a failed operation leaves nothing half-made: new data is built in a ``.tmp`` file and
renamed into place, and a file whose loop device could not be attached is removed again.
Removals are idempotent (done already when the file is missing). Creations always make fresh
storage: the controller asks for a volume or snapshot only for a record it has not committed
yet, so a file already there under that name belongs to no record (a clean-up that failed, a
killed request) and is replaced, never taken over, because its bytes are someone else's data.
A committed volume's device is found again with ``device_path``. What a crash leaves behind is
removed by ``reconcile``, which touches only the controller's files: those a record knows and
those noted in ``made-files.jsonl`` in the state directory as they were made (see
``layout.MadeFiles``); an operator's files in a pool directory are left alone. Loop devices
are looked up in the kernel (``loopdev.LoopDevices``, by default its ioctls and sysfs), never
remembered.

DISKLESS pools store nothing: every data operation on them succeeds and touches nothing, and
the device a volume "gets" is ``"none"`` (DRBD's word for a diskless volume; the real device is
the DRBD layer's ``/dev/drbdN``).

Calls on one ``Satellite`` are serialised by a lock: the controller serves requests from several
threads, and ``reconcile`` must never see another call's file mid-way.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

from linstor_core import datacopy
from linstor_core.controller.loopdev import LOOP_CONTROL, KernelLoops, LoopDevice, LoopDevices, storage_error
from linstor_core.controller.oserrors import os_errors
from linstor_core.controller.providers import (
    SupportsBackingFile,
    SupportsReflinkClone,
    SupportsSnapshots,
    provider_for,
)
from linstor_core.controller.providers.layout import (MadeFiles, PoolLayout, fsync_path, is_ours, replaced_of,
                                                      staged, temp_of, volume_name)
from linstor_core.controller.providers.modes import make_dirs
from linstor_core.errors import InvalidInput, StorageError, noted_on

log = logging.getLogger(__name__)

DISKLESS_DEVICE = "none"
# Re-attaching a loop device at the path it had can race a udev probe that still holds it.
_REATTACH_TRIES = 5
_REATTACH_PAUSE = 0.05


@dataclass(frozen=True)
class PoolSpec:
    """A storage pool on a node: ``kind`` FILE_THIN, FILE or DISKLESS; ``directory`` None
    means the default ``<state_dir>/nodes/<node>/pools/<name>``."""

    node: str
    name: str
    kind: str
    directory: Path | None = None


@dataclass(frozen=True)
class VolumeSpec:
    """Volume ``volume_number`` of ``resource``, ``size_kib`` KiB (checked when it is used)."""

    resource: str
    volume_number: int
    size_kib: int

    @property
    def volume_name(self) -> str:
        """``<resource>_<volume_number:05d>``; ``InvalidInput`` for names LINSTOR refuses."""
        return volume_name(self.resource, self.volume_number)


def loops_available() -> bool:
    """Loop devices need root and the loop-control device (absent in some containers)."""
    return os.geteuid() == 0 and LOOP_CONTROL.exists()


class Satellite:
    """Executes volume operations on the local node's pools (see the module docstring).

    ``loops``: the host's loop devices (default: the kernel's); ``use_loop``: whether volumes
    get loop devices at all (default: when root and possible).
    """

    def __init__(self, state_dir: Path, *, loops: LoopDevices | None = None, use_loop: bool | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.loops: LoopDevices = loops if loops is not None else KernelLoops()
        self._use_loop = use_loop
        self._lock = threading.RLock()
        self._reflink_lock = threading.Lock()
        self._reflink: dict[Path, bool] = {}
        self.made_files = MadeFiles(self.state_dir / "made-files.jsonl")

    @cached_property
    def use_loop(self) -> bool:
        """Whether volumes are attached as loop devices (default: when root and possible)."""
        return loops_available() if self._use_loop is None else self._use_loop

    # -- pools -------------------------------------------------------------------------------

    def pool_directory(self, pool: PoolSpec) -> Path:
        """The absolute, symlink-free directory of ``pool`` (as the kernel names loop files)."""
        if pool.directory is not None:
            return Path(os.path.realpath(pool.directory))
        default = self.state_dir / "nodes" / pool.node / "pools" / pool.name
        return Path(os.path.realpath(default))

    def check_pool(self, pool: PoolSpec) -> None:
        """Refuse an unknown kind or an unusable directory; creates the directory if missing."""
        if not isinstance(provider_for(pool.kind), SupportsBackingFile):
            return
        directory = self.pool_directory(pool)
        field = "StorDriver/FileDir"
        try:
            make_dirs(directory)
        except OSError as error:
            raise InvalidInput(field, str(directory), f"cannot create it: {error.strerror}") from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise InvalidInput(field, str(directory), "is not writable by the controller")
        with self._reflink_lock:
            self._reflink.pop(directory, None)

    def capacity(self, pool: PoolSpec) -> tuple[int, int]:
        """``(free_kib, total_kib)`` of the pool's filesystem; ``(0, 0)`` for DISKLESS.

        Free is what an unprivileged writer may still use (``f_bavail``), as ``df`` shows it.
        """
        if not isinstance(provider_for(pool.kind), SupportsBackingFile):
            return 0, 0
        directory = self._existing_directory(pool)
        try:
            stats = os.statvfs(directory)
        except OSError as error:
            raise storage_error(["statvfs", str(directory)], error,
                                f"check the filesystem of pool {pool.name} on {pool.node}") from None
        return stats.f_bavail * stats.f_frsize // 1024, stats.f_blocks * stats.f_frsize // 1024

    def supports_reflink(self, pool: PoolSpec) -> bool:
        """True if snapshots and clones in this pool are reflinks (FILE_THIN on xfs/btrfs).

        Probed once per pool directory and remembered (a mounted filesystem does not gain or
        lose reflinks); ``check_pool`` (pool create) probes again. It does not take the
        satellite's lock, so a long full copy does not hold up ``GET`` of the pools.
        """
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsReflinkClone):
            return False
        directory = self._existing_directory(pool)
        with self._reflink_lock:
            known = self._reflink.get(directory)
            if known is None:
                known = self._reflink[directory] = provider.can_reflink(directory)
            return known

    # -- volumes -----------------------------------------------------------------------------

    def create_volume(self, pool: PoolSpec, vol: VolumeSpec) -> str:
        """Make the volume, fresh, and return its device; a leftover file of that name (module
        docstring) is replaced, its loop devices detached first (``StorageError`` if in use)."""
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsBackingFile):
            return DISKLESS_DEVICE
        size = _size_bytes(vol)
        with self._lock:
            image = self._layout(pool).volume(vol.volume_name)
            with self._fresh(pool, image, ["allocate", str(image)]) as temp:
                provider.allocate(temp, size)
            return self._expose_new(pool, image)

    def delete_volume(self, pool: PoolSpec, vol_name: str) -> None:
        """Detach and remove the volume; done already if it is missing. Snapshots stay.

        A volume in use (mounted, held by DRBD) is refused with ``StorageError``.
        """
        if not isinstance(provider_for(pool.kind), SupportsBackingFile):
            return
        with self._lock:
            image = self._layout(pool).volume(vol_name)
            devices = self._loops_of(image)
            self._refuse_busy(devices, vol_name, "deleted")
            for device in devices:
                self.loops.detach(device.name)
            self._remove_made(image)
            temp_of(image).unlink(missing_ok=True)
            replaced_of(image).unlink(missing_ok=True)

    def device_path(self, pool: PoolSpec, vol_name: str) -> str:
        """The volume's device; attaches its loop device again if it went missing (a reboot)."""
        if not isinstance(provider_for(pool.kind), SupportsBackingFile):
            return DISKLESS_DEVICE
        with self._lock:
            image = self._existing_image(pool, vol_name)
            return self._expose(image)

    def resize_volume(self, pool: PoolSpec, vol: VolumeSpec | str, new_size_kib: int) -> None:
        """Grow the volume to ``new_size_kib`` and make its loop device see the new size; a
        grow that fails (a full pool, or a loop device that cannot see the new size:
        ``StorageError``) leaves the file at the size it had, so replicas keep one size. The
        new size is on stable storage before this returns: the caller commits it next.

        Shrinking is refused (``InvalidInput``): it would cut off a filesystem's tail.
        """
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsBackingFile):
            return
        name = vol.volume_name if isinstance(vol, VolumeSpec) else vol
        size = _positive_kib(new_size_kib) * 1024
        with self._lock:
            image = self._existing_image(pool, name)
            current = image.stat().st_size
            if size < current:
                raise InvalidInput(
                    "size", f"{new_size_kib} KiB",
                    f"volume {name} has {current // 1024} KiB; shrinking is refused",
                )
            if size == current:
                self._refresh_size(image)
                return
            try:
                with self._os_errors(pool, ["grow", str(image), str(size)]):
                    provider.grow(image, size)
                    fsync_path(image)
                self._refresh_size(image)
            except StorageError as error:
                with noted_on(error, f"cutting {image} back to {current} bytes"), \
                        self._os_errors(pool, ["truncate", str(image), str(current)]):
                    if image.stat().st_size != current:
                        os.truncate(image, current)
                    self._refresh_size(image)
                raise

    def undo_grow(self, pool: PoolSpec, vol_name: str, old_size_kib: int) -> bool:
        """Cut the volume back to ``old_size_kib``, the size it had before a ``resize_volume``
        whose change was not committed: the undo when another replica could not grow, and at
        start-up after a crash between the grow and the commit. True if it was larger; a
        missing file (the resize failed on it already) has nothing to cut.

        Only for that: no one has written past the old end yet, since the larger size was never
        committed (the resize never answered), so nothing is lost; as a general shrink it would
        cut off data.
        """
        if not isinstance(provider_for(pool.kind), SupportsBackingFile):
            return False
        size = _positive_kib(old_size_kib) * 1024
        with self._lock:
            image = self._layout(pool).volume(vol_name)
            if not image.exists() or image.stat().st_size <= size:
                return False  # registered before each replica's grow: not every one got to it
            with self._os_errors(pool, ["truncate", str(image), str(size)]):
                os.truncate(image, size)
            self._refresh_size(image)
            return True

    def volume_bytes(self, pool: PoolSpec, vol_name: str) -> int | None:
        """The size of the volume's file; None in a pool that stores nothing (DISKLESS)."""
        if not isinstance(provider_for(pool.kind), SupportsBackingFile):
            return None
        with self._lock:
            image = self._existing_image(pool, vol_name)
            with self._os_errors(pool, ["stat", str(image)]):
                return image.stat().st_size

    def _refresh_size(self, image: Path) -> None:
        for device in self._loops_of(image):
            self.loops.refresh_size(device.name)

    # -- snapshots, rollback, restore, clone -------------------------------------------------

    def snapshot_volume(self, pool: PoolSpec, vol_name: str, snapshot: str) -> None:
        """Freeze the volume's current data as ``snapshot``; a leftover snapshot file of that
        name (module docstring) is replaced.

        FILE_THIN needs a reflink filesystem (``StorageError`` naming the filesystem otherwise);
        FILE makes a full copy.
        """
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsSnapshots):
            return
        with self._lock:
            image = self._existing_image(pool, vol_name)
            target = self._layout(pool).snapshot(vol_name, snapshot)
            self._flush(image)
            with self._fresh(pool, target, ["copy", str(image), str(target)]) as temp:
                provider.copy_data(image, temp)

    def delete_snapshot(self, pool: PoolSpec, vol_name: str, snapshot: str) -> None:
        """Remove the snapshot; done already if it is missing."""
        if not isinstance(provider_for(pool.kind), SupportsSnapshots):
            return
        with self._lock:
            target = self._layout(pool).snapshot(vol_name, snapshot)
            self._remove_made(target)
            temp_of(target).unlink(missing_ok=True)

    def rollback_volume(self, pool: PoolSpec, vol_name: str, snapshot: str) -> str:
        """Make the volume's data the snapshot's; returns the device, kept at the same path.

        The data is switched by renaming a copy over the volume file (atomic), then the loop
        device is re-pointed at the new file. Only if another process grabbed that loop device
        in between does the path change, and the returned path says so. A volume in use (mounted,
        held by DRBD) is refused with ``StorageError`` before anything changes, and a copy that
        fails (a full pool) changes nothing either.

        The data it replaced stays (a hard link, ``layout.replaced_of``: no copy, no space
        beyond what the old file held) until ``commit_rollback`` drops it or
        ``undo_rollback`` puts it back, so a rollback of several replicas can be all or none.
        """
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsSnapshots):
            return DISKLESS_DEVICE
        with self._lock:
            image = self._existing_image(pool, vol_name)
            kept = replaced_of(image)
            # One found now is an earlier rollback's whose clean-up failed: removed before anything
            # here can fail, so that undoing this rollback never puts that older data back.
            with self._os_errors(pool, ["unlink", str(kept)]):
                kept.unlink(missing_ok=True)
            source = self._existing_snapshot(pool, vol_name, snapshot)
            devices = self._loops_of(image)
            self._refuse_busy(devices, vol_name, "rolled back")
            with self._os_errors(pool, ["link", str(image), str(kept)]):
                os.link(image, kept)
            replaced = kept.stat().st_ino
            try:
                with self._os_errors(pool, ["copy", str(source), str(image)]), staged(image) as temp:
                    provider.copy_data(source, temp)
            except BaseException as error:
                with noted_on(error, f"putting the data of {vol_name} back"), \
                        self._os_errors(pool, ["rename", str(kept), str(image)]):
                    _drop_or_put_back(image, kept, replaced)
                raise
            return self._reattached(image, devices)

    def undo_rollback(self, pool: PoolSpec, vol_name: str) -> str:
        """Give the volume back the data ``rollback_volume`` replaced, and return its device
        (re-pointed at that data, at the same path where possible): the undo when another
        replica could not be rolled back. Nothing kept (that rollback changed nothing): the
        volume's device as it is.
        """
        if not isinstance(provider_for(pool.kind), SupportsSnapshots):
            return DISKLESS_DEVICE
        with self._lock:
            image = self._existing_image(pool, vol_name)
            kept = replaced_of(image)
            if not kept.exists():
                return self._expose(image)
            with self._os_errors(pool, ["rename", str(kept), str(image)]):
                os.replace(kept, image)
            # Every device over this path now serves the rolled-back data, which no path reaches.
            stale = [d for d in self.loops.attached() if d.back_file == str(image)] if self.use_loop else []
            return self._reattached(image, stale)

    def commit_rollback(self, pool: PoolSpec, vol_name: str) -> None:
        """Drop the data ``rollback_volume`` replaced: the rollback stands on every replica."""
        if not isinstance(provider_for(pool.kind), SupportsSnapshots):
            return
        with self._lock:
            kept = replaced_of(self._layout(pool).volume(vol_name))
            with self._os_errors(pool, ["unlink", str(kept)]):
                kept.unlink(missing_ok=True)

    def restore_volume(self, pool: PoolSpec, src_vol_name: str, snapshot: str, dst: VolumeSpec) -> str:
        """Make the new volume ``dst`` from a snapshot (a leftover of its name is replaced, as
        by ``create_volume``); returns its device.

        ``dst`` may be larger than the snapshot (it is grown), never smaller.
        """
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsSnapshots):
            return DISKLESS_DEVICE
        with self._lock:
            source = self._existing_snapshot(pool, src_vol_name, snapshot)
            return self._create_from(pool, source, dst, partial(_copy_and_grow, provider, source))

    def clone_volume(self, pool: PoolSpec, src_vol_name: str, dst: VolumeSpec) -> str:
        """Make the new volume ``dst`` as a copy of a volume (reflink in FILE_THIN pools); a
        leftover of its name is replaced, as by ``create_volume``."""
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsSnapshots):
            return DISKLESS_DEVICE
        with self._lock:
            source = self._existing_image(pool, src_vol_name)
            self._flush(source)
            return self._create_from(pool, source, dst, partial(_copy_and_grow, provider, source))

    def copy_volume(self, src_pool: PoolSpec, src_vol_name: str, pool: PoolSpec, dst: VolumeSpec) -> str:
        """Make the new volume ``dst`` in ``pool`` as a copy of a volume of another pool on this
        node (a clone into a resource group whose pools differ); returns its device.

        The new file is made as ``pool`` makes its files (every block reserved in FILE, sparse in
        FILE_THIN) and the data written into it, all-zero chunks skipped, since the new file
        reads as zeros already: a clone into a thick pool is thick, into a thin one thin. A
        leftover of its name is replaced, as by ``create_volume``.
        """
        provider = provider_for(pool.kind)
        if not isinstance(provider, SupportsBackingFile):
            return DISKLESS_DEVICE
        with self._lock:
            source = self._existing_image(src_pool, src_vol_name)
            self._flush(source)
            return self._create_from(pool, source, dst, partial(_allocate_and_write, provider, source))

    # -- crash recovery ----------------------------------------------------------------------

    def reconcile(self, pool: PoolSpec, volumes: set[str], snapshots: set[tuple[str, str]]) -> list[str]:
        """Make the pool match the controller's records; returns one line per repair.

        ``volumes`` are the volume names that should exist, ``snapshots`` the
        ``(volume name, snapshot name)`` pairs. Only the controller's files are touched (module
        docstring). Removed: their temp files, volume and snapshot files the satellite made
        that are not in those sets, loop devices over such files and over known volumes
        replaced or deleted meanwhile, a second loop device over the same volume. Re-attached:
        known volumes without a loop device. A known volume without its file cannot be made
        up again and is reported.
        """
        if not isinstance(provider_for(pool.kind), SupportsBackingFile):
            return []
        with self._lock:
            directory = self.pool_directory(pool)
            if not directory.is_dir():
                return [f"volume {name}: pool directory {directory} is missing" for name in sorted(volumes)]
            layout = PoolLayout(directory)
            made = self.made_files.made_in(directory)
            lines = self._detach_strays(layout, volumes, layout.known_files(volumes, snapshots) | made)
            for what, path in layout.strays(volumes, snapshots, made):
                path.unlink(missing_ok=True)
                if path.name in made:
                    self.made_files.removed(path)
                lines.append(f"removed {what} {path}")
            lines += self._restore_volumes(layout, volumes)
            return lines

    def _detach_strays(self, layout: PoolLayout, volumes: set[str], ours: set[str]) -> list[str]:
        """Detach loop devices over our files (``is_ours`` of ``ours``) except one live device
        per known volume; loop devices over anyone else's files are theirs."""
        if not self.use_loop:
            return []
        wanted = {str(layout.volume(name)) for name in volumes}
        lines, seen = [], set()
        for device in self.loops.attached():
            back = Path(device.back_file)
            if back.parent != layout.directory or not is_ours(back.name, ours):
                continue
            if device.back_file in wanted and not device.deleted and device.back_file not in seen:
                seen.add(device.back_file)
                continue
            self.loops.detach(device.name)
            why = "deleted file" if device.deleted else "duplicate" if device.back_file in seen else "unknown file"
            lines.append(f"detached loop device {device.name} of {why} {device.back_file}")
        return lines

    def _restore_volumes(self, layout: PoolLayout, volumes: set[str]) -> list[str]:
        """Attach known volumes that have no loop device; report those whose file is gone."""
        lines = []
        attached = set()
        if self.use_loop:
            attached = {d.back_file for d in self.loops.attached() if not d.deleted}
        for name in sorted(volumes):
            image = layout.volume(name)
            if not image.exists():
                lines.append(f"volume {name}: backing file {image} is missing")
            elif self.use_loop and str(image) not in attached:
                lines.append(f"re-attached volume {name} as {self.loops.attach(image)}")
        return lines

    # -- helpers -----------------------------------------------------------------------------

    def _existing_directory(self, pool: PoolSpec) -> Path:
        directory = self.pool_directory(pool)
        if not directory.is_dir():
            raise InvalidInput(
                "StorDriver/FileDir", str(directory), f"directory of pool {pool.name} on {pool.node} is missing",
                correction="create the directory or the storage pool again",
            )
        return directory

    def _layout(self, pool: PoolSpec) -> PoolLayout:
        return PoolLayout(self.pool_directory(pool))

    def _existing_image(self, pool: PoolSpec, vol_name: str) -> Path:
        return self._existing(pool, self._layout(pool).volume(vol_name), f"volume {vol_name}")

    def _existing_snapshot(self, pool: PoolSpec, vol_name: str, snapshot: str) -> Path:
        return self._existing(pool, self._layout(pool).snapshot(vol_name, snapshot),
                              f"snapshot {snapshot} of volume {vol_name}")

    def _existing(self, pool: PoolSpec, path: Path, what: str) -> Path:
        """``path``, the file of ``what``; a ``StorageError`` (ENOENT) if it is missing. The
        controller asks only for files its records know, so a missing one is the storage's
        fault (a filesystem not mounted, a file removed by hand), not a bad request."""
        if not path.exists():
            where = f"storage pool '{pool.name}' on node '{pool.node}'"
            raise StorageError(["stat", str(path)], errno.ENOENT,
                               f"the file {path} of {what} is missing ({where})",
                               correction=f"check that the directory {path.parent} of {where} is the "
                                          "one it was (mounted), or delete the resource or snapshot there")
        return path

    def _create_from(self, pool: PoolSpec, source: Path, dst: VolumeSpec, fill: Callable[[Path, int], None]) -> str:
        """Make ``dst`` in ``pool`` from ``source``, never smaller than it: ``fill(temp, size)``
        writes the new file (``_fresh``), whose device is returned."""
        size = _size_bytes(dst)
        image = self._layout(pool).volume(dst.volume_name)
        if size < source.stat().st_size:
            raise InvalidInput("size", f"{dst.size_kib} KiB", f"smaller than the source {source.name}")
        with self._fresh(pool, image, ["copy", str(source), str(image)]) as temp:
            fill(temp, size)
        return self._expose_new(pool, image)

    @contextmanager
    def _fresh(self, pool: PoolSpec, target: Path, argv: Sequence[str]) -> Iterator[Path]:
        """The temp file to build ``target`` in, renamed into place after the body (``staged``):
        a leftover of its name is replaced first (``_remove_leftover``), it is noted as the
        satellite's before it is made (``MadeFiles``), and a pool's OSError is a StorageError
        (``_os_errors``; ``argv`` says what the work is).

        ``staged`` can fail after its rename (the directory's fsync), with ``target`` in place:
        it is removed then, as nothing was made; one that cannot be removed stays noted as the
        satellite's, so a retry replaces it and start-up removes it."""
        self._remove_leftover(pool, target)
        with self.made_files.making(target):
            try:
                with self._os_errors(pool, argv), staged(target) as temp:
                    yield temp
            except BaseException as error:
                with noted_on(error, f"removing {target}"), self._os_errors(pool, ["unlink", str(target)]):
                    target.unlink(missing_ok=True)
                raise

    def _remove_made(self, path: Path) -> None:
        """Remove a file the satellite made, and note that it is gone; done if missing."""
        if path.exists():
            path.unlink()
            self.made_files.removed(path)

    def _remove_leftover(self, pool: PoolSpec, target: Path) -> None:
        """Remove the file no record owns where a new volume or snapshot is to be made, after
        detaching its loop devices; ``StorageError`` (nothing removed) if one is in use, or if
        the satellite did not make that file (it is someone else's, see ``layout``)."""
        if not target.exists():
            return
        if target.name not in self.made_files.made_in(target.parent):
            raise StorageError(["create", str(target)], errno.EEXIST,
                               f"{target} is in the way of a new volume or snapshot, and the "
                               "controller did not make it",
                               correction=f"move it out of the directory of storage pool "
                                          f"'{pool.name}' on node '{pool.node}'")
        devices = self._loops_of(target)
        self._refuse_busy(devices, f"{target.name} (a leftover no record owns)", "replaced")
        for device in devices:
            self.loops.detach(device.name)
        with self._os_errors(pool, ["unlink", str(target)]):
            target.unlink()
        log.warning("replaced %s: a leftover no record owned, its data is not taken over", target)

    def _os_errors(self, pool: PoolSpec, argv: Sequence[str]) -> AbstractContextManager[None]:
        """An OSError of the work inside (``argv`` says what it was) leaves as a ``StorageError``
        naming the pool and the fix (``oserrors``)."""
        return os_errors(argv, self.pool_directory(pool), f"storage pool '{pool.name}' on node '{pool.node}'")

    def _expose(self, image: Path) -> str:
        """The device for ``image``: its loop device (attached if needed) or the file itself."""
        if not self.use_loop:
            return str(image)
        return self.loops.attach(image)

    def _expose_new(self, pool: PoolSpec, image: Path) -> str:
        """The device for ``image``, a file this call made: no loop device can serve it yet,
        so none is looked for. When attaching fails the file goes too; the attach's error is
        the one raised (it says what to fix), with a removal that failed too noted on it."""
        if not self.use_loop:
            return str(image)
        try:
            return self.loops.attach(image, new_file=True)
        except StorageError as error:
            with noted_on(error, f"removing {image.name} again"), self._os_errors(pool, ["unlink", str(image)]):
                self._remove_made(image)
            raise

    def _reattached(self, image: Path, devices: list[LoopDevice]) -> str:
        """``image``'s device once its data was switched under ``devices`` (the loop devices over
        its path): the first re-pointed at the new file, the others detached; a new one without
        any; the file itself without loop devices."""
        if not self.use_loop:
            return str(image)
        if not devices:
            return self._expose(image)
        for extra in devices[1:]:
            self.loops.detach(extra.name)
        return self._repoint(devices[0].name, image)

    def _repoint(self, device: str, image: Path) -> str:
        """Detach ``device`` and attach ``image`` at the same path (another if it was taken)."""
        self.loops.detach(device)
        for attempt in range(_REATTACH_TRIES):
            try:
                self.loops.attach(image, device=device)
            except StorageError:
                time.sleep(_REATTACH_PAUSE * (attempt + 1))
                continue
            self.loops.flush(device)
            return device
        return self.loops.attach(image)

    def _loops_of(self, image: Path) -> list[LoopDevice]:
        if not self.use_loop:
            return []
        return [d for d in self.loops.attached() if d.back_file == str(image) and not d.deleted]

    def _flush(self, image: Path) -> None:
        """Push data written through the loop device into the file before the file is copied."""
        for device in self._loops_of(image):
            self.loops.flush(device.name)

    def _refuse_busy(self, devices: list[LoopDevice], vol_name: str, action: str) -> None:
        for device in devices:
            if self.loops.is_busy(device.name):
                raise StorageError(
                    ["ioctl", "LOOP_CLR_FD", device.name], errno.EBUSY,
                    f"volume {vol_name} cannot be {action}: {device.name} is in use (mounted or held by DRBD)",
                    correction="unmount it or take its DRBD resource down first",
                )


def _copy_and_grow(provider: SupportsSnapshots, source: Path, temp: Path, size: int) -> None:
    """``source`` copied the provider's way (a reflink where it can), grown to ``size`` bytes."""
    provider.copy_data(source, temp)
    if size > temp.stat().st_size and isinstance(provider, SupportsBackingFile):
        provider.grow(temp, size)


def _allocate_and_write(provider: SupportsBackingFile, source: Path, temp: Path, size: int) -> None:
    """A file of ``size`` bytes made as ``provider`` makes its own, ``source``'s data written in
    (all-zero chunks skipped: the new file reads as zeros already)."""
    provider.allocate(temp, size)
    datacopy.copy_into_device(source, str(temp), device_is_zeroed=True)


def _drop_or_put_back(image: Path, kept: Path, replaced: int) -> None:
    """After a switch of ``image``'s data that failed: drop ``kept`` (inode ``replaced``, the
    data it would have replaced) if ``image`` still is that data, else put it back.

    ``staged`` can fail after its rename (the directory's fsync): the copy is in place then
    and ``kept`` is the only path to the current data, so removing it would lose that data
    while the caller reports the replica as put back. ``kept`` stays where it is if this
    fails, for ``undo_rollback`` to put back."""
    if os.stat(image).st_ino == replaced:
        kept.unlink(missing_ok=True)
    else:
        os.replace(kept, image)


def _positive_kib(size_kib: int) -> int:
    if not isinstance(size_kib, int) or isinstance(size_kib, bool) or size_kib <= 0:
        raise InvalidInput("size", size_kib, "must be a positive number of KiB")
    return size_kib


def _size_bytes(vol: VolumeSpec) -> int:
    return _positive_kib(vol.size_kib) * 1024


__all__ = ["PoolSpec", "VolumeSpec", "Satellite", "DISKLESS_DEVICE", "loops_available"]
