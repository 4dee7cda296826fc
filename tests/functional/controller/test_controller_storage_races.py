"""Concurrent requests on the same names: storage removed after a commit, a rollback's switch.

Storage is named after its record, so each test widens the window between one request's
commit and its storage work (a slow satellite call) and sends the competing request inside it.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from linstor_core.controller.server import ControllerServer

pytestmark = pytest.mark.root

MIB = 1024


def make_rd(rest, name: str, node: str = "alpha", size_kib: int = 4 * MIB) -> None:
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {
        "name": name, "layer_data": [{"type": "STORAGE"}]}}, status=201)
    rest.ok("POST", f"/v1/resource-definitions/{name}/volume-definitions",
            {"volume_definition": {"size_kib": size_kib}}, status=201)
    rest.ok("POST", f"/v1/resource-definitions/{name}/resources",
            [{"resource": {"node_name": node, "props": {"StorPoolName": "thinpool"}}}],
            status=201)


def slowed(target: Any, method: str, monkeypatch: pytest.MonkeyPatch,
           seconds: float = 1.0) -> threading.Event:
    """Make ``target.method`` pause before it works; the event is set when a call begins."""
    started = threading.Event()
    real = getattr(target, method)

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, method, slow)
    return started


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start ``call`` in a thread; the list gets its result (stays empty if it raised)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    return thread, result


def test_a_volume_made_again_while_the_old_one_is_removed_keeps_its_storage(
        rest, controller: ControllerServer, pool_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_rd(rest, "AA")
    started = slowed(controller.controller.satellite, "delete_volume", monkeypatch)
    thread, answered = in_thread(lambda: rest.ok("DELETE", "/v1/resource-definitions/AA"))
    assert started.wait(10)
    monkeypatch.undo()
    make_rd(rest, "AA")
    thread.join(30)
    assert answered, "the slowed request failed"
    image = pool_root / "alpha" / "AA_00000.img"
    assert image.exists()
    assert rest.call("GET", "/v1/resource-definitions/AA/resources")[0]["node_name"] == "alpha"
    attached = subprocess.run(["losetup", "-j", str(image)], capture_output=True, text=True,
                              check=True).stdout
    assert attached.count("/dev/loop") == 1, attached


def test_a_snapshot_taken_again_while_the_old_one_is_removed_keeps_its_storage(
        rest, controller: ControllerServer, pool_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_rd(rest, "AA")
    snaps = "/v1/resource-definitions/AA/snapshots"
    rest.ok("POST", snaps, {"name": "s1"}, status=201)
    started = slowed(controller.controller.satellite, "delete_snapshot", monkeypatch)
    thread, answered = in_thread(lambda: rest.ok("DELETE", f"{snaps}/s1"))
    assert started.wait(10)
    monkeypatch.undo()
    rest.ok("POST", snaps, {"name": "s1"}, status=201)
    thread.join(30)
    assert answered, "the slowed request failed"
    assert (pool_root / "alpha" / "AA_00000.snap.s1.img").exists()


def test_a_snapshot_deleted_during_its_rollback_waits_for_the_rollback(
        rest, controller: ControllerServer, pool_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from linstor_core.controller.ops import snapshots

    make_rd(rest, "AA")
    image = pool_root / "alpha" / "AA_00000.img"
    with open(image, "r+b") as handle:
        handle.write(b"OLD!")
    rest.ok("POST", "/v1/resource-definitions/AA/snapshots", {"name": "s1"}, status=201)
    with open(image, "r+b") as handle:
        handle.write(b"NEW!")
    started = slowed(snapshots, "finish_rollback", monkeypatch)
    thread, answered = in_thread(lambda: rest.ok(
        "POST", "/v1/resource-definitions/AA/snapshot-rollback/s1", {}))
    assert started.wait(10)
    rest.ok("DELETE", "/v1/resource-definitions/AA/snapshots/s1")
    thread.join(30)
    assert answered, "the slowed request failed"
    assert image.read_bytes()[:4] == b"OLD!"
