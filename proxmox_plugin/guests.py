"""Whether a guest is being live-migrated here: the two signals PVE gives a storage plugin.

PVE tells a plugin nothing when a live migration begins; it activates the guest's disks on the
destination before the destination's QEMU opens them. What it does do: lock the guest for the
move (``lock: migrate`` in the VM's configuration, which stays in the source node's directory of
the cluster file system, ``/etc/pve/nodes/<source>/qemu-server/<vmid>.conf``, until the move is
done), and start the destination's QEMU from ``qm start --migratedfrom <source>``, which sets
``PVE_MIGRATED_FROM`` in the environment the plugin runs in. Only both together, read at
activation, let DRBD allow two primaries: a lock a failed migration left behind (its final
``qm unlock`` failed) is not a migration arriving here. A disk merely in use on another node (a
second VM given the same disk, a container, a guest started elsewhere after a crash) keeps
DRBD's refusal. Containers are never live-migrated.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from proxmox_plugin.vmnames import read_guest_config


class Guests(Protocol):
    def migrating_from(self, vmid: int) -> str | None:
        """The node VM ``vmid`` is being live-migrated from, or ``None``."""


@dataclass(frozen=True)
class PveGuestConfigs:
    """``.vmlist`` says where the guest's config lives and whether it is a VM; the config's own
    section (before its snapshots) says whether it is locked for a migration; ``environ``
    whether this process is the destination's start from there. Anything that cannot be read
    answers ``None``: no migration, so no second primary."""

    root: Path = Path("/etc/pve")
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def migrating_from(self, vmid: int) -> str | None:
        source = self.environ.get("PVE_MIGRATED_FROM")
        if not source:
            return None
        config = read_guest_config(self.root, vmid)
        if config is None or config.kind != "qemu":
            return None
        locked = config.settings.get("lock") == "migrate"
        return config.node if locked and config.node == source else None

__all__ = ["Guests", "PveGuestConfigs"]
