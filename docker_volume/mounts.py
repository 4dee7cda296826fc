"""Who holds which volume mounted: Docker's mount IDs per volume, each with a count, kept across
plugin restarts.

Docker sends a Mount with an ID when a container's mount point is set up, and the same ID again
while the container runs for every ``docker cp`` into or out of it (it keeps a count per mount
point, and sends one Unmount per Mount). So each Mount with an ID counts one hold, each Unmount
with it releases one, and the volume is unmounted when no hold is left; a set of IDs would let
the ``docker cp``'s Unmount unmount the running container's volume. Docker does not repeat
Mounts after a plugin restart, so the holds are written to a small JSON file after
every change (a temporary file renamed over the old one: a killed plugin leaves the old or the
new file, never half of one), and on start the file is checked against what the kernel says is
mounted (``/proc/self/mountinfo``): holders of a volume that is no longer mounted (the host
rebooted, someone unmounted it) are dropped, so nothing is mounted twice and nothing is lost.

The file is not fsynced: it describes mounts, and mounts do not outlive what could lose an
unsynced write (a power cut or a kernel crash), so after one every record would be dropped
anyway. The one thing such a crash can leave, a truncated file, is therefore read as nothing
recorded when nothing is mounted under the mount root (see :meth:`MountTable.load`). A fsync of
the file and its directory on every Mount and Unmount cost more than the rest of the
bookkeeping together.
A volume mounted under the mount root without a record (its record was lost) has no holders:
the next Unmount or Remove of it unmounts it.

The file also names the mounted volumes whose resource on this node holds their data
(``keeps_attached``): their last Unmount only unmounts, without asking LINSTOR whether there is
a diskless resource to remove. A volume missing from that list (a file written by an older
release) is asked about, as before, so the key is optional in both directions.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from linstor_core.errors import ConfigError
from linstor_core.filesystems import MOUNTINFO, is_mounted, read_mounts

log = logging.getLogger(__name__)

_FORMAT_VERSION = 2
"""Version 2 counts the holds of each ID (``{"web": {"A": 2}}``); version 1, a list of IDs
(``{"web": ["A"]}``, one hold each), is still read."""
_READABLE_VERSIONS = (1, 2)


class MountTable:
    """Holds (Docker's mount IDs, each with a count) per volume name, persisted in
    ``state_file`` after every change.

    The constructor does no I/O; call :meth:`load` once at start. Thread-safe: Docker calls
    Mount and Unmount for different volumes concurrently.
    """

    def __init__(self, state_file: Path, mount_root: Path, *, mountinfo: Path = MOUNTINFO) -> None:
        self.state_file = state_file
        self.mount_root = mount_root
        self.mountinfo = mountinfo
        self._holders: dict[str, dict[str, int]] = {}
        self._keeps_attached: set[str] = set()
        self._lock = threading.Lock()
        self.released: list[str] = []
        """Volumes :meth:`load` found no longer mounted whose resource here may be a diskless
        client left attached (the host rebooted): nobody holds them, so it can go."""

    def mountpoint(self, volume: str) -> Path:
        """Where ``volume`` is mounted: ``<mount root>/<volume name>`` (names are validated)."""
        return self.mount_root / volume

    def is_mounted(self, volume: str) -> bool:
        """Whether the kernel has something mounted on the volume's mount point."""
        return is_mounted(str(self.mountpoint(volume)), mountinfo=self.mountinfo)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the state file for this process (an flock on ``<state file>.lock``), or raise
        ``ConfigError`` when another process holds it.

        Two plugins on one state file would each write their own holders over the other's, and
        each take the other's mounts for ones that lost their record. The lock goes with the
        process, however it ends, so a killed plugin never keeps its successor out.
        """
        lock = self.state_file.with_name(self.state_file.name + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                raise ConfigError(
                    f"another linstor-docker-volume uses the mount state file {self.state_file}",
                    correction="stop it (systemctl stop linstor-docker-volume), or give this one its own "
                               "--state-file and --mount-root",
                ) from None
            yield
        finally:
            os.close(descriptor)

    def load(self) -> list[str]:
        """Read the state file and reconcile it with mountinfo; return what changed, for the log.

        An unreadable file stops the start (``ConfigError``) while volumes are mounted under the
        mount root, since their holders would be lost; with nothing mounted there it is what a
        power cut can leave, describes no mount, and is replaced.
        """
        with self._lock:
            changes = []
            try:
                recorded, keeps_attached = self._read()
            except ConfigError as error:
                if self._unrecorded_mounts():
                    raise
                recorded, keeps_attached = {}, set()
                changes.append(f"{error.message}: nothing is mounted under {self.mount_root}, so starting empty")
            for volume, holders in sorted(recorded.items()):
                if self.is_mounted(volume):
                    self._holders[volume] = holders
                    if volume in keeps_attached:
                        self._keeps_attached.add(volume)
                else:
                    changes.append(f"{volume}: not mounted any more, forgot holders {', '.join(sorted(holders))}")
                    if volume not in keeps_attached:
                        self.released.append(volume)
            for orphan in self._unrecorded_mounts():
                changes.append(f"{orphan}: mounted without a record; the next Unmount or Remove unmounts it")
            if changes:
                self._save()
            return changes

    def holders(self, volume: str) -> frozenset[str]:
        """The mount IDs that hold ``volume`` mounted now (each at least once)."""
        with self._lock:
            return frozenset(self._holders.get(volume, ()))

    def keeps_attached(self, volume: str) -> bool:
        """Whether ``volume``'s resource here holds its data, so its last Unmount need not detach."""
        with self._lock:
            return volume in self._keeps_attached

    def add(self, volume: str, caller: str, *, keeps_attached: bool | None = None) -> None:
        """Record one more hold of ``volume`` by ``caller``, then persist.

        ``keeps_attached`` is said by the Mount that attached the volume (None: unchanged).
        """
        with self._lock, self._unchanged_unless_saved(volume):
            counts = self._holders.setdefault(volume, {})
            counts[caller] = counts.get(caller, 0) + 1
            if keeps_attached is not None:
                (self._keeps_attached.add if keeps_attached else self._keeps_attached.discard)(volume)
            self._save()

    def remove(self, volume: str, caller: str) -> frozenset[str]:
        """Release one of ``caller``'s holds on ``volume``, persist, and return the holders left.

        An unknown caller is not an error (Docker may repeat an Unmount after a timeout); it
        changes nothing.
        """
        with self._lock, self._unchanged_unless_saved(volume):
            counts = self._holders.get(volume, {})
            if caller not in counts:
                log.warning("unmount of %s by %s, which does not hold it", volume, caller)
            elif counts[caller] > 1:
                counts[caller] -= 1
            else:
                del counts[caller]
            if not counts:
                self._holders.pop(volume, None)
                self._keeps_attached.discard(volume)
            self._save()
            return frozenset(counts)

    @contextmanager
    def _unchanged_unless_saved(self, volume: str) -> Iterator[None]:
        """Put ``volume``'s record back as it was when the block fails (its save, typically: a
        full disk), so memory and the file keep saying the same and the caller can undo."""
        holders = dict(self._holders.get(volume, {}))
        kept = volume in self._keeps_attached
        try:
            yield
        except BaseException:
            if holders:
                self._holders[volume] = holders
            else:
                self._holders.pop(volume, None)
            (self._keeps_attached.add if kept else self._keeps_attached.discard)(volume)
            raise

    def _unrecorded_mounts(self) -> list[str]:
        root = os.path.realpath(self.mount_root)
        return sorted(
            os.path.basename(entry.mount_point)
            for entry in read_mounts(self.mountinfo)
            if os.path.dirname(entry.mount_point) == root
            and os.path.basename(entry.mount_point) not in self._holders
        )

    def _read(self) -> tuple[dict[str, dict[str, int]], set[str]]:
        """Holds per ID per volume, and the volumes that keep their resource attached."""
        try:
            body = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}, set()
        except (OSError, ValueError) as error:
            raise ConfigError(
                f"cannot read the mount state file {self.state_file}",
                cause=str(error),
                correction="check the file; removing it makes the plugin rebuild it from what is mounted",
            ) from error
        unreadable = ConfigError(
            f"the mount state file {self.state_file} is not in format version {_FORMAT_VERSION}",
            correction="removing it makes the plugin rebuild it from what is mounted",
        )
        if not isinstance(body, dict) or body.get("version") not in _READABLE_VERSIONS or not isinstance(
            body.get("volumes"), dict
        ) or not isinstance(body.get("keeps_attached", []), list):
            raise unreadable
        holders: dict[str, dict[str, int]] = {}
        for name, callers in body["volumes"].items():
            if isinstance(callers, list):  # version 1: one hold per ID
                callers = {caller: 1 for caller in callers}
            if not isinstance(callers, dict) or not all(
                    isinstance(count, int) and not isinstance(count, bool) and count > 0 for count in callers.values()):
                raise unreadable
            holders[str(name)] = {str(caller): count for caller, count in callers.items()}
        return holders, {str(name) for name in body.get("keeps_attached", [])}

    def _save(self) -> None:
        body = {
            "version": _FORMAT_VERSION,
            "volumes": {name: dict(sorted(counts.items())) for name, counts in sorted(self._holders.items())},
            "keeps_attached": sorted(self._keeps_attached),
        }
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{self.state_file.name}.", dir=directory)
        try:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(body, handle, indent=1)
            os.replace(temporary, self.state_file)
        except BaseException:
            os.unlink(temporary)
            raise
