"""The Docker plugin's unit-test fixtures: a driver on an in-memory DiskService and a fake host.

The fakes live here (not in a module of their own) because conftest files are the one thing
pytest imports whatever its import mode; tests name them in type hints under TYPE_CHECKING.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from linstor_core import retcodes
from linstor_core.errors import AlreadyExists, ApiReply, NotFound, StorageError
from linstor_core.filesystems import CommandMounter
from linstor_core.models import Attachment, Disk, SelectFilter
from linstor_core.runner import FakeRunner

from docker_volume.driver import VolumeDriver
from docker_volume.mounts import MountTable

NODE = "node-a"


@dataclass
class FakeDisks:
    """In-memory DiskService with the promises the plugin relies on (idempotent create/detach).

    ``attachment`` hands out an empty file under ``device_dir`` as the disk's device; the
    resource there is diskless unless the disk's ``nodes`` name this node.
    """

    device_dir: Path
    disks: dict[str, Disk] = field(default_factory=dict)
    attached: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    select_filters: dict[str, SelectFilter | None] = field(default_factory=dict)

    def create(
        self, profile: str, name: str, size_kib: int, props: Mapping[str, str] = {}, *,
        select_filter: SelectFilter | None = None,
    ) -> Disk:
        self.calls.append(f"create {name}")
        self.select_filters[name] = select_filter
        existing = self.disks.get(name)
        if existing is not None:
            if (existing.profile.casefold(), existing.size_kib) != (profile.casefold(), size_kib):  # as LINSTOR
                raise AlreadyExists([ApiReply(retcodes.FAIL_EXISTS_RSC_DFN, f"disk {name} exists")])
            return existing
        self.disks[name] = Disk(name=name, size_kib=size_kib, profile=profile, props=dict(props), nodes=("node-b",))
        return self.disks[name]

    def get(self, name: str) -> Disk:
        if name not in self.disks:
            raise NotFound([ApiReply(retcodes.FAIL_NOT_FOUND_RSC_DFN, f"Resource definition '{name}' not found.")])
        disk = self.disks[name]
        return replace(disk, diskless_nodes=(NODE,) if name in self.attached else ())

    def list(self, owner_props: Mapping[str, str] = {}, *, placement: bool = True) -> list[Disk]:
        self.calls.append("list")
        return [
            replace(d, nodes=d.nodes if placement else ())
            for d in self.disks.values()
            if all(d.props.get(k) == v for k, v in owner_props.items())
        ]

    def definition(self, name: str) -> Disk | None:
        self.calls.append(f"definition {name}")
        disk = next((d for d in self.disks.values() if d.name.lower() == name.lower()), None)
        return None if disk is None else replace(disk, nodes=())

    def attachment(self, name: str, node: str, *, accept: Callable[[Disk | None], object] | None = None) -> Attachment:
        if accept is not None:  # the definition is read alongside; recorded first, as before
            accept(self.definition(name))
        self.calls.append(f"attach {name} {node}")
        diskless = node not in self.get(name).nodes
        if diskless:
            self.attached.add(name)
        device = Path(self.device(name))
        device.parent.mkdir(exist_ok=True)
        device.touch()
        return Attachment(str(device), diskless=diskless)

    def set_props(self, name: str, override: Mapping[str, str] = {}, delete: Sequence[str] = ()) -> None:
        self.calls.append(f"set_props {name} {dict(override)}")
        disk = self.get(name)
        props = {**{k: v for k, v in disk.props.items() if k not in delete}, **override}
        self.disks[name] = replace(self.disks[name], props=props)

    def device(self, name: str) -> str:
        return str(self.device_dir / f"drbd-{name}")

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
        probed: bool = False,
        mkfs: Sequence[str] = ("mkfs.ext4", "-q", "-F", "-E", "nodiscard"),
        mount_args: Sequence[str] = ("-t", "ext4"),
    ) -> None:
        """Queue blkid if ``probed`` (a volume without a filesystem record), mkfs unless
        ``formatted``, and a mount that shows up in mountinfo."""
        if probed:
            self.expect_probe(device, "ext4" if formatted else None)
        if not formatted:
            self.runner.expect([*mkfs, device])
        self.runner.expect(["mount", *mount_args, device, target], lambda argv: self._mounted(device, target))

    def expect_probe(self, device: str, found: str | None) -> None:
        blkid = ["blkid", "-p", "-o", "value", "-s", "TYPE", device]
        self.runner.expect(blkid, f"{found}\n" if found else StorageError(blkid, 2, ""))

    def expect_unmount(self, target: str) -> None:
        self.runner.expect(["umount", target], lambda argv: self._unmounted(target))

    def _mounted(self, device: str, target: str) -> str:
        self.add_mount(device, target)
        return ""

    def _unmounted(self, target: str) -> str:
        lines = self.mountinfo.read_text().splitlines(keepends=True)
        self.mountinfo.write_text("".join(line for line in lines if line.split(" ")[4] != target))
        return ""


@pytest.fixture()
def host(tmp_path: Path) -> FakeHost:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    return FakeHost(mountinfo)


@pytest.fixture()
def disks(tmp_path: Path) -> FakeDisks:
    return FakeDisks(tmp_path / "dev")


@pytest.fixture()
def mount_root(tmp_path: Path) -> Path:
    return tmp_path / "volumes"


@pytest.fixture()
def make_driver(
    tmp_path: Path, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> Callable[[], VolumeDriver]:
    def make() -> VolumeDriver:
        table = MountTable(tmp_path / "state" / "mounts.json", mount_root, mountinfo=host.mountinfo)
        table.load()
        return VolumeDriver(disks, table, node=NODE, default_profile="gold", runner=host.runner,
                            mounter=CommandMounter(host.runner), clock=lambda: 1_700_000_000.0)
    return make


@pytest.fixture()
def driver(make_driver: Callable[[], VolumeDriver]) -> VolumeDriver:
    return make_driver()


@pytest.fixture()
def node() -> str:
    """The node name the driver runs as."""
    return NODE
