"""Fakes for the driver's collaborators: an in-memory DiskService, oned lookups, host commands.

The fake disk service keeps the contract's promises that the driver relies on (idempotent
delete/detach, NotFound, grow-only resize) and records every call, so tests can assert both
what changed and that nothing changed after a refusal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from linstor_core.errors import AlreadyExists, ApiReply, InUse, InvalidInput, NotFound
from linstor_core.models import Attachment, Capacity, Disk
from linstor_core.runner import SYSTEM_PATH, FakeRunner
from opennebula_driver.env import Env
from opennebula_driver.records import Datastore, Vm

MUTATING = {"create", "clone", "snapshot", "delete_snapshot", "rollback", "restore", "resize", "attach",
            "detach", "delete", "set_props"}


def _missing(name: str) -> NotFound:
    return NotFound([ApiReply(ret_code=-1, message=f"disk {name} not found")])


@dataclass
class FakeDisks:
    """In-memory disks; ``devices`` maps (name, node) to a device path (a temp file)."""

    workdir: Path
    disks: dict[str, Disk] = field(default_factory=dict)
    calls: list[tuple] = field(default_factory=list)
    capacity_kib: Capacity = field(default_factory=lambda: Capacity(10 << 20, 3 << 20, 8 << 20))
    zeroed: bool = True
    """What starts_zeroed answers: whether new disks read as zeros (thin storage)."""
    diskless: bool = True
    """What attachment answers: whether the node's resource is a diskless client."""
    in_use: set[str] = field(default_factory=set)
    """Disks a guest uses: refuse_if_in_use and rollback refuse them, as LINSTOR does."""

    def _get(self, name: str) -> Disk:
        if name not in self.disks:
            raise _missing(name)
        return self.disks[name]

    def mutations(self) -> list[tuple]:
        return [c for c in self.calls if c[0] in MUTATING]

    def device(self, name: str, node: str) -> str:
        path = self.workdir / f"{name}@{node}"
        if not path.exists():
            with open(path, "wb") as handle:
                handle.truncate(self._get(name).size_kib * 1024)
        return str(path)

    def create(self, profile, name, size_kib, props={}, *, exist_ok=True):
        self.calls.append(("create", profile, name, size_kib, dict(props)))
        existing = self.disks.get(name)
        if existing is not None:  # DiskService.create: the same profile and size is the same disk
            if exist_ok and (existing.profile, existing.size_kib) == (profile, size_kib):
                return existing
            raise AlreadyExists([ApiReply(ret_code=-1, message=f"{name} exists")])
        self.disks[name] = Disk(name=name, size_kib=size_kib, profile=profile, props=dict(props))
        return self.disks[name]

    def get(self, name):
        self.calls.append(("get", name))
        return self._get(name)

    def definition(self, name):
        self.calls.append(("definition", name))
        return self.disks.get(name)

    def list(self, owner_props={}, *, placement=True):
        self.calls.append(("list", dict(owner_props)))
        return [d for d in self.disks.values() if all(d.props.get(k) == v for k, v in owner_props.items())]

    def clone(self, source, target, props={}, *, profile=None, progress=None, timeout=300):
        self.calls.append(("clone", source, target, dict(props)))
        src = self._get(source)
        if target in self.disks:
            raise AlreadyExists([ApiReply(ret_code=-1, message=f"{target} exists")])
        self.disks[target] = Disk(name=target, size_kib=src.size_kib, profile=profile or src.profile,
                                  props=dict(props))
        return self.disks[target]

    def snapshot(self, name, snapshot, nodes=()):
        self.calls.append(("snapshot", name, snapshot))
        disk = self._get(name)
        if snapshot in disk.snapshots:
            raise AlreadyExists([ApiReply(ret_code=-1, message=f"Snapshot '{snapshot}' of '{name}' already exists")])
        self.disks[name] = replace(disk, snapshots=(*disk.snapshots, snapshot))

    def delete_snapshot(self, name, snapshot):
        self.calls.append(("delete_snapshot", name, snapshot))
        disk = self._get(name)
        self.disks[name] = replace(disk, snapshots=tuple(s for s in disk.snapshots if s != snapshot))

    def newer_snapshots(self, name, snapshot):
        """Snapshots are kept in the order they were taken, as LINSTOR numbers them."""
        taken = self._get(name).snapshots
        return None if snapshot not in taken else list(taken[taken.index(snapshot) + 1:])

    def refuse_if_in_use(self, name, *, correction):
        if name in self.in_use:
            raise InUse([ApiReply(ret_code=-1, message=f"disk {name} is in use", correction=correction)])

    def rollback(self, name, snapshot):
        """Refused unless ``snapshot`` is the most recent one and the disk unused, as LINSTOR does."""
        self.calls.append(("rollback", name, snapshot))
        self.refuse_if_in_use(name, correction="")
        taken = self._get(name).snapshots
        if snapshot not in taken:
            raise _missing(snapshot)
        if taken[-1] != snapshot:
            raise InUse([ApiReply(ret_code=-1, message="Rollback is only allowed with the most recent snapshot")])

    def restore(self, name, snapshot, target, props={}, nodes=()):
        self.calls.append(("restore", name, snapshot, target, dict(props)))
        src = self._get(name)
        self.disks[target] = Disk(name=target, size_kib=src.size_kib, profile=src.profile, props=dict(props))
        return self.disks[target]

    def resize(self, name, size_kib):
        self.calls.append(("resize", name, size_kib))
        disk = self._get(name)
        if size_kib < disk.size_kib:
            raise InvalidInput("size", size_kib, "disks only grow")
        self.disks[name] = replace(disk, size_kib=size_kib)

    def starts_zeroed(self, name):
        self.calls.append(("starts_zeroed", name))
        return self.zeroed

    def attach(self, name, node, *, migrating=False):
        self.calls.append(("attach", name, node, "migrating") if migrating else ("attach", name, node))
        return self.device(name, node)

    def attachment(self, name, node):
        self.calls.append(("attach", name, node))
        return Attachment(self.device(name, node), diskless=self.diskless, starts_zeroed=self.zeroed)

    def detach(self, name, node):
        self.calls.append(("detach", name, node))

    def end_migration(self, name, node):
        self.calls.append(("end_migration", name, node))

    def end_two_primaries(self, name):
        self.calls.append(("end_two_primaries", name))

    def path(self, name, node):
        return self.device(name, node)

    def delete(self, name, *, with_snapshots=False):
        self.calls.append(("delete", name, with_snapshots))
        self.disks.pop(name, None)

    def set_props(self, name, override={}, delete=()):
        self.calls.append(("set_props", name, dict(override), tuple(delete)))
        disk = self._get(name)
        props = {k: v for k, v in {**disk.props, **override}.items() if k not in delete}
        self.disks[name] = replace(disk, props=props)

    def capacity(self, profile):
        self.calls.append(("capacity", profile))
        return self.capacity_kib


@dataclass
class FakeOned:
    """oned lookups answered from records (the real pyone path is tested against a stand-in)."""

    records: dict[int, Vm] = field(default_factory=dict)
    """The VMs oned knows, by id."""
    datastores: dict[int, Datastore] = field(default_factory=dict)
    images: dict[int, str] = field(default_factory=dict)
    vm_lookups: list[int] = field(default_factory=list)

    def vm(self, vm_id: int) -> Vm:
        self.vm_lookups.append(vm_id)
        return self.records[vm_id]

    def datastore(self, ds_id: int) -> Datastore:
        return self.datastores[ds_id]

    def vm_and_datastore(self, vm_id: int, ds_id: int) -> tuple[Vm, Datastore]:
        return self.vm(vm_id), self.datastore(ds_id)

    def image_name(self, image_id: int) -> str:
        return self.images[image_id]

    def image_users(self, image_id: int) -> tuple[int, ...]:
        """The VMs with a disk of ``image_id``, as oned counts an image's users."""
        return tuple(vm.id for vm in self.records.values() if any(d.image_id == image_id for d in vm.disks))

    def vms(self, vm_ids: Sequence[int]) -> Iterator[Vm]:
        return (self.records[vm_id] for vm_id in vm_ids if vm_id in self.records)


TEMPLATE = {"LINSTOR_RESOURCE_GROUP": "gold", "LINSTOR_FRONTEND_NODE": "fe"}


@dataclass
class Harness:
    env: Env
    disks: FakeDisks
    oned: FakeOned
    runner: FakeRunner
    progress: list[str]


def ssh(host: str, command: str) -> list[str]:
    """The ssh command line the driver runs ``command`` (shell-quoted) with on ``host``, under a
    PATH with the sbin directories (oneadmin's login PATH may lack them)."""
    return ["ssh", "-o", "BatchMode=yes", host, f"env PATH={SYSTEM_PATH} {command}"]
