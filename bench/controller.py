"""Benchmarks of the embedded controller (not tests): prints absolute times and the ratios.

1. spawn latency (RD + VD + one resource on a FILE_THIN pool, over HTTP) against the raw
   primitive it wraps (``truncate`` + ``losetup``; ``truncate`` alone when not root), measured
   in the same run; goal <= 3x.
2. autoplace (place count 2, one 4 MiB volume) with 1,000 nodes against 3 nodes; goal <= 2x.
   Both controllers are up at once and take turns, as spawn and the raw primitive do.
3. ``GET /v1/view/resources`` with 10,000 resources; goal < 200 ms. The 10,000 records are
   written straight into the database (10,000 loop devices do not exist on a test host); the
   listing path (SQL, rendering, JSON, HTTP) is the real one.

The listing goal is absolute; its baseline is the same route listing 10 resources, measured in
the same run, so the ratio shows how the listing grows with the count.

Run: ``.venv/bin/python bench/controller.py [--rounds 31]`` (as root for loop devices).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests

from linstor_core.controller.core import now_ms
from linstor_core.controller.model import NodeRec, PoolRec, RdRec, Repo, RscRec, VdRec, VolRec
from linstor_core.controller.satellite import loops_available
from linstor_core.controller.server import ControllerServer
from linstor_core.runner import run
from rows import BenchRow, Goal, add_json_option, publish

VOLUME_KIB = 4096
LISTED = 10_000
LISTED_BASELINE = 10


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def setup(url: str, http: requests.Session, root: Path, count: int) -> None:
    for i in range(count):
        node = f"node{i:04d}"
        http.post(f"{url}/v1/nodes", json={"name": node, "type": "SATELLITE", "net_interfaces": [
            {"name": "default", "address": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"}]},
            timeout=30).raise_for_status()
        http.post(f"{url}/v1/nodes/{node}/storage-pools", json={
            "storage_pool_name": "thin", "provider_kind": "FILE_THIN",
            "props": {"StorDriver/FileDir": str(root / node)}}, timeout=30).raise_for_status()


def raw_primitive(directory: Path, n: int) -> float:
    image = directory / f"raw{n}.img"
    use_loop = loops_available()

    def make() -> None:
        run(["truncate", "-s", f"{VOLUME_KIB}K", str(image)])
        if use_loop:
            device = run(["losetup", "--find", "--show", str(image)]).strip()
            cleanup.append(device)

    cleanup: list[str] = []
    elapsed = timed(make)
    for device in cleanup:
        run(["losetup", "-d", device])
    image.unlink()
    return elapsed


@dataclass(frozen=True)
class Timing:
    """Median of a series in ms, and its first sample (nothing cached yet) in ms."""

    median_ms: float
    first_ms: float

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        return cls(median_ms(samples), samples[0] * 1000)


def bench_spawn(base: Path, rounds: int) -> tuple[Timing, Timing]:
    """(spawn, raw primitive), alternating round by round so a busy moment hits both alike."""
    with ControllerServer(base / "state-spawn", port=0) as server:
        http = requests.Session()
        setup(server.url, http, base / "pools-spawn", 1)
        http.post(f"{server.url}/v1/resource-groups", json={"name": "one", "select_filter": {
            "place_count": 1, "layer_stack": ["storage"]}}, timeout=30).raise_for_status()
        spawn, raw = [], []
        for n in range(rounds):
            spawn.append(timed(lambda: http.post(
                f"{server.url}/v1/resource-groups/one/spawn",
                json={"resource_definition_name": f"bench{n}", "volume_sizes": [VOLUME_KIB]},
                timeout=60).raise_for_status()))
            raw.append(raw_primitive(base / "pools-spawn" / "node0000", n))
        for n in range(rounds):
            http.delete(f"{server.url}/v1/resource-definitions/bench{n}", timeout=60)
    return Timing.of(spawn), Timing.of(raw)


def bench_autoplace(base: Path, node_counts: tuple[int, ...], rounds: int) -> list[Timing]:
    """Autoplace latency on one controller per node count, all up at once and taking turns
    round by round, so a busy moment hits every count alike. The first call finds no free space
    cached yet."""
    with ExitStack() as stack:
        controllers = []
        for nodes in node_counts:
            server = stack.enter_context(ControllerServer(base / f"state-{nodes}", port=0))
            http = requests.Session()
            setup(server.url, http, base / f"pools-{nodes}", nodes)
            controllers.append((server.url, http))
        samples: list[list[float]] = [[] for _ in node_counts]
        for n in range(rounds):
            name = f"auto{n}"
            for (url, http), times in zip(controllers, samples):
                http.post(f"{url}/v1/resource-definitions", json={"resource_definition": {
                    "name": name, "layer_data": [{"type": "STORAGE"}]}}, timeout=30).raise_for_status()
                http.post(f"{url}/v1/resource-definitions/{name}/volume-definitions",
                          json={"volume_definition": {"size_kib": VOLUME_KIB}}, timeout=30).raise_for_status()
                times.append(timed(lambda: http.post(
                    f"{url}/v1/resource-definitions/{name}/autoplace",
                    json={"select_filter": {"place_count": 2}}, timeout=60).raise_for_status()))
        for url, http in controllers:
            for n in range(rounds):
                http.delete(f"{url}/v1/resource-definitions/auto{n}", timeout=60)
    return [Timing.of(times) for times in samples]


def bench_listing(base: Path, count: int, rounds: int) -> Timing:
    """``GET /v1/view/resources`` over ``count`` resources; the first listing renders every one."""
    with ControllerServer(base / f"state-list-{count}", port=0) as server:
        with server.controller.store.write() as tx:
            repo = Repo(tx)
            for i in range(3):
                repo.insert_node(NodeRec(f"n{i}", "Satellite", f"10.0.0.{i + 1}", {}))
                repo.insert_pool(PoolRec(f"n{i}", "thin", "FILE_THIN", None, {}))
            for i in range(count // 2):
                rd = f"list{i:05d}"
                repo.insert_rd(RdRec(rd, "DfltRscGrp", ("STORAGE",), None, {"Aux/i": str(i)}))
                repo.insert_vd(VdRec(rd, 0, VOLUME_KIB, None, {}))
                for node in ("n0", "n1"):
                    repo.insert_rsc(RscRec(rd, node, "thin", (), None, now_ms(), {}))
                    repo.insert_volume(VolRec(rd, node, 0, f"/dev/loop{i}", f"/dev/loop{i}"))
        http = requests.Session()
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            answer = http.get(f"{server.url}/v1/view/resources", timeout=60)
            samples.append(time.perf_counter() - start)
            answer.raise_for_status()
            if len(answer.json()) != count:
                raise RuntimeError(f"listed {len(answer.json())} resources, expected {count}")
    return Timing.of(samples)


@dataclass(frozen=True)
class Figures:
    """Everything one run measured, for the printed report and for the rows."""

    rounds: int
    primitive: str
    spawn: Timing
    raw: Timing
    autoplace_3: Timing
    autoplace_1000: Timing
    listing: Timing
    listing_baseline: Timing


def measure(rounds: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-controller-") as temp:
        base = Path(temp)
        spawn, raw = bench_spawn(base, rounds)
        autoplace_3, autoplace_1000 = bench_autoplace(base, (3, 1000), rounds)
        return Figures(
            rounds=rounds,
            primitive="truncate + losetup" if loops_available() else "truncate (not root: no loop)",
            spawn=spawn, raw=raw,
            autoplace_3=autoplace_3, autoplace_1000=autoplace_1000,
            listing=bench_listing(base, LISTED, rounds // 2 + 1),
            listing_baseline=bench_listing(base, LISTED_BASELINE, rounds // 2 + 1))


def bench_rows(figures: Figures) -> list[BenchRow]:
    return [
        BenchRow(f"controller: spawn RD+VD+1 resource (FILE_THIN) vs {figures.primitive}",
                 figures.spawn.median_ms, "ms", figures.raw.median_ms, Goal.ratio_at_most(3)),
        BenchRow("controller: autoplace place_count=2, 1,000 nodes vs 3 nodes",
                 figures.autoplace_1000.median_ms, "ms", figures.autoplace_3.median_ms, Goal.ratio_at_most(2),
                 f"first call (free space not cached): {figures.autoplace_1000.first_ms:.1f} ms "
                 f"vs {figures.autoplace_3.first_ms:.1f} ms"),
        BenchRow(f"controller: GET /v1/view/resources, {LISTED:,} resources vs {LISTED_BASELINE}",
                 figures.listing.median_ms, "ms", figures.listing_baseline.median_ms, Goal("<", 200, "ms"),
                 f"first listing (renders every resource): {figures.listing.first_ms:.1f} ms"),
    ]


def report(figures: Figures) -> None:
    print(f"linstor-core controller benchmark (root: {os.geteuid() == 0}, "
          f"loop devices: {loops_available()}, {figures.rounds} rounds, medians)")
    spawn, raw = figures.spawn.median_ms, figures.raw.median_ms
    print(f"spawn (RD+VD+1 resource, FILE_THIN): {spawn:8.2f} ms   "
          f"raw {figures.primitive}: {raw:6.2f} ms   ratio {spawn / raw:5.2f}x  (goal <= 3x)")
    small, large = figures.autoplace_3, figures.autoplace_1000
    print(f"autoplace place_count=2: 3 nodes {small.median_ms:8.2f} ms   1000 nodes {large.median_ms:8.2f} ms   "
          f"ratio {large.median_ms / small.median_ms:5.2f}x  (goal <= 2x; first call, free space not yet "
          f"cached: {small.first_ms:.2f} / {large.first_ms:.2f} ms)")
    print(f"list {LISTED} resources (GET /v1/view/resources): {figures.listing.median_ms:8.2f} ms  "
          f"(goal < 200 ms; the first listing, rendering every resource: {figures.listing.first_ms:.2f} ms; "
          f"{LISTED_BASELINE} resources: {figures.listing_baseline.median_ms:.2f} ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31, help="spawns and autoplaces to time (default 31)")
    add_json_option(parser)
    args = parser.parse_args(argv)
    return publish(measure(args.rounds), report, bench_rows, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
