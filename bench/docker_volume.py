"""Docker plugin vs the raw steps: Create + Mount + Unmount + Remove of one volume.

Ours: the four Docker calls over the plugin's unix socket, as dockerd makes them, with the plugin
backed by an embedded controller in the same process (spawn, loop device, blkid, mkfs, mount,
umount, delete). Raw: the same storage work by hand with no LINSTOR at all (truncate, losetup,
mkfs, mount, umount, losetup -d, rm). Same size, same filesystem, same run. The ratio is the
price of LINSTOR's bookkeeping and the protocol; the goal is 1.5x or less.

Run as root (loop devices, mkfs, mount): ``.venv/bin/python bench/docker_volume.py [--rounds 10]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

# Run as a script, this file's directory leads sys.path and its name would hide the
# docker_volume package: drop that directory before importing the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from linstor_core.client import LinstorClient  # noqa: E402
from linstor_core.config import load_client_config  # noqa: E402
from linstor_core.controller.server import ControllerServer  # noqa: E402
from linstor_core.disks import DiskService  # noqa: E402
from linstor_core.models import SelectFilter  # noqa: E402
from linstor_core.runner import run  # noqa: E402

from docker_volume import probe  # noqa: E402
from docker_volume.driver import VolumeDriver  # noqa: E402
from docker_volume.mounts import MountTable  # noqa: E402
from docker_volume.protocol import create_app  # noqa: E402
from docker_volume.server import PluginServer  # noqa: E402

NODE = "bench1"
GROUP = "benchdocker"
SIZE = "64M"


def seconds(step: Callable[[], object]) -> float:
    began = time.perf_counter()
    step()
    return time.perf_counter() - began


def raw_round(directory: Path, i: int) -> None:
    image, target = directory / f"raw{i}.img", directory / f"raw{i}"
    run(["truncate", "-s", SIZE, str(image)])
    device = run(["losetup", "--find", "--show", str(image)]).strip()
    try:
        run(["mkfs.ext4", "-q", "-F", device])
        target.mkdir()
        run(["mount", "-t", "ext4", device, str(target)])
        run(["umount", str(target)])
    finally:
        run(["losetup", "-d", device])
    image.unlink()
    target.rmdir()


def plugin_round(socket: Path, i: int, per_call: dict[str, list[float]]) -> None:
    """The four calls dockerd makes for one short-lived volume; each call's time is recorded."""
    name = f"bench{i}"
    for endpoint, body in (
        ("/VolumeDriver.Create", {"Name": name, "Opts": {"size": SIZE}}),
        ("/VolumeDriver.Mount", {"Name": name, "ID": "c1"}),
        ("/VolumeDriver.Unmount", {"Name": name, "ID": "c1"}),
        ("/VolumeDriver.Remove", {"Name": name}),
    ):
        began = time.perf_counter()
        status, answer = probe.call(socket, endpoint, body)
        per_call.setdefault(endpoint, []).append(time.perf_counter() - began)
        if status != 200 or answer.get("Err"):
            raise RuntimeError(f"{endpoint} {name}: {answer}")


@contextmanager
def plugin(tmp: Path) -> Iterator[Path]:
    """An embedded controller with one node and pool, and the plugin on a socket in ``tmp``."""
    server = ControllerServer(tmp / "controller", port=0)
    server.start()
    try:
        config = load_client_config(server.url)
        setup = LinstorClient(config)
        setup.nodes.create(NODE, "127.0.0.1")
        setup.storage_pools.create(NODE, "pool", "FILE_THIN", props={"StorDriver/FileDir": str(tmp / "pool")})
        select = SelectFilter(place_count=1, storage_pool="pool", layer_stack=("storage",))
        setup.resource_groups.create(GROUP, select_filter=select)
        mounts = MountTable(tmp / "mounts.json", tmp / "volumes")
        driver = VolumeDriver(DiskService.from_config(config), mounts, node=NODE, default_profile=GROUP)
        with PluginServer(create_app(driver), tmp / "linstor.sock") as served:
            yield served.socket_path
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="volumes to time each way (default 10)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root: loop devices, mkfs and mount", file=sys.stderr)
        return 1
    per_call: dict[str, list[float]] = {}
    raw, ours = [], []
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as directory:
        tmp = Path(directory)
        with plugin(tmp) as socket:
            plugin_round(socket, -1, {})  # warm up: first spawn, imports, connection set-up
            for i in range(args.rounds):  # alternate, so a busy moment hits both sides alike
                raw.append(seconds(partial(raw_round, tmp, i)))
                ours.append(seconds(partial(plugin_round, socket, i, per_call)))
    ours_ms, raw_ms = statistics.median(ours) * 1000, statistics.median(raw) * 1000
    print(f"create+mount+unmount+remove, {SIZE} ext4, median of {args.rounds}:")
    print(f"  plugin over its socket  {ours_ms:8.1f} ms")
    for endpoint, times in per_call.items():
        print(f"    {endpoint:<23}{statistics.median(times) * 1000:8.1f} ms")
    print(f"  raw steps               {raw_ms:8.1f} ms")
    print(f"  ratio                   x{ours_ms / raw_ms:.2f}  (goal <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
