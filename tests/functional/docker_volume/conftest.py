"""Fixtures for the Docker plugin's functional tests: the plugin as Docker meets it, a separate
process on a real unix socket, backed by the real embedded controller (the ``controller`` and
``client`` fixtures of tests/functional).

Everything made here is removed even when a test fails: the plugin process, mounts under the
mount root, the volumes' resource definitions (which frees their loop devices) and the group.
``Plugin`` lives here because conftest files are what pytest imports in any import mode; tests
name it in type hints under TYPE_CHECKING.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from linstor_core import filesystems
from linstor_core.errors import LinstorError
from linstor_core.models import SelectFilter

from docker_volume import probe

GROUP = "dockertest"
REPO = Path(__file__).resolve().parents[3]


@dataclass
class Plugin:
    """One ``linstor-docker-volume`` process; ``start`` returns once it answers on its socket."""

    socket: Path
    mount_root: Path
    state_file: Path
    controller_url: str
    node: str
    log: Path
    profile: str = GROUP
    config_file: Path | None = None
    environ: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def arguments(self) -> list[str]:
        """Every setting as a flag; with ``config_file``, only --config and --profile (the rest
        must come from the file and ``environ``, which is how the precedence test checks them)."""
        if self.config_file is not None:
            return ["--config", str(self.config_file), "--profile", self.profile]
        return [
            "--socket", str(self.socket), "--controllers", self.controller_url, "--mount-root", str(self.mount_root),
            "--state-file", str(self.state_file), "--node", self.node, "--profile", self.profile,
            "--config", str(self.empty_config()),
        ]

    def empty_config(self) -> Path:
        """A config file with no settings, so the host's /etc/linstor/docker-volume.conf is not read."""
        path = self.log.parent / "empty.conf"
        path.touch()
        return path

    def start(self) -> None:
        argv = [sys.executable, "-m", "docker_volume.cli", *self.arguments(), "--verbose"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LS_", "LISTEN_"))} | self.environ
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if probe.call(self.socket, "/Plugin.Activate", timeout=5)[0] == 200:
                    return
            except LinstorError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"plugin did not start:\n{self.log.read_text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no chance to tidy up, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def call(self, endpoint: str, body: Any = None, *, raw: bytes | None = None) -> dict[str, Any]:
        """POST as dockerd does; every answer must be HTTP 200 with JSON."""
        status, answer = probe.call(self.socket, endpoint, body, raw=raw)
        assert status == 200, answer
        return answer

    def ok(self, endpoint: str, body: Any = None) -> dict[str, Any]:
        answer = self.call(endpoint, body)
        assert answer.get("Err", "") == "", answer["Err"]
        return answer


@pytest.fixture()
def docker_group(client: Any) -> Iterator[str]:
    """A storage-only group (no DRBD module in CI) with one replica; yields the node to run on.

    The plugin runs as the pool's first node, so its volumes sit on this node or on another one;
    either way Mount must get a local device from ``attach``.
    """
    pool = next(p for p in client.storage_pools.list() if p.provider_kind != "DISKLESS")
    select = SelectFilter(place_count=1, storage_pool=pool.name, layer_stack=("storage",))
    client.resource_groups.create(GROUP, select_filter=select)
    try:
        yield pool.node_name
    finally:
        for rd in client.resource_definitions.list(props=["Aux/bundle/platform=docker"]):
            client.resource_definitions.delete(rd.name)
        client.resource_groups.delete(GROUP)


@pytest.fixture()
def plugin(controller: Any, docker_group: str, tmp_path: Path) -> Iterator[Plugin]:
    short = Path(tempfile.mkdtemp(prefix="dv-"))  # socket paths must stay under 108 bytes
    mount_root = tmp_path / "volumes"
    running = Plugin(
        socket=short / "plugins" / "linstor.sock", mount_root=mount_root, state_file=tmp_path / "state" / "mounts.json",
        controller_url=controller.url, node=docker_group, log=tmp_path / "plugin.log",
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
        for entry in reversed(filesystems.read_mounts()):
            if Path(entry.mount_point).parent == mount_root:
                filesystems.unmount(entry.mount_point)
        shutil.rmtree(short)
