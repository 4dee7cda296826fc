"""A fake DiskService and a fake host (mountinfo + runner) for the Docker plugin's unit tests.

A module of its own (not conftest) so tests can name the fakes in their type hints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from linstor_core import retcodes
from linstor_core.errors import AlreadyExists, ApiReply, NotFound, StorageError
from linstor_core.models import Disk
from linstor_core.runner import FakeRunner

NODE = "node-a"


@dataclass
class FakeDisks:
    """In-memory DiskService with the promises the plugin relies on (idempotent create/detach)."""

    disks: dict[str, Disk] = field(default_factory=dict)
    attached: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def create(self, profile: str, name: str, size_kib: int, props: Mapping[str, str] = {}) -> Disk:
        self.calls.append(f"create {name}")
        existing = self.disks.get(name)
        if existing is not None:
            if (existing.profile, existing.size_kib) != (profile, size_kib):
                raise AlreadyExists([ApiReply(retcodes.FAIL_EXISTS_RSC_DFN, f"disk {name} exists")])
            return existing
        self.disks[name] = Disk(name=name, size_kib=size_kib, profile=profile, props=dict(props), nodes=("node-b",))
        return self.disks[name]

    def get(self, name: str) -> Disk:
        if name not in self.disks:
            raise NotFound([ApiReply(retcodes.FAIL_NOT_FOUND_RSC_DFN, f"Resource definition '{name}' not found.")])
        disk = self.disks[name]
        return replace(disk, diskless_nodes=(NODE,) if name in self.attached else ())

    def list(self, owner_props: Mapping[str, str] = {}) -> list[Disk]:
        self.calls.append("list")
        return [d for d in self.disks.values() if all(d.props.get(k) == v for k, v in owner_props.items())]

    def attach(self, name: str, node: str) -> str:
        self.calls.append(f"attach {name} {node}")
        self.get(name)
        self.attached.add(name)
        return f"/dev/drbd-{name}"

    def detach(self, name: str, node: str) -> None:
        self.calls.append(f"detach {name} {node}")
        self.attached.discard(name)

    def delete(self, name: str, *, with_snapshots: bool = False) -> None:
        self.calls.append(f"delete {name}")
        self.disks.pop(name, None)


@dataclass
class FakeHost:
    """A mountinfo file that ``mount``/``umount`` replies edit, as the kernel would."""

    mountinfo: Path
    runner: FakeRunner = field(default_factory=FakeRunner)

    def mounted(self) -> list[str]:
        return [line.split(" ")[4] for line in self.mountinfo.read_text().splitlines()]

    def add_mount(self, device: str, target: str) -> None:
        with self.mountinfo.open("a") as handle:
            handle.write(f"{100 + len(self.mounted())} 1 0:99 / {target} rw - ext4 {device} rw\n")

    def expect_first_mount(
        self,
        device: str,
        target: str,
        *,
        formatted: bool = False,
        mkfs: Sequence[str] = ("mkfs.ext4", "-q", "-F"),
        mount_args: Sequence[str] = ("-t", "ext4"),
    ) -> None:
        """Queue blkid, mkfs unless ``formatted``, and a mount that shows up in mountinfo."""
        blkid = ["blkid", "-p", "-o", "value", "-s", "TYPE", device]
        self.runner.expect(blkid, "ext4\n" if formatted else StorageError(blkid, 2, ""))
        if not formatted:
            self.runner.expect([*mkfs, device])
        self.runner.expect(["mount", *mount_args, device, target], lambda argv: self._mounted(device, target))

    def expect_unmount(self, target: str) -> None:
        self.runner.expect(["umount", target], lambda argv: self._unmounted(target))

    def _mounted(self, device: str, target: str) -> str:
        self.add_mount(device, target)
        return ""

    def _unmounted(self, target: str) -> str:
        lines = self.mountinfo.read_text().splitlines(keepends=True)
        self.mountinfo.write_text("".join(line for line in lines if line.split(" ")[4] != target))
        return ""
