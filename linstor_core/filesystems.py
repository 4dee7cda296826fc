"""Filesystems on disk devices: make one, detect one, mount, unmount, see what is mounted.

Platform-neutral: the Docker volume plugin and the OpenNebula driver both put a filesystem on a
LINSTOR device and mount it. Every command goes through a ``Runner`` as an argument list, so the
device and the user's options never meet a shell. Mounting goes through a ``Mounter``: libmount
in-process where it loads (:mod:`linstor_core.libmount`, what mount(8) does without its process),
else the ``mount``/``umount`` commands through a runner; unit tests pass the latter with a fake. What is mounted is read from
``/proc/self/mountinfo`` (not from ``mount`` output or ``/etc/mtab``), which is what the kernel
says for this process's mount namespace and is what a restarted service must trust.

Supported filesystems: ext4, ext3 and xfs (the tools Debian and Proxmox hosts carry by default).
btrfs is refused on purpose: its device numbers in mountinfo are anonymous, so ``mountpoints_of``
could not match a btrfs device reliably.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from linstor_core import libmount
from linstor_core.errors import InvalidInput, StorageError
from linstor_core.runner import Runner, run

MOUNTINFO = Path("/proc/self/mountinfo")

# mkfs flags per filesystem: quiet, and never asked a question (no tty under a daemon).
# xfs is not forced (-f) unless the caller says the device holds only its own unused filesystem
# (``overwrite``): without it, mkfs.xfs refuses to overwrite an existing filesystem.
_MKFS: dict[str, tuple[str, ...]] = {
    "ext4": ("mkfs.ext4", "-q", "-F"),
    "ext3": ("mkfs.ext3", "-q", "-F"),
    "xfs": ("mkfs.xfs", "-q"),
}
_OVERWRITE: dict[str, tuple[str, ...]] = {"xfs": ("-f",)}
MKFS_TIMEOUT = 600.0
SUPPORTED_FILESYSTEMS: tuple[str, ...] = tuple(_MKFS)
# Smallest device each mkfs accepts (xfsprogs >= 5.19 refuses below 300 MiB), so a caller can
# refuse a too-small volume when it is created instead of failing at its first mount.
MINIMUM_SIZE_KIB: dict[str, int] = {"ext4": 1024, "ext3": 1024, "xfs": 300 * 1024}

# blkid exits 2 when it finds no filesystem signature on the device.
_BLKID_NOTHING_FOUND = 2
# mountinfo escapes space, tab, newline and backslash as three octal digits.
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/self/mountinfo, with its escapes decoded."""

    mount_point: str
    source: str
    fstype: str
    device_number: tuple[int, int]
    options: tuple[str, ...]


def check_filesystem_type(fstype: str) -> str:
    """Return ``fstype`` if this module can make and mount it, else raise ``InvalidInput``."""
    if fstype not in _MKFS:
        raise InvalidInput("fs", fstype, f"supported filesystems are {', '.join(SUPPORTED_FILESYSTEMS)}")
    return fstype


def check_size(fstype: str, size_kib: int) -> None:
    """Refuse a device size that ``fstype``'s mkfs would reject (``InvalidInput`` on ``size``)."""
    minimum = MINIMUM_SIZE_KIB[check_filesystem_type(fstype)]
    if size_kib < minimum:
        raise InvalidInput("size", f"{size_kib} KiB", f"{fstype} needs at least {minimum // 1024} MiB")


def _check_options(field: str, options: Sequence[str]) -> list[str]:
    """Refuse options that could not be what a person meant (empty, NUL, not a string)."""
    checked = []
    for option in options:
        if not isinstance(option, str) or not option or "\0" in option:
            raise InvalidInput(field, option, "each option must be a non-empty string")
        checked.append(option)
    return checked


_EXT = {
    "value_options": frozenset("bCdeEgGiIJlLmMNoOrRstTUz"),
    "refused": {"d": "copies a host directory into the filesystem", "z": "writes an undo file on the host"},
    "refused_values": {"J": ("device=",)},
}
_MKFS_GRAMMAR: dict[str, dict[str, Any]] = {
    "ext4": _EXT,
    "ext3": _EXT,
    "xfs": {
        "value_options": frozenset("bcdilLmnprs"),
        "refused": {"p": "copies host files into the filesystem", "c": "reads a configuration file of the host"},
        "refused_values": {"l": ("logdev=", "name=", "file"), "r": ("rtdev=", "name=", "file"),
                           "d": ("name=", "file")},
    },
}
"""What of mkfs's options takes a value, and what reaches beyond the device being made: an
option that names another device (an external log or journal, which mkfs would overwrite) or a
file of the host (read into the filesystem, or written)."""


def check_mkfs_options(fstype: str, options: Sequence[str]) -> list[str]:
    """Refuse mkfs options that reach beyond the device: another device, a host file, or a
    word that is no option at all (mkfs would take it for the device). The rest is passed on
    verbatim."""
    return _checked_mkfs_options(fstype, options)[0]


def _checked_mkfs_options(fstype: str, options: Sequence[str]) -> tuple[list[str], list[_MkfsOption]]:
    """``check_mkfs_options``, with the options as parsed."""
    grammar = _MKFS_GRAMMAR[check_filesystem_type(fstype)]
    checked = _check_options("fsopts", options)
    parsed = _parse_mkfs_options(grammar, checked)
    for option in parsed:
        if option.letter in grammar["refused"]:
            raise InvalidInput("fsopts", option.word, f"-{option.letter} {grammar['refused'][option.letter]}",
                               correction=f"leave -{option.letter} out")
        if option.takes_value:
            if option.value_at is None:
                raise InvalidInput("fsopts", f"-{option.letter}", "needs a value after it")
            _check_option_value(fstype, grammar, option.letter, checked[option.value_at][option.value_start:])
    return checked, parsed


@dataclass(frozen=True)
class _MkfsOption:
    """One option letter of an mkfs command line: ``word`` is the word it is in (``-qE``).
    A value-taking option's value is ``words[value_at][value_start:]`` (its own word, or the
    rest of ``word``); ``value_at`` is None when the command line ends without it."""

    word: str
    letter: str
    takes_value: bool = False
    value_at: int | None = None
    value_start: int = 0


def _parse_mkfs_options(grammar: dict[str, Any], words: Sequence[str]) -> list[_MkfsOption]:
    """The option letters of ``words`` in order, as mkfs's getopt reads them; a word that is
    no option is refused."""
    parsed: list[_MkfsOption] = []
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("-") or word == "-":
            raise InvalidInput("fsopts", word, "is not an option: mkfs would take it for the device",
                               correction="give options only (-L label, -E nodiscard, ...); the plugin names the device")
        for position, letter in enumerate(word[1:], start=1):
            if letter not in grammar["value_options"]:
                parsed.append(_MkfsOption(word, letter))
                continue
            if position + 1 < len(word):
                parsed.append(_MkfsOption(word, letter, takes_value=True, value_at=index, value_start=position + 1))
            elif index + 1 < len(words):
                index += 1
                parsed.append(_MkfsOption(word, letter, takes_value=True, value_at=index))
            else:
                parsed.append(_MkfsOption(word, letter, takes_value=True))
            break
        index += 1
    return parsed


def _without_discard(fstype: str, options: list[str], parsed: list[_MkfsOption]) -> list[str]:
    """Checked ``options`` (``parsed``: as parsed) with mkfs told not to discard the device first.

    Every caller formats a volume LINSTOR has just made (or zeroed), which holds nothing to
    give back, and discarding it does harm: through a loop device a discard punches holes in
    the backing file, so a thick FILE volume (preallocated) loses its space and can later
    fail writes on a full pool; it sends a TRIM of the whole device to thick LVM's disks and
    to every DRBD peer, which is what makes mkfs of a large volume slow; thin storage reads
    as zeros already. xfs gets ``-K``; ext4 and ext3 get ``nodiscard`` first in the last
    ``-E`` (mke2fs keeps only the last ``-E``), unless that names ``discard`` or ``nodiscard``
    itself: a user's ``-E discard`` still asks for it.
    """
    if fstype == "xfs":
        return ["-K", *options]
    extended = [option for option in parsed if option.letter == "E"]
    if not extended:
        return [*options, "-E", "nodiscard"]
    last = extended[-1]
    assert last.value_at is not None, "checked options: -E has its value"
    value = options[last.value_at]
    if {"discard", "nodiscard"} & set(value[last.value_start:].split(",")):
        return options  # the user said which
    words = list(options)
    words[last.value_at] = value[:last.value_start] + "nodiscard," + value[last.value_start:]
    return words


def _check_option_value(fstype: str, grammar: dict[str, Any], letter: str, value: str) -> None:
    """Refuse a value of option ``letter`` naming something beside the device (``logdev=``)."""
    for refused in grammar["refused_values"].get(letter, ()):
        if any(part == refused or (refused.endswith("=") and part.startswith(refused)) for part in value.split(",")):
            raise InvalidInput("fsopts", f"-{letter} {value}",
                               f"'{refused}' names a device or file beside the volume, which "
                               f"mkfs.{fstype} would write to",
                               correction="leave it out: the whole filesystem stays on the volume")


def make_filesystem(device: str, fstype: str, options: Sequence[str] = (), *, runner: Runner = run,
                    overwrite: bool = False, timeout: float = MKFS_TIMEOUT) -> None:
    """Create a ``fstype`` filesystem on ``device``, passing ``options`` to mkfs verbatim, and
    never discarding the device first (``_without_discard``).

    Destroys what is on the device: callers check ``has_filesystem`` first, or pass
    ``overwrite`` when what may be there is a filesystem of their own that nothing used (an
    earlier attempt that failed after mkfs), which xfs would otherwise refuse to replace.
    Unknown filesystem types are refused before anything runs.
    """
    fstype = check_filesystem_type(fstype)
    forced = _OVERWRITE.get(fstype, ()) if overwrite else ()
    argv = [*_MKFS[fstype], *forced, *_without_discard(fstype, *_checked_mkfs_options(fstype, options)), device]
    runner(argv, timeout=timeout)


def has_filesystem(device: str, *, runner: Runner = run) -> bool:
    """True if ``device`` carries any filesystem signature (probed directly, not from a cache).

    Any signature counts, so a device holding data of an unexpected kind is never formatted over.
    A missing device is an error, not "no filesystem" (blkid exits 2 for both).
    """
    argv = ["blkid", "-p", "-o", "value", "-s", "TYPE", device]
    if not os.path.exists(device):
        raise StorageError(
            argv, _BLKID_NOTHING_FOUND, f"{device} does not exist",
            correction="attach the disk on this node first; a DRBD device also needs the drbd kernel module",
        )
    try:
        runner(argv)
    except StorageError as error:
        if error.returncode == _BLKID_NOTHING_FOUND:
            return False
        raise
    return True


class Mounter(Protocol):
    """Reaches mount(2)/umount(2); raises ``StorageError`` worded as mount(8) would."""

    def mount(self, device: str, target: str, fstype: str | None, options: Sequence[str]) -> None: ...
    def unmount(self, target: str) -> None: ...


@dataclass(frozen=True)
class CommandMounter:
    """The ``mount`` and ``umount`` commands through ``runner``."""

    runner: Runner = run

    def mount(self, device: str, target: str, fstype: str | None, options: Sequence[str]) -> None:
        self.runner(libmount.mount_argv(device, target, fstype, options))

    def unmount(self, target: str) -> None:
        self.runner(["umount", target])


def default_mounter() -> Mounter:
    """libmount in-process where it loads, else the commands."""
    return libmount.LibMount() if libmount.available() else CommandMounter()


def mount(
    device: str,
    target: str,
    options: Sequence[str] = (),
    *,
    fstype: str | None = None,
    mounter: Mounter | None = None,
) -> None:
    """Mount ``device`` on ``target`` (created if missing) with ``options`` (mount(8)'s ``-o``)."""
    checked = _check_options("mountopts", options)
    fstype = None if fstype is None else check_filesystem_type(fstype)
    Path(target).mkdir(parents=True, exist_ok=True)
    (mounter or default_mounter()).mount(device, target, fstype, checked)


def unmount(target: str, *, mounter: Mounter | None = None, mountinfo: Path = MOUNTINFO) -> None:
    """Unmount ``target`` once; idempotent: a target that is not mounted is left alone."""
    if is_mounted(target, mountinfo=mountinfo):
        (mounter or default_mounter()).unmount(target)


def read_mounts(mountinfo: Path = MOUNTINFO) -> list[MountEntry]:
    """Parse mountinfo (proc(5)): fields before the ``-`` separator, then fstype and source."""
    return _parse_mounts(mountinfo.read_text().splitlines())


def _parse_mounts(lines: Iterable[str]) -> list[MountEntry]:
    entries = []
    for line in lines:
        fields = line.split(" ")
        if "-" not in fields:
            continue
        separator = fields.index("-")
        if separator < 6 or len(fields) < separator + 3:
            continue
        major, _, minor = fields[2].partition(":")
        entries.append(
            MountEntry(
                mount_point=_unescape(fields[4]),
                source=_unescape(fields[separator + 2]),
                fstype=fields[separator + 1],
                device_number=(int(major), int(minor)),
                options=tuple(fields[5].split(",")),
            )
        )
    return entries


def mountpoints_of(device_or_target: str, *, mountinfo: Path = MOUNTINFO) -> list[str]:
    """Mount points where a device is mounted, or the mounts stacked on a target directory.

    A block device matches by device number (so ``/dev/drbd/by-res/x/0`` and ``/dev/drbd1000``
    are the same device), anything else by its resolved path as source or mount point. A target
    mounted twice appears twice: that is how a double mount is seen.
    """
    wanted = os.path.realpath(device_or_target)
    number = _block_device_number(wanted)
    found = []
    for entry in read_mounts(mountinfo):
        if number is not None:
            matches = entry.device_number == number
        else:
            matches = wanted in (entry.mount_point, entry.source)
        if matches:
            found.append(entry.mount_point)
    return found


def is_mounted(target: str, *, mountinfo: Path = MOUNTINFO) -> bool:
    """True if something is mounted on the directory ``target``.

    Only the lines naming ``target`` (as mountinfo escapes it) are parsed: a Docker host has a
    mount per running container, and each Mount and Unmount asks this.
    """
    wanted = os.path.realpath(target)
    named = f" {_escape(wanted)} "
    lines = [line for line in mountinfo.read_text().splitlines() if named in line]
    return any(entry.mount_point == wanted for entry in _parse_mounts(lines))


def _block_device_number(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISBLK(info.st_mode):
        return None
    return os.major(info.st_rdev), os.minor(info.st_rdev)


def _unescape(text: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), text)


def _escape(path: str) -> str:
    """``path`` as mountinfo writes it: space, tab, newline and backslash as octal escapes."""
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in path)


__all__ = [
    "MOUNTINFO",
    "SUPPORTED_FILESYSTEMS",
    "MINIMUM_SIZE_KIB",
    "MountEntry",
    "check_filesystem_type",
    "check_mkfs_options",
    "check_size",
    "make_filesystem",
    "has_filesystem",
    "Mounter",
    "CommandMounter",
    "default_mounter",
    "mount",
    "unmount",
    "read_mounts",
    "mountpoints_of",
    "is_mounted",
]
