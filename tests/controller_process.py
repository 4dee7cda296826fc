"""Run the controller as a separate process (for SIGKILL crash tests and the entry point).

Shared by tests/functional and tests/reliability (this directory is on ``sys.path`` for every
test, as tests/conftest.py's own).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from linstor_core.controller.core import PAUSE_ENV, PAUSE_SECONDS_ENV


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"controller exited with {process.returncode}")
        try:
            requests.get(url + "/v1/controller/version", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"controller at {url} did not come up in {timeout} s")


def start(state_dir: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m linstor_core.controller.server`` on ``port``, returned once it answers."""
    process = subprocess.Popen([sys.executable, "-m", "linstor_core.controller.server",
                                "--state-dir", str(state_dir), "--listen",
                                f"127.0.0.1:{port}"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{port}", process)
    return process


class ControllerProcess:
    """The controller as a subprocess on one port and state dir, restartable and killable.

    ``start(pause_at)`` sets the crash-test hook (``LINSTOR_CORE_TEST_PAUSE_AT``): requests
    reaching that point hold inside their transaction, after their storage was made, for
    ``pause_seconds``, so a SIGKILL lands exactly there.
    """

    def __init__(self, state: Path, port: int) -> None:
        self.state = state
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self, pause_at: str | None, pause_seconds: float = 120) -> str:
        env = dict(os.environ)
        env.pop(PAUSE_ENV, None)
        if pause_at:
            env[PAUSE_ENV], env[PAUSE_SECONDS_ENV] = pause_at, str(pause_seconds)
        self.process = start(self.state, self.port, env)
        return self.url

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
