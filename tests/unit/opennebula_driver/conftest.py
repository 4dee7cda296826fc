"""The ``harness`` fixture: the driver's Env wired to the fakes of ``one_fakes``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from linstor_core.runner import FakeRunner
from opennebula_driver.env import Env
from opennebula_driver.hosts import Hosts
from opennebula_driver.records import Datastore

from one_fakes import TEMPLATE, FakeDisks, FakeOned, Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    disks = FakeDisks(tmp_path)
    system = Datastore(id=0, template={**TEMPLATE, "CONTEXT_DISK_TYPE": "BLOCK"}, disk_type="BLOCK")  # as the README has it
    oned = FakeOned(datastores={100: Datastore(id=100, template=dict(TEMPLATE), disk_type="BLOCK"), 0: system})
    runner = FakeRunner()
    progress: list[str] = []
    env = Env(
        oned=oned,  # type: ignore[arg-type]
        hosts=Hosts(runner=runner, local=frozenset({"fe"}), direct_links=False),
        hostname="fe",
        remotes=tmp_path / "remotes",
        read_stdin=io.BytesIO(b"").read,
        progress=progress.append,
        service_factory=lambda controllers: disks,  # type: ignore[arg-type,return-value]
    )
    yield Harness(env, disks, oned, runner, progress)
    runner.assert_done()
