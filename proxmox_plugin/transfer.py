"""PVE's ``raw+size`` stream: what ``volume_export`` sends and ``volume_import`` receives.

PVE moves a disk between storages that share nothing (an offline migration off a storage
without ``shared``, ``qm remote-migrate``, ``pvesm export``/``import``) as a stream in a format
both sides offer. ``raw+size`` is PVE's own, which its LVM and RBD plugins speak too: the size
in bytes as an unsigned 64-bit little-endian number, then that many bytes of the volume. It
carries no snapshots, so a snapshot, an incremental stream or one with snapshots is not offered
(no format), as PVE's LVM plugin does.

The stream is an open file descriptor the shim hands down (``data_fd``): PVE passes a pipe or a
socket (or pvesm's own stdin/stdout), and linstor-pve's stdin and stdout carry the request and
the answer, so the shim passes a duplicate that stays open across exec.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
from collections.abc import Callable
from typing import Any

from linstor_core import datacopy
from linstor_core.errors import InvalidInput

from proxmox_plugin.volnames import parse_volname

RAW_SIZE = "raw+size"
_HEADER = struct.Struct("<Q")
_FIRST_FREE_FD = 3


def _set(value: Any) -> bool:
    """A flag or list as PVE passes it: ``"0"`` and ``""`` (what an older Perl's string flags
    become in JSON) are no more set than 0, None or an empty list."""
    return value not in ("0", "") and bool(value)


def export_formats(volname: str, snapshot: str | None = None, base_snapshot: str | None = None,
                   with_snapshots: Any = None) -> list[str]:
    """``volume_export_formats``: ``raw+size`` for the volume as it is now, nothing for a
    snapshot or with snapshots (``with_snapshots`` is a flag or PVE's list of snapshot names)."""
    parse_volname(volname)
    return [] if _set(snapshot) or _set(base_snapshot) or _set(with_snapshots) else [RAW_SIZE]


def import_formats(volname: str, snapshot: str | None = None, base_snapshot: str | None = None,
                   with_snapshots: Any = None) -> list[str]:
    """``volume_import_formats``: as for export, but none for a template disk or a linked
    clone, which an import cannot make (PVE then looks for another way, or says why)."""
    vol = parse_volname(volname)
    if vol.is_base or vol.base:
        return []
    return export_formats(volname, snapshot, base_snapshot, with_snapshots)


def check_request(format: str, snapshot: str | None, base_snapshot: str | None, with_snapshots: Any) -> None:
    """Refuse what :func:`export_formats` does not offer, naming the argument."""
    if format != RAW_SIZE:
        raise InvalidInput("format", format, f"this storage sends and receives {RAW_SIZE} only")
    for field, value in (("snapshot", snapshot), ("base_snapshot", base_snapshot),
                         ("with_snapshots", with_snapshots)):
        if _set(value):
            raise InvalidInput(field, value, f"{RAW_SIZE} carries the volume as it is, no snapshots",
                               correction="migrate without snapshots, or delete them first")


def data_fd(value: object, *, reading: bool) -> int:
    """The stream the shim handed down: an open pipe, socket or file, never stdin/stdout/stderr
    (those carry linstor-pve's request, answer and progress), open for ``reading`` (an import)
    or for writing (an export)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < _FIRST_FREE_FD:
        raise InvalidInput("data_fd", value, f"must be an open file descriptor, {_FIRST_FREE_FD} or more",
                           correction="update the shim LINSTORPlugin.pm with linstor-bundle")
    try:
        mode = os.fstat(value).st_mode
        access = fcntl.fcntl(value, fcntl.F_GETFL) & os.O_ACCMODE
    except OSError as error:
        raise InvalidInput("data_fd", value, f"is not open: {error.strerror}",
                           correction="update the shim LINSTORPlugin.pm with linstor-bundle") from None
    if stat.S_ISDIR(mode):
        raise InvalidInput("data_fd", value, "is a directory, not a stream")
    if access not in ((os.O_RDONLY, os.O_RDWR) if reading else (os.O_WRONLY, os.O_RDWR)):
        raise InvalidInput("data_fd", value, f"is not open for {'reading' if reading else 'writing'}")
    return value


def send(device: str, fd: int, progress: Callable[[str], None]) -> None:
    """The header, then every byte of ``device``."""
    view = memoryview(_HEADER.pack(datacopy.size_of(device)))
    while view:
        view = view[os.write(fd, view):]
    datacopy.copy_device_to_stream(device, fd, progress=progress)


def received_size(fd: int) -> int:
    """The size the stream's header announces, read before anything is made for it."""
    header = datacopy.read_exactly(fd, _HEADER.size)
    if len(header) != _HEADER.size:
        raise InvalidInput("stream", f"{len(header)} bytes", f"too short for the {RAW_SIZE} header",
                           correction="check that the sending side exports raw+size")
    (size,) = _HEADER.unpack(header)
    if size == 0:
        raise InvalidInput("stream", "size 0", f"the {RAW_SIZE} header announces an empty volume")
    return int(size)


def receive(fd: int, size: int, device: str, *, device_is_zeroed: bool, progress: Callable[[str], None]) -> None:
    """The ``size`` bytes after the header, onto ``device``."""
    datacopy.copy_stream_into_device(fd, size, device, device_is_zeroed=device_is_zeroed, progress=progress)


__all__ = ["RAW_SIZE", "check_request", "data_fd", "export_formats", "import_formats", "received_size", "receive",
           "send"]
