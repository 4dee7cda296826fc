"""OpenNebula driver vs the direct ``linstor_core.disks`` calls it makes: latency per action.

Both run in the same process against the same embedded controller. The adapter column is a
whole ``linstor-one`` action (``cli.main`` in-process): argument checks, the pyone lookups over
real XML-RPC (to the oned stand-in of the functional tests, on loopback), the disk calls and the
``disk.<i>`` symlink commands on this host. The direct column is the same disk calls with
nothing around them. Goal: ratio <= 1.5. One extra line shows what starting ``linstor-one`` as a
process (as oned does) adds on top, which no in-process change can remove.

Run: ``.venv/bin/python bench/opennebula.py [--iterations 15]``.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "functional" / "opennebula_driver"))  # the oned stand-in

from linstor_core.config import load_client_config  # noqa: E402
from linstor_core.controller.server import ControllerServer  # noqa: E402
from linstor_core.disks import DiskService  # noqa: E402
from one_docs import datastore_xml, driver_action, vm_xml  # noqa: E402
from oned_standin import OnedStandIn  # noqa: E402
from opennebula_driver import cli  # noqa: E402

HOST = socket.gethostname()
GROUP = "bench"
VM_ID = 1
VM_NAME = "bench"


def setup(url: str, pools: Path) -> None:
    http = requests.Session()
    for node in (HOST, "bench-b"):
        http.post(f"{url}/v1/nodes", json={"name": node, "type": "SATELLITE", "net_interfaces": [
            {"name": "default", "address": "127.0.0.1"}]}, timeout=30).raise_for_status()
        http.post(f"{url}/v1/nodes/{node}/storage-pools", json={
            "storage_pool_name": "pool", "provider_kind": "FILE",  # full-copy snapshots: any fs
            "props": {"StorDriver/FileDir": str(pools / node)}}, timeout=30).raise_for_status()
    http.post(f"{url}/v1/resource-groups", json={"name": GROUP, "select_filter": {
        "place_count": 1, "storage_pool": "pool", "node_name_list": [HOST], "layer_stack": ["storage"]}}, timeout=30).raise_for_status()


def detach_loops(directory: Path) -> None:
    """As root the pools' volumes are loop devices: detach every one over a file of ours."""
    if os.geteuid() != 0:
        return
    listing = subprocess.run(["losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"],
                             capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        name, _, back = line.strip().partition(" ")
        if back.strip().startswith(str(directory)):
            subprocess.run(["losetup", "-d", name], capture_output=True, check=False)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def adapter(*argv: str, stdin: bytes = b"") -> Callable[[], None]:
    def call() -> None:
        err = io.StringIO()
        code = cli.main(list(argv), stdin=io.BytesIO(stdin), stdout=io.StringIO(), stderr=err)
        if code != 0:
            raise SystemExit(f"linstor-one {' '.join(argv[:2])} failed: {err.getvalue()}")
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=15)
    n = parser.parse_args().iterations
    with tempfile.TemporaryDirectory(prefix="bench-one-") as tmp_dir:
        tmp = Path(tmp_dir)
        server = ControllerServer(tmp / "state", "127.0.0.1", 0)
        server.start()
        standin = OnedStandIn()
        try:
            setup(server.url, tmp / "pools")
            template = {"LINSTOR_CONTROLLERS": server.url, "LINSTOR_RESOURCE_GROUP": GROUP,
                        "LINSTOR_FRONTEND_NODE": HOST}
            standin.datastores[0] = datastore_xml(0, template)
            standin.vms[VM_ID] = vm_xml(VM_ID, VM_NAME, [], host=HOST)
            standin.start()
            (tmp / "one_auth").write_text(standin.session)
            os.environ.update(ONE_XMLRPC=standin.endpoint, ONE_AUTH=str(tmp / "one_auth"))
            run(n, tmp, server.url, template)
        finally:
            standin.stop()
            server.stop()
            detach_loops(tmp)


def run(n: int, tmp: Path, url: str, template: dict[str, str]) -> None:
    config = load_client_config([url])
    warm = DiskService.from_config(config)
    vmdir = tmp / "vms" / str(VM_ID)
    monitor = driver_action(None, datastore_xml(0, template))
    vm = str(VM_ID)
    Direct = Callable[[DiskService, str], object]
    rows: list[tuple[str, float, float, float]] = []

    def measure(label: str, argv: Callable[[int], list[str]], direct: Direct, stdin: bytes = b"") -> None:
        ours = [timed(adapter(*argv(i), stdin=stdin)) for i in range(n)]
        hot = [timed(lambda: direct(warm, f"warm-{i}")) for i in range(n)]
        cold = [timed(lambda: direct(DiskService.from_config(config), f"cold-{i}")) for i in range(n)]
        rows.append((label, statistics.median(hot), statistics.median(cold), statistics.median(ours)))

    measure("mkimage (create+attach+link)", lambda i: ["tm", "mkimage", "1", "raw", f"{HOST}:{vmdir}/disk.{i}", vm, "0"],
            lambda s, name: (s.create(GROUP, name, 1024), s.attach(name, HOST)))
    measure("snap_create", lambda i: ["tm", "snap_create", f"{HOST}:{vmdir}/disk.{i}", "0", vm, "0"],
            lambda s, name: s.snapshot(name, "snap-0"))
    measure("snap_delete", lambda i: ["tm", "snap_delete", f"{HOST}:{vmdir}/disk.{i}", "0", vm, "0"],
            lambda s, name: s.delete_snapshot(name, "snap-0"))
    measure("resize", lambda i: ["tm", "resize", f"{HOST}:{vmdir}/disk.{i}", "2", vm, "0"],
            lambda s, name: s.resize(name, 2048))
    measure("monitor", lambda i: ["ds", "monitor", "0"], lambda s, name: s.capacity(GROUP), stdin=monitor)
    measure("delete", lambda i: ["tm", "delete", f"{HOST}:{vmdir}/disk.{i}", vm, "0"],
            lambda s, name: s.delete(name, with_snapshots=True))

    print(f"{'action':30} {'direct warm':>11} {'direct 1-shot':>13} {'adapter':>8} {'ratio 1-shot':>12} {'ratio warm':>10}")
    for label, hot, cold, ours in rows:
        print(f"{label:30} {hot:9.1f}ms {cold:11.1f}ms {ours:6.1f}ms {ours / cold:12.2f} {ours / hot:10.2f}")
    print("direct 1-shot: a new DiskService (new HTTP connection) per call, as each oned action is a new process")
    script = REPO / "packaging" / "opennebula" / "datastore" / "monitor"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    process_ms = statistics.median(
        timed(lambda: subprocess.run([str(script), "0"], input=monitor, env=env, check=True, capture_output=True))
        for _ in range(max(n // 3, 3)))
    in_process = next(ours for label, _, _, ours in rows if label == "monitor")
    print(f"process start of linstor-one (ds monitor as oned runs it): {process_ms:.1f} ms "
          f"vs {in_process:.1f} ms in-process")


if __name__ == "__main__":
    main()
