"""Crash safety through the adapters: SIGKILL the controller at random points of 200 operations.

The operations are the platforms' own calls, spread over the three adapters: PVE
``alloc_image``, ``clone_image``, ``volume_snapshot``, ``volume_snapshot_rollback``,
``volume_snapshot_delete`` and ``free_image``; Docker ``Create`` and ``Remove``; OpenNebula
``ds cp``, ``ds clone``, ``ds rm`` of images and ``tm clone``, ``tm mkimage``, ``tm delete``,
``tm snap_create``, ``tm snap_revert``, ``tm snap_delete`` of a VM's disks (``linstor-one``'s
``main`` in this process with oned's argv and stdin, an oned stand-in answering its lookups,
the VM's host being this machine). The controller runs as its own process and is killed
(SIGKILL) between operations, at a random moment while one runs, or while a request is held
inside its transaction after its storage was made (``LINSTOR_CORE_TEST_PAUSE_AT``).

The test keeps its own record of what each operation did: the disks per PVE volume name and
per OpenNebula SOURCE (image) or VM disk, with the first bytes a guest wrote and their
snapshots (with the bytes they hold), and the Docker volumes. After every restart:

* the database passes ``PRAGMA integrity_check``;
* the adapters' listings equal the record; the operation the kill interrupted is either fully
  there or fully absent (one that had answered success must be there; one held before its
  commit must be absent), and the record follows what happened. An OpenNebula action is
  several requests, so a kill between two of them can leave part of it: oned then repeats a
  failed TM action or ``ds rm``, which must finish it; a ``ds cp`` or ``ds clone`` is never
  repeated, and a disk it made (``cp``: but could not fill) is oned's image in ERROR with no
  SOURCE, which the operator removes (here with ``ds rm`` of the name the driver gave it);
* every OpenNebula VM disk has its ``disk.<i>`` symlink in the VM directory, pointing at the
  device the controller reports, and the directory holds no other link;
* the storage equals the controller's records: exactly one volume file and one loop device per
  diskful replica, one snapshot file per snapshot replica, one DRBD ``.res`` per resource with
  the DRBD layer, every replica holding the same bytes, and no other file, loop device or mount
  (start-up reconciliation removed what the crash left).

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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from controller_process import ControllerProcess
from controller_setup import NODES, loops_under
from device_io import write_synced
from docker_volume.driver import VolumeDriver
from fuzz_stack import NODE, One, driver_action, image_xml, one_driver, vm_xml
from linstor_core import naming
from linstor_core.errors import LinstorError
from opennebula_driver import names as one_names
from platforms import docker_driver, pve_cluster_files, pve_storage
from proxmox_plugin.catalog import volname_of
from proxmox_plugin.plugin import LinstorStorage

pytestmark = pytest.mark.root  # snapshots and clones need the reflink filesystem

SEED_ENV = "LINSTOR_CRASH_SEED"
GROUP = "crashsafe"
ONE_GROUP = "onestore"
"""OpenNebula's profile: one storage-only replica on its front-end and VM host ``NODE``. The
embedded controller brings no DRBD device up, and ``ds cp`` writes the image through the
front-end's device (the functional OpenNebula tests do the same)."""
PLACE_COUNTS = {GROUP: 2, ONE_GROUP: 1}
OPERATIONS = 200
KILLS = 16
"""Scheduled kills; a kill inside a held request also needs a restart to arm the hook first."""
PAUSE_SECONDS = 60
SOURCE_VM, CLONE_VM = 101, 102
MAX_PVE_DISKS = 10
MAX_DOCKER_VOLUMES = 4
IMAGE_DS, SYSTEM_DS = 100, 0
ONE_VM, ONE_VM_NAME = 30, "web"
MAX_ONE_IMAGES = 4
MAX_VM_DISKS = 4
ONE_DISK_MIB = 4
MARK = 16
"""Bytes at the start of every volume that identify what a guest wrote."""
ZEROS = bytes(MARK)


@dataclass(frozen=True)
class Disk:
    """What a guest sees on a disk, and its snapshots (name, what it holds) in creation order."""

    data: bytes
    snapshots: tuple[tuple[str, bytes], ...] = ()

    def snapshot(self, name: str) -> "Disk":
        return Disk(self.data, (*self.snapshots, (name, self.data)))

    def rolled_back(self, name: str) -> "Disk":
        return Disk(dict(self.snapshots)[name], self.snapshots)

    def without(self, name: str) -> "Disk":
        return Disk(self.data, tuple(s for s in self.snapshots if s[0] != name))


def _with(disks: Mapping[str, Disk], key: str, disk: Disk | None) -> dict[str, Disk]:
    changed = {k: v for k, v in disks.items() if k != key}
    if disk is not None:
        changed[key] = disk
    return changed


@dataclass(frozen=True)
class Record:
    """What the operations so far did, as the platforms see it."""

    pve: dict[str, Disk] = field(default_factory=dict)
    """By PVE volume name."""
    docker: frozenset[str] = frozenset()
    one: dict[str, Disk] = field(default_factory=dict)
    """By resource name: the images (their SOURCE) and the VM's own disks."""

    def with_pve(self, volname: str, disk: Disk | None) -> "Record":
        return dataclasses.replace(self, pve=_with(self.pve, volname, disk))

    def with_one(self, name: str, disk: Disk | None) -> "Record":
        return dataclasses.replace(self, one=_with(self.one, name, disk))

    def images(self) -> list[str]:
        return sorted(n for n in self.one if n.startswith(f"{one_names.PLATFORM}-img"))

    def vm_disks(self) -> dict[int, str]:
        """disk id -> resource name, for the VM's own disks."""
        return {i: vm_disk_name(i) for i in range(MAX_VM_DISKS) if vm_disk_name(i) in self.one}


@dataclass(frozen=True)
class Op:
    """One adapter call and what it does to the record when it is done."""

    kind: str
    what: str
    call: Callable[["Adapters"], object]
    after: Callable[[Record], Record]
    pause_point: str | None = None
    """Where ``LINSTOR_CORE_TEST_PAUSE_AT`` can hold this call's request (``None``: nowhere)."""
    writes: tuple[str, str] | None = None
    """The disk (``("pve", volname)`` or ``("one", resource)``) a guest writes to just before
    (so a snapshot or rollback shows)."""
    recover: Callable[["Adapters"], object] | None = None
    """What the platform does when this call failed part-way (oned repeats a failed TM action
    or ``ds rm``); ``None``: a cut-off call must be done or absent as it stands."""
    recovered: str = "done"
    """The outcome ``recover`` leads to: "done", or "before" when it removes what was made."""


@dataclass(frozen=True)
class Adapters:
    storage: LinstorStorage
    docker: VolumeDriver
    one: One


@dataclass
class Cluster:
    """The controller process, the adapters in front of it, and where its storage lives."""

    process: ControllerProcess
    pool_root: Path
    pve_root: Path
    scratch: Path
    one: One
    adapters: Adapters | None = None

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def vm_dir(self) -> Path:
        """The OpenNebula VM's directory on its host (this machine) in the system datastore."""
        return self.scratch / "datastores" / str(SYSTEM_DS) / str(ONE_VM)

    @property
    def uploads(self) -> Path:
        """The image files ``ds cp`` registers (the datastore's SAFE_DIRS)."""
        return self.scratch / "uploads"

    def connect(self) -> Adapters:
        """New adapters (new HTTP sessions), as new PVE workers and a restarted plugin have;
        ``linstor-one`` makes new ones on every call, as each oned action is a new process."""
        self.adapters = Adapters(
            pve_storage(self.url, GROUP, self.pve_root, self.scratch / "cache"),
            docker_driver(self.url, GROUP, self.scratch / "docker"), self.one)
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
        write_synced(path, data)


def next_volname(record: Record, vmid: int) -> str:
    """The name PVE's lowest-free-number rule gives the next disk of ``vmid``."""
    number = 0
    while f"vm-{vmid}-disk-{number}" in record.pve:
        number += 1
    return f"vm-{vmid}-disk-{number}"


# --- OpenNebula: oned's argv and stdin -----------------------------------------------------


def vm_disk_name(disk_id: int) -> str:
    """The resource of the VM's own disk ``disk_id`` (what ``tm clone``/``mkimage`` name it)."""
    return naming.disk_resource_name(one_names.PLATFORM, one_names.vm_owner(ONE_VM), ONE_VM_NAME, disk_id)


def one_owner_name(props: Mapping[str, str]) -> str | None:
    """The resource name an OpenNebula disk's owner props call for (None: not one of ours)."""
    owner, disk = props.get(naming.PROP_OWNER_ID, ""), props.get(one_names.PROP_DISK, "")
    if owner.startswith("img") and owner[3:].isdigit() and not disk:
        return one_names.image_disk(int(owner[3:]), "base")
    if owner == one_names.vm_owner(ONE_VM) and disk.isdigit():
        return vm_disk_name(int(disk))
    return None


def one_action(one: One, argv: list[str], stdin: bytes = b"") -> str:
    """``linstor-one ARGV`` as oned runs it; a refusal raises LinstorError with oned's line."""
    answer = one.call(argv, stdin)
    assert "internal error" not in answer.stderr and "Traceback" not in answer.stderr, answer.stderr
    if answer.status != 0:
        raise LinstorError(answer.stderr.strip())
    assert answer.stderr == "", f"{argv} succeeded but wrote to stderr: {answer.stderr}"
    return answer.stdout


def ds_action(one: One, action: str, image_id: int, **image: object) -> str:
    """A datastore action on image ``image_id`` of datastore 100, its document on stdin (>= 6.8)."""
    document = driver_action(image_xml(image_id, "base", **image), one.oned.datastores[IMAGE_DS])
    return one_action(one, ["ds", action, str(image_id)], document)


def tm_action(one: One, action: str, *args: str, disk: Mapping[str, object]) -> str:
    """A TM action on the VM, whose template oned now lists with ``disk`` (the one acted on)."""
    one.oned.vms[ONE_VM] = vm_xml(ONE_VM, ONE_VM_NAME, [disk], host=NODE)
    return one_action(one, ["tm", action, *args])


def choose_one(kind: str, rng: random.Random, record: Record, serial: int, cluster: Cluster) -> Op:
    """An OpenNebula operation of ``kind`` that makes sense on ``record``, with oned's argv."""
    if kind in ("one_cp", "one_clone", "one_rm"):
        return choose_image_op(kind, rng, record, serial, cluster)
    free_disk = next((i for i in range(MAX_VM_DISKS) if vm_disk_name(i) not in record.one), 0)
    with_snaps = sorted(i for i, n in record.vm_disks().items() if record.one[n].snapshots)
    if kind in ("tm_clone", "tm_mkimage"):
        disk_id = free_disk
    else:
        disk_id = rng.choice(with_snaps if kind in ("tm_snap_revert", "tm_snap_delete") else sorted(record.vm_disks()))
    name, target = vm_disk_name(disk_id), f"{NODE}:{cluster.vm_dir}/disk.{disk_id}"
    disk: dict[str, object] = {"DISK_ID": disk_id, "TYPE": "fs", "SIZE": ONE_DISK_MIB}
    ids = (str(ONE_VM), str(SYSTEM_DS))
    pause: str | None = None
    writes: tuple[str, str] | None = None
    if kind == "tm_clone":
        source = rng.choice(record.images())
        disk = {"DISK_ID": disk_id, "SOURCE": source, "CLONE": "YES", "TM_MAD": "linstor",
                "IMAGE_ID": one_names.image_id_of(source), "DATASTORE_ID": IMAGE_DS}
        argv: tuple[str, ...] = (f"{NODE}:{source}", target, str(ONE_VM), str(IMAGE_DS))
        after: Callable[[Record], Record] = lambda r: r.with_one(name, Disk(r.one[source].data))
        what = f"tm clone {source} -> disk.{disk_id}"
    elif kind == "tm_mkimage":
        argv, after = (str(ONE_DISK_MIB), "raw", target, *ids), lambda r: r.with_one(name, Disk(ZEROS))
        what, pause = f"tm mkimage disk.{disk_id}", "spawn"
    elif kind == "tm_delete":
        argv, after = (target, *ids), lambda r: r.with_one(name, None)
        what = f"tm delete disk.{disk_id}"
    else:
        if kind == "tm_snap_create":
            snap = one_names.snapshot(serial)
            after = lambda r: r.with_one(name, r.one[name].snapshot(snap))
            pause, writes = "snapshot", ("one", name)
        elif kind == "tm_snap_revert":
            snap = record.one[name].snapshots[-1][0]
            after = lambda r: r.with_one(name, r.one[name].rolled_back(snap))
            writes = ("one", name)  # no pause point: the rollback hold is between replicas; these have one
        else:
            snap = rng.choice(record.one[name].snapshots)[0]
            after = lambda r: r.with_one(name, r.one[name].without(snap))
        argv, what = (target, snap.removeprefix("snap-"), *ids), f"{kind.replace('_', ' ', 1)} disk.{disk_id} {snap}"
    action = kind.removeprefix("tm_")

    def call(a: Adapters) -> str:
        return tm_action(a.one, action, *argv, disk=disk)

    return Op(kind, what, call, after, pause, writes, recover=call)  # oned retries a failed TM action


def choose_image_op(kind: str, rng: random.Random, record: Record, serial: int, cluster: Cluster) -> Op:
    """``ds cp`` (a new image from a file holding a mark), ``ds clone`` or ``ds rm``."""
    if kind == "one_rm":
        name = rng.choice(record.images())

        def remove(a: Adapters) -> str:
            return ds_action(a.one, "rm", one_names.image_id_of(name), SOURCE=name)

        return Op(kind, f"ds rm {name}", remove, lambda r: r.with_one(name, None), recover=remove)
    new = one_names.image_disk(serial, "base")

    def made_not_registered(a: Adapters) -> str:
        """oned never learnt this image's SOURCE, so only the operator can remove the disk."""
        return ds_action(a.one, "rm", serial, SOURCE=new)

    if kind == "one_cp":
        data, upload = rng.randbytes(MARK), cluster.uploads / f"{serial}.img"

        def cp(a: Adapters) -> None:
            with open(upload, "wb") as handle:
                handle.truncate(ONE_DISK_MIB * 1024 * 1024)
                handle.write(data)
            answer = ds_action(a.one, "cp", serial, PATH=upload, SIZE=ONE_DISK_MIB, FORMAT="raw")
            assert answer.split() == [new, "raw"], answer

        return Op(kind, f"ds cp {serial} -> {new}", cp, lambda r: r.with_one(new, Disk(data)), "spawn",
                  recover=made_not_registered, recovered="before")
    source = rng.choice(record.images())

    def clone(a: Adapters) -> None:
        answer = ds_action(a.one, "clone", serial, PATH=source, CLONING_ID=one_names.image_id_of(source))
        assert answer.split() == [new, "raw"], answer

    return Op(kind, f"ds clone {source} -> {new}", clone, lambda r: r.with_one(new, Disk(r.one[source].data)),
              recover=made_not_registered, recovered="before")


ONE_KINDS = ("one_cp", "one_clone", "one_rm", "tm_clone", "tm_mkimage", "tm_delete", "tm_snap_create",
             "tm_snap_revert", "tm_snap_delete")


ALL_KINDS = frozenset({"create", "clone", "snapshot", "rollback", "snapshot_delete", "delete", "docker_create",
                       "docker_remove", *ONE_KINDS})
BOOST = 20
"""In the last quarter of a run, kinds that have not run yet are this much likelier, so every
kind runs in every run."""


def one_weights(record: Record) -> dict[str, int]:
    """How often each OpenNebula operation is picked (0: it makes no sense on ``record``)."""
    images, vm_disks = record.images(), record.vm_disks()
    with_snaps = [n for n in vm_disks.values() if record.one[n].snapshots]
    image_room, disk_room = len(images) < MAX_ONE_IMAGES, len(vm_disks) < MAX_VM_DISKS
    return {"one_cp": 8 * image_room, "one_clone": 6 * (image_room and bool(images)),
            "one_rm": 6 * (len(images) > 1), "tm_clone": 8 * (disk_room and bool(images)),
            "tm_mkimage": 6 * disk_room, "tm_delete": 7 * (len(vm_disks) > 1),
            "tm_snap_create": 10 * bool(vm_disks), "tm_snap_revert": 8 * bool(with_snaps),
            "tm_snap_delete": 8 * bool(with_snaps)}


def choose(rng: random.Random, record: Record, serial: int, pause_point: str | None, cluster: Cluster,
           boost: frozenset[str] = frozenset()) -> Op:
    """A random operation that makes sense on ``record`` (one that can be held at
    ``pause_point`` when that is given); the kinds in ``boost`` are much likelier."""
    with_snaps = sorted(v for v, d in record.pve.items() if d.snapshots)
    plain = sorted(v for v, d in record.pve.items() if not d.snapshots)
    one = one_weights(record)
    held = {"spawn": {"create": 3, "docker_create": 1, "one_cp": one["one_cp"] > 0,
                      "tm_mkimage": one["tm_mkimage"] > 0},
            "snapshot": {"snapshot": bool(record.pve), "tm_snap_create": one["tm_snap_create"] > 0},
            "rollback": {"rollback": bool(with_snaps)},  # it holds between replicas; OpenNebula's have one
            }.get(pause_point or "", {})
    if any(held.values()):
        choices = {k: int(v) for k, v in held.items()}
    elif len(record.pve) < 3:
        choices = {"create": 1}
    else:
        room = len(record.pve) < MAX_PVE_DISKS
        choices = {"create": 20 * room, "clone": 10 * room, "snapshot": 20,
                   "rollback": 15 if with_snaps else 0, "snapshot_delete": 10 if with_snaps else 0,
                   "delete": 15 if plain and len(record.pve) > 4 else 0,
                   "docker_create": 12 if len(record.docker) < MAX_DOCKER_VOLUMES else 0,
                   "docker_remove": 10 if record.docker else 0, **one}
        choices = {kind: weight * (BOOST if kind in boost else 1) for kind, weight in choices.items()}
    kind = rng.choices(list(choices), list(choices.values()))[0]
    if kind in ONE_KINDS:
        return choose_one(kind, rng, record, serial, cluster)
    if kind == "create":
        new = next_volname(record, SOURCE_VM)
        return Op(kind, f"alloc_image {new}", lambda a: a.storage.alloc_image(SOURCE_VM, "raw", None, 4096),
                  lambda r: r.with_pve(new, Disk(ZEROS)), "spawn")
    if kind == "clone":
        source, new = rng.choice(sorted(record.pve)), next_volname(record, CLONE_VM)
        return Op(kind, f"clone_image {source} -> {new}", lambda a: a.storage.clone_image(source, CLONE_VM),
                  lambda r: r.with_pve(new, Disk(r.pve[source].data)))
    if kind == "snapshot":
        volname, snap = rng.choice(sorted(record.pve)), f"s{serial}"
        return Op(kind, f"volume_snapshot {volname} {snap}", lambda a: a.storage.volume_snapshot(volname, snap),
                  lambda r: r.with_pve(volname, r.pve[volname].snapshot(snap)), "snapshot", ("pve", volname))
    if kind == "rollback":
        volname = rng.choice(with_snaps)
        snap = record.pve[volname].snapshots[-1][0]
        return Op(kind, f"volume_snapshot_rollback {volname} {snap}",
                  lambda a: a.storage.volume_snapshot_rollback(volname, snap),
                  lambda r: r.with_pve(volname, r.pve[volname].rolled_back(snap)), "rollback", ("pve", volname))
    if kind == "snapshot_delete":
        volname = rng.choice(with_snaps)
        snap = rng.choice(record.pve[volname].snapshots)[0]
        return Op(kind, f"volume_snapshot_delete {volname} {snap}",
                  lambda a: a.storage.volume_snapshot_delete(volname, snap),
                  lambda r: r.with_pve(volname, r.pve[volname].without(snap)))
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
    """The platforms' listings as a record, every way the storage disagrees with the
    controller's records, and what a cut-off OpenNebula action can leave half made."""

    record: Record
    problems: list[str]
    unlinked: list[str]
    """VM disks without their ``disk.<i>`` symlink, and symlinks without their disk."""


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
    devices: dict[tuple[str, str], str] = {}
    for rsc in resources:
        rd, node = rsc["name"], rsc["node_name"]
        devices[(rd, node)] = rsc["volumes"][0]["device_path"] if rsc.get("volumes") else ""
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
    for rd, definition in rds.items():
        wanted = PLACE_COUNTS[definition["resource_group_name"]]
        if len(diskful.get(rd, [])) != wanted:
            problems.append(f"{rd} has diskful replicas on {diskful.get(rd, [])}, not {wanted}")
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

    def seen(rd: str, label: str) -> Disk:
        """What a guest of disk ``rd`` sees, and its snapshots, from the replicas' files."""
        marks = {read_mark(cluster.image(node, rd)) for node in diskful.get(rd, [])}
        if len(marks) != 1:
            problems.append(f"{label} ({rd}) has {len(marks)} different replica contents")
        snaps = tuple((s["name"], snap_marks[(rd, s["name"])]) for s in sorted(
            (s for s in snapshots if s["resource_name"] == rd), key=lambda s: s["name"]))
        return Disk(marks.pop() if marks else b"", snaps)

    pve: dict[str, Disk] = {}
    for disk in adapters.storage.catalog.all():
        volname = volname_of(disk).volname
        if volname in pve:
            problems.append(f"two disks carry the volume name {volname}")
        pve[volname] = seen(disk.name, volname)
    listed = sorted(image["volid"].removeprefix("rel:") for image in adapters.storage.list_images())
    if listed != sorted(pve):
        problems.append(f"list_images {listed} differs from the disks {sorted(pve)}")
    docker = frozenset(v.name for v in adapters.docker.list())

    one = {rd: seen(rd, "OpenNebula disk") for rd, definition in rds.items()
           if definition.get("props", {}).get(naming.PROP_PLATFORM) == one_names.PLATFORM}
    problems.extend(f"{rd} carries the owner props {rds[rd]['props']}" for rd in one
                    if one_owner_name(rds[rd]["props"]) != rd)
    wanted_links = {f"disk.{rds[name]['props'][one_names.PROP_DISK]}": devices.get((name, NODE), "")
                    for name in one if rds[name]["props"].get(naming.PROP_OWNER_ID) == one_names.vm_owner(ONE_VM)}
    links = {p.name: os.readlink(p) for p in cluster.vm_dir.glob("disk.*")} if cluster.vm_dir.exists() else {}
    unlinked = [f"{name}: linked to {links.get(name)}, the disk's device is {wanted_links.get(name)}"
                for name in sorted(links.keys() | wanted_links.keys()) if links.get(name) != wanted_links.get(name)]
    return Observed(Record(pve, docker, one), problems, unlinked)


def ordered(record: Record) -> Record:
    """Snapshots compared by name (the views list them by name, the record in creation order)."""
    def by_name(disks: Mapping[str, Disk]) -> dict[str, Disk]:
        return {k: Disk(d.data, tuple(sorted(d.snapshots))) for k, d in disks.items()}

    return Record(by_name(record.pve), record.docker, by_name(record.one))


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
        self.recovered: dict[str, int] = {}
        """Cut-off operations the platform's recovery had to finish or remove, by kind."""
        self.kinds: dict[str, int] = {}
        self.killed: dict[str, int] = {}
        """Operations a kill cut off (timed or held), by kind."""

    def observe(self) -> Observed:
        """Integrity and storage checked; the platforms' view returned."""
        assert integrity(self.cluster.scratch / "state") == "ok"
        seen = observe(self.cluster)
        assert seen.problems == [], "\n".join(seen.problems)
        return seen

    def check(self, interrupted: Op | None = None, *, must_be: str = "either") -> None:
        """After a restart: integrity, storage, and the record (``interrupted`` done or not;
        when it is half done, the platform's recovery must finish or remove it)."""
        seen = self.observe()
        outcomes = {"before": self.record}
        if interrupted is not None and must_be != "before":
            done = interrupted.after(self.record)
            outcomes = {"done": done} if must_be == "done" else {"before": self.record, "done": done}
        matches = [name for name, rec in outcomes.items()
                   if ordered(rec) == ordered(seen.record) and not seen.unlinked]
        what = interrupted.what if interrupted else "nothing"
        if not matches and must_be == "either" and interrupted is not None and interrupted.recover:
            assert self.cluster.adapters is not None
            interrupted.recover(self.cluster.adapters)
            self.recovered[interrupted.kind] = self.recovered.get(interrupted.kind, 0) + 1
            seen = self.observe()
            outcomes = {interrupted.recovered: outcomes[interrupted.recovered]}
            matches = [name for name, rec in outcomes.items()
                       if ordered(rec) == ordered(seen.record) and not seen.unlinked]
            what += f" and its recovery (then {interrupted.recovered})"
        assert matches, (f"after the kill during {what} the platforms see {ordered(seen.record)} "
                         f"(links: {seen.unlinked}), not {list(outcomes)}: {[ordered(r) for r in outcomes.values()]}")
        self.record = outcomes[matches[0]]

    def guest_writes(self, where: tuple[str, str]) -> None:
        """Change what a disk holds (before a snapshot or rollback, so each is visible)."""
        platform, key = where
        if platform == "pve":
            rd = next(d.name for d in self.cluster.adapters.storage.catalog.all()
                      if volname_of(d).volname == key)
            disk = self.record.pve[key]
        else:
            rd, disk = key, self.record.one[key]
        nodes = [r["node_name"] for r in self.cluster.get(f"/v1/resource-definitions/{rd}/resources")
                 if "DISKLESS" not in r["flags"]]
        data = self.rng.randbytes(MARK)
        write_mark([self.cluster.image(node, rd) for node in nodes], data)
        written = Disk(data, disk.snapshots)
        self.record = (self.record.with_pve(key, written) if platform == "pve"
                       else self.record.with_one(key, written))

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
            except Exception as error:  # re-raised below unless it is the adapter saying no
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
            self.killed[op.kind] = self.killed.get(op.kind, 0) + 1
        worker.join(timeout=60)
        assert not worker.is_alive(), f"{op.what} hangs"
        if isinstance(outcome[0], Exception) and not isinstance(outcome[0], LinstorError):
            raise outcome[0]
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
            unseen = ALL_KINDS - self.kinds.keys() if index >= OPERATIONS * 3 // 4 else frozenset()
            op = choose(self.rng, self.record, index, pause_point, self.cluster, frozenset(unseen))
            if op.pause_point != pause_point and kill == "paused":
                kill = "timed"
            if op.writes is not None:
                self.guest_writes(op.writes)
            self.run_op(op, kill)
        self.cluster.restart()
        self.check()


@pytest.fixture
def cluster(controller_process: ControllerProcess, pool_root: Path, tmp_path: Path) -> Iterator[Cluster]:
    for name, select in ((GROUP, {"layer_stack": ["drbd", "storage"]}),
                         (ONE_GROUP, {"layer_stack": ["storage"], "node_name_list": [NODE]})):
        answer = requests.post(f"{controller_process.url}/v1/resource-groups", json={
            "name": name, "select_filter": {"place_count": PLACE_COUNTS[name], "storage_pool": "thinpool",
                                            **select}}, timeout=30)
        answer.raise_for_status()
    pve_root = pve_cluster_files(tmp_path / "pve", {SOURCE_VM: "web01", CLONE_VM: "db01"})
    (tmp_path / "one").mkdir()
    (tmp_path / "uploads").mkdir()
    template = {"LINSTOR_CONTROLLERS": controller_process.url, "LINSTOR_RESOURCE_GROUP": ONE_GROUP,
                "LINSTOR_FRONTEND_NODE": NODE, "RESTRICTED_DIRS": "/", "SAFE_DIRS": str(tmp_path / "uploads")}
    with one_driver(tmp_path / "one", template) as one:
        yield Cluster(controller_process, pool_root, pve_root, tmp_path, one)




def test_sigkill_at_random_points_of_adapter_operations(cluster: Cluster) -> None:
    seed = int(os.environ.get(SEED_ENV) or random.randrange(2**32))
    print(f"crash test seed {seed} (replay: {SEED_ENV}={seed})")
    run = Run(cluster, seed)
    try:
        run.go()
    except AssertionError as error:
        error.add_note(f"replay this run with {SEED_ENV}={seed}")
        raise
    print(f"{run.kills} kills; operations: {run.kinds}; cut off: {run.killed}; recovered: {run.recovered}")
    assert run.kills >= KILLS
    assert set(run.kinds) == ALL_KINDS, run.kinds


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

