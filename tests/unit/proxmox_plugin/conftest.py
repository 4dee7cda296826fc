"""A LinstorStorage on the in-memory fake disk service, a fixed VM name table, a temp cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from proxmox_plugin.options import parse_options
from proxmox_plugin.plugin import LinstorStorage
from proxmox_plugin.statuscache import StatusCache
from pve_fake_disks import FakeDisks


@dataclass
class Names:
    table: dict[int, str] = field(default_factory=lambda: {101: "web01", 102: "web02"})

    def name_of(self, vmid: int) -> str | None:
        return self.table.get(vmid)


@pytest.fixture
def disks() -> FakeDisks:
    return FakeDisks(nodes=("n1", "n2"))


@pytest.fixture
def progress() -> list[str]:
    return []


@pytest.fixture
def storage(disks: FakeDisks, tmp_path: Path, progress: list[str]) -> LinstorStorage:
    options = parse_options("ls", {"type": "linstor", "resourcegroup": "gold"})
    return LinstorStorage(disks, options, "n3", Names(), StatusCache(tmp_path, 60), progress.append)  # type: ignore[arg-type]
