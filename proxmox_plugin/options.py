"""The storage.cfg section of a LINSTOR storage, validated once into ``StorageOptions``.

PVE validates the section against the shim's ``options()`` schema before the plugin sees it;
checking again here keeps ``linstor-pve`` safe to call by hand and gives one clear error for an
option this storage does not know (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linstor_core.errors import ConfigError, InvalidInput

DEFAULT_STATUS_CACHE_SECONDS = 60
"""pvestatd asks every 10 s on every node; 60 s is what LINBIT settled on after saturation."""

# Keys PVE itself puts into every section (or that the shim's options() lets through unchanged).
_PVE_KEYS = frozenset({"type", "storage", "content", "nodes", "shared", "disable", "bwlimit",
                       "digest", "priority"})
OPTION_HELP = {
    "controller": "LINSTOR controller URL(s), comma separated, tried in order (default: the LINSTOR "
                  "client config: LS_CONTROLLERS, else controllers= in linstor-client.conf, else "
                  "linstor://localhost)",
    "resourcegroup": "resource group (profile) new disks are spawned from (required)",
    "profile": "alias of resourcegroup; setting both to different names is refused",
    "preferlocal": "1: put one replica of each new disk on the allocating node when it has "
                   "the group's storage pool (default 0)",
    "statuscache": f"seconds one capacity answer is shared by all processes on the node, "
                   f"0 turns the cache off (default {DEFAULT_STATUS_CACHE_SECONDS})",
    "apica": "CA certificate file for HTTPS to the controller (default: the client config's)",
    "apicrt": "client certificate file for HTTPS (default: the client config's)",
    "apikey": "client key file for HTTPS (default: the client config's)",
    "apitoken": "file holding the controller's bearer token, {\"token\": ...} or the bare token "
                "(default: the client config's)",
}
"""The storage.cfg options this storage adds to PVE's own, with their defaults (``--help``)."""

_OURS = frozenset(OPTION_HELP)
_TRUE = frozenset({"1", "yes", "on", "true"})
_FALSE = frozenset({"0", "no", "off", "false"})


@dataclass(frozen=True)
class StorageOptions:
    """What one PVE storage of type ``linstor`` is configured with (paths, not file contents)."""

    storeid: str
    profile: str
    controllers: tuple[str, ...] = ()
    prefer_local: bool = False
    status_cache_seconds: int = DEFAULT_STATUS_CACHE_SECONDS
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    token_file: str | None = None


def _flag(key: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(key, value, "expected 1/0, yes/no, on/off or true/false")


def _seconds(key: str, value: Any) -> int:
    try:
        seconds = int(str(value).strip())
    except ValueError:
        raise InvalidInput(key, value, "expected a whole number of seconds") from None
    if seconds < 0:
        raise InvalidInput(key, value, "must not be negative (0 turns the cache off)")
    return seconds


def _profile(scfg: Mapping[str, Any]) -> str:
    group = str(scfg.get("resourcegroup") or "").strip()
    profile = str(scfg.get("profile") or "").strip()
    if group and profile and group != profile:
        raise InvalidInput("profile", profile, f"conflicts with resourcegroup {group!r}",
                           correction="set only one of resourcegroup and profile")
    chosen = group or profile
    if not chosen:
        raise ConfigError("the storage names no resource group",
                          correction="set 'resourcegroup <name>' (or 'profile <name>') in storage.cfg")
    return chosen


def parse_options(storeid: str, scfg: Mapping[str, Any]) -> StorageOptions:
    """Validate a storage.cfg section; unknown keys and malformed values raise ``InvalidInput``."""
    if not isinstance(scfg, Mapping):
        raise InvalidInput("storage config", scfg, "must be a mapping of option to value")
    unknown = sorted(set(scfg) - _PVE_KEYS - _OURS)
    if unknown:
        raise InvalidInput("storage option", unknown[0], f"unknown to storage {storeid!r}",
                           correction="known options: " + ", ".join(sorted(_OURS)))
    controllers = tuple(c.strip() for c in str(scfg.get("controller") or "").split(",") if c.strip())
    return StorageOptions(
        storeid=storeid,
        profile=_profile(scfg),
        controllers=controllers,
        prefer_local=_flag("preferlocal", scfg.get("preferlocal", 0)),
        status_cache_seconds=_seconds("statuscache", scfg.get("statuscache",
                                                              DEFAULT_STATUS_CACHE_SECONDS)),
        ca_file=scfg.get("apica") or None,
        client_cert=scfg.get("apicrt") or None,
        client_key=scfg.get("apikey") or None,
        token_file=scfg.get("apitoken") or None,
    )
