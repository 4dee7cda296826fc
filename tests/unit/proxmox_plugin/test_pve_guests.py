"""The live-migration signal read from pmxcfs: a VM whose config is locked for a migration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proxmox_plugin.guests import PveGuestConfigs


def pmxcfs(root: Path, vmid: int, node: str, kind: str, config: str, migrated_from: str = "n1") -> PveGuestConfigs:
    (root / ".vmlist").write_text(json.dumps({"version": 3, "ids": {str(vmid): {"node": node, "type": kind}}}))
    directory = root / "nodes" / node / ("qemu-server" if kind == "qemu" else "lxc")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{vmid}.conf").write_text(config)
    return PveGuestConfigs(root, {"PVE_MIGRATED_FROM": migrated_from} if migrated_from else {})


def test_a_vm_locked_for_a_migration_names_its_source(tmp_path: Path) -> None:
    guests = pmxcfs(tmp_path, 101, "n1", "qemu", "boot: order=scsi0\nlock: migrate\nname: web01\n")
    assert guests.migrating_from(101) == "n1"
    assert guests.migrating_from(102) is None


@pytest.mark.parametrize(("kind", "config"), [
    ("qemu", "name: web01\n"),  # not locked
    ("qemu", "lock: backup\nname: web01\n"),  # locked for something else
    ("qemu", "name: web01\n\n[snap1]\nlock: migrate\n"),  # a snapshot's section, not the VM's
    ("lxc", "lock: migrate\nhostname: ct\n"),  # containers are never live-migrated
])
def test_anything_else_is_no_migration(tmp_path: Path, kind: str, config: str) -> None:
    assert pmxcfs(tmp_path, 101, "n1", kind, config).migrating_from(101) is None


def test_a_lock_without_qm_start_migratedfrom_is_no_migration_here(tmp_path: Path) -> None:
    """A lock a failed migration left (its qm unlock failed), or another node's start: the
    process activating is no destination started by the migration from that node."""
    config = "lock: migrate\nname: web01\n"
    assert pmxcfs(tmp_path, 101, "n1", "qemu", config, migrated_from="").migrating_from(101) is None
    assert pmxcfs(tmp_path, 101, "n1", "qemu", config, migrated_from="n2").migrating_from(101) is None


def test_an_unreadable_cluster_file_system_is_no_migration(tmp_path: Path) -> None:
    started = {"PVE_MIGRATED_FROM": "n1"}
    assert PveGuestConfigs(tmp_path / "missing", started).migrating_from(101) is None
    (tmp_path / ".vmlist").write_text("{not json")
    assert PveGuestConfigs(tmp_path, started).migrating_from(101) is None
    (tmp_path / ".vmlist").write_text(json.dumps({"ids": {"101": {"node": "n1", "type": "qemu"}}}))
    assert PveGuestConfigs(tmp_path, started).migrating_from(101) is None  # the config file is missing
