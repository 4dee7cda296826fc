"""Reliability-suite fixtures: the real embedded controller, in-process or as a killable process.

``controller``, ``client``, ``controller_url``, ``pool_root``, ``reflink_root``: the shared
in-process controller with nodes alpha, bravo, charlie and FILE_THIN pools ``thinpool`` (see
tests/controller_fixtures.py).

``controller_process``: the same controller as its own process (``python -m
linstor_core.controller.server``), started with the nodes and pools registered, so a test can
SIGKILL and restart it (``ControllerProcess.kill()`` / ``.start(pause_at)``). Afterwards it is
killed and every loop device over the test's pools and state is detached, failed or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from controller_fixtures import client, controller, controller_url, pool_root, reflink_root
from controller_process import ControllerProcess, free_port
from controller_setup import detach_loops_under, populate

__all__ = ["client", "controller", "controller_process", "controller_url", "pool_root", "reflink_root"]


@pytest.fixture
def controller_process(tmp_path: Path, pool_root: Path) -> Iterator[ControllerProcess]:
    """A running controller process with the nodes and pools; killed and cleaned up after."""
    process = ControllerProcess(tmp_path / "state", free_port())
    try:
        populate(process.start(None), pool_root)
        yield process
    finally:
        process.kill()
        detach_loops_under(pool_root)
        detach_loops_under(tmp_path)
