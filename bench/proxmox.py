"""Proxmox plugin vs LINBIT's call pattern: REST calls and latency per alloc, list and status.

Both run in the same process against the same embedded controller, so only the call pattern
differs. LINBIT's linstor-proxmox (as described in ../shared/reference/PLATFORMS.md) allocates
with 4 calls (spawn definitions-only, make-available on the local node, autoplace, PUT
``Aux/pm/vmid``), lists with 2 full listings (resources view + all resource definitions) and
asks ``query-all-size-info`` for status (cached 60 s in a file). Ours: one filtered listing + one
spawn per alloc, one filtered listing (+ views) per list, one ``query-size-info`` per status,
shared through the status cache file. The two sides take turns round by round.

The listed disks are spawned definitions-only (no volumes, so 10,000 of them cost no storage);
that keeps LINBIT's resources view small, so its list time here is a lower bound.

Run: ``.venv/bin/python bench/proxmox.py [--disks 10000] [--allocs 30]``. Prints ratios
(ours / LINBIT's); below 1 means fewer calls or less time.

Goals in the rows: issue 5 states two (list_images is one REST call; status is cached across
processes, so a cached status makes none); elsewhere the goal is to cost no more calls and no
more time than LINBIT's pattern (ratio <= 1x).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from linstor_core.client import LinstorClient
from linstor_core.config import load_client_config
from linstor_core.controller.server import ControllerServer
from linstor_core.disks import DiskService
from linstor_core.models import SelectFilter
from proxmox_plugin.options import parse_options
from proxmox_plugin.plugin import LinstorStorage
from proxmox_plugin.statuscache import StatusCache
from proxmox_plugin.vmnames import FirstOf
from rows import BenchRow, Goal, add_json_option, publish

NODE = "bench1"
GROUP = "benchgrp"
STOREID = "ls"
NO_WORSE = Goal.ratio_at_most(1)


class CountingSession(requests.Session):
    """A session that counts the HTTP requests it sends (one per REST call)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        return super().request(method, url, *args, **kwargs)


@dataclass
class Measure:
    name: str
    calls: int
    seconds: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000


Step = Callable[[int], object]


def measure(name: str, runs: int, *sides: tuple[CountingSession, Step]) -> list[Measure]:
    """Run each side's ``step(i)`` ``runs`` times, alternating sides round by round so a busy
    moment hits them alike; per side, calls per run and each run's wall time."""
    start_calls = [session.calls for session, _ in sides]
    seconds: list[list[float]] = [[] for _ in sides]
    for i in range(runs):
        for (_, step), times in zip(sides, seconds):
            began = time.perf_counter()
            step(i)
            times.append(time.perf_counter() - began)
    return [Measure(name, round((session.calls - start) / runs), times)
            for (session, _), start, times in zip(sides, start_calls, seconds)]


@contextmanager
def controller(state: Path) -> Iterator[ControllerServer]:
    server = ControllerServer(state / "controller", port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def populate(client: LinstorClient, count: int) -> None:
    """``count`` definitions-only disks (no storage touched) carrying both plugins' props."""
    for i in range(count):
        vmid = 1000 + i
        props = {"Aux/bundle/platform": "pve", "Aux/bundle/pve-storage": STOREID,
                 "Aux/bundle/owner-id": str(vmid), "Aux/bundle/pve-volname": f"vm-{vmid}-disk-0",
                 "Aux/pm/vmid": str(vmid)}
        client.resource_groups.spawn(GROUP, f"pve-{vmid}-disk-0", [4096], props=props,
                                     definitions_only=True)


def linbit_alloc(client: LinstorClient, i: int) -> None:
    name = f"linbit-{i}"
    client.resource_groups.spawn(GROUP, name, [4096], definitions_only=True)
    client.resources.make_available(name, NODE, diskful=True)
    client.resources.autoplace(name)
    client.resource_definitions.set_props(name, override={"Aux/pm/vmid": str(500 + i)})


def linbit_list(client: LinstorClient) -> None:
    client.resources.view()
    client.resource_definitions.list()


@dataclass
class Rig:
    """Both sides of the comparison: our plugin and LINBIT's replayed calls, each counted."""

    ours: CountingSession
    theirs: CountingSession
    their_client: LinstorClient
    setup: LinstorClient
    cached: LinstorStorage
    uncached: LinstorStorage


@dataclass(frozen=True)
class Figures:
    """Each operation measured ours and LINBIT's way (``pairs``), and our cached status."""

    disks: int
    pairs: list[tuple[Measure, Measure]]
    cached: Measure


def measure_all(rig: Rig, disks: int, allocs: int) -> Figures:
    def pair(name: str, runs: int, ours: Step, theirs: Step) -> tuple[Measure, Measure]:
        mine, linbit = measure(name, runs, (rig.ours, ours), (rig.theirs, theirs))
        return mine, linbit

    pairs = [pair("alloc", allocs, lambda i: rig.uncached.alloc_image(200 + i, "raw", None, 4096),
                  lambda i: linbit_alloc(rig.their_client, i))]
    populate(rig.setup, disks)
    pairs.append(pair(f"list ({disks} disks)", 5, lambda i: rig.uncached.list_images(),
                      lambda i: linbit_list(rig.their_client)))
    pairs.append(pair("status uncached", 20, lambda i: rig.uncached.status(),
                      lambda i: rig.their_client.resource_groups.query_all_size_info()))
    rig.cached.status()
    [cached] = measure("status cached", 20, (rig.ours, lambda i: rig.cached.status()))
    return Figures(disks, pairs, cached)


def bench_rows(figures: Figures) -> list[BenchRow]:
    (alloc, their_alloc), (listing, their_list), (status, their_status) = figures.pairs
    vs = "vs LINBIT's pattern"
    return [
        BenchRow(f"pve: alloc, REST calls {vs}", alloc.calls, "calls", their_alloc.calls, NO_WORSE),
        BenchRow(f"pve: alloc, latency {vs}", alloc.median_ms, "ms", their_alloc.median_ms, NO_WORSE),
        BenchRow(f"pve: list {figures.disks:,} disks, REST calls {vs}", listing.calls, "calls", their_list.calls,
                 Goal("<=", 1, "calls")),
        BenchRow(f"pve: list {figures.disks:,} disks, latency {vs}", listing.median_ms, "ms", their_list.median_ms,
                 NO_WORSE, "LINBIT's resources view is empty here (definitions only): a lower bound for it"),
        BenchRow(f"pve: status uncached, REST calls {vs}", status.calls, "calls", their_status.calls, NO_WORSE),
        BenchRow(f"pve: status uncached, latency {vs}", status.median_ms, "ms", their_status.median_ms, NO_WORSE),
        BenchRow("pve: status cached, REST calls vs uncached", figures.cached.calls, "calls", status.calls,
                 Goal("=", 0, "calls"),
                 f"latency {figures.cached.median_ms:.2f} ms; LINBIT's 60 s file cache: 0 calls"),
    ]


def report(figures: Figures) -> None:
    print("ours vs LINBIT's pattern, same controller (x = ours / theirs)")
    for ours, theirs in figures.pairs:
        print(ratio_line(ours, theirs))
    hit = figures.cached
    print(f"{hit.name:<22} calls {hit.calls:>3} (LINBIT's 60 s file cache: 0 as well)"
          f"   median {hit.median_ms:8.1f} ms")


def remove_deployed(service: DiskService) -> None:
    """Delete the disks that hold storage (loop devices when root); definitions-only ones go
    with the temporary state directory."""
    for disk in service.list():
        if disk.nodes or disk.diskless_nodes:
            service.delete(disk.name, with_snapshots=True)


def ratio_line(ours: Measure, theirs: Measure) -> str:
    return (f"{ours.name:<22} calls {ours.calls:>3} vs {theirs.calls:>3} (x{ours.calls / max(theirs.calls, 1):.2f})"
            f"   median {ours.median_ms:8.1f} ms vs {theirs.median_ms:8.1f} ms"
            f" (x{ours.median_ms / max(theirs.median_ms, 1e-6):.2f})")


def run(disks: int, allocs: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-proxmox-") as tmp, controller(Path(tmp)) as server:
        ours_session, their_session = CountingSession(), CountingSession()
        config = load_client_config(server.url)
        ours_client = LinstorClient(config, session=ours_session)
        their_client = LinstorClient(config, session=their_session)
        setup = LinstorClient(config)
        setup.nodes.create(NODE, "127.0.0.1")
        setup.storage_pools.create(NODE, "pool", "FILE_THIN", props={"StorDriver/FileDir": f"{tmp}/pool"})
        setup.resource_groups.create(GROUP, select_filter=SelectFilter(
            place_count=1, storage_pool="pool", layer_stack=("storage",)))

        def storage(cache_seconds: int) -> LinstorStorage:
            options = parse_options(STOREID, {"resourcegroup": GROUP, "statuscache": cache_seconds})
            return LinstorStorage(DiskService(ours_client), options, NODE, FirstOf(()),
                                  StatusCache(Path(tmp) / "cache", cache_seconds), lambda line: None)

        rig = Rig(ours_session, their_session, their_client, setup, storage(60), storage(0))
        try:
            return measure_all(rig, disks, allocs)
        finally:
            remove_deployed(DiskService(setup))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disks", type=int, default=10_000, help="disks in the listing (default 10000)")
    parser.add_argument("--allocs", type=int, default=30, help="allocations to time (default 30)")
    add_json_option(parser)
    args = parser.parse_args(argv)
    return publish(run(args.disks, args.allocs), report, bench_rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
