"""Run the controller as a separate process (for SIGKILL crash tests and the entry point)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


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
