"""The plugin server on a real unix socket: mode 0600, parent created, systemd activation."""

from __future__ import annotations

import functools
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask

from linstor_core.errors import ConfigError
from linstor_core.serving import STOP_CHECK_INTERVAL

from docker_volume import cli, probe
from docker_volume.driver import VolumeDriver
from docker_volume.mounts import MountTable
from docker_volume.protocol import create_app
from docker_volume.server import PluginServer, inherited_socket

if TYPE_CHECKING:
    from conftest import FakeDisks, FakeHost


@pytest.fixture()
def short_dir() -> Iterator[Path]:
    """Unix socket paths are limited to 107 bytes; pytest's tmp_path can be longer."""
    with tempfile.TemporaryDirectory(prefix="dv-") as directory:
        yield Path(directory)


def test_socket_is_0600_in_a_created_directory_and_removed_on_stop(driver: VolumeDriver, short_dir: Path) -> None:
    path = short_dir / "plugins" / "linstor.sock"
    with PluginServer(create_app(driver), path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_ISSOCK(path.stat().st_mode)
        assert probe.call(path, "/Plugin.Activate") == (200, {"Implements": ["VolumeDriver"]})
        status, answer = probe.call(path, "/VolumeDriver.Create", raw=b"{oops")
        assert status == 200 and "not JSON" in answer["Err"]
    assert not path.exists()


def test_the_plugin_looks_at_its_stop_flag_every_stop_check_interval(driver: VolumeDriver, short_dir: Path) -> None:
    """As the controller's (cheroot waits up to its 0.5 s default otherwise, on every stop)."""
    with PluginServer(create_app(driver), short_dir / "linstor.sock") as served:
        assert served._server.expiration_interval == STOP_CHECK_INTERVAL


def test_a_socket_another_plugin_serves_is_not_taken_over(driver: VolumeDriver, short_dir: Path) -> None:
    path = short_dir / "linstor.sock"
    with PluginServer(create_app(driver), path):
        with pytest.raises(ConfigError, match="already serving"):
            PluginServer(create_app(driver), path).start()
        with pytest.raises(ConfigError, match="already serving"):
            PluginServer(create_app(driver), path).serve_forever()
        assert probe.call(path, "/Plugin.Activate")[0] == 200


def test_a_second_copy_is_refused_before_it_touches_the_mount_state(
        driver: VolumeDriver, short_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A copy started by hand next to the running plugin (the README's troubleshooting) must not
    read the mount state: with nothing mounted under its mount root it would drop the running
    plugin's holders from the shared state file and detach their volumes."""
    path, state, root = short_dir / "linstor.sock", short_dir / "mounts.json", short_dir / "volumes"
    state.write_text(json.dumps({"version": 2, "volumes": {"web": {"c1": 1}}, "keeps_attached": []}))
    recorded = state.read_bytes()
    with PluginServer(create_app(driver), path):
        assert cli.main(["--socket", str(path), "--state-file", str(state), "--mount-root", str(root),
                         "--controllers", "http://127.0.0.1:9", "--node", "alpha"]) == 1
        assert probe.call(path, "/Plugin.Activate")[0] == 200
    assert "another process is already serving" in capsys.readouterr().err
    assert state.read_bytes() == recorded


def test_a_second_copy_on_its_own_socket_but_the_same_state_file_is_refused(
        short_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, state, root = short_dir / "other.sock", short_dir / "mounts.json", short_dir / "volumes"
    state.write_text(json.dumps({"version": 2, "volumes": {"web": {"c1": 1}}, "keeps_attached": []}))
    recorded = state.read_bytes()
    with MountTable(state, root).exclusive():  # the running plugin's hold
        assert cli.main(["--socket", str(path), "--state-file", str(state), "--mount-root", str(root),
                         "--controllers", "http://127.0.0.1:9", "--node", "alpha"]) == 1
    assert "another linstor-docker-volume uses the mount state file" in capsys.readouterr().err
    assert state.read_bytes() == recorded and not path.exists()


def test_a_start_stopped_by_the_mount_state_leaves_no_socket(
        short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket is bound first; a start that fails after it (an unreadable state file while a
    volume is mounted) removes it again, so Docker finds no plugin rather than a dead socket."""
    path, state, mountinfo = short_dir / "linstor.sock", short_dir / "mounts.json", short_dir / "mountinfo"
    state.write_text("{torn")
    mountinfo.write_text(f"36 25 7:0 / {short_dir}/volumes/web rw,relatime shared:1 - ext4 /dev/loop0 rw\n")
    monkeypatch.setattr(cli, "MountTable", functools.partial(MountTable, mountinfo=mountinfo))
    assert cli.main(["--socket", str(path), "--state-file", str(state), "--mount-root", str(short_dir / "volumes"),
                     "--controllers", "http://127.0.0.1:9", "--node", "alpha"]) == 1
    assert not path.exists()


def test_mounts_waiting_behind_a_first_mount_leave_workers_for_list(
        driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path, short_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``docker compose up --scale web=12``: twelve Mounts of one volume, the first held up
    (attaching, then mkfs), the rest waiting for it. dockerd's List still gets its answer."""
    driver.create("shared", {})
    released = threading.Event()
    attachment = disks.attachment

    def slow_attachment(name: str, node: str, **accept: Any) -> object:
        released.wait(30)
        return attachment(name, node, **accept)

    monkeypatch.setattr(disks, "attachment", slow_attachment)
    host.expect_first_mount(disks.device("docker-shared"), str(mount_root / "shared"))
    path = short_dir / "linstor.sock"
    with PluginServer(create_app(driver), path), ThreadPoolExecutor(max_workers=12) as callers:
        mounts = [callers.submit(probe.call, path, "/VolumeDriver.Mount", {"Name": "shared", "ID": f"c{i}"},
                                 timeout=60) for i in range(12)]
        time.sleep(0.5)  # every Mount has reached the plugin, the first blocked in attaching
        assert probe.call(path, "/VolumeDriver.List", timeout=10) == (
            200, {"Err": "", "Volumes": [{"Name": "shared", "Mountpoint": ""}]})
        released.set()
        assert {mount.result()[1]["Mountpoint"] for mount in mounts} == {str(mount_root / "shared")}
    assert len(driver._mounts.holders("shared")) == 12


def test_a_stale_socket_file_is_replaced(driver: VolumeDriver, short_dir: Path) -> None:
    path = short_dir / "linstor.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()
    with PluginServer(create_app(driver), path):
        assert probe.call(path, "/Plugin.Activate")[0] == 200


def test_probe_says_how_to_start_a_plugin_that_is_not_running(short_dir: Path) -> None:
    with pytest.raises(Exception, match="does not answer.*systemctl start"):
        probe.call(short_dir / "none.sock", "/Plugin.Activate")


def test_systemd_variables_meant_for_another_process_are_dropped() -> None:
    environ = {"LISTEN_PID": "1", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "x", "PATH": "/bin"}
    assert inherited_socket(environ) is None
    assert environ == {"PATH": "/bin"}


def test_more_than_one_inherited_socket_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="systemd passed 2 sockets"):
        inherited_socket({"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "2"})


def test_a_tcp_socket_passed_by_systemd_is_refused() -> None:
    """A .socket unit edited to ListenStream=3370 would serve Mount and Remove to the network."""
    child = textwrap.dedent(
        """
        import os, socket
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        os.dup2(tcp.fileno(), 3)
        from docker_volume.server import inherited_socket
        try:
            inherited_socket({"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "1"})
        except Exception as error:
            print(type(error).__name__, error)
        os.fstat(3)  # systemd's descriptor is left open
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.startswith("ConfigError systemd passed a socket that is not a unix stream socket")
    assert "ListenStream=" in done.stdout


def test_a_socket_passed_by_systemd_is_served_and_left_in_place(short_dir: Path) -> None:
    path = short_dir / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    child = textwrap.dedent(
        f"""
        import os
        os.dup2({listener.fileno()}, 3)  # where systemd puts the first socket
        os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1")
        from pathlib import Path
        from flask import Flask
        from docker_volume.server import PluginServer, inherited_socket
        app = Flask("t")
        app.add_url_rule("/Plugin.Activate", view_func=lambda: {{"Implements": ["VolumeDriver"]}}, methods=["POST"])
        server = PluginServer(app, Path({str(path)!r}), inherited=inherited_socket()).start()
        print("ready", flush=True)
        input()
        server.stop()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        pass_fds=(listener.fileno(),),
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        assert probe.call(path, "/Plugin.Activate", timeout=10) == (200, {"Implements": ["VolumeDriver"]})
        process.communicate("\n", timeout=10)
        assert process.returncode == 0 and path.exists()
    finally:
        process.kill()
        process.wait()
        listener.close()


def test_any_wsgi_app_can_be_served(short_dir: Path) -> None:
    app = Flask("t")
    app.add_url_rule("/x", view_func=lambda: {"ok": True}, methods=["POST"])
    with PluginServer(app, short_dir / "x.sock") as server:
        assert probe.call(server.socket_path, "/x") == (200, {"ok": True})
