"""TM arguments as oned writes them: ``host:path``, ``.../disk.<i>``, ids and sizes in MiB.

Everything is checked before any LINSTOR call, so a malformed call changes nothing. Hosts are
LINSTOR node names (``naming.validate_node_name``), which also keeps a host from reaching ssh's
command line as an option (``-oProxyCommand=...``).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from linstor_core import naming, units
from linstor_core.errors import InvalidInput

_DISK = re.compile(r"disk\.(\d+)")
_SLASHES = re.compile(r"/{2,}")
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/+@,=~-]+")
_WHOLE = re.compile(r"\d+")
_SIGNED = re.compile(r"-?\d+")


@dataclass(frozen=True)
class HostPath:
    """``host:path``: the host (the LINSTOR node of the same name) and an absolute path on it."""

    host: str
    path: str

    @property
    def disk_id(self) -> int | None:
        """The ``<i>`` of a ``.../disk.<i>`` path; None for a VM directory."""
        match = _DISK.fullmatch(posixpath.basename(self.path))
        return int(match.group(1)) if match else None

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    def require_disk_id(self) -> int:
        disk_id = self.disk_id
        if disk_id is None:
            raise InvalidInput("disk path", f"{self.host}:{self.path}", "must end in disk.<number>")
        return disk_id


def host_path(text: str, field: str = "host:path") -> HostPath:
    """Split ``host:path`` at the first colon; the host must be a node name, the path absolute,
    without ``.`` or ``..`` and of characters no shell reads specially (the hosts are reached
    over ssh, whose remote shell parses what it is given). Repeated slashes are one, as
    OpenNebula's own drivers take them: a ``DATASTORE_LOCATION`` ending in ``/`` makes
    ``/var/lib/one/datastores//0/22``."""
    host, sep, path = text.partition(":")
    if not sep or not host or not path.startswith("/"):
        raise InvalidInput(field, text, "must be host:/absolute/path")
    path = _SLASHES.sub("/", path)
    if not _SAFE_PATH.fullmatch(path):
        raise InvalidInput(field, text, "path may hold only letters, digits and . _ - + / @ , = ~",
                           correction="choose a DATASTORE_LOCATION without blanks or shell characters")
    if posixpath.normpath(path) != path.rstrip("/"):
        raise InvalidInput(field, text, "path must be normalised (no '.' or '..')")
    return HostPath(host=naming.validate_node_name(host), path=path.rstrip("/") or "/")


def source_of(text: str) -> str:
    """An image's SOURCE as oned passes it: ``fe:SOURCE`` to ln and clone (prefixed with the
    front-end's name, since a LINSTOR SOURCE holds no colon), the bare SOURCE to mvds and cpds
    (TransferManager writes it as it is there, whatever its comments say)."""
    host, sep, source = text.partition(":")
    if not sep:
        source = host
    if not source:
        raise InvalidInput("source", text, "must be SOURCE or frontend:SOURCE")
    return source


def object_id(text: str, field: str) -> int:
    """A VM, datastore or image id: a whole number."""
    if not _WHOLE.fullmatch(text):
        raise InvalidInput(field, text, "must be a whole number")
    return int(text)


def snapshot_id(text: str) -> int:
    """An OpenNebula snapshot id (``-1`` means none, as cpds passes it)."""
    if not _SIGNED.fullmatch(text) or int(text) < -1:
        raise InvalidInput("snapshot id", text, "must be a whole number or -1")
    return int(text)


def size_mib_to_kib(text: str | int, field: str = "size") -> int:
    """OpenNebula sizes are whole MiB; a unit suffix means the caller is not oned: refused."""
    shown = str(text).strip()
    if not _WHOLE.fullmatch(shown) or int(shown) == 0:
        raise InvalidInput(
            field, shown, "OpenNebula passes sizes as a whole positive number of MiB",
            correction="give the size in MiB without a unit, e.g. 1024",
        )
    return units.mib_to_kib(int(shown), field=field)


def check_count(action: str, args: list[str], usage: str, *counts: int) -> None:
    """Refuse a call with a number of arguments oned never uses for ``action``."""
    if len(args) not in counts:
        wanted = " or ".join(str(c) for c in counts)
        raise InvalidInput(
            "arguments", " ".join(args), f"{action} takes {wanted} arguments, got {len(args)}",
            correction=f"usage: {action} {usage}",
        )
