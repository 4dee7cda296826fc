"""LINSTOR's identifier rules, and how a platform's disk becomes a resource definition name.

Validation follows linstor-server's identifier classes (``core/identifier/*.java``), which all
call ``com.linbit.Checks``:

============================  ======  =======================================================
identifier                    length  rule
============================  ======  =======================================================
resource definition           2..48   ``ResourceName``: ``Checks.nameCheck``; ``all`` and
                                      ``proxy`` (any case) reserved for DRBD
resource group                2..48   ``ResourceGroupName``: ``Checks.nameCheck``
snapshot                      2..48   ``SnapshotName``: ``Checks.nameCheck``
storage pool                  3..48   ``StorPoolName``: ``Checks.nameCheck`` (the OpenAPI spec's
                                      ``StorPoolName`` property regex
                                      ``^[a-zA-Z0-9_][a-zA-Z0-9_-]{2,47}$`` is looser on the
                                      first character; we keep the class's stricter rule)
node                          2..255  ``NodeName``: ``Checks.hostNameCheck`` (RFC 952/1123
                                      host names: letters, digits, ``-``, ``.``; labels of at
                                      most 63; no leading ``.``/``-``, no trailing ``-``)
============================  ======  =======================================================

``Checks.nameCheck``: the length counts bytes; at least one ASCII letter; the first character
an ASCII letter or ``_``; later ones ASCII letters, digits, ``_`` or ``-``.

Disk names (:func:`disk_resource_name`) are ``<platform>[-<owner id>][-<owner name>][-<disk>]``,
e.g. ``pve-101-web01-disk-0``, ``one-22-vm-disk-1``, ``docker-myvol``. The platform and owner id
are kept verbatim (never truncated), so :func:`owner_id_from_name` reads the id back without a
controller (PVE's ``parse_volname`` has none). The owner name and a string disk part are
sanitised and shortened to fit; whenever that changed anything, an 8-hex-digit hash of the
original inputs is appended, so inputs that differ only in dropped characters still get
different names. The owner is also recorded in ``Aux/bundle/...`` properties
(:func:`owner_props`), which is what listings filter on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from linstor_core.errors import InvalidInput

NAME_MAX = 48
HOSTNAME_MAX = 255
HOSTNAME_LABEL_MAX = 63
RESERVED_RESOURCE_NAMES = frozenset({"all", "proxy"})

PROP_PREFIX = "Aux/bundle/"
PROP_PLATFORM = PROP_PREFIX + "platform"
PROP_OWNER_ID = PROP_PREFIX + "owner-id"
PROP_OWNER_NAME = PROP_PREFIX + "owner-name"

PLATFORM_MAX = 10
OWNER_ID_MAX = 20
_HASH_LEN = 8

_PLATFORM = re.compile(r"[a-z][a-z0-9]*")
_OWNER_ID = re.compile(r"[A-Za-z0-9_]+")
_INVALID_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_HOST = re.compile(r"[A-Za-z0-9.-]+")
_NAME_HELP = (
    "use {lo} to {hi} characters: ASCII letters, digits, '_' and '-', starting with a letter "
    "or '_', with at least one letter"
)


def _name_check(field: str, name: object, min_len: int, max_len: int) -> str:
    """``com.linbit.Checks.nameCheck`` with LINSTOR's only allowed extra characters (``_``; ``-``
    after the first character)."""
    if not isinstance(name, str):
        raise InvalidInput(field, name, "must be a string")
    help_text = _NAME_HELP.format(lo=min_len, hi=max_len)
    size = len(name.encode())
    if size < min_len or size > max_len:
        raise InvalidInput(field, name, f"length {size} is outside {min_len}..{max_len}", correction=help_text)
    if not any(c.isascii() and c.isalpha() for c in name):
        raise InvalidInput(field, name, "must contain at least one letter a-z or A-Z", correction=help_text)
    first = name[0]
    if not (first == "_" or (first.isascii() and first.isalpha())):
        raise InvalidInput(field, name, f"cannot begin with {first!r}", correction=help_text)
    bad = sorted({c for c in name[1:] if not (c in "_-" or (c.isascii() and c.isalnum()))})
    if bad:
        raise InvalidInput(field, name, f"cannot contain {''.join(bad)!r}", correction=help_text)
    return name


def validate_resource_name(name: str) -> str:
    """Return ``name`` if it is a valid resource definition name (``ResourceName``), else raise."""
    _name_check("resource name", name, 2, NAME_MAX)
    if name.lower() in RESERVED_RESOURCE_NAMES:
        raise InvalidInput("resource name", name, "reserved by DRBD", correction="choose another name")
    return name


def validate_resource_group_name(name: str) -> str:
    """Return ``name`` if it is a valid resource group name (``ResourceGroupName``)."""
    return _name_check("resource group name", name, 2, NAME_MAX)


def validate_snapshot_name(name: str) -> str:
    """Return ``name`` if it is a valid snapshot name (``SnapshotName``)."""
    return _name_check("snapshot name", name, 2, NAME_MAX)


def validate_storage_pool_name(name: str) -> str:
    """Return ``name`` if it is a valid storage pool name (``StorPoolName``: 3..48)."""
    return _name_check("storage pool name", name, 3, NAME_MAX)


_PROP_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)*")


def validate_prop_key(key: object, field: str = "property key") -> str:
    """Return ``key`` if it is a LINSTOR property key: namespaces and a name joined by ``/``
    (``Aux/site``, ``DrbdOptions/Net/protocol``), none of them empty."""
    if not isinstance(key, str) or not _PROP_KEY.fullmatch(key):
        raise InvalidInput(field, key, "must be names of letters, digits, '_', '.' and '-' joined by '/', "
                           "none empty (Aux/site)", correction="remove empty parts, spaces and trailing '/'")
    return key


def validate_node_name(name: str) -> str:
    """Return ``name`` if it is a valid node name (``NodeName`` = ``Checks.hostNameCheck``)."""
    field = "node name"
    if not isinstance(name, str):
        raise InvalidInput(field, name, "must be a string")
    correction = "use the host name: letters, digits, '-' and '.', 2 to 255 characters"
    if name.startswith((".", "-")) or name.endswith("-"):
        raise InvalidInput(field, name, "cannot begin with '.' or '-' nor end with '-'", correction=correction)
    if not 2 <= len(name.encode()) <= HOSTNAME_MAX:
        raise InvalidInput(field, name, f"length is outside 2..{HOSTNAME_MAX}", correction=correction)
    if not _HOST.fullmatch(name):
        raise InvalidInput(field, name, "may hold only letters, digits, '-' and '.'", correction=correction)
    if any(len(label) > HOSTNAME_LABEL_MAX for label in name.split(".")):
        raise InvalidInput(field, name, f"a label is longer than {HOSTNAME_LABEL_MAX}", correction=correction)
    return name


def _platform(platform: str) -> str:
    if not isinstance(platform, str) or not _PLATFORM.fullmatch(platform) or len(platform) > PLATFORM_MAX:
        raise InvalidInput(
            "platform", platform, f"must be 1 to {PLATFORM_MAX} lower-case letters and digits, starting with a letter"
        )
    return platform


def _owner_id(owner_id: str | int | None) -> str:
    if owner_id is None:
        return ""
    text = str(owner_id)
    if isinstance(owner_id, bool) or not _OWNER_ID.fullmatch(text) or len(text) > OWNER_ID_MAX:
        raise InvalidInput(
            "owner id", owner_id, f"must be 1 to {OWNER_ID_MAX} ASCII letters, digits or '_'",
            correction="pass the platform's numeric id (VM id, image id) or leave it out",
        )
    return text


def _sanitise(text: str) -> str:
    return _INVALID_RUN.sub("_", text).strip("_-")


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:_HASH_LEN]


def disk_resource_name(
    platform: str, owner_id: str | int | None, owner_name: str = "", disk: str | int | None = None
) -> str:
    """The resource definition name for one platform disk: deterministic and always valid.

    ``platform`` is a short lower-case tag (``pve``, ``one``, ``docker``); ``owner_id`` the
    platform's stable id of the owner (kept verbatim, never truncated; ``None`` when the owner
    name is the identity, as for Docker volumes); ``owner_name`` a human name, sanitised and
    shortened; ``disk`` an index (rendered ``disk-<n>``) or a label such as ``cloudinit``.
    A platform should either always or never pass owner ids: ``("pve", 101, "web")`` and
    ``("pve", None, "101-web")`` both give ``pve-101-web``.
    Raises InvalidInput for a bad platform or owner id, or when nothing but the platform is given.
    """
    head = "-".join(p for p in (_platform(platform), _owner_id(owner_id)) if p)
    if isinstance(disk, int) and not isinstance(disk, bool):
        if disk < 0:
            raise InvalidInput("disk", disk, "must be zero or more")
        disk_label = f"disk-{disk}"
    else:
        disk_label = disk or ""
    if owner_id is None and not owner_name and not disk_label:
        raise InvalidInput("owner", owner_name, "need an owner id, an owner name or a disk to name a disk")
    name_part, disk_part = _sanitise(owner_name), _sanitise(disk_label)
    plain = "-".join(p for p in (head, name_part, disk_part) if p)
    if (name_part, disk_part) == (owner_name, disk_label) and len(plain) <= NAME_MAX:
        return validate_resource_name(plain)
    room = NAME_MAX - len(head) - 1 - _HASH_LEN
    disk_part = disk_part[: max(room - 1, 0)].rstrip("_-")
    name_room = room - len(disk_part) - (2 if disk_part else 1)
    name_part = name_part[: max(name_room, 0)].rstrip("_-")
    tail = [p for p in (name_part, disk_part) if p]
    return validate_resource_name("-".join([head, *tail, _digest(head, owner_name, disk_label)]))


def owner_id_from_name(platform: str, name: str) -> str:
    """Read the owner id back from a :func:`disk_resource_name` made with one.

    Raises InvalidInput when ``name`` is not a ``platform`` disk name with an owner id.
    """
    prefix = _platform(platform) + "-"
    owner_id = name[len(prefix):].split("-", 1)[0] if name.startswith(prefix) else ""
    if not owner_id or not _OWNER_ID.fullmatch(owner_id):
        raise InvalidInput("resource name", name, f"not a {platform} disk name with an owner id")
    return owner_id


def owner_props(platform: str, owner_id: str | int | None, owner_name: str = "", **extra: object) -> dict[str, str]:
    """The ``Aux/bundle/...`` properties recording a disk's owner; every value a string.

    Keys: ``platform`` always, ``owner-id`` unless it is ``None``, ``owner-name`` unless empty,
    and each ``extra`` keyword verbatim (``Aux/bundle/<key>``). Adapters list their disks by
    filtering on ``Aux/bundle/platform`` (and ``owner-id``): see :func:`owner_filter`.
    """
    props = owner_filter(platform, owner_id)
    if owner_name:
        props[PROP_OWNER_NAME] = str(owner_name)
    props.update({PROP_PREFIX + key: str(value) for key, value in extra.items()})
    return props


def among(name: str, names: Iterable[str]) -> bool:
    """Whether ``name`` is one of ``names`` as LINSTOR compares names: ignoring case."""
    return name.casefold() in {other.casefold() for other in names}


def carries(props: Mapping[str, str], owner: Mapping[str, str]) -> bool:
    """Whether ``props`` (a disk's) hold every key of ``owner`` with its value: whether the disk
    is the one those owner props were given to."""
    return all(props.get(key) == value for key, value in owner.items())


def owner_filter(platform: str, owner_id: str | int | None = None) -> dict[str, str]:
    """The props to pass to ``DiskService.list``: all disks of ``platform`` or of one owner."""
    props = {PROP_PLATFORM: _platform(platform)}
    if owner_id is not None:
        props[PROP_OWNER_ID] = str(owner_id)
    return props


__all__ = [
    "among",
    "validate_prop_key",
    "NAME_MAX", "PROP_PREFIX", "PROP_PLATFORM", "PROP_OWNER_ID", "PROP_OWNER_NAME",
    "validate_resource_name", "validate_resource_group_name", "validate_snapshot_name",
    "validate_storage_pool_name", "validate_node_name", "disk_resource_name", "owner_id_from_name", "carries",
    "owner_props", "owner_filter",
]
