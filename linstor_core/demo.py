"""The seed article's walkthrough, run for real on the embedded controller (``make demo``).

Why it exists: the first thing a reader runs should show the article's commands doing what
the article says, on this machine, with nothing pretended. It makes a temporary state
directory, starts the embedded controller on a free loopback port, creates the nodes vulcan,
kronos, remus and romulus with a FILE_THIN pool ``thinpool`` each, then runs the article's
commands through the real ``linstor-core`` CLI (in-process, over real HTTP), printing every
command line and its output.

As root (with loop devices) every node's pool is its own xfs filesystem made with
``mkfs.xfs -m reflink=1`` on a loop device, so volumes are loop devices and snapshots are
reflinks. Without root the pools are plain directories: the demo says so, and skips the
snapshot steps when the directory's filesystem cannot reflink. Everything it made - resources,
controller, loop devices, mounts, the directory - is removed at the end, also after a failure.
A step that fails (or a fact the article promises that does not hold) makes the demo fail.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

from linstor_core import filesystems
from linstor_core.cli import main as cli_main
from linstor_core.client import LinstorClient
from linstor_core.config import load_client_config
from linstor_core.controller import drbd
from linstor_core.controller.loopdev import KernelLoops, LoopDevices
from linstor_core.controller.providers.reflink import can_reflink, filesystem_of
from linstor_core.controller.satellite import loops_available
from linstor_core.controller.server import ControllerServer
from linstor_core.errors import LinstorError
from linstor_core.runner import Runner, run

NODES = {"vulcan": "127.0.0.1", "kronos": "127.0.0.2", "remus": "127.0.0.3", "romulus": "127.0.0.4"}
POOL = "thinpool"
POOL_FS_BYTES = 512 * 1024 * 1024  # xfs needs at least 300 MiB; the image file stays sparse
SNAPSHOT_NODES = ("romulus", "remus")


class DemoFailed(LinstorError):
    """A step of the walkthrough failed or did not show what the article promises."""


class Demo:
    """One run: prints to ``out``, drives the CLI against ``url``, checks facts with ``client``."""

    def __init__(self, out: TextIO, url: str, workdir: Path) -> None:
        self.out = out
        self.url = url
        self.workdir = workdir
        self.client = LinstorClient(load_client_config([url]))
        encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
        self._table_style = [] if encoding == "utf8" else ["--no-utf8"]

    def say(self, text: str = "") -> None:
        for line in text.splitlines() or [""]:
            print(f"# {line}" if line else "", file=self.out)
        self.out.flush()

    def heading(self, text: str) -> None:
        print(f"\n== {text} ==", file=self.out)

    def cli(self, *argv: str, refused: bool = False) -> str:
        """Print and run ``linstor-core ARGV``; fail unless it succeeds (or, if ``refused``, fails)."""
        print(f"$ linstor-core {shlex.join(argv)}", file=self.out)
        buffer = io.StringIO()
        status = cli_main(["--controllers", self.url, *self._table_style, *argv], stdout=buffer, stderr=buffer)
        print(buffer.getvalue(), end="", file=self.out)
        self.out.flush()
        if refused and status == 0:
            raise DemoFailed(f"linstor-core {shlex.join(argv)} succeeded, but LINSTOR refuses it")
        if not refused and status != 0:
            raise DemoFailed(f"demo step failed: linstor-core {shlex.join(argv)} (exit {status})")
        return buffer.getvalue()

    def check(self, fact: bool, promise: str) -> None:
        """Fail the demo when a fact the article shows does not hold."""
        if not fact:
            raise DemoFailed(f"the demo expected {promise}, and it is not so")

    def holders(self, resource: str) -> list[str]:
        return sorted(r.node_name for r in self.client.resources.list(resource) if not r.diskless)

    def pool_dir(self, node: str) -> Path:
        return self.workdir / "pools" / node / POOL


@contextmanager
def _pool_filesystems(workdir: Path, out: TextIO, *, xfs: bool, runner: Runner,
                      loop_devices: LoopDevices) -> Iterator[None]:
    """Give each node a pool directory; as root an xfs (reflink=1) filesystem on a loop device."""
    with ExitStack() as stack:
        for node in NODES:
            mountpoint = workdir / "pools" / node
            mountpoint.mkdir(parents=True)
            if not xfs:
                continue
            image = workdir / "images" / f"{node}.xfs"
            image.parent.mkdir(exist_ok=True)
            with open(image, "wb") as handle:
                handle.truncate(POOL_FS_BYTES)
            filesystems.make_filesystem(str(image), "xfs", ["-m", "reflink=1"], runner=runner)
            device = loop_devices.attach(image, new_file=True)
            stack.callback(loop_devices.detach, device)
            filesystems.mount(device, str(mountpoint))
            stack.callback(filesystems.unmount, str(mountpoint))
            print(f"# {node}: mkfs.xfs -m reflink=1 on a 512 MiB image, {device} mounted at {mountpoint}",
                  file=out)
        for node in NODES:
            (workdir / "pools" / node / POOL).mkdir()
        yield


def _detach_leftover_loops(workdir: Path, out: TextIO, loop_devices: LoopDevices) -> None:
    """After a failed run the controller may not have removed every volume's loop device."""
    pools = str(workdir / "pools") + "/"
    for device in loop_devices.attached():
        if device.back_file.startswith(pools):
            loop_devices.detach(device.name)
            print(f"# cleanup: detached leftover {device.name} ({device.back_file})", file=out)


def _teardown(demo: Demo) -> None:
    """Delete what the walkthrough left, through the CLI, so the cleanup is visible too."""
    demo.heading("Clean-up")
    for snapshot in demo.client.snapshots.view():
        demo.cli("snapshot", "delete", snapshot.resource_name, snapshot.name)
    for definition in demo.client.resource_definitions.list():
        demo.cli("resource-definition", "delete", definition.name)


def _setup(demo: Demo) -> None:
    demo.heading("Nodes and storage pools")
    for node, address in NODES.items():
        demo.cli("node", "create", node, address)
    for node in NODES:
        demo.cli("storage-pool", "create", "filethin", node, POOL, str(demo.pool_dir(node)))
    demo.cli("node", "list")
    demo.cli("storage-pool", "list")


def _local_data(demo: Demo) -> None:
    demo.heading("Listing 1: a local resource (storage layer only) on vulcan and kronos")
    demo.cli("resource-definition", "create", "--layer-list", "storage", "LocalData")
    demo.cli("volume-definition", "create", "LocalData", "150m")
    demo.cli("resource", "create", "--storage-pool", POOL, "vulcan", "kronos", "LocalData")
    demo.cli("volume", "list")
    for node in ("vulcan", "kronos"):
        image = demo.pool_dir(node) / "LocalData_00000.img"
        demo.check(image.is_file(), f"volume LocalData_00000 as {image}")
        allocated = image.stat().st_blocks * 512 // 1024
        demo.say(f"{node}: {image.name} is {image.stat().st_size // 2**20} MiB, {allocated} KiB allocated (thin)")
    demo.cli("resource-definition", "delete", "LocalData")


def _shared_data(demo: Demo) -> list[str]:
    """Listing 2: a replicated resource; returns the nodes it was auto-placed on."""
    demo.heading("Listing 2: a replicated resource (drbd,storage), auto-placed on 3 nodes")
    demo.cli("resource-definition", "create", "SharedData")
    demo.cli("volume-definition", "create", "SharedData", "150m")
    demo.cli("resource", "create", "--storage-pool", POOL, "--auto-place", "3", "SharedData")
    demo.cli("resource", "list")
    demo.cli("volume", "list")
    resources = demo.client.resources.list("SharedData")
    demo.check({r.drbd_port for r in resources} == {7000}, "DRBD port 7000 on every replica")
    demo.check({v.drbd_minor for r in resources for v in r.volumes} == {1000}, "DRBD minor 1000")
    res_file = drbd.res_path(demo.workdir / "state", resources[0].node_name, "SharedData")
    if res_file.is_file():
        print(f"$ cat {res_file}", file=demo.out)
        print(res_file.read_text(), end="", file=demo.out)
    if not drbd.drbd_module_loaded():
        demo.say("the drbd kernel module is not loaded here: the DRBD configuration above is rendered\n"
                 "and checked with drbdadm but not brought up, so the DRBD state is Unknown and\n"
                 "/dev/drbd1000 does not exist; the data sits on the storage layer's loop devices.")
    return demo.holders("SharedData")


def _migrate(demo: Demo, holders: list[str]) -> None:
    """Move one replica to the node without one, keeping romulus and remus for the snapshot."""
    target = next(node for node in NODES if node not in holders)
    movable = [node for node in holders if node not in SNAPSHOT_NODES]
    source = "kronos" if "kronos" in movable else movable[0]
    demo.heading(f"Replica migration: from {source} to {target}")
    demo.say(f"SharedData is on {', '.join(holders)}: add a replica on {target}, then remove the one on {source}")
    demo.cli("resource", "create", "-s", POOL, target, "SharedData")
    demo.cli("resource", "delete", source, "SharedData")
    demo.cli("resource", "list")
    demo.check(demo.holders("SharedData") == sorted({*holders, target} - {source}), "the replica moved")


def _snapshots(demo: Demo) -> None:
    demo.heading("Snapshot, restore, rollback")
    demo.cli("snapshot", "create", *SNAPSHOT_NODES, "SharedData", "Snap1")
    demo.cli("snapshot", "list")
    demo.cli("snapshot", "resource", "restore", "--from-resource", "SharedData", "--from-snapshot", "Snap1",
             "--to-resource", "SharedData_Restore", *SNAPSHOT_NODES)
    demo.cli("resource", "list")
    demo.check(demo.holders("SharedData_Restore") == sorted(SNAPSHOT_NODES), "SharedData_Restore on romulus, remus")
    others = [node for node in demo.holders("SharedData") if node not in SNAPSHOT_NODES]
    demo.say(f"LINSTOR rolls back only when every replica has the snapshot; {', '.join(others)} has none:")
    demo.cli("snapshot", "rollback", "SharedData", "Snap1", refused=True)
    demo.say("so remove that replica first (add it back afterwards if wanted; DRBD resyncs it):")
    demo.cli("resource", "delete", *others, "SharedData")
    demo.cli("snapshot", "rollback", "SharedData", "Snap1")
    demo.cli("resource", "list")


def _walkthrough(demo: Demo, *, snapshots: bool) -> None:
    _setup(demo)
    _local_data(demo)
    _migrate(demo, _shared_data(demo))
    if snapshots:
        _snapshots(demo)
    else:
        demo.heading("Snapshot, restore, rollback: skipped")
        demo.say(f"FILE_THIN snapshots are reflink copies; {filesystem_of(demo.pool_dir('vulcan'))} under\n"
                 f"{demo.workdir} cannot reflink. Run 'make demo' as root to see them on xfs.")


def run_demo(out: TextIO = sys.stdout, *, runner: Runner = run) -> None:
    """Run the walkthrough and clean up; raise ``DemoFailed`` (or the step's error) on failure."""
    loops = loops_available() and shutil.which("mkfs.xfs", path=os.environ.get("PATH", "") + ":/sbin:/usr/sbin") is not None
    # Resolved, because the kernel reports loop backing files by their real path.
    workdir = Path(os.path.realpath(tempfile.mkdtemp(prefix="linstor-demo-")))
    print(f"# LINSTOR walkthrough on the embedded controller; state and pools under {workdir}", file=out)
    if not loops:
        print("# not root (or no loop devices / mkfs.xfs): pools are plain directories, volumes are\n"
              "# sparse files instead of loop devices, and snapshots need the directory to reflink.", file=out)
    loop_devices = KernelLoops()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir)
        stack.enter_context(_pool_filesystems(workdir, out, xfs=loops, runner=runner, loop_devices=loop_devices))
        if loops:
            stack.callback(_detach_leftover_loops, workdir, out, loop_devices)
        server = stack.enter_context(ControllerServer(workdir / "state", "127.0.0.1", 0))
        print(f"# controller: {server.url}", file=out)
        demo = Demo(out, server.url, workdir)
        stack.callback(_teardown, demo)
        _walkthrough(demo, snapshots=can_reflink(demo.pool_dir("vulcan")))
    print("\n# demo finished; everything it made is removed", file=out)
