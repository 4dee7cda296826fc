"""Concurrency: many platform workers allocating at once must never be handed the same thing.

64 PVE workers (threads, each with its own storage object and HTTP session, as separate
``linstor-pve`` processes would have) allocate a disk for the same VM at the same moment with
no name given, and 32 ``/VolumeDriver.Create`` requests reach the real Docker plugin over its
unix socket at once. Every call must succeed, every PVE volume name and every resource name be
unique, and the DRBD TCP ports and minors the controller handed out (its REST view, profile
with layers drbd,storage) be unique across all resources.
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from docker_volume import probe
from linstor_core.controller.server import ControllerServer
from platforms import docker_driver, docker_plugin, drbd_numbers, pve_cluster_files, pve_storage

GROUP = "concurrent"
VMID = 101
PVE_WORKERS = 64
DOCKER_CREATES = 32
T = TypeVar("T")


def all_at_once(count: int, call: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``call(0..count-1)`` in ``count`` threads released together; results or errors."""
    start = threading.Barrier(count)

    def one(index: int) -> T | BaseException:
        start.wait()
        try:
            return call(index)
        except Exception as error:  # the test reports every failure, not just the first
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def duplicates(values: list[Any]) -> list[Any]:
    return [value for value, seen in Counter(values).items() if seen > 1]


@pytest.fixture
def drbd_group(controller: ControllerServer) -> str:
    """One replica anywhere, layers drbd,storage: every disk gets a DRBD port and minor."""
    answer = requests.post(f"{controller.url}/v1/resource-groups", json={
        "name": GROUP, "select_filter": {"place_count": 1, "storage_pool": "thinpool",
                                         "layer_stack": ["drbd", "storage"]}}, timeout=30)
    answer.raise_for_status()
    return GROUP


def test_concurrent_allocations_get_unique_names_ports_and_minors(
        controller: ControllerServer, drbd_group: str, tmp_path: Path) -> None:
    pve_root = pve_cluster_files(tmp_path / "pve", {VMID: "web01"})
    workers = [pve_storage(controller.url, drbd_group, pve_root, tmp_path / "cache")
               for _ in range(PVE_WORKERS)]
    volnames = all_at_once(PVE_WORKERS, lambda i: workers[i].alloc_image(VMID, "raw", None, 4096))
    errors = [v for v in volnames if isinstance(v, BaseException)]
    assert errors == [], f"{len(errors)} of {PVE_WORKERS} allocations failed: {errors[:3]}"
    assert duplicates(volnames) == [], "two allocations were handed the same volume"
    listed = [image["volid"] for image in workers[0].list_images(VMID)]
    assert sorted(listed) == sorted(f"rel:{v}" for v in volnames), "a listed disk nobody allocated"

    driver = docker_driver(controller.url, drbd_group, tmp_path / "docker")
    with tempfile.TemporaryDirectory(prefix="rel-") as short:  # socket paths must stay < 108 bytes
        with docker_plugin(driver, Path(short) / "linstor.sock", threads=DOCKER_CREATES) as socket:
            answers = all_at_once(DOCKER_CREATES, lambda i: probe.call(
                socket, "/VolumeDriver.Create", {"Name": f"vol{i}", "Opts": {"size": "4M"}}))
            failed = [a for a in answers if isinstance(a, BaseException) or a != (200, {"Err": ""})]
            assert failed == [], f"{len(failed)} of {DOCKER_CREATES} creates failed: {failed[:3]}"
            status, listing = probe.call(socket, "/VolumeDriver.List", {})
    assert status == 200
    assert sorted(v["Name"] for v in listing["Volumes"]) == sorted(f"vol{i}" for i in range(DOCKER_CREATES))

    numbers = drbd_numbers(controller.url)
    assert len(numbers) == PVE_WORKERS + DOCKER_CREATES
    assert duplicates([n["name"].lower() for n in numbers]) == []
    assert all(n["port"] is not None and len(n["minors"]) == 1 for n in numbers), numbers
    assert duplicates([n["port"] for n in numbers]) == [], "two resources share a DRBD port"
    assert duplicates([m for n in numbers for m in n["minors"]]) == [], "two volumes share a minor"
