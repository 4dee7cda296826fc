"""An in-memory ``DiskService`` with the contract's semantics, counting the calls made to it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from linstor_core.errors import AlreadyExists, ApiReply, InUse, InvalidInput, NotFound
from linstor_core.models import HAND_OVER, TWO_PRIMARIES, Attachment, Capacity, Disk
from linstor_core.naming import validate_resource_name, validate_snapshot_name


def _reply(message: str) -> list[ApiReply]:
    return [ApiReply(ret_code=-1, message=message)]


class FakeDisks:
    def __init__(self, nodes: Sequence[str] = ("n1", "n2")) -> None:
        self.disks: dict[str, Disk] = {}
        self.data: dict[str, str] = {}
        self.snapshot_data: dict[tuple[str, str], str] = {}
        self.taken: dict[str, list[str]] = {}
        """Each disk's snapshots in the order they were taken."""
        self.zeroed = True
        """What starts_zeroed answers for every disk."""
        self.nodes = tuple(nodes)
        self.calls: Counter[str] = Counter()
        self.preferred: dict[str, str | None] = {}
        self.capacity_kib = Capacity(max_volume_size_kib=1 << 20, available_size_kib=1 << 20,
                                     capacity_kib=4 << 20)
        self.in_use_on: dict[str, str] = {}
        """The node where a guest uses each disk, for those in use."""

    def _get(self, name: str) -> Disk:
        if name not in self.disks:
            raise NotFound(_reply(f"disk {name} not found"))
        return self.disks[name]

    def _put(self, disk: Disk) -> Disk:
        self.disks[disk.name] = disk
        return disk

    def create(self, profile: str, name: str, size_kib: int, props: Mapping[str, str] = {}, *,
               prefer_node: str | None = None, exist_ok: bool = True) -> Disk:
        self.calls["create"] += 1
        self.preferred[name] = prefer_node
        validate_resource_name(name)
        if name in self.disks:
            disk = self.disks[name]
            if not exist_ok or disk.profile != profile or disk.size_kib != size_kib:
                raise AlreadyExists(_reply(f"disk {name} exists"))
            return disk
        self.data[name] = ""
        return self._put(Disk(name, size_kib, profile, dict(props), nodes=self.nodes))

    def get(self, name: str) -> Disk:
        self.calls["get"] += 1
        return self._get(name)

    def definition(self, name: str) -> Disk | None:
        self.calls["definition"] += 1
        disk = self.disks.get(name)
        return dataclasses.replace(disk, nodes=(), diskless_nodes=(), snapshots=()) if disk else None

    def exists(self, name: str) -> bool:
        self.calls["exists"] += 1
        return name in self.disks

    def list(self, owner_props: Mapping[str, str] = {}, *, placement: bool = True) -> list[Disk]:
        self.calls["list"] += 1
        found = sorted((d for d in self.disks.values()
                        if all(d.props.get(k) == v for k, v in owner_props.items())),
                       key=lambda d: d.name)
        if placement:
            return found
        return [dataclasses.replace(d, nodes=(), diskless_nodes=(), snapshots=()) for d in found]

    def _new(self, target: str, source: Disk, props: Mapping[str, str], data: str) -> Disk:
        validate_resource_name(target)
        if target in self.disks:
            raise AlreadyExists(_reply(f"disk {target} exists"))
        self.data[target] = data
        return self._put(dataclasses.replace(source, name=target, props={**source.props, **props},
                                             snapshots=(), diskless_nodes=()))

    def clone(self, source: str, target: str, props: Mapping[str, str] = {}, *,
              progress: Callable[[str], None] | None = None, timeout: float = 300) -> Disk:
        self.calls["clone"] += 1
        if progress:
            progress(f"cloning {source} to {target}: cloning")
        return self._new(target, self._get(source), props, self.data[source])

    def snapshot(self, name: str, snapshot: str, nodes: Sequence[str] = ()) -> None:
        self.calls["snapshot"] += 1
        validate_snapshot_name(snapshot)
        disk = self._get(name)
        if snapshot in disk.snapshots:
            raise AlreadyExists(_reply(f"snapshot {snapshot} exists"))
        self.snapshot_data[name, snapshot] = self.data[name]
        self._put(dataclasses.replace(disk, snapshots=tuple(sorted((*disk.snapshots, snapshot)))))
        self.taken.setdefault(name, []).append(snapshot)

    def delete_snapshot(self, name: str, snapshot: str) -> None:
        self.calls["delete_snapshot"] += 1
        disk = self.disks.get(name)
        if disk is None or snapshot not in disk.snapshots:
            return
        del self.snapshot_data[name, snapshot]
        self.taken[name].remove(snapshot)
        self._put(dataclasses.replace(disk, snapshots=tuple(s for s in disk.snapshots if s != snapshot)))

    def starts_zeroed(self, name: str) -> bool:
        self._get(name)
        return self.zeroed

    def newer_snapshots(self, name: str, snapshot: str) -> list[str] | None:
        order = self.taken.get(name, [])
        return order[order.index(snapshot) + 1:] if snapshot in order else None

    def rollback(self, name: str, snapshot: str) -> None:
        self.calls["rollback"] += 1
        if snapshot not in self._get(name).snapshots:
            raise NotFound(_reply(f"snapshot {snapshot} not found"))
        self.data[name] = self.snapshot_data[name, snapshot]

    def restore(self, name: str, snapshot: str, target: str, props: Mapping[str, str] = {},
                nodes: Sequence[str] = ()) -> Disk:
        self.calls["restore"] += 1
        source = self._get(name)
        if snapshot not in source.snapshots:
            raise NotFound(_reply(f"snapshot {snapshot} not found"))
        if target in self.disks:
            raise AlreadyExists(_reply(f"disk {target} exists"))
        self.data[target] = self.snapshot_data[name, snapshot]
        return self._put(Disk(target, source.size_kib, source.profile, dict(props), nodes=source.nodes))

    def resize(self, name: str, size_kib: int) -> None:
        self.calls["resize"] += 1
        disk = self._get(name)
        if size_kib < disk.size_kib:
            raise InvalidInput("size", size_kib, "disks only grow")
        self._put(dataclasses.replace(disk, size_kib=size_kib))

    def attach(self, name: str, node: str) -> str:
        self.calls["attach"] += 1
        disk = self._get(name)
        if node not in disk.nodes and node not in disk.diskless_nodes:
            self._put(dataclasses.replace(disk, diskless_nodes=(*disk.diskless_nodes, node)))
        return f"/dev/fake/{name}"

    def attachment(self, name: str, node: str) -> Attachment:
        """As attach, saying whether this node's resource is a diskless client."""
        diskless = node not in self._get(name).nodes
        return Attachment(self.attach(name, node), diskless=diskless, starts_zeroed=self.zeroed)

    def attach_handing_over(self, name: str, node: str) -> str:
        """As DiskService's: two primaries and the pair recorded while another node uses the
        disk (``in_use_on``)."""
        self.calls["attach_handing_over"] += 1
        user = self.in_use_on.get(name, node)
        if user != node:
            self.set_props(name, override={TWO_PRIMARIES: "yes", HAND_OVER: f"{user} {node}"})
        return self.attach(name, node)

    def end_migration(self, name: str, node: str) -> None:
        self.calls["end_migration"] += 1
        self.detach(name, node)
        self.end_two_primaries(name)

    def end_two_primaries(self, name: str) -> None:
        if name in self.disks:
            self.set_props(name, delete=[TWO_PRIMARIES, HAND_OVER])

    def detach(self, name: str, node: str) -> None:
        self.calls["detach"] += 1
        disk = self.disks.get(name)
        if disk is not None and node in disk.diskless_nodes:
            self._put(dataclasses.replace(disk, diskless_nodes=tuple(n for n in disk.diskless_nodes if n != node)))

    def device_path(self, name: str, node: str) -> str | None:
        """As DiskService's: the device every resource shows (one DRBD minor), None where the
        disk is gone or deployed nowhere; nothing is made."""
        self.calls["device_path"] += 1
        disk = self.disks.get(name)
        return f"/dev/fake/{name}" if disk is not None and (disk.nodes or disk.diskless_nodes) else None

    def delete(self, name: str, *, with_snapshots: bool = False) -> None:
        self.calls["delete"] += 1
        disk = self.disks.get(name)
        if disk is None:
            return
        if disk.snapshots and not with_snapshots:
            raise InUse(_reply(f"disk {name} still has snapshots"))
        for snapshot in disk.snapshots:
            del self.snapshot_data[name, snapshot]
        del self.disks[name]
        del self.data[name]

    def set_props(self, name: str, override: Mapping[str, str] = {}, delete: Sequence[str] = ()) -> None:
        self.calls["set_props"] += 1
        disk = self._get(name)
        props = {k: v for k, v in disk.props.items() if k not in delete}
        self._put(dataclasses.replace(disk, props={**props, **override}))

    def capacity(self, profile: str) -> Capacity:
        self.calls["capacity"] += 1
        return self.capacity_kib
