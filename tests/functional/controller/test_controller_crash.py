"""Crash safety: SIGKILL the controller in the middle of a spawn and of a snapshot.

The controller runs as its own process with a test hook (``LINSTOR_CORE_TEST_PAUSE_AT``) that
holds the request inside its transaction after the storage was made. After the kill and a
restart: the database passes ``PRAGMA integrity_check``, the half-made record is not there,
and reconciliation removed the files and loop devices the killed request had made.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from controller_process import ControllerProcess
from controller_setup import loops_under, populate


def loops_over(directory: Path) -> list[str]:
    return list(loops_under(directory).values())


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def server_process(tmp_path: Path, unused_port: int) -> Iterator[ControllerProcess]:
    process = ControllerProcess(tmp_path / "state", unused_port)
    yield process
    process.kill()


def kill_during(server: ControllerProcess, method: str, path: str, body: dict,
                made: Callable[[], bool]) -> None:
    """Send the request in a thread, wait until its storage exists, then SIGKILL the server."""
    errors: list[BaseException] = []

    def send() -> None:
        try:
            requests.request(method, server.url + path, json=body, timeout=60)
        except requests.ConnectionError as exc:
            errors.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    wait_for(made)
    server.kill()
    sender.join(timeout=30)
    assert errors, "the request must have been cut off by the kill"


def integrity(state: Path) -> str:
    with sqlite3.connect(state / "controller.sqlite3") as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_sigkill_during_spawn(server_process, pool_root: Path, tmp_path: Path):
    url = server_process.start("spawn")
    populate(url, pool_root)
    requests.post(url + "/v1/resource-groups", json={"name": "pair", "select_filter": {
        "place_count": 2, "layer_stack": ["storage"]}}, timeout=10).raise_for_status()
    images = [pool_root / n / "crashme_00000.img" for n in ("alpha", "bravo")]
    kill_during(server_process, "POST", "/v1/resource-groups/pair/spawn",
                {"resource_definition_name": "crashme", "volume_sizes": [2048]},
                lambda: all(p.exists() for p in images))
    assert all(p.exists() for p in images), "the killed spawn left its files behind"

    url = server_process.start(None)
    assert integrity(tmp_path / "state") == "ok"
    rds = requests.get(url + "/v1/resource-definitions", timeout=10).json()
    assert rds == []
    assert requests.get(url + "/v1/view/resources", timeout=10).json() == []
    assert not any(p.exists() for p in images)
    assert loops_over(pool_root) == []
    answer = requests.post(url + "/v1/resource-groups/pair/spawn", json={
        "resource_definition_name": "crashme", "volume_sizes": [2048]}, timeout=30)
    assert answer.status_code == 201, answer.text


@pytest.mark.root
def test_sigkill_during_snapshot(server_process, pool_root: Path, tmp_path: Path):
    url = server_process.start("snapshot")
    populate(url, pool_root)
    requests.post(url + "/v1/resource-groups", json={"name": "pair", "select_filter": {
        "place_count": 2, "layer_stack": ["storage"]}}, timeout=10).raise_for_status()
    requests.post(url + "/v1/resource-groups/pair/spawn", json={
        "resource_definition_name": "snapped", "volume_sizes": [2048]},
        timeout=30).raise_for_status()
    volumes = [pool_root / n / "snapped_00000.img" for n in ("alpha", "bravo")]
    snaps = [pool_root / n / "snapped_00000.snap.halfway.img" for n in ("alpha", "bravo")]
    kill_during(server_process, "POST", "/v1/resource-definitions/snapped/snapshots",
                {"name": "halfway"}, lambda: all(p.exists() for p in snaps))

    url = server_process.start(None)
    assert integrity(tmp_path / "state") == "ok"
    assert requests.get(url + "/v1/view/snapshots", timeout=10).json() == []
    assert not any(p.exists() for p in snaps)
    assert all(p.exists() for p in volumes), "committed volumes survive reconciliation"
    resources = requests.get(url + "/v1/view/resources", params={"resources": "snapped"}, timeout=10).json()
    for rsc in resources:
        device = rsc["volumes"][0]["device_path"]
        assert device.startswith("/dev/loop") and Path(device).exists()
    assert sorted(loops_over(pool_root)) == sorted(str(p.resolve()) for p in volumes)


@pytest.mark.root
def test_restart_after_loop_devices_vanished(server_process, pool_root: Path, tmp_path: Path):
    """A reboot drops every loop device: the restarted controller attaches them again."""
    url = server_process.start(None)
    populate(url, pool_root)
    requests.post(url + "/v1/resource-groups", json={"name": "one", "select_filter": {
        "place_count": 1, "node_name_list": ["alpha"], "layer_stack": ["storage"]}},
        timeout=10).raise_for_status()
    requests.post(url + "/v1/resource-groups/one/spawn", json={
        "resource_definition_name": "survivor", "volume_sizes": [2048]},
        timeout=30).raise_for_status()
    path = "/v1/resource-definitions/survivor/resources/alpha"
    device = requests.get(url + path, timeout=10).json()["volumes"][0]["device_path"]
    with open(device, "r+b") as handle:
        handle.write(b"persisted")
    server_process.process.terminate()
    server_process.process.wait(timeout=10)
    subprocess.run(["losetup", "-d", device], check=True)
    wait_for(lambda: loops_over(pool_root) == [])

    url = server_process.start(None)
    again = requests.get(url + path, timeout=10).json()["volumes"][0]["device_path"]
    assert again.startswith("/dev/loop")
    with open(again, "rb") as handle:
        assert handle.read(9) == b"persisted"
    image = (pool_root / "alpha" / "survivor_00000.img").resolve()
    assert loops_over(pool_root) == [str(image)]


def test_restart_removes_stray_drbd_configs(server_process, pool_root: Path, tmp_path: Path):
    url = server_process.start(None)
    populate(url, pool_root)
    requests.post(url + "/v1/resource-definitions", json={"resource_definition": {
        "name": "kept", "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}]}},
        timeout=10).raise_for_status()
    requests.post(url + "/v1/resource-definitions/kept/volume-definitions", json={
        "volume_definition": {"size_kib": 1024}}, timeout=10).raise_for_status()
    requests.post(url + "/v1/resource-definitions/kept/resources", json=[
        {"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}],
        timeout=30).raise_for_status()
    drbd_dir = tmp_path / "state" / "nodes" / "alpha" / "drbd.d"
    stray = drbd_dir / "gone.res"
    stray.write_text("resource gone {}\n")
    copies = [drbd_dir / "kept.res.tmp", drbd_dir / "kept.res.md"]  # a kill before their removal
    for copy in copies:
        copy.write_text("resource kept {}\n")
    server_process.kill()
    server_process.start(None)
    assert not stray.exists() and not any(copy.exists() for copy in copies)
    assert (drbd_dir / "kept.res").exists()


@pytest.mark.root
def test_sigkill_during_resize_cuts_the_volume_back_at_restart(server_process, pool_root: Path, tmp_path: Path):
    """The grow happened, its commit did not: the file is cut back to the recorded size, so a
    later grow to a size in between is not refused as a shrink, and the data stays."""
    url = server_process.start("resize")
    populate(url, pool_root)
    requests.post(url + "/v1/resource-groups", json={"name": "pair", "select_filter": {
        "place_count": 2, "layer_stack": ["storage"]}}, timeout=10).raise_for_status()
    requests.post(url + "/v1/resource-groups/pair/spawn", json={
        "resource_definition_name": "growing", "volume_sizes": [4096]}, timeout=30).raise_for_status()
    images = [pool_root / n / "growing_00000.img" for n in ("alpha", "bravo")]
    for image in images:
        with open(image, "r+b") as handle:
            handle.write(b"kept")
    kill_during(server_process, "PUT", "/v1/resource-definitions/growing/volume-definitions/0",
                {"size_kib": 16384}, lambda: all(p.stat().st_size == 16384 * 1024 for p in images))

    url = server_process.start(None)
    assert integrity(tmp_path / "state") == "ok"
    assert [p.stat().st_size for p in images] == [4096 * 1024] * 2
    vds = requests.get(url + "/v1/resource-definitions/growing/volume-definitions", timeout=10).json()
    assert vds[0]["size_kib"] == 4096
    answer = requests.put(url + "/v1/resource-definitions/growing/volume-definitions/0",
                          json={"size_kib": 8192}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert [p.stat().st_size for p in images] == [8192 * 1024] * 2
    assert all(p.read_bytes()[:4] == b"kept" for p in images)
