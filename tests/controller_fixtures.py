"""The controller fixtures tests/functional and tests/reliability share (their conftests import
them; a fixture defined in one conftest is invisible to the other's directory).

``controller``: a running ``ControllerServer`` on a free loopback port with a fresh state
directory and three nodes (``controller_setup.NODES``: alpha, bravo, charlie), each with a
FILE_THIN storage pool ``thinpool``. As root the pools live on one small xfs filesystem (reflink=1) on a loop
device made once per session, so volumes are loop devices and snapshots/clones are reflinks;
otherwise they are plain directories under ``tmp_path`` (volumes are files, and snapshots need
a reflink filesystem, so tests of those are marked ``root``).

``client``: a ``LinstorClient`` for that controller. ``controller_url``: its base URL.

Everything a test made is removed afterwards, failed or not: the server is stopped, and every
loop device over a file of the test's pools is detached.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller_setup import detach_loops_under, is_root, reflink_filesystem, serving
from linstor_core.controller.server import ControllerServer


@pytest.fixture(scope="session")
def reflink_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """As root: a mounted xfs (reflink=1) filesystem for the session's pools; else None."""
    if not is_root():
        yield None
        return
    with reflink_filesystem(tmp_path_factory.mktemp("xfs")) as mount:
        yield mount


@pytest.fixture
def pool_root(tmp_path: Path, reflink_root: Path | None) -> Iterator[Path]:
    """The directory under which this test's pools live (cleaned up after the test)."""
    if reflink_root is None:
        root = tmp_path / "pools"
        root.mkdir()
        yield root
        return
    root = reflink_root / tmp_path.name
    root.mkdir()
    try:
        yield root
    finally:
        detach_loops_under(root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def controller(tmp_path: Path, pool_root: Path) -> Iterator[ControllerServer]:
    """A running embedded controller with nodes alpha, bravo, charlie and pools ``thinpool``."""
    with serving(tmp_path, pool_root) as server:
        yield server


@pytest.fixture
def controller_url(controller: ControllerServer) -> str:
    return controller.url


@pytest.fixture
def client(controller: ControllerServer) -> Any:
    """A ``LinstorClient`` for the ``controller`` fixture."""
    from linstor_core.client import LinstorClient
    from linstor_core.config import ClientConfig

    return LinstorClient(ClientConfig(controllers=(controller.url,)))
