"""Every datastore action through its installed script, each of the three ways oned passes it.

oned >= 6.8 runs ``<action> ID`` with the base64 driver action on stdin, <= 6.6 passes the
base64 as the first argument, and some versions ``- ID`` with stdin: each test runs once per way.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest
import requests

from linstor_core.controller.ops import groups as groups_ops
from linstor_core.controller.routes import groups as group_routes
from opennebula_driver import cli as one_cli

from one_docs import datastore_xml, driver_action, image_xml, stat_image_xml
from one_harness import MIB, SYS, WAYS, One, cp_image, image_ds, upload, vm, write_at


def image_action(one: One, image_id: int, name: str, **fields: object) -> bytes:
    """The driver action oned builds for image ``image_id`` of datastore 100."""
    return driver_action(image_xml(image_id, name, **fields), image_ds(one))


def filesystem_of(device: str) -> str:
    probe = subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE", device], capture_output=True, text=True,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, timeout=30)
    return probe.stdout.strip()


def use_image(one: One, vm_id: int, source: str) -> str:
    """A VM on bravo using image ``source`` persistently as disk 0 (tm ln); returns its disk path."""
    vm(one, vm_id, f"vm{vm_id}", [{"DISK_ID": 0, "SOURCE": source, "CLONE": "NO", "TM_MAD": "linstor",
                                   "DATASTORE_ID": 100}])
    disk = f"{SYS}/{vm_id}/disk.0"
    one.ok("tm", "ln", f"fe:{source}", f"bravo:{disk}", str(vm_id), "100")
    return disk


def leave(one: One, vm_id: int, disk: str) -> None:
    one.ok("tm", "delete", f"bravo:{disk}", str(vm_id), "100")


@pytest.mark.parametrize("way", WAYS)
def test_stat_cp_clone_mkfs_monitor_export_rm(one: One, way: str) -> None:
    source = cp_image(one, 7, "ubuntu", upload(one, "u.img", 2 * MIB, {0: b"HELLO", MIB: b"WORLD"}), way)
    assert source == "one-img7-ubuntu"

    copy = one.ds("clone", 8, image_action(one, 8, "copy", PATH=source, SIZE=4, CLONING_ID=7), way).split()
    assert copy == ["one-img8-copy", "raw"]
    formatted = one.ds("mkfs", 9, image_action(one, 9, "data", SIZE=16, FS="ext4", FORMAT="raw"), way)
    blank = one.ds("mkfs", 10, image_action(one, 10, "blank", SIZE=8, FORMAT="raw"), way)
    saved = one.ds("mkfs", 11, image_action(one, 11, "saved", SIZE=2, FORMAT="save_as"), way)
    assert (formatted, blank, saved) == ("one-img9-data\n", "one-img10-blank\n", "one-img11-saved\n")
    assert "one-img11-saved" not in one.resource_names()  # save_as only names it; tm cpds fills it
    sizes = {name: one.get(f"/v1/resource-definitions/{name}/volume-definitions")[0]["size_kib"]
             for name in ("one-img8-copy", "one-img9-data", "one-img10-blank")}
    assert sizes == {"one-img8-copy": 4096, "one-img9-data": 16384, "one-img10-blank": 8192}

    assert one.read("one-img8-copy", 5) + one.read("one-img8-copy", 5, MIB) == b"HELLOWORLD"
    assert filesystem_of(one.device("one-img9-data")) == "ext4"

    for kind, ds_id, datastore in (("ds", 100, image_ds(one)),
                                   ("tm", 0, datastore_xml(0, one.template, name="system", ds_type=1))):
        lines = one.ds("monitor", ds_id, driver_action(None, datastore), way, kind=kind).split()
        assert [line.split("=")[0] for line in lines] == ["USED_MB", "TOTAL_MB", "FREE_MB"]
        used, total, free = (int(line.split("=")[1]) for line in lines)
        assert total > 0 and used + free == total

    info = ET.fromstring(one.ds("export", 7, image_action(one, 7, "ubuntu", SOURCE=source, SIZE=2), way))
    with open(info.findtext("IMPORT_SOURCE") or "", "rb") as device:
        content = device.read(2 * MIB)
    assert content[:5] == b"HELLO" and info.findtext("MD5") == hashlib.md5(content).hexdigest()
    assert (info.findtext("SIZE"), info.findtext("FORMAT")) == ("2", "raw")

    for image_id, name in ((7, source), (8, "one-img8-copy"), (9, "one-img9-data"), (10, "one-img10-blank")):
        assert one.ds("rm", image_id, image_action(one, image_id, "x", SOURCE=name), way) == ""
    assert one.resource_names() == []


@pytest.mark.root
@pytest.mark.parametrize("way", WAYS)
def test_image_snapshots_revert_delete_flatten_and_save_as(one: One, way: str) -> None:
    """Snapshots of a persistent image are taken through the VM (tm snap_create) and, once the
    VM is gone, reverted, deleted and flattened through the image datastore (ds snap_*)."""
    source = cp_image(one, 7, "db", upload(one, "db.img", MIB, {0: b"version-1"}), way)
    disk = use_image(one, 30, source)
    one.ok("tm", "snap_create", f"bravo:{disk}", "0", "30", "100")
    write_at(one, "bravo", disk, 0, b"version-2")
    one.ok("tm", "snap_create", f"bravo:{disk}", "1", "30", "100")
    write_at(one, "bravo", disk, 0, b"version-3")

    saved = {}
    for image_id, name, snap in ((12, "from-snap", "1"), (13, "current", "-1")):  # onevm disk-saveas
        one.oned.images[image_id] = image_xml(image_id, name)
        saved[snap] = one.ds("mkfs", image_id, image_action(one, image_id, name, SIZE=1, FORMAT="save_as"), way).strip()
        one.ok("tm", "cpds", f"bravo:{disk}", saved[snap], snap, "30", "100")  # SOURCE bare, as oned writes it
    leave(one, 30, disk)

    def snapshots() -> list[str]:
        return sorted(s["name"] for s in one.get("/v1/view/snapshots") if s["resource_name"] == source)

    assert (one.read(saved["1"], 9), one.read(saved["-1"], 9)) == (b"version-2", b"version-3")
    assert one.get(f"/v1/resource-definitions/{saved['1']}")["props"]["Aux/bundle/owner-id"] == "img12"

    assert one.ds("snap_revert", 7, image_action(one, 7, "db", SOURCE=source, TARGET_SNAPSHOT=1), way) == ""
    assert one.read(source, 9) == b"version-2" and snapshots() == ["snap-0", "snap-1"]
    one.ds("snap_delete", 7, image_action(one, 7, "db", SOURCE=source, TARGET_SNAPSHOT=1), way)
    assert snapshots() == ["snap-0"]
    one.ds("snap_delete", 7, image_action(one, 7, "db", SOURCE=source, TARGET_SNAPSHOT=1), way)  # oned retries
    one.ds("snap_flatten", 7, image_action(one, 7, "db", SOURCE=source, TARGET_SNAPSHOT=0), way)
    assert one.read(source, 9) == b"version-1" and snapshots() == []


@pytest.mark.root
def test_flatten_to_an_older_snapshot_while_newer_ones_exist(one: One) -> None:
    """oned flattens to any snapshot; LINSTOR rolls back only to the most recent one."""
    source = cp_image(one, 7, "db", upload(one, "db.img", MIB, {0: b"version-1"}), WAYS[0])
    disk = use_image(one, 30, source)
    for snap, next_version in (("0", b"version-2"), ("1", b"version-3")):
        one.ok("tm", "snap_create", f"bravo:{disk}", snap, "30", "100")
        write_at(one, "bravo", disk, 0, next_version)
    leave(one, 30, disk)

    assert one.ds("snap_flatten", 7, image_action(one, 7, "db", SOURCE=source, TARGET_SNAPSHOT=0), WAYS[0]) == ""
    assert one.read(source, 9) == b"version-1"
    assert [s["name"] for s in one.get("/v1/view/snapshots") if s["resource_name"] == source] == []


def test_cp_stopped_by_oneds_timeout_leaves_no_disk(one: One) -> None:
    """A SIGTERM (the opennebula service stopping) mid-copy: oned then drops the image without an
    ``rm`` (it never got a SOURCE), so the half-copied disk must go before the process does.
    The script is frozen (SIGSTOP) the moment its disk appears, so that the SIGTERM is pending
    wherever it then is (the spawn's end, the attach or the copy) when it runs on."""
    path = one.safe_dir / "big.img"
    path.write_bytes(b"\x5a" * (64 * MIB))  # not sparse: the copy writes every block
    before = one.state()
    document = one.safe_dir / "big.action"
    document.write_bytes(image_action(one, 50, "big", PATH=path, SIZE=64, FORMAT="raw"))
    script = one.remotes / "datastore" / "linstor" / "cp"
    with open(document, "rb") as stdin:
        process = subprocess.Popen([str(script), "50"], stdin=stdin, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=one.env)
    try:
        deadline = time.monotonic() + 60
        while "one-img50-big" not in one.resource_names():
            assert process.poll() is None and time.monotonic() < deadline, "cp ended before its disk appeared"
            time.sleep(0.002)
        process.send_signal(signal.SIGSTOP)
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGCONT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1
    assert stderr.decode() == "ds cp: stopped by SIGTERM; correction: run the action again: its clean-up has run\n"
    path.unlink()
    document.unlink()
    assert one.state() == before


def test_cp_stopped_while_the_controller_spawns_its_disk_leaves_no_disk(one: One, monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The SIGTERM arrives while the spawn request is in flight: the controller (in this
    process) sends it when the spawn request comes in, then waits before storing anything. The
    stop waits for the answer, so the clean-up finds the disk the controller made; cut off at
    once, the clean-up would look before the spawn is stored, find nothing, and leave the disk
    behind."""
    path = upload(one, "small.img", MIB, {0: b"DATA"})
    document = image_action(one, 51, "small", PATH=path, SIZE=1, FORMAT="raw")
    mutate, spawned = group_routes.mutate, threading.Event()

    def mutate_after_a_sigterm(mask: int, operation: Any, *args: Any, **kwargs: Any) -> Any:
        if operation is not groups_ops.spawn:
            return mutate(mask, operation, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)  # the action's main thread has long run its handler by now
        try:
            return mutate(mask, operation, *args, **kwargs)
        finally:
            spawned.set()

    monkeypatch.setattr(group_routes, "mutate", mutate_after_a_sigterm)
    for name, value in one.env.items():
        monkeypatch.setenv(name, value)
    before = signal.getsignal(signal.SIGTERM)
    err = io.StringIO()
    assert one_cli.main(["ds", "cp", "51"], stdin=io.BytesIO(document), stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue() == "ds cp: stopped by SIGTERM; correction: run the action again: its clean-up has run\n"
    assert spawned.wait(30)  # the controller has stored whatever it was going to
    assert "one-img51-small" not in one.resource_names()
    assert signal.getsignal(signal.SIGTERM) == before


def test_oneds_own_directories_empty_files_and_qcow2_datablocks_are_refused(one: One, tmp_path: Any) -> None:
    """As OpenNebula's own drivers do, oned's var and etc directories and its user's home are
    restricted whatever the datastore's RESTRICTED_DIRS says (one_auth must never become an
    image a VM can read); SAFE_DIRS still opens them. An empty file has no image in it, and a
    datablock asked as qcow2 would have oned tell qemu that a raw device is qcow2."""
    home = tmp_path / "oneadmin"
    (home / ".one").mkdir(parents=True)
    (home / ".one" / "one_auth").write_text("oneadmin:secret\n")
    location = tmp_path / "one"
    (location / "etc").mkdir(parents=True)
    (location / "etc" / "oned.conf").write_text("DB = []\n")
    (one.safe_dir / "empty.img").touch()
    open_ds = datastore_xml(100, {**one.template, "RESTRICTED_DIRS": "", "SAFE_DIRS": ""})
    oned_like = replace(one, env={**one.env, "HOME": str(home), "ONE_LOCATION": str(location)})
    before = one.state()
    for path, message in ((home / ".one" / "one_auth", f"oned's own: {location}/var, {location}/etc, {home}"),
                          (location / "etc" / "oned.conf", "is in a restricted directory"),
                          (one.safe_dir / "empty.img", "is empty")):
        for action, image in (("stat", stat_image_xml(path)),
                              ("cp", image_xml(9, "leak", PATH=path, SIZE=1, FORMAT="raw"))):
            done = oned_like.run("ds", action, "9", stdin=driver_action(image, open_ds))
            assert done.returncode == 1 and message in done.stderr, done.stderr
    qcow2 = driver_action(image_xml(9, "data", SIZE=8, FORMAT="qcow2"), image_ds(one))
    done = one.run("ds", "mkfs", "9", stdin=qcow2)
    assert done.returncode == 1 and "IMAGE/FORMAT" in done.stderr and "raw block devices" in done.stderr
    assert one.state() == before
    safe_home = datastore_xml(100, {**one.template, "RESTRICTED_DIRS": "", "SAFE_DIRS": str(home)})
    stat = oned_like.run("ds", "stat", "9", stdin=driver_action(stat_image_xml(home / ".one" / "one_auth"), safe_home))
    assert (stat.returncode, stat.stdout) == (0, "1\n"), stat.stderr


def test_clone_lands_in_the_target_datastores_profile(one: One) -> None:
    """An image cloned into another LINSTOR image datastore belongs to that datastore's profile
    (its resource group), not the source's."""
    gold = one.get("/v1/resource-groups/gold")
    requests.post(f"{one.url}/v1/resource-groups", json={"name": "silver", "select_filter": gold["select_filter"]},
                  timeout=30).raise_for_status()
    source = cp_image(one, 7, "ubuntu", upload(one, "u.img", MIB, {0: b"HELLO"}))
    silver = datastore_xml(101, {**one.template, "LINSTOR_RESOURCE_GROUP": "silver"})
    answer = one.ds("clone", 8, driver_action(image_xml(8, "copy", PATH=source, SIZE=1, CLONING_ID=7), silver))
    assert answer.split() == ["one-img8-copy", "raw"]
    assert one.get("/v1/resource-definitions/one-img8-copy")["resource_group_name"] == "silver"
    assert one.get(f"/v1/resource-definitions/{source}")["resource_group_name"] == "gold"
    assert one.read("one-img8-copy", 5) == b"HELLO"
