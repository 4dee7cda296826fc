"""Fixtures for the Docker plugin's unit tests: a driver on a fake DiskService and a fake host."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from docker_fakes import NODE, FakeDisks, FakeHost

from docker_volume.driver import VolumeDriver
from docker_volume.mounts import MountTable


@pytest.fixture()
def host(tmp_path: Path) -> FakeHost:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    return FakeHost(mountinfo)


@pytest.fixture()
def disks() -> FakeDisks:
    return FakeDisks()


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
                            clock=lambda: 1_700_000_000.0)
    return make


@pytest.fixture()
def driver(make_driver: Callable[[], VolumeDriver]) -> VolumeDriver:
    return make_driver()
