"""The test controllers' storage: pools on a reflink filesystem, nodes, and clean-up of loops.

Shared by tests/functional and tests/reliability (this directory is on ``sys.path`` for every
test, as tests/conftest.py's own): registering the nodes and FILE_THIN pools, the xfs
filesystem (reflink=1) the pools live on as root, an in-process controller with both, and the
loop-device clean-up every fixture runs even when its test failed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

from linstor_core.controller.server import ControllerServer

NODES = ("alpha", "bravo", "charlie")
ADDRESSES = {"alpha": "127.0.0.11", "bravo": "127.0.0.12", "charlie": "127.0.0.13"}
POOL = "thinpool"
XFS_SIZE = "768M"


def populate(url: str, pool_root: Path, nodes: tuple[str, ...] = NODES,
             session: requests.Session | None = None) -> None:
    """Register ``nodes`` with a FILE_THIN pool ``thinpool`` each (directory per node)."""
    http = session or requests.Session()
    for node in nodes:
        address = ADDRESSES.get(node, "127.0.0.10")
        answer = http.post(f"{url}/v1/nodes", json={
            "name": node, "type": "SATELLITE",
            "net_interfaces": [{"name": "default", "address": address}]}, timeout=30)
        answer.raise_for_status()
        answer = http.post(f"{url}/v1/nodes/{node}/storage-pools", json={
            "storage_pool_name": POOL, "provider_kind": "FILE_THIN",
            "props": {"StorDriver/FileDir": str(pool_root / node)}}, timeout=30)
        answer.raise_for_status()


def is_root() -> bool:
    return os.geteuid() == 0 and Path("/dev/loop-control").exists()


def _cmd(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def _quiet(*argv: str) -> None:
    """A clean-up step: its failure must not keep the steps after it from running."""
    subprocess.run(argv, check=False, capture_output=True)


def loops_under(directory: Path) -> dict[str, str]:
    """Loop device -> backing file, for every loop device over a file under ``directory``."""
    if not is_root():
        return {}
    listing = json.loads(_cmd("losetup", "--list", "--json", "--output", "NAME,BACK-FILE")
                         or '{"loopdevices": []}')
    prefix = str(directory.resolve()) + "/"
    found = {}
    for dev in listing.get("loopdevices", []):
        back = (dev.get("back-file") or "").replace(" (deleted)", "")
        if back.startswith(prefix):
            found[dev["name"]] = back
    return found


def detach_loops_under(directory: Path) -> None:
    """Detach every loop device whose backing file lies under ``directory``."""
    for device in loops_under(directory):
        _quiet("losetup", "-d", device)


@contextmanager
def reflink_filesystem(base: Path) -> Iterator[Path]:
    """A mounted xfs (reflink=1) on a loop device over ``base/fs.img``; removed afterwards, also
    when a step of making it fails."""
    image, mount = base / "fs.img", base / "mnt"
    mount.mkdir()
    with ExitStack() as undo:
        undo.callback(image.unlink, missing_ok=True)
        _cmd("truncate", "-s", XFS_SIZE, str(image))
        _cmd("mkfs.xfs", "-q", "-m", "reflink=1", str(image))
        device = _cmd("losetup", "--find", "--show", str(image)).strip()
        undo.callback(_quiet, "losetup", "-d", device)
        _cmd("mount", device, str(mount))
        undo.callback(_quiet, "umount", str(mount))
        undo.callback(detach_loops_under, mount)
        yield mount


@contextmanager
def serving(scratch: Path, pool_root: Path) -> Iterator[ControllerServer]:
    """An in-process controller on a free loopback port with ``NODES`` and their pools, its
    state in ``scratch/state``; afterwards no loop device over ``scratch`` or the pools stays."""
    server = ControllerServer(scratch / "state", "127.0.0.1", 0)
    server.start()
    try:
        populate(server.url, pool_root)
        yield server
    finally:
        server.stop()
        detach_loops_under(pool_root)
        detach_loops_under(scratch)
