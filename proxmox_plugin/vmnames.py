"""Which name a guest has, so its disks can be named after it in LINSTOR.

The name is cosmetic: a disk is found by its PVE volume name recorded in ``Aux/`` properties,
never by its resource name. So every source here answers ``None`` rather than failing, and a
disk allocated before its guest has a name (``qm create`` writes the config after the disks)
simply gets a resource name without one.

Sources, tried in order: the cluster file system PVE mounts on every node (``/etc/pve``: no
network, no credentials), then the PVE API through proxmoxer (``GET /cluster/resources``) for
when those files cannot be read, e.g. before pmxcfs is mounted or off-node.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import proxmoxer
import requests

_CONFIG_DIRS = {"qemu": ("qemu-server", "name"), "lxc": ("lxc", "hostname")}


class VmNames(Protocol):
    def name_of(self, vmid: int) -> str | None:
        """The guest's name, or ``None`` when this source does not know it."""


@dataclass(frozen=True)
class GuestConfig:
    """A guest's configuration in pmxcfs: the node it is on, ``qemu`` or ``lxc``, and the
    settings of its own section (the snapshot sections that follow are left out)."""

    node: str
    kind: str
    settings: dict[str, str]


def read_guest_config(root: Path, vmid: int) -> GuestConfig | None:
    """``.vmlist`` says which node and type holds the guest; its config there holds its
    settings. None when either cannot be read (pmxcfs not mounted, a guest being created)."""
    try:
        entry = json.loads((root / ".vmlist").read_text())["ids"][str(vmid)]
        kind = entry.get("type", "qemu")
        node = str(entry["node"])
        lines = (root / "nodes" / node / _CONFIG_DIRS[kind][0] / f"{vmid}.conf").read_text().splitlines()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    settings: dict[str, str] = {}
    for line in lines:
        if line.startswith("["):
            break  # snapshot sections follow the current config
        key, _, value = line.partition(":")
        settings.setdefault(key.strip(), value.strip())
    return GuestConfig(node, kind, settings)


@dataclass(frozen=True)
class PveFiles:
    """A guest's name from its config in pmxcfs (``name:``, a container's ``hostname:``)."""

    root: Path = Path("/etc/pve")

    def name_of(self, vmid: int) -> str | None:
        config = read_guest_config(self.root, vmid)
        if config is None:
            return None
        return config.settings.get(_CONFIG_DIRS[config.kind][1]) or None


@dataclass(frozen=True)
class PveApi:
    """One ``GET /cluster/resources?type=vm`` through a ``proxmoxer.ProxmoxAPI``."""

    api: Any

    @classmethod
    def local(cls) -> "PveApi | None":
        """The node's own API through ``pvesh`` (no credentials); ``None`` off a PVE node."""
        if shutil.which("pvesh") is None:
            return None
        return cls(proxmoxer.ProxmoxAPI(backend="local", service="PVE"))

    def name_of(self, vmid: int) -> str | None:
        try:
            resources = self.api.cluster.resources.get(type="vm")
        except (proxmoxer.ResourceException, requests.RequestException, OSError, ValueError):
            return None
        for resource in resources or ():
            if str(resource.get("vmid")) == str(vmid):
                return str(resource.get("name") or "") or None
        return None


@dataclass(frozen=True)
class FirstOf:
    """Ask each source in turn; the first name wins."""

    sources: Sequence[VmNames]

    def name_of(self, vmid: int) -> str | None:
        for source in self.sources:
            name = source.name_of(vmid)
            if name:
                return name
        return None
