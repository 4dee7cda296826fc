"""OpenNebula driver vs the direct ``linstor_core.disks`` calls it makes: latency per action.

Both run in the same process against the same embedded controller. The adapter column is a
whole ``linstor-one`` action (``cli.main`` in-process): argument checks, the pyone lookups over
real XML-RPC (to the oned stand-in of the functional tests, on loopback), the disk calls and the
``disk.<i>`` symlink commands on this host. The direct column is the same disk calls with
nothing around them: for an action on an existing VM disk that includes the one listing that
finds the disk by its owner props (VM id, disk id), since oned passes ids, not names; its
disks carry such props too. What is left is the adapter's own cost: argument checks, the
oned lookups and the host's symlink. Goal: ratio <= 1.5. One extra line shows what starting ``linstor-one`` as a
process (as oned does) adds on top, which no in-process change can remove.

Each action's rounds alternate adapter, direct warm and direct one-shot calls, so a busy moment
hits all three alike. The ratio in the rows is adapter / direct one-shot: like a ``linstor-one``
action, a one-shot call opens its own connection.

Run: ``.venv/bin/python bench/opennebula.py [--iterations 30]``.
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
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "functional" / "opennebula_driver"))  # the oned stand-in

from linstor_core.config import load_client_config  # noqa: E402
from linstor_core.controller.server import ControllerServer  # noqa: E402
from linstor_core.disks import DiskService  # noqa: E402
from one_docs import datastore_xml, driver_action, vm_xml  # noqa: E402
from oned_standin import OnedStandIn  # noqa: E402
from linstor_core import naming  # noqa: E402
from opennebula_driver import cli, names  # noqa: E402
from rows import BenchRow, Goal, add_json_option, publish  # noqa: E402

HOST = socket.gethostname()
GROUP = "bench"
VM_ID = 1
VM_NAME = "bench"
GOAL = Goal.ratio_at_most(1.5)
DIRECT_VMS = {"warm": 1001, "cold": 2001}
"""The VM ids the direct disks are recorded under (``warm-<i>`` is disk i of VM 1001)."""


def direct_owner(name: str) -> tuple[int, int]:
    """(VM id, disk id) of direct disk ``name``."""
    side, index = name.split("-")
    return DIRECT_VMS[side], int(index)


def direct_create(service: DiskService, name: str) -> None:
    vm, disk = direct_owner(name)
    service.create(GROUP, name, 1024, naming.owner_props(names.PLATFORM, names.vm_owner(vm), "direct", disk=disk))


def found(service: DiskService, name: str) -> str:
    """The direct disk as the adapter finds a VM's disk: one listing by owner props."""
    (disk,) = service.list(names.vm_disk_filter(*direct_owner(name)), placement=False)
    return disk.name


def setup(url: str, pools: Path) -> None:
    http = requests.Session()
    for node in (HOST, "bench-b"):
        http.post(f"{url}/v1/nodes", json={"name": node, "type": "SATELLITE", "net_interfaces": [
            {"name": "default", "address": "127.0.0.1"}]}, timeout=30).raise_for_status()
        http.post(f"{url}/v1/nodes/{node}/storage-pools", json={
            "storage_pool_name": "pool", "provider_kind": "FILE",  # full-copy snapshots: any fs
            "props": {"StorDriver/FileDir": str(pools / node)}}, timeout=30).raise_for_status()
    http.post(f"{url}/v1/resource-groups", json={"name": GROUP, "select_filter": {
        "place_count": 1, "storage_pool": "pool", "node_name_list": [HOST], "layer_stack": ["storage"]}},
        timeout=30).raise_for_status()


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


@dataclass(frozen=True)
class Action:
    """Median ms of one action: the adapter, and the direct calls warm and one-shot."""

    label: str
    warm_ms: float
    one_shot_ms: float
    adapter_ms: float


@dataclass(frozen=True)
class Figures:
    iterations: int
    actions: list[Action]
    process_ms: float  # ``ds monitor`` run as oned runs it: a new linstor-one process


def measure(n: int) -> Figures:
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
            return measure_actions(n, tmp, server.url, template)
        finally:
            standin.stop()
            server.stop()
            detach_loops(tmp)


def measure_actions(n: int, tmp: Path, url: str, template: dict[str, str]) -> Figures:
    config = load_client_config([url])
    warm = DiskService.from_config(config)
    vmdir = tmp / "vms" / str(VM_ID)
    monitor = driver_action(None, datastore_xml(0, template))
    vm = str(VM_ID)
    Direct = Callable[[DiskService, str], object]
    actions: list[Action] = []

    def time_action(label: str, argv: Callable[[int], list[str]], direct: Direct, stdin: bytes = b"") -> None:
        ours, hot, cold = [], [], []
        for i in range(n):
            ours.append(timed(adapter(*argv(i), stdin=stdin)))
            hot.append(timed(lambda: direct(warm, f"warm-{i}")))
            cold.append(timed(lambda: direct(DiskService.from_config(config), f"cold-{i}")))
        actions.append(Action(label, statistics.median(hot), statistics.median(cold), statistics.median(ours)))

    time_action("mkimage (create+attach+link)",
                lambda i: ["tm", "mkimage", "1", "raw", f"{HOST}:{vmdir}/disk.{i}", vm, "0"],
                lambda s, name: (direct_create(s, name), s.attach(name, HOST)))
    time_action("snap_create", lambda i: ["tm", "snap_create", f"{HOST}:{vmdir}/disk.{i}", "0", vm, "0"],
                lambda s, name: s.snapshot(found(s, name), "snap-0"))
    time_action("snap_delete", lambda i: ["tm", "snap_delete", f"{HOST}:{vmdir}/disk.{i}", "0", vm, "0"],
                lambda s, name: s.delete_snapshot(found(s, name), "snap-0"))
    time_action("resize", lambda i: ["tm", "resize", f"{HOST}:{vmdir}/disk.{i}", "2", vm, "0"],
                lambda s, name: s.resize(found(s, name), 2048))
    time_action("monitor", lambda i: ["ds", "monitor", "0"], lambda s, name: s.capacity(GROUP), stdin=monitor)
    time_action("delete", lambda i: ["tm", "delete", f"{HOST}:{vmdir}/disk.{i}", vm, "0"],
                lambda s, name: s.delete(found(s, name), with_snapshots=True))

    script = REPO / "packaging" / "opennebula" / "datastore" / "monitor"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    process_ms = statistics.median(
        timed(lambda: subprocess.run([str(script), "0"], input=monitor, env=env, check=True, capture_output=True))
        for _ in range(max(n // 3, 3)))
    return Figures(n, actions, process_ms)


def bench_rows(figures: Figures) -> list[BenchRow]:
    rows = []
    for action in figures.actions:
        note = f"direct warm (one connection for all calls): {action.warm_ms:.1f} ms"
        if action.label == "monitor":
            note += f"; started as a process, as oned does: {figures.process_ms:.1f} ms"
        rows.append(BenchRow(f"opennebula: {action.label} vs the direct disks calls", action.adapter_ms, "ms",
                             action.one_shot_ms, GOAL, note))
    return rows


def report(figures: Figures) -> None:
    print(f"{'action':30} {'direct warm':>11} {'direct 1-shot':>13} {'adapter':>8} "
          f"{'ratio 1-shot':>12} {'ratio warm':>10}")
    for a in figures.actions:
        print(f"{a.label:30} {a.warm_ms:9.1f}ms {a.one_shot_ms:11.1f}ms {a.adapter_ms:6.1f}ms "
              f"{a.adapter_ms / a.one_shot_ms:12.2f} {a.adapter_ms / a.warm_ms:10.2f}")
    print("direct 1-shot: a new DiskService (new HTTP connection) per call, as each oned action is a new process")
    in_process = next(a.adapter_ms for a in figures.actions if a.label == "monitor")
    print(f"process start of linstor-one (ds monitor as oned runs it): {figures.process_ms:.1f} ms "
          f"vs {in_process:.1f} ms in-process")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=30)
    add_json_option(parser)
    args = parser.parse_args(argv)
    return publish(measure(args.iterations), report, bench_rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
