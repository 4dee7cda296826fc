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
class PveFiles:
    """``.vmlist`` says which node and type holds the guest; its config holds ``name:``."""

    root: Path = Path("/etc/pve")

    def name_of(self, vmid: int) -> str | None:
        try:
            entry = json.loads((self.root / ".vmlist").read_text())["ids"][str(vmid)]
            subdir, key = _CONFIG_DIRS[entry.get("type", "qemu")]
            config = self.root / "nodes" / str(entry["node"]) / subdir / f"{vmid}.conf"
            lines = config.read_text().splitlines()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        for line in lines:
            if line.startswith("["):
                break  # snapshot sections follow the current config
            found, _, value = line.partition(":")
            if found.strip() == key and value.strip():
                return value.strip()
        return None


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
