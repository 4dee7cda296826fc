"""The adapters as their platforms run them, pointed at a test controller.

A PVE storage is built the way ``linstor-pve`` builds one per worker process (``cli.connect``
for the storage.cfg section), with guest names read from a PVE cluster file system laid out
under a test directory; a Docker driver is the plugin's own ``VolumeDriver`` with its mount
table, optionally served on a real unix socket by the plugin's ``PluginServer``. Each call here
makes new HTTP sessions, as a new worker process would. OpenNebula's ``linstor-one``, run in
this process with oned's argv and stdin against an oned stand-in, is ``fuzz_stack.one_driver``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from docker_volume.driver import VolumeDriver
from docker_volume.mounts import MountTable
from docker_volume.protocol import create_app
from docker_volume.server import PluginServer
from proxmox_plugin.cli import connect
from proxmox_plugin.options import parse_options
from proxmox_plugin.plugin import LinstorStorage
from proxmox_plugin.statuscache import StatusCache
from proxmox_plugin.vmnames import PveFiles

STOREID = "rel"
PVE_NODE = "alpha"


def pve_cluster_files(root: Path, guests: Mapping[int, str], node: str = PVE_NODE) -> Path:
    """Write ``/etc/pve``'s ``.vmlist`` and one qemu config per guest under ``root``."""
    configs = root / "nodes" / node / "qemu-server"
    configs.mkdir(parents=True, exist_ok=True)
    (root / ".vmlist").write_text(json.dumps(
        {"ids": {str(vmid): {"node": node, "type": "qemu"} for vmid in guests}}))
    for vmid, name in guests.items():
        (configs / f"{vmid}.conf").write_text(f"name: {name}\nmemory: 512\n")
    return root


def pve_storage(url: str, group: str, pve_root: Path, cache: Path,
                node: str = PVE_NODE) -> LinstorStorage:
    """One PVE worker's view of storage ``rel`` (resource group ``group``) on ``node``."""
    options = parse_options(STOREID, {"type": "linstor", "resourcegroup": group, "controller": url})
    return LinstorStorage(connect(options), options, node, PveFiles(pve_root),
                          StatusCache(cache, options.status_cache_seconds), lambda line: None)


def docker_driver(url: str, group: str, state: Path, node: str = PVE_NODE) -> VolumeDriver:
    """The Docker plugin's driver on ``node`` with its mount table under ``state``."""
    disks = connect(parse_options(STOREID, {"type": "linstor", "resourcegroup": group,
                                            "controller": url}))
    mounts = MountTable(state / "mounts.json", state / "volumes")
    return VolumeDriver(disks, mounts, node=node, default_profile=group)


@contextmanager
def docker_plugin(driver: VolumeDriver, socket: Path, threads: int = 8) -> Iterator[Path]:
    """The plugin's HTTP server for ``driver`` on unix socket ``socket`` (removed after)."""
    with PluginServer(create_app(driver), socket, threads=threads):
        yield socket


def drbd_numbers(url: str) -> list[dict[str, Any]]:
    """Per resource definition: name, DRBD TCP port and volume minors, from the REST view."""
    rds = requests.get(f"{url}/v1/resource-definitions", params={"with_volume_definitions": "true"},
                       timeout=30)
    rds.raise_for_status()
    numbers = []
    for rd in rds.json():
        drbd = next(layer.get("data", {}) for layer in rd.get("layer_data", []) if layer["type"] == "DRBD")
        minors = [layer["data"]["minor_number"] for vd in rd.get("volume_definitions", [])
                  for layer in vd.get("layer_data", []) if layer["type"] == "DRBD"]
        numbers.append({"name": rd["name"], "port": drbd.get("port"), "minors": minors})
    return numbers
