"""One controller per state directory: a second one is refused before it reconciles anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from linstor_core.controller.core import Controller
from linstor_core.errors import ConfigError


def test_a_second_controller_on_the_state_directory_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = Controller(tmp_path / "state", drbd_loaded=False)
    first.open()
    try:
        second = Controller(tmp_path / "state", drbd_loaded=False)
        with pytest.raises(ConfigError, match=f"another controller \\(pid {os.getpid()}\\) uses the state directory"):
            second.open()
    finally:
        first.close()
    again = Controller(tmp_path / "state", drbd_loaded=False)
    again.open()
    again.close()


def test_another_process_is_refused_and_a_killed_holder_frees_the_directory(tmp_path: Path) -> None:
    state = tmp_path / "state"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom linstor_core.controller.core import Controller\n"
         f"Controller({str(state)!r}, drbd_loaded=False).open()\nprint('held', flush=True)\ntime.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(ConfigError, match=f"pid {holder.pid}"):
            Controller(state, drbd_loaded=False).open()
    finally:
        holder.kill()
        holder.wait()
    survivor = Controller(state, drbd_loaded=False)
    survivor.open()  # SIGKILL released the lock with the process
    survivor.close()


def test_a_failed_open_lets_go_of_the_state_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A start that fails after taking the lock (a damaged database) must not keep it: a
    retry in the same process (the demo, a test) would be refused by itself."""
    from linstor_core.controller import store

    def damaged(self: object) -> None:
        raise ConfigError("the database is damaged")

    failing = Controller(tmp_path / "state", drbd_loaded=False)
    with monkeypatch.context() as patch:
        patch.setattr(store.Store, "open", damaged)
        with pytest.raises(ConfigError, match="damaged"):
            failing.open()
    retry = Controller(tmp_path / "state", drbd_loaded=False)
    retry.open()
    retry.close()
