"""Docker plugin vs the raw steps: Create + Mount + Unmount + Remove of one volume.

Ours: the four Docker calls over the plugin's unix socket, as dockerd makes them (on one kept
connection: Go's HTTP transport keeps the one to a plugin's socket between calls), with the plugin
backed by an embedded controller in the same process (spawn with its loop device, the lookups,
mkfs, recording that the filesystem is made, mount, umount, delete). Raw: the same storage work by hand with no LINSTOR at all (truncate, losetup,
mkfs, mount, umount, losetup -d, rm). Same size, same filesystem, the same mkfs command line
(without a discard, as the plugin formats), same run. The ratio is the price of LINSTOR's
bookkeeping and the protocol; the goal is 1.5x or less.

Run as root (loop devices, mkfs, mount): ``.venv/bin/python bench/docker_volume.py [--rounds 30]``.
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
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rows import BenchRow, Goal, add_json_option, publish, write_rows

# Run as a script, this file's directory leads sys.path and its name would hide the
# docker_volume package: drop that directory (after importing rows from it) before importing the package.
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
ROW = f"docker: Create+Mount+Unmount+Remove ({SIZE} ext4) vs the raw steps"
GOAL = Goal.ratio_at_most(1.5)


def seconds(step: Callable[[], object]) -> float:
    began = time.perf_counter()
    step()
    return time.perf_counter() - began


def raw_round(directory: Path, i: int) -> None:
    image, target = directory / f"raw{i}.img", directory / f"raw{i}"
    run(["truncate", "-s", SIZE, str(image)])
    device = run(["losetup", "--find", "--show", str(image)]).strip()
    try:
        run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", device])  # the plugin's mkfs, to the letter
        target.mkdir()
        run(["mount", "-t", "ext4", device, str(target)])
        run(["umount", str(target)])
    finally:
        run(["losetup", "-d", device])
    image.unlink()
    target.rmdir()


def plugin_round(docker: probe.PluginClient, i: int, per_call: dict[str, list[float]]) -> None:
    """The four calls dockerd makes for one short-lived volume; each call's time is recorded."""
    name = f"bench{i}"
    for endpoint, body in (
        ("/VolumeDriver.Create", {"Name": name, "Opts": {"size": SIZE}}),
        ("/VolumeDriver.Mount", {"Name": name, "ID": "c1"}),
        ("/VolumeDriver.Unmount", {"Name": name, "ID": "c1"}),
        ("/VolumeDriver.Remove", {"Name": name}),
    ):
        began = time.perf_counter()
        status, answer = docker.call(endpoint, body)
        per_call.setdefault(endpoint, []).append(time.perf_counter() - began)
        if status != 200 or answer.get("Err"):
            raise RuntimeError(f"{endpoint} {name}: {answer}")


@contextmanager
def plugin(tmp: Path) -> Iterator[probe.PluginClient]:
    """An embedded controller with one node and pool, the plugin on a socket in ``tmp``, and a
    client to it as dockerd's."""
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
        with PluginServer(create_app(driver), tmp / "linstor.sock") as served, \
                probe.PluginClient(served.socket_path) as docker:
            yield docker
    finally:
        server.stop()


@dataclass(frozen=True)
class Figures:
    """Each side's round times and each plugin call's times, in seconds."""

    rounds: int
    ours: list[float]
    raw: list[float]
    per_call: dict[str, list[float]]

    @property
    def ours_ms(self) -> float:
        return statistics.median(self.ours) * 1000

    @property
    def raw_ms(self) -> float:
        return statistics.median(self.raw) * 1000


def measure(rounds: int) -> Figures:
    per_call: dict[str, list[float]] = {}
    raw, ours = [], []
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as directory:
        tmp = Path(directory)
        with plugin(tmp) as docker:
            plugin_round(docker, -1, {})  # warm up: first spawn, imports, connection set-up
            for i in range(rounds):  # alternate, so a busy moment hits both sides alike
                raw.append(seconds(partial(raw_round, tmp, i)))
                ours.append(seconds(partial(plugin_round, docker, i, per_call)))
    return Figures(rounds, ours, raw, per_call)


def bench_rows(figures: Figures) -> list[BenchRow]:
    calls = ", ".join(f"{endpoint.removeprefix('/VolumeDriver.')} {statistics.median(times) * 1000:.1f}"
                      for endpoint, times in figures.per_call.items())
    return [BenchRow(ROW, figures.ours_ms, "ms", figures.raw_ms, GOAL, f"per call (ms): {calls}")]


def report(figures: Figures) -> None:
    print(f"create+mount+unmount+remove, {SIZE} ext4, median of {figures.rounds}:")
    print(f"  plugin over its socket  {figures.ours_ms:8.1f} ms")
    for endpoint, times in figures.per_call.items():
        print(f"    {endpoint:<23}{statistics.median(times) * 1000:8.1f} ms")
    print(f"  raw steps               {figures.raw_ms:8.1f} ms")
    print(f"  ratio                   x{figures.ours_ms / figures.raw_ms:.2f}  (goal {GOAL})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="volumes to time each way (default 30)")
    add_json_option(parser)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        why = "needs root (loop devices, mkfs, mount)"
        print(why, file=sys.stderr)
        if args.json:  # bench/run.py: a row marked not run, and the other benchmarks go on
            write_rows(args.json, [BenchRow.not_run(ROW, "ms", GOAL, why)])
            return 0
        return 1
    return publish(measure(args.rounds), report, bench_rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
