"""Crash safety through the adapters: SIGKILL the controller at random points of 200 operations.

The operations are the platforms' own calls: PVE ``alloc_image``, ``clone_image``,
``volume_snapshot``, ``volume_snapshot_rollback``, ``volume_snapshot_delete`` and
``free_image``; Docker ``Create`` and ``Remove``. The controller runs as its own process and is
killed (SIGKILL) between operations, at a random moment while one runs, or while a request is
held inside its transaction after its storage was made (``LINSTOR_CORE_TEST_PAUSE_AT``).

The test keeps its own record of what each operation did: the disks per PVE volume name with
the first bytes a guest wrote and their snapshots (with the bytes they hold), and the Docker
volumes. After every restart:

* the database passes ``PRAGMA integrity_check``;
* the adapters' listings equal the record; the operation the kill interrupted is either fully
  there or fully absent (one that had answered success must be there; one held before its
  commit must be absent), and the record follows what happened;
* the storage equals the controller's records: exactly one volume file and one loop device per
  diskful replica, one snapshot file per snapshot replica, one DRBD ``.res`` per resource, every
  replica holding the same bytes, and no other file, loop device or mount (start-up
  reconciliation removed what the crash left).

The random choices come from one seed, printed and attached to any failure:
``LINSTOR_CRASH_SEED=<seed> pytest tests/reliability/test_crash.py`` replays the same run.
"""

from __future__ import annotations

import dataclasses
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from controller_process import ControllerProcess
from controller_setup import NODES, loops_under
from docker_volume.driver import VolumeDriver
from linstor_core.errors import LinstorError
from platforms import docker_driver, pve_cluster_files, pve_storage
from proxmox_plugin.catalog import volname_of
from proxmox_plugin.plugin import LinstorStorage

pytestmark = pytest.mark.root  # snapshots and clones need the reflink filesystem

SEED_ENV = "LINSTOR_CRASH_SEED"
GROUP = "crashsafe"
OPERATIONS = 200
KILLS = 16
"""Scheduled kills; a kill inside a held request also needs a restart to arm the hook first."""
PAUSE_SECONDS = 60
SOURCE_VM, CLONE_VM = 101, 102
PLACE_COUNT = 2
MAX_PVE_DISKS = 10
MAX_DOCKER_VOLUMES = 4
MARK = 16
"""Bytes at the start of every volume that identify what a guest wrote."""
ZEROS = bytes(MARK)


@dataclass(frozen=True)
class PveDisk:
    data: bytes
    snapshots: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Record:
    """What the operations so far did, as the platforms see it."""

    pve: dict[str, PveDisk] = field(default_factory=dict)
    docker: frozenset[str] = frozenset()

    def with_pve(self, volname: str, disk: PveDisk | None) -> "Record":
        pve = {k: v for k, v in self.pve.items() if k != volname}
        if disk is not None:
            pve[volname] = disk
        return dataclasses.replace(self, pve=pve)


@dataclass(frozen=True)
class Op:
    """One adapter call and what it does to the record when it is done."""

    kind: str
    what: str
    call: Callable[["Adapters"], object]
    after: Callable[[Record], Record]
    pause_point: str | None = None
    """Where ``LINSTOR_CORE_TEST_PAUSE_AT`` can hold this call's request (``None``: nowhere)."""
    writes: str | None = None
    """The PVE disk a guest writes to just before (so a snapshot or rollback shows)."""


@dataclass(frozen=True)
class Adapters:
    storage: LinstorStorage
    docker: VolumeDriver


@dataclass
class Cluster:
    """The controller process, the adapters in front of it, and where its storage lives."""

    process: ControllerProcess
    pool_root: Path
    pve_root: Path
    scratch: Path
    adapters: Adapters | None = None

    @property
    def url(self) -> str:
        return self.process.url

    def connect(self) -> Adapters:
        """New adapters (new HTTP sessions), as new PVE workers and a restarted plugin have."""
        self.adapters = Adapters(
            pve_storage(self.url, GROUP, self.pve_root, self.scratch / "cache"),
            docker_driver(self.url, GROUP, self.scratch / "docker"))
        return self.adapters

    def restart(self, pause_at: str | None = None) -> Adapters:
        self.process.kill()
        self.process.start(pause_at, PAUSE_SECONDS)
        return self.connect()

    def get(self, path: str) -> Any:
        answer = requests.get(self.url + path, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def image(self, node: str, rd: str, snapshot: str | None = None) -> Path:
        name = f"{rd}_00000.snap.{snapshot}.img" if snapshot else f"{rd}_00000.img"
        return self.pool_root / node / name

    def pool_files(self) -> set[Path]:
        return {p for node in NODES for p in (self.pool_root / node).glob("*")}

    def storage_state(self) -> dict[Path, bytes]:
        """Every pool file with its first bytes: what a held request has changed so far."""
        state = {}
        for path in self.pool_files():
            try:
                state[path] = read_mark(path)
            except FileNotFoundError:  # renamed or removed while we looked
                continue
        return state


def read_mark(path: Path) -> bytes:
    with path.open("rb") as image:
        return image.read(MARK)


def write_mark(paths: list[Path], data: bytes) -> None:
    """What a guest writing to its disk leaves on every replica."""
    for path in paths:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        finally:
            os.close(fd)


def next_volname(record: Record, vmid: int) -> str:
    """The name PVE's lowest-free-number rule gives the next disk of ``vmid``."""
    number = 0
    while f"vm-{vmid}-disk-{number}" in record.pve:
        number += 1
    return f"vm-{vmid}-disk-{number}"


def choose(rng: random.Random, record: Record, serial: int, pause_point: str | None) -> Op:
    """A random operation that makes sense on ``record`` (one that can be held at
    ``pause_point`` when that is given)."""
    with_snaps = sorted(v for v, d in record.pve.items() if d.snapshots)
    plain = sorted(v for v, d in record.pve.items() if not d.snapshots)
    if pause_point == "spawn":
        choices = {"create": 3, "docker_create": 1}
    elif pause_point == "snapshot" and record.pve:
        choices = {"snapshot": 1}
    elif pause_point == "rollback" and with_snaps:
        choices = {"rollback": 1}
    elif len(record.pve) < 3:
        choices = {"create": 1}
    else:
        room = len(record.pve) < MAX_PVE_DISKS
        choices = {"create": 20 * room, "clone": 10 * room, "snapshot": 20,
                   "rollback": 15 if with_snaps else 0, "snapshot_delete": 10 if with_snaps else 0,
                   "delete": 15 if plain and len(record.pve) > 4 else 0,
                   "docker_create": 8 if len(record.docker) < MAX_DOCKER_VOLUMES else 0,
                   "docker_remove": 6 if record.docker else 0}
    kind = rng.choices(list(choices), list(choices.values()))[0]
    if kind == "create":
        new = next_volname(record, SOURCE_VM)
        return Op(kind, f"alloc_image {new}", lambda a: a.storage.alloc_image(SOURCE_VM, "raw", None, 4096),
                  lambda r: r.with_pve(new, PveDisk(ZEROS)), "spawn")
    if kind == "clone":
        source, new = rng.choice(sorted(record.pve)), next_volname(record, CLONE_VM)
        return Op(kind, f"clone_image {source} -> {new}", lambda a: a.storage.clone_image(source, CLONE_VM),
                  lambda r: r.with_pve(new, PveDisk(r.pve[source].data)))
    if kind == "snapshot":
        volname, snap = rng.choice(sorted(record.pve)), f"s{serial}"
        return Op(kind, f"volume_snapshot {volname} {snap}", lambda a: a.storage.volume_snapshot(volname, snap),
                  lambda r: r.with_pve(volname, PveDisk(r.pve[volname].data, (
                      *r.pve[volname].snapshots, (snap, r.pve[volname].data)))),
                  "snapshot", writes=volname)
    if kind == "rollback":
        volname = rng.choice(with_snaps)
        snap = record.pve[volname].snapshots[-1][0]
        return Op(kind, f"volume_snapshot_rollback {volname} {snap}",
                  lambda a: a.storage.volume_snapshot_rollback(volname, snap),
                  lambda r: r.with_pve(volname, PveDisk(r.pve[volname].snapshots[-1][1],
                                                         r.pve[volname].snapshots)),
                  "rollback", writes=volname)
    if kind == "snapshot_delete":
        volname = rng.choice(with_snaps)
        snap = rng.choice(record.pve[volname].snapshots)[0]
        return Op(kind, f"volume_snapshot_delete {volname} {snap}",
                  lambda a: a.storage.volume_snapshot_delete(volname, snap),
                  lambda r: r.with_pve(volname, PveDisk(r.pve[volname].data, tuple(
                      s for s in r.pve[volname].snapshots if s[0] != snap))))
    if kind == "delete":
        volname = rng.choice(plain)
        return Op(kind, f"free_image {volname}", lambda a: a.storage.free_image(volname),
                  lambda r: r.with_pve(volname, None))
    if kind == "docker_create":
        name = f"dv{serial}"
        return Op(kind, f"docker Create {name}", lambda a: a.docker.create(name, {"size": "4M"}),
                  lambda r: dataclasses.replace(r, docker=r.docker | {name}), "spawn")
    name = rng.choice(sorted(record.docker))
    return Op(kind, f"docker Remove {name}", lambda a: a.docker.remove(name),
              lambda r: dataclasses.replace(r, docker=r.docker - {name}))


@dataclass(frozen=True)
class Observed:
    """The platforms' listings as a record, and every way the storage disagrees with the
    controller's records."""

    record: Record
    problems: list[str]


def observe(cluster: Cluster) -> Observed:
    """Read the adapters' listings and check the storage against the controller's records."""
    adapters = cluster.adapters
    assert adapters is not None
    problems: list[str] = []
    resources = cluster.get("/v1/view/resources")
    snapshots = cluster.get("/v1/view/snapshots")
    rds = {rd["name"]: rd for rd in cluster.get("/v1/resource-definitions")}
    diskful: dict[str, list[str]] = {}
    wanted_files: set[Path] = set()
    wanted_res: set[Path] = set()
    for rsc in resources:
        rd, node = rsc["name"], rsc["node_name"]
        if any(layer["type"] == "DRBD" for layer in rds[rd].get("layer_data", [])):
            wanted_res.add(cluster.scratch / "state" / "nodes" / node / "drbd.d" / f"{rd}.res")
        if "DISKLESS" not in rsc["flags"]:
            diskful.setdefault(rd, []).append(node)
            wanted_files.add(cluster.image(node, rd).resolve())
    snap_marks: dict[tuple[str, str], bytes] = {}
    for snap in snapshots:
        marks = set()
        for node in snap["nodes"]:
            path = cluster.image(node, snap["resource_name"], snap["name"])
            wanted_files.add(path.resolve())
            marks.add(read_mark(path) if path.exists() else b"missing")
        if len(marks) != 1:
            problems.append(f"snapshot {snap['resource_name']}@{snap['name']} differs across replicas")
        snap_marks[(snap["resource_name"], snap["name"])] = marks.pop() if marks else b""
    for rd in rds:
        if len(diskful.get(rd, [])) != PLACE_COUNT:
            problems.append(f"{rd} has diskful replicas on {diskful.get(rd, [])}, not {PLACE_COUNT}")
    files = {p.resolve() for p in cluster.pool_files()}
    if files != wanted_files:
        problems.append(f"pool files without a record: {sorted(map(str, files - wanted_files))}, "
                        f"records without a file: {sorted(map(str, wanted_files - files))}")
    volumes = {p for p in wanted_files if ".snap." not in p.name}
    loops = sorted(loops_under(cluster.pool_root).values())
    if sorted(loops) != sorted(map(str, volumes)):
        problems.append(f"loop devices {loops} are not one per volume file {sorted(map(str, volumes))}")
    res_files = set((cluster.scratch / "state" / "nodes").glob("*/drbd.d/*.res"))
    if res_files != wanted_res:
        problems.append(f"DRBD configs {sorted(map(str, res_files ^ wanted_res))} do not match the resources")
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if line.split()[4].startswith((str(cluster.scratch), str(cluster.pool_root)))]
    if mounts:
        problems.append(f"mounts left: {mounts}")

    pve: dict[str, PveDisk] = {}
    for disk in adapters.storage.catalog.all():
        volname = volname_of(disk).volname
        marks = {read_mark(cluster.image(node, disk.name)) for node in diskful.get(disk.name, [])}
        if len(marks) != 1:
            problems.append(f"{volname} ({disk.name}) has {len(marks)} different replica contents")
        snaps = tuple((s["name"], snap_marks[(disk.name, s["name"])]) for s in sorted(
            (s for s in snapshots if s["resource_name"] == disk.name), key=lambda s: s["name"]))
        if volname in pve:
            problems.append(f"two disks carry the volume name {volname}")
        pve[volname] = PveDisk(marks.pop() if marks else b"", snaps)
    listed = sorted(image["volid"].removeprefix("rel:") for image in adapters.storage.list_images())
    if listed != sorted(pve):
        problems.append(f"list_images {listed} differs from the disks {sorted(pve)}")
    docker = frozenset(v.name for v in adapters.docker.list())
    return Observed(Record(pve, docker), problems)


def ordered(record: Record) -> Record:
    """Snapshots compared by name (the views list them by name, the record in creation order)."""
    return Record({v: PveDisk(d.data, tuple(sorted(d.snapshots))) for v, d in record.pve.items()},
                  record.docker)


def integrity(state: Path) -> str:
    with sqlite3.connect(state / "controller.sqlite3") as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


class Run:
    """One seeded run: the schedule of operations and kills, the record, the checks."""

    def __init__(self, cluster: Cluster, seed: int) -> None:
        self.cluster = cluster
        self.rng = random.Random(seed)
        self.record = Record()
        self.kills = 0
        self.kinds: dict[str, int] = {}

    def check(self, interrupted: Op | None = None, *, must_be: str = "either") -> None:
        """After a restart: integrity, storage, and the record (``interrupted`` done or not)."""
        assert integrity(self.cluster.scratch / "state") == "ok"
        seen = observe(self.cluster)
        assert seen.problems == [], "\n".join(seen.problems)
        outcomes = {"before": self.record}
        if interrupted is not None and must_be != "before":
            done = interrupted.after(self.record)
            outcomes = {"done": done} if must_be == "done" else {"before": self.record, "done": done}
        matches = [name for name, rec in outcomes.items() if ordered(rec) == ordered(seen.record)]
        what = interrupted.what if interrupted else "nothing"
        assert matches, (f"after the kill during {what} the platforms see {ordered(seen.record)}, "
                         f"neither of {list(outcomes)}: {[ordered(r) for r in outcomes.values()]}")
        self.record = outcomes[matches[0]]

    def guest_writes(self, volname: str) -> None:
        """Change what a disk holds (before a snapshot or rollback, so each is visible)."""
        disk = self.record.pve[volname]
        rd = next(d.name for d in self.cluster.adapters.storage.catalog.all()
                  if volname_of(d).volname == volname)
        nodes = [r["node_name"] for r in self.cluster.get(f"/v1/resource-definitions/{rd}/resources")
                 if "DISKLESS" not in r["flags"]]
        data = self.rng.randbytes(MARK)
        write_mark([self.cluster.image(node, rd) for node in nodes], data)
        self.record = self.record.with_pve(volname, PveDisk(data, disk.snapshots))

    def run_op(self, op: Op, kill: str | None) -> None:
        """Run ``op``; ``kill``: None, "between" (after it), "timed" (while it runs) or "paused"
        (while its request is held in its transaction)."""
        self.kinds[op.kind] = self.kinds.get(op.kind, 0) + 1
        outcome: list[object] = []
        storage_before = self.cluster.storage_state()
        adapters = self.cluster.adapters

        def call() -> None:
            try:
                outcome.append(op.call(adapters))
            except LinstorError as error:
                outcome.append(error)

        worker = threading.Thread(target=call, name=op.what)
        worker.start()
        if kill == "timed":
            time.sleep(self.rng.uniform(0.0, 0.08))
        elif kill == "paused":
            deadline = time.monotonic() + 20
            while self.cluster.storage_state() == storage_before:
                assert worker.is_alive(), f"{op.what} finished although held at {op.pause_point}"
                assert time.monotonic() < deadline, f"{op.what} made no storage while held"
                time.sleep(0.01)
        if kill in ("timed", "paused"):
            self.cluster.process.kill()
        worker.join(timeout=60)
        assert not worker.is_alive(), f"{op.what} hangs"
        failed = isinstance(outcome[0], LinstorError)
        if kill in (None, "between"):
            assert not failed, f"{op.what} failed without a crash: {outcome[0]}"
        if kill is None:
            self.record = op.after(self.record)
            return
        self.kills += 1
        self.cluster.restart()
        if kill == "paused":
            assert failed, f"{op.what} answered although its request was held"
        self.check(op, must_be=self.outcome_after(op, kill, failed))

    @staticmethod
    def outcome_after(op: Op, kill: str, failed: bool) -> str:
        """What the record must show after the restart: an answered call is done; one held
        before its commit is not; a rollback held after its commit is finished at start-up."""
        if kill == "paused":
            return "done" if op.pause_point == "rollback" else "before"
        return "either" if failed else "done"

    def schedule(self) -> Iterator[tuple[int, str | None]]:
        kill_at = dict.fromkeys(self.rng.sample(range(5, OPERATIONS), KILLS), "")
        for index in kill_at:
            kill_at[index] = self.rng.choices(["between", "timed", "paused"], [3, 3, 2])[0]
        for index in range(OPERATIONS):
            yield index, kill_at.get(index)

    def go(self) -> None:
        self.cluster.connect()
        for index, kill in self.schedule():
            pause_point = None
            if kill == "paused":
                pause_point = self.rng.choice(["spawn", "snapshot", "rollback"])
                self.kills += 1
                self.cluster.restart(pause_point)
                self.check()
            op = choose(self.rng, self.record, index, pause_point)
            if op.pause_point != pause_point and kill == "paused":
                kill = "timed"
            if op.writes is not None:
                self.guest_writes(op.writes)
            self.run_op(op, kill)
        self.cluster.restart()
        self.check()


@pytest.fixture
def cluster(controller_process: ControllerProcess, pool_root: Path, tmp_path: Path) -> Cluster:
    answer = requests.post(f"{controller_process.url}/v1/resource-groups", json={
        "name": GROUP, "select_filter": {"place_count": PLACE_COUNT, "storage_pool": "thinpool",
                                         "layer_stack": ["drbd", "storage"]}}, timeout=30)
    answer.raise_for_status()
    pve_root = pve_cluster_files(tmp_path / "pve", {SOURCE_VM: "web01", CLONE_VM: "db01"})
    return Cluster(controller_process, pool_root, pve_root, tmp_path)


def test_sigkill_at_random_points_of_adapter_operations(cluster: Cluster) -> None:
    seed = int(os.environ.get(SEED_ENV) or random.randrange(2**32))
    print(f"crash test seed {seed} (replay: {SEED_ENV}={seed})")
    run = Run(cluster, seed)
    try:
        run.go()
    except AssertionError as error:
        error.add_note(f"replay this run with {SEED_ENV}={seed}")
        raise
    print(f"{run.kills} kills; operations: {run.kinds}")
    assert run.kills >= KILLS
    assert set(run.kinds) == {"create", "clone", "snapshot", "rollback", "snapshot_delete", "delete",
                              "docker_create", "docker_remove"}, run.kinds


def test_a_rollback_cut_off_between_replicas_is_finished_at_start_up(cluster: Cluster) -> None:
    """The kill lands after the first replica was rolled back and before the second was."""
    process, url = cluster.process, cluster.url
    requests.post(f"{url}/v1/resource-groups/{GROUP}/spawn", json={
        "resource_definition_name": "twice", "volume_sizes": [4096]}, timeout=30).raise_for_status()
    replicas = sorted(cluster.pool_root.glob("*/twice_00000.img"))
    assert len(replicas) == 2
    write_mark(replicas, b"snapshot content")
    requests.post(f"{url}/v1/resource-definitions/twice/snapshots", json={"name": "before"},
                  timeout=30).raise_for_status()
    write_mark(replicas, b"written later...")
    process.kill()
    process.start("rollback", PAUSE_SECONDS)
    cut_off: list[BaseException] = []

    def roll_back() -> None:
        try:
            requests.post(f"{url}/v1/resource-definitions/twice/snapshot-rollback/before", json={},
                          timeout=60)
        except requests.ConnectionError as error:
            cut_off.append(error)

    sender = threading.Thread(target=roll_back)
    sender.start()
    deadline = time.monotonic() + 20
    while sorted(read_mark(p) for p in replicas) != [b"snapshot content", b"written later..."]:
        assert time.monotonic() < deadline, "the first replica was never rolled back"
        time.sleep(0.01)
    process.kill()
    sender.join(timeout=30)
    assert cut_off, "the rollback must have been cut off by the kill"

    cluster.restart()
    assert integrity(cluster.scratch / "state") == "ok"
    assert [read_mark(p) for p in replicas] == [b"snapshot content"] * 2
    assert sorted(loops_under(cluster.pool_root).values()) == [str(p.resolve()) for p in replicas]
    with sqlite3.connect(cluster.scratch / "state" / "controller.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM rollbacks").fetchone()[0] == 0

