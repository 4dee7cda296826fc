"""Benchmarks of the embedded controller (not tests): prints absolute times and the ratios.

1. spawn latency (RD + VD + one resource on a FILE_THIN pool, over HTTP) against the raw
   primitive it wraps (``truncate`` + ``losetup``; ``truncate`` alone when not root), measured
   in the same run; goal <= 3x.
2. autoplace (place count 2, one 4 MiB volume) with 1,000 nodes against 3 nodes; goal <= 2x.
3. ``GET /v1/view/resources`` with 10,000 resources; goal < 200 ms. The 10,000 records are
   written straight into the database (10,000 loop devices do not exist on a test host); the
   listing path (SQL, rendering, JSON, HTTP) is the real one.

Run: ``.venv/bin/python bench/controller.py`` (as root for loop devices).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from linstor_core.controller.core import now_ms
from linstor_core.controller.model import NodeRec, PoolRec, RdRec, Repo, RscRec, VdRec, VolRec
from linstor_core.controller.satellite import loops_available
from linstor_core.controller.server import ControllerServer
from linstor_core.runner import run

VOLUME_KIB = 4096
ROUNDS = 15


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


def bench_spawn(base: Path) -> None:
    with ControllerServer(base / "state-spawn", port=0) as server:
        http = requests.Session()
        setup(server.url, http, base / "pools-spawn", 1)
        http.post(f"{server.url}/v1/resource-groups", json={"name": "one", "select_filter": {
            "place_count": 1, "layer_stack": ["storage"]}}, timeout=30).raise_for_status()
        spawn, raw = [], []
        for n in range(ROUNDS):
            spawn.append(timed(lambda: http.post(
                f"{server.url}/v1/resource-groups/one/spawn",
                json={"resource_definition_name": f"bench{n}", "volume_sizes": [VOLUME_KIB]},
                timeout=60).raise_for_status()))
            raw.append(raw_primitive(base / "pools-spawn" / "node0000", n))
        for n in range(ROUNDS):
            http.delete(f"{server.url}/v1/resource-definitions/bench{n}", timeout=60)
    primitive = "truncate + losetup" if loops_available() else "truncate (not root: no loop)"
    ratio = median_ms(spawn) / median_ms(raw)
    print(f"spawn (RD+VD+1 resource, FILE_THIN): {median_ms(spawn):8.2f} ms   "
          f"raw {primitive}: {median_ms(raw):6.2f} ms   ratio {ratio:5.2f}x  (goal <= 3x)")


def bench_autoplace(base: Path, nodes: int) -> tuple[float, float]:
    """(first autoplace, median) in ms; the first one finds no free space cached yet."""
    with ControllerServer(base / f"state-{nodes}", port=0) as server:
        http = requests.Session()
        setup(server.url, http, base / f"pools-{nodes}", nodes)
        samples = []
        for n in range(ROUNDS):
            name = f"auto{n}"
            http.post(f"{server.url}/v1/resource-definitions", json={"resource_definition": {
                "name": name, "layer_data": [{"type": "STORAGE"}]}},
                timeout=30).raise_for_status()
            http.post(f"{server.url}/v1/resource-definitions/{name}/volume-definitions",
                      json={"volume_definition": {"size_kib": VOLUME_KIB}},
                      timeout=30).raise_for_status()
            samples.append(timed(lambda: http.post(
                f"{server.url}/v1/resource-definitions/{name}/autoplace",
                json={"select_filter": {"place_count": 2}}, timeout=60).raise_for_status()))
        for n in range(ROUNDS):
            http.delete(f"{server.url}/v1/resource-definitions/auto{n}", timeout=60)
    return samples[0] * 1000, median_ms(samples)


def bench_listing(base: Path, count: int = 10_000) -> None:
    with ControllerServer(base / "state-list", port=0) as server:
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
        for _ in range(5):
            start = time.perf_counter()
            answer = http.get(f"{server.url}/v1/view/resources", timeout=60)
            samples.append(time.perf_counter() - start)
            answer.raise_for_status()
            assert len(answer.json()) == count
    print(f"list {count} resources (GET /v1/view/resources): {median_ms(samples):8.2f} ms  "
          f"(goal < 200 ms; the first listing, rendering every resource: "
          f"{samples[0] * 1000:.2f} ms)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-controller-") as temp:
        base = Path(temp)
        print(f"linstor-core controller benchmark (root: {os.geteuid() == 0}, "
              f"loop devices: {loops_available()}, {ROUNDS} rounds, medians)")
        bench_spawn(base)
        (small_first, small), (large_first, large) = (bench_autoplace(base, 3),
                                                      bench_autoplace(base, 1000))
        print(f"autoplace place_count=2: 3 nodes {small:8.2f} ms   1000 nodes {large:8.2f} ms   "
              f"ratio {large / small:5.2f}x  (goal <= 2x; first call, free space not yet "
              f"cached: {small_first:.2f} / {large_first:.2f} ms)")
        bench_listing(base)


if __name__ == "__main__":
    main()
