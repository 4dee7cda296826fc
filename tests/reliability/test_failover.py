"""Failover: with two controllers configured and the first one down, every adapter call works,
each within the connect timeout plus its own work.

The first controller is down in two ways: *refused* (a loopback port bound but not listening:
the kernel answers RST at once) and *black hole* (a loopback socket whose one-slot accept
queue is full: the kernel drops the SYN, so the client waits for its connect timeout, as for a
controller host that is powered off). Either way the request never reached a controller, so
the session sends it to the next one (linstor_core/client/session.py).

Controllers are configured the way each platform does: PVE's storage.cfg ``controller``, the
OpenNebula datastore template's ``LINSTOR_CONTROLLERS``, the Docker plugin's config file.
The connect timeout is set to 1 s for the suite (the product's 3 s for PVE and 5 s elsewhere
would only make it slower); each platform still builds its own session per call as it does
in production (one process per PVE or OpenNebula action), so every call pays the black hole.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fuzz_stack import (GROUP, NODE, Answer, Stack, datastore_xml, docker_call, docker_client,
                        driver_action, image_xml, one_driver, pve_call, pve_request, stack,
                        unmount_under)

CONNECT_TIMEOUT = 1.0
MARGIN = 2.5
"""The call's own work (spawn, loop device, reflink, mkfs) on a busy two-core CI machine."""
BUDGET = CONNECT_TIMEOUT + MARGIN
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack(tmp_path_factory.mktemp("failover")) as running:
        yield running


@pytest.fixture(params=["refused", "black-hole"])
def dead(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a first controller that cannot be reached (see the module docstring)."""
    sockets = []
    try:
        listener = socket.socket()
        sockets.append(listener)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if request.param == "black-hole":
            listener.listen(0)
            filler = socket.create_connection(("127.0.0.1", port), timeout=5)
            sockets.append(filler)  # takes the accept queue's only slot; later SYNs are dropped
        yield f"http://127.0.0.1:{port}"
    finally:
        for sock in sockets:
            sock.close()


class Stopwatch:
    """Times each platform call; every one must succeed within ``BUDGET``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def time(self, name: str, call: Callable[[], Any]) -> Any:
        start = time.monotonic()
        result = call()
        self.seconds[name] = round(time.monotonic() - start, 3)
        return result

    def check(self) -> None:
        print(f"\ncall durations (s), budget {BUDGET:g}: {self.seconds}")
        slow = {name: s for name, s in self.seconds.items() if s >= BUDGET}
        assert not slow, f"over {BUDGET:g} s: {slow}"


def _ok(answer: Answer) -> str:
    assert answer.status == 0, answer.text
    return answer.stdout


@pytest.mark.root  # snapshot and rollback need the reflink filesystem the pools have as root
def test_pve_storage_calls_fail_over(target: Stack, dead: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from proxmox_plugin import cli

    monkeypatch.setattr(cli, "CONNECT_TIMEOUT", CONNECT_TIMEOUT)
    scfg = {"type": "linstor", "resourcegroup": GROUP, "controller": f"{dead},{target.url}",
            "statuscache": "0"}
    watch = Stopwatch()

    def pve(method: str, **args: Any) -> Any:
        answer = watch.time(method, lambda: pve_call(method, pve_request("ls", scfg, args), tmp_path))
        assert answer.status == 0, answer.text
        return json.loads(answer.stdout)["result"]

    assert pve("alloc_image", vmid=101, fmt="raw", name=None, size=4096) == "vm-101-disk-0"
    assert [i["volid"] for i in pve("list_images", vmid=101)] == ["ls:vm-101-disk-0"]
    assert pve("activate_volume", volname="vm-101-disk-0") == 1
    device = pve("path", volname="vm-101-disk-0")[0]
    assert Path(device).exists()
    pve("volume_snapshot", volname="vm-101-disk-0", snap="s1")
    pve("volume_snapshot_rollback", volname="vm-101-disk-0", snap="s1")
    pve("free_image", volname="vm-101-disk-0")
    assert pve("list_images", vmid=101) == []
    watch.check()


def _docker_config(target: Stack, dead: str, directory: Path) -> Path:
    config = directory / "docker-volume.conf"
    config.write_text(
        "[global]\n"
        f"controllers = {dead},{target.url}\n"
        f"profile = {GROUP}\nnode = {NODE}\n"
        f"mount-root = {directory / 'volumes'}\nstate-file = {directory / 'mounts.json'}\n")
    return config


def _docker_ok(watch: Stopwatch, client: Any, endpoint: str, body: dict[str, str]) -> dict[str, Any]:
    status, answer = watch.time(endpoint, lambda: docker_call(client, endpoint, body))
    assert status == 200 and answer.get("Err") == "", answer
    return dict(answer)


@pytest.mark.parametrize("mount", [pytest.param(False, id="calls"),
                                   pytest.param(True, id="mount", marks=pytest.mark.root)])
def test_docker_volume_calls_fail_over(target: Stack, dead: str, tmp_path: Path, mount: bool) -> None:
    """The driver keeps one session, as the plugin process does: only its first call waits."""
    client = docker_client(_docker_config(target, dead, tmp_path), connect_timeout=CONNECT_TIMEOUT)
    watch = Stopwatch()
    try:
        _docker_ok(watch, client, "/VolumeDriver.Create", {"Name": "fo", "Opts": {"size": "8M"}})
        assert _docker_ok(watch, client, "/VolumeDriver.Get", {"Name": "fo"})["Volume"]["Name"] == "fo"
        assert {"Name": "fo", "Mountpoint": ""} in _docker_ok(watch, client, "/VolumeDriver.List", {})["Volumes"]
        if mount:
            where = _docker_ok(watch, client, "/VolumeDriver.Mount", {"Name": "fo", "ID": "c1"})["Mountpoint"]
            assert Path(where).is_mount()
            _docker_ok(watch, client, "/VolumeDriver.Unmount", {"Name": "fo", "ID": "c1"})
        assert _docker_ok(watch, client, "/VolumeDriver.Path", {"Name": "fo"})["Mountpoint"] == ""
        _docker_ok(watch, client, "/VolumeDriver.Remove", {"Name": "fo"})
        assert _docker_ok(watch, client, "/VolumeDriver.List", {})["Volumes"] == []
    finally:
        unmount_under(tmp_path)
    watch.check()


def test_opennebula_actions_fail_over(target: Stack, dead: str, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    image_file = uploads / "img.raw"
    image_file.write_bytes(b"one" + bytes(2 * MIB - 3))
    template = {"LINSTOR_CONTROLLERS": f"{dead},{target.url}", "LINSTOR_RESOURCE_GROUP": GROUP,
                "LINSTOR_FRONTEND_NODE": NODE, "RESTRICTED_DIRS": "/", "SAFE_DIRS": str(uploads)}
    image_ds = datastore_xml(100, template)
    disk = f"{NODE}:{tmp_path}/datastores/0/7/disk.1"
    watch = Stopwatch()
    with one_driver(tmp_path, template, connect_timeout=CONNECT_TIMEOUT) as one:
        def run(name: str, argv: list[str], stdin: bytes = b"") -> str:
            return _ok(watch.time(name, lambda: one.call(argv, stdin)))

        image = image_xml(5, "ubuntu", PATH=image_file, FORMAT="raw")
        assert run("ds stat", ["ds", "stat", "5"], driver_action(image, image_ds)).strip() == "2"
        source, fmt = run("ds cp", ["ds", "cp", "5"], driver_action(image, image_ds)).split()
        assert fmt == "raw"
        assert "TOTAL_MB=" in run("ds monitor", ["ds", "monitor", "100"], driver_action(None, image_ds))
        run("tm mkimage", ["tm", "mkimage", "8", "raw", disk, "7", "0"])
        assert Path(disk.partition(":")[2]).is_symlink()
        run("tm delete", ["tm", "delete", disk, "7", "0"])
        assert not Path(disk.partition(":")[2]).exists()
        run("ds rm", ["ds", "rm", "5"], driver_action(image_xml(5, "ubuntu", SOURCE=source), image_ds))
    watch.check()
