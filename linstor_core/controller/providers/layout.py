"""Where a file-backed pool keeps its files, and how a file is put in place only when whole.

Inside a pool directory::

    <rsc>_<vlmnr:05d>.img                    a volume, e.g. LocalData_00000.img
    <rsc>_<vlmnr:05d>.snap.<snapshot>.img    a snapshot of that volume
    <one of the above>.tmp                   being made; renamed into place when whole
    <a volume file>.replaced.tmp             the data a rollback replaced, until it is undone
                                             or every replica is rolled back
    .reflink-probe-<8 chars>.tmp[.copy.tmp]  the FILE_THIN reflink probe (providers/reflink.py)

Names are checked before they become paths (LINSTOR's identifier rules, so no ``/`` or ``..``
ever reaches the filesystem). A name of that form is not proof that a file is ours: an
operator's ``backup_00001.img`` or ``notes.tmp`` may sit in the same directory. So the
satellite notes every volume and snapshot file it makes in ``MadeFiles`` before making it, and
only a file a record knows, one noted there, the temp file of either, or a probe is ours;
anything else in the directory is left alone.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from linstor_core.controller.oserrors import os_errors
from linstor_core.controller.providers.modes import create_file, make_dirs, open_append
from linstor_core.controller.providers.reflink import PROBE_FILE
from linstor_core.errors import InvalidInput, noted_on
from linstor_core.naming import validate_resource_name, validate_snapshot_name

IMAGE_SUFFIX = ".img"
TEMP_SUFFIX = ".tmp"
REPLACED_SUFFIX = ".replaced" + TEMP_SUFFIX
VOLUME_NUMBER_MAX = 99999
_VOLUME = r"(?P<resource>[A-Za-z_][A-Za-z0-9_-]*)_(?P<number>[0-9]{5})"
_VOLUME_NAME = re.compile(_VOLUME)
_VOLUME_FILE = re.compile(_VOLUME + re.escape(IMAGE_SUFFIX))
_SNAPSHOT_FILE = re.compile(_VOLUME + r"\.snap\.(?P<snapshot>[A-Za-z0-9_-]+)" + re.escape(IMAGE_SUFFIX))


def volume_name(resource: str, volume_number: int) -> str:
    """``<resource>_<volume_number:05d>`` after checking both parts."""
    validate_resource_name(resource)
    if isinstance(volume_number, bool) or not 0 <= volume_number <= VOLUME_NUMBER_MAX:
        raise InvalidInput("volume number", volume_number, f"must be 0..{VOLUME_NUMBER_MAX}")
    return f"{resource}_{volume_number:05d}"


def check_volume_name(name: str) -> str:
    """Return ``name`` if it is ``<valid resource name>_<5 digits>``, else ``InvalidInput``."""
    match = _VOLUME_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise InvalidInput("volume name", name, "must be <resource>_<5-digit volume number>")
    validate_resource_name(match["resource"])
    return name


@dataclass(frozen=True)
class PoolLayout:
    """The files of one pool directory (an absolute, resolved path)."""

    directory: Path

    def volume(self, name: str) -> Path:
        """The file of volume ``name`` (``InvalidInput`` for a name that is not a volume's)."""
        return self.directory / f"{check_volume_name(name)}{IMAGE_SUFFIX}"

    def snapshot(self, volume: str, snapshot: str) -> Path:
        """The file of ``snapshot`` of volume ``volume`` (both names checked)."""
        name = f"{check_volume_name(volume)}.snap.{validate_snapshot_name(snapshot)}{IMAGE_SUFFIX}"
        return self.directory / name

    def known_files(self, volumes: set[str], snapshots: set[tuple[str, str]]) -> set[str]:
        """The file names of ``volumes`` and ``snapshots`` (``(volume name, snapshot name)``)."""
        return ({self.volume(name).name for name in volumes}
                | {self.snapshot(volume, name).name for volume, name in snapshots})

    def strays(self, volumes: set[str], snapshots: set[tuple[str, str]],
               made: set[str]) -> list[tuple[str, Path]]:
        """Our files (module docstring; ``made``: the names ``MadeFiles`` lists here) that the
        given sets do not know, each with what it is."""
        known = self.known_files(volumes, snapshots)
        found = []
        for path in sorted(self.directory.iterdir()):
            name = path.name
            if name in known or not is_ours(name, known | made):
                continue
            if name.endswith(TEMP_SUFFIX):
                found.append(("temp file", path))
            elif _SNAPSHOT_FILE.fullmatch(name):
                found.append(("orphan snapshot file", path))
            else:
                found.append(("orphan volume file", path))
        return found


def is_ours(name: str, files: set[str]) -> bool:
    """Whether a pool directory's file ``name`` is the controller's: one of ``files`` (volume
    and snapshot files a record knows or the satellite made), a temp file of one, or a probe."""
    if PROBE_FILE.fullmatch(name):
        return True
    for suffix in (REPLACED_SUFFIX, TEMP_SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name in files and (_VOLUME_FILE.fullmatch(name) or _SNAPSHOT_FILE.fullmatch(name)) is not None


class MadeFiles:
    """The volume and snapshot files the satellite made and has not removed, in every pool: a
    log at ``path`` (in the state directory, not in a pool: it is no pool's data), one JSON
    line per file made (``["+", path]``) or removed (``["-", path]``).

    A file is noted *before* it is made, outside the controller's transaction, so a request
    killed between making storage and its commit still leaves a file start-up knows to be ours.
    Once the log has doubled since its last rewrite (and passed ``COMPACT_BYTES``) it is
    rewritten with only the files that exist, so it stays about as long as the pools' file
    count and appending stays cheap. Written without fsync: a process crash loses nothing, a
    power cut at worst an entry, and then a leftover stays (space, never data: a new file of its
    name is refused, see ``Satellite``).
    """

    COMPACT_BYTES = 1 << 20

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rewritten_size = 0

    def made(self, file: Path) -> None:
        """Note ``file`` (absolute, in a pool directory) as ours, before it is made."""
        with self._os_errors(["note", str(file), "made"]):
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                make_dirs(self.path.parent)
                size = 0
            if size > max(self.COMPACT_BYTES, 2 * self._rewritten_size):
                self._compact()
            self._append("+", file)

    @contextmanager
    def making(self, file: Path) -> Iterator[None]:
        """Note ``file`` as ours while the body makes it; noted as removed if that fails and
        it is gone (a note that fails too is a note on the body's error, which it must not
        hide). One still there stays ours: noted as removed, it would be refused as someone
        else's by every retry of its name and never removed by start-up."""
        self.made(file)
        try:
            yield
        except BaseException as error:
            if not os.path.lexists(file):
                with noted_on(error, f"noting {file} as removed"):
                    self.removed(file)
            raise

    def removed(self, file: Path) -> None:
        """Note that ``file`` is gone, so a file of its name made later by others is not ours."""
        with self._os_errors(["note", str(file), "removed"]):
            if self.path.exists():
                self._append("-", file)

    def made_in(self, directory: Path) -> set[str]:
        """The names of the files noted in ``directory`` and not removed since."""
        with self._os_errors(["read", str(self.path)]):
            return {Path(path).name for path in self._live() if Path(path).parent == directory}

    def _os_errors(self, argv: list[str]) -> AbstractContextManager[None]:
        """The log is in the state directory: a full one is the operator's to free (``oserrors``)."""
        return os_errors([*argv, "in", str(self.path)], self.path.parent, "the controller's state")

    def _live(self) -> set[str]:
        live: set[str] = set()
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return live
        for line in text.splitlines():
            try:
                op, path = json.loads(line)
            except ValueError:
                continue  # a line a crash cut short
            if op == "+":
                live.add(path)
            else:
                live.discard(path)
        return live

    def _append(self, op: str, file: Path) -> None:
        """One entry, after a newline of its own: an entry a power cut left without its end
        would otherwise run into this one, and both be unreadable (blank lines are skipped)."""
        with open_append(self.path) as log:
            log.write(("\n" + json.dumps([op, str(file)]) + "\n").encode())

    def _compact(self) -> None:
        """Rewrite the log with only the noted files that exist (atomically: ``staged``)."""
        paths = sorted(path for path in self._live() if os.path.lexists(path))
        with staged(self.path) as temp, create_file(temp) as log:
            log.write("".join(json.dumps(["+", path]) + "\n" for path in paths).encode())
        self._rewritten_size = self.path.stat().st_size


def temp_of(final: Path) -> Path:
    """The temp file that becomes ``final``."""
    return final.with_name(final.name + TEMP_SUFFIX)


def replaced_of(image: Path) -> Path:
    """Where a rollback keeps the data it replaced in volume file ``image``."""
    return image.with_name(image.name + REPLACED_SUFFIX)


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """Yield a temp path next to ``final``; rename it into place on success, remove it on error.

    The rename is atomic, so ``final`` is either absent (or the old file) or complete. Both
    the file and the rename are on stable storage before this returns (``fsync`` of the file,
    then of its directory): the database records the volume right after, durably, and a
    power cut must not leave the record without its file, or a snapshot's file empty.
    """
    temp = temp_of(final)
    temp.unlink(missing_ok=True)
    try:
        yield temp
        fsync_path(temp)
        os.replace(temp, final)
        fsync_path(final.parent, os.O_RDONLY | os.O_DIRECTORY)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    """Put ``path``'s data and size (or, with ``O_DIRECTORY``, its entries) on stable storage."""
    fd = os.open(path, flags | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "IMAGE_SUFFIX",
    "TEMP_SUFFIX",
    "REPLACED_SUFFIX",
    "VOLUME_NUMBER_MAX",
    "volume_name",
    "check_volume_name",
    "PoolLayout",
    "MadeFiles",
    "is_ours",
    "temp_of",
    "replaced_of",
    "staged",
    "fsync_path",
]
