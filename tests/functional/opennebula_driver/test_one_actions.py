"""The packaged action scripts, run as oned runs them, against the embedded controller."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
import requests

from linstor_core.runner import SYSTEM_PATH

from one_docs import b64, datastore_xml, driver_action, image_xml, vm_xml
from one_harness import MIB, SYS, One, cp_image, device_of, image_ds, read_link, upload, vm, write_at
from prerequisites import require

from linstor_core.config import load_client_config
from linstor_core.disks import DiskService
from opennebula_driver import names
from opennebula_driver.vmstates import ACTIVE, EPILOG, POWEROFF


def test_image_lifecycle_cp_clone_monitor_rm(one: One) -> None:
    path = upload(one, "ubuntu.img", 3 * MIB + 512, {0: b"BOOT", 2 * MIB: b"DATA"})
    source = cp_image(one, 7, "ubuntu", path)
    assert source == "one-img7-ubuntu"
    rd = one.get(f"/v1/resource-definitions/{source}")
    assert rd["props"]["Aux/bundle/owner-id"] == "img7" and rd["props"]["Aux/bundle/platform"] == "one"
    assert [n for n, diskless in one.nodes_of(source).items() if diskless] == []  # front-end attach undone

    clone_action = driver_action(image_xml(8, "ubuntu copy", PATH=source, SIZE=8, CLONING_ID=7), image_ds(one))
    copy, fmt = one.ok("ds", "clone", clone_action.decode(), "8").split()
    assert fmt == "raw" and copy.startswith("one-img8-ubuntu_copy-")  # sanitised name + hash
    vdfs = one.get(f"/v1/resource-definitions/{copy}/volume-definitions")
    assert vdfs[0]["size_kib"] == 8 * 1024

    vm(one, 22, "web", [{"DISK_ID": 0, "SOURCE": copy, "CLONE": "NO", "TM_MAD": "linstor", "DATASTORE_ID": 100}])
    one.ok("tm", "ln", f"fe:{copy}", f"bravo:{SYS}/22/disk.0", "22", "100")
    assert read_link(one, "bravo", f"{SYS}/22/disk.0", 4) == b"BOOT"
    assert read_link(one, "bravo", f"{SYS}/22/disk.0", 4, 2 * MIB) == b"DATA"
    one.ok("tm", "delete", f"bravo:{SYS}/22/disk.0", "22", "100")
    assert copy in one.resource_names()  # a persistent image outlives the VM

    monitor = one.ok("ds", "monitor", "-", "100", stdin=driver_action(None, image_ds(one))).split()
    assert [line.split("=")[0] for line in monitor] == ["USED_MB", "TOTAL_MB", "FREE_MB"]
    used, total, free = (int(line.split("=")[1]) for line in monitor)
    assert total > 0 and used + free == total

    for image_id, name in ((7, source), (8, copy)):
        one.ok("ds", "rm", str(image_id), stdin=driver_action(image_xml(image_id, "x", SOURCE=name), image_ds(one)))
    assert one.resource_names() == []


def test_vm_disks_clone_mkimage_resize_delete(one: One) -> None:
    source = cp_image(one, 7, "ubuntu", upload(one, "u.img", MIB, {0: b"GOLDEN"}))
    vm(one, 22, "web01", [
        {"DISK_ID": 0, "SOURCE": source, "CLONE": "YES", "IMAGE_ID": 7, "TM_MAD": "linstor", "SIZE": 4},
        {"DISK_ID": 1, "TYPE": "fs", "FS": "ext4", "SIZE": 16},
    ])
    one.ok("tm", "clone", f"fe:{source}", f"bravo:{SYS}/22/disk.0", "22", "100")
    own = "one-vm22-web01-disk-0"
    assert own in one.resource_names()
    assert one.get(f"/v1/resource-definitions/{own}")["props"]["Aux/bundle/image"] == "7"
    assert read_link(one, "bravo", f"{SYS}/22/disk.0", 6) == b"GOLDEN"
    assert one.get(f"/v1/resource-definitions/{own}/volume-definitions")[0]["size_kib"] == 4 * 1024

    one.ok("tm", "mkimage", "16", "raw", f"bravo:{SYS}/22/disk.1", "22", "0")
    volatile = "one-vm22-web01-disk-1"
    device = os.readlink(one.host_path("bravo", f"{SYS}/22/disk.1"))
    probe = subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE", device], capture_output=True, text=True,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert probe.stdout.strip() == "ext4"
    assert f"bravo env PATH={SYSTEM_PATH} mkfs.ext4 -q -F " in one.ssh_log.read_text()

    one.ok("tm", "resize", f"bravo:{SYS}/22/disk.0", "32", "22", "100")
    assert one.get(f"/v1/resource-definitions/{own}/volume-definitions")[0]["size_kib"] == 32 * 1024

    for disk in (0, 1):
        one.ok("tm", "delete", f"bravo:{SYS}/22/disk.{disk}", "22", "0")
    one.ok("tm", "delete", f"bravo:{SYS}/22", "22", "0")
    assert own not in one.resource_names() and volatile not in one.resource_names()
    assert not one.host_path("bravo", f"{SYS}/22").exists()


def test_a_delete_on_a_host_that_is_gone_succeeds_silently(one: One) -> None:
    """The host died (why the VM is deleted): its link and directory cannot be removed, which
    is no error, and the warning about it is no answer: oned would show a successful action's
    stderr. It goes to syslog (or nowhere without one), not to stderr."""
    vm(one, 31, "orphan", [{"DISK_ID": 0, "TYPE": "fs", "SIZE": 4}])
    one.ok("tm", "mkimage", "4", "raw", f"bravo:{SYS}/31/disk.0", "31", "0")
    one.ok("tm", "delete", f"unreachable-host:{SYS}/31/disk.0", "31", "0")
    one.ok("tm", "delete", f"unreachable-host:{SYS}/31", "31", "0")
    assert not any(name.startswith("one-vm31-") for name in one.resource_names())
    assert "unreachable-host env PATH=" in one.ssh_log.read_text()  # it was tried


@pytest.mark.root
def test_snapshot_create_revert_delete_with_data(one: One) -> None:
    source = cp_image(one, 7, "ubuntu", upload(one, "u.img", MIB, {0: b"version-1"}))
    vm(one, 5, "db", [{"DISK_ID": 0, "SOURCE": source, "CLONE": "YES", "IMAGE_ID": 7, "TM_MAD": "linstor"}])
    one.ok("tm", "clone", f"fe:{source}", f"bravo:{SYS}/5/disk.0", "5", "100")
    disk = f"{SYS}/5/disk.0"
    assert os.readlink(one.host_path("bravo", disk)).startswith("/dev/loop")

    one.ok("tm", "snap_create", f"bravo:{disk}", "0", "5", "100")
    write_at(one, "bravo", disk, 0, b"version-2")
    one.ok("tm", "snap_create_live", f"bravo:{disk}", "1", "5", "100")
    write_at(one, "bravo", disk, 0, b"version-3")
    one.ok("tm", "snap_revert", f"bravo:{disk}", "1", "5", "100")
    assert read_link(one, "bravo", disk, 9) == b"version-2"
    older = one.run("tm", "snap_revert", f"bravo:{disk}", "0", "5", "100")  # snap-1 is newer: LINSTOR refuses
    assert older.returncode == 1 and "most recent snapshot" in older.stderr and "snap-1" in older.stderr
    assert read_link(one, "bravo", disk, 9) == b"version-2"
    one.ok("tm", "snap_delete", f"bravo:{disk}", "1", "5", "100")
    one.ok("tm", "snap_revert", f"bravo:{disk}", "0", "5", "100")
    assert read_link(one, "bravo", disk, 9) == b"version-1"
    snapshots = one.get("/v1/view/snapshots")
    assert sorted(s["name"] for s in snapshots) == ["snap-0"]


def replicated_vm(one: One, vm_id: int, name: str) -> tuple[str, str, str]:
    """A VM on bravo whose disk 0 is a volatile disk of system datastore 1, whose profile has
    the DRBD layer: the only one that lets a host without a replica use a disk (through a
    diskless client). The embedded controller renders DRBD but brings no device up, so these
    tests check placement, properties and files, not data. Returns (VM XML, disk, VM dir)."""
    requests.post(f"{one.url}/v1/resource-groups", json={"name": "replicated", "select_filter": {
        "place_count": 1, "storage_pool": "thinpool", "layer_stack": ["drbd", "storage"],
        "node_name_list": ["bravo"]}}, timeout=30).raise_for_status()
    one.oned.datastores[1] = datastore_xml(1, {**one.template, "LINSTOR_RESOURCE_GROUP": "replicated"},
                                           name="replicated", ds_type=1)
    xml = vm(one, vm_id, name, [{"DISK_ID": 0, "TYPE": "fs", "SIZE": 4}])
    vm_dir = f"/var/lib/one/datastores/1/{vm_id}"
    one.ok("tm", "mkimage", "4", "raw", f"bravo:{vm_dir}/disk.0", str(vm_id), "1")
    return xml, f"one-vm{vm_id}-{name}-disk-0", vm_dir


TWO_PRIMARIES = "DrbdOptions/Net/allow-two-primaries"


def test_live_migration_attaches_before_and_detaches_after(one: One) -> None:
    xml, own, vm_dir = replicated_vm(one, 9, "mover")
    (one.host_path("bravo", vm_dir) / "checkpoint").write_bytes(b"memory image")

    one.ok("tm", "premigrate", "bravo", "charlie", vm_dir, "9", "1", stdin=b64(xml))
    assert (one.host_path("charlie", vm_dir) / "checkpoint").read_bytes() == b"memory image"
    assert one.nodes_of(own) == {"bravo": False, "charlie": True}  # a diskless client on the destination
    assert one.get(f"/v1/resource-definitions/{own}")["props"][TWO_PRIMARIES] == "yes"
    assert one.host_path("charlie", f"{vm_dir}/disk.0").is_symlink()

    one.ok("tm", "postmigrate", "bravo", "charlie", vm_dir, "9", "1", stdin=b64(xml))
    assert one.nodes_of(own) == {"bravo": False, "charlie": True}  # the source's replica stays
    assert TWO_PRIMARIES not in one.get(f"/v1/resource-definitions/{own}")["props"]
    assert not one.host_path("bravo", vm_dir).exists()  # the source's VM directory went too
    assert one.host_path("charlie", f"{vm_dir}/disk.0").is_symlink()


def test_failed_migration_leaves_the_vm_where_it_was(one: One) -> None:
    xml, own, vm_dir = replicated_vm(one, 9, "stayer")
    one.ok("tm", "premigrate", "bravo", "charlie", vm_dir, "9", "1", stdin=b64(xml))
    assert one.nodes_of(own) == {"bravo": False, "charlie": True}

    one.ok("tm", "failmigrate", "bravo", "charlie", vm_dir, "9", "1", b64(xml))  # <= 6.6: template as argument
    assert one.nodes_of(own) == {"bravo": False}
    assert TWO_PRIMARIES not in one.get(f"/v1/resource-definitions/{own}")["props"]
    assert not one.host_path("charlie", vm_dir).exists()
    assert one.host_path("bravo", f"{vm_dir}/disk.0").is_symlink()


def test_mkswap_and_mvds(one: One) -> None:
    source = cp_image(one, 7, "data", upload(one, "d.img", MIB, {0: b"KEEP"}))
    vm(one, 22, "web", [{"DISK_ID": 0, "SOURCE": source, "CLONE": "NO", "IMAGE_ID": 7, "TM_MAD": "linstor"}])
    one.ok("tm", "mkswap", "8", f"bravo:{SYS}/22/disk.2", "22", "0")
    swap = "one-vm22-web-disk-2"
    assert one.get(f"/v1/resource-definitions/{swap}")["props"]["Aux/bundle/kind"] == "swap"
    probe = subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE", device_of(one, "bravo", f"{SYS}/22/disk.2")],
                           capture_output=True, text=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert probe.stdout.strip() == "swap"

    one.ok("tm", "ln", f"fe:{source}", f"bravo:{SYS}/22/disk.0", "22", "100")
    one.ok("tm", "mvds", f"bravo:{SYS}/22/disk.0", source, "22", "100")  # persistent image goes home; oned
    # writes SOURCE bare for mvds and cpds (TransferManager.cc), fe:SOURCE only for ln and clone
    assert not one.host_path("bravo", f"{SYS}/22/disk.0").is_symlink()
    assert source in one.resource_names() and one.read(source, 4) == b"KEEP"


def test_a_cdrom_stays_on_the_host_while_a_powered_off_vm_there_uses_it(one: One) -> None:
    """One resource of the image serves every VM on a host; a powered-off VM holds no device
    open (LINSTOR would let it go), so oned's users of the image decide. The image has the DRBD
    layer, so charlie, without a replica, uses it through a diskless client."""
    requests.post(f"{one.url}/v1/resource-groups", json={"name": "isos", "select_filter": {
        "place_count": 1, "storage_pool": "thinpool", "layer_stack": ["drbd", "storage"],
        "node_name_list": ["bravo"]}}, timeout=30).raise_for_status()
    source = names.image_disk(7, "debian-iso")  # as ds cp names it (which cannot write to DRBD here)
    DiskService.from_config(load_client_config(one.url)).create("isos", source, 1024,
                                                                 props=names.image_props(7, "debian-iso"))
    cdrom = {"DISK_ID": 1, "SOURCE": source, "CLONE": "NO", "IMAGE_ID": 7, "TM_MAD": "linstor", "READONLY": "YES"}
    users = {22: vm_xml(22, "web", [cdrom], host="charlie"),
             23: vm_xml(23, "db", [cdrom], host="charlie", state=POWEROFF, lcm_state=0)}
    one.oned.vms.update(users)
    one.oned.images[7] = image_xml(7, "debian-iso", users=list(users), SOURCE=source)
    for vm_id in users:
        one.ok("tm", "ln", f"fe:{source}", f"charlie:{SYS}/{vm_id}/disk.1", str(vm_id), "100")
    assert one.nodes_of(source) == {"bravo": False, "charlie": True}

    one.ok("tm", "delete", f"charlie:{SYS}/22/disk.1", "22", "100")
    assert one.nodes_of(source) == {"bravo": False, "charlie": True}  # VM 23's resume finds it
    assert one.host_path("charlie", f"{SYS}/23/disk.1").is_symlink()

    one.oned.vms[23] = vm_xml(23, "db", [cdrom], host="charlie", state=ACTIVE, lcm_state=EPILOG)  # terminated
    one.oned.images[7] = image_xml(7, "debian-iso", users=[23], SOURCE=source)  # 22's epilog is over
    one.ok("tm", "delete", f"charlie:{SYS}/23/disk.1", "23", "100")
    assert one.nodes_of(source) == {"bravo": False}


def test_cold_move_carries_the_vm_directory_and_the_disk(one: One) -> None:
    _, own, vm_dir = replicated_vm(one, 4, "cold")
    (one.host_path("bravo", vm_dir) / "checkpoint").write_bytes(b"saved")
    one.ok("tm", "mv", f"bravo:{vm_dir}/disk.0", f"charlie:{vm_dir}/disk.0", "4", "1")
    one.ok("tm", "mv", f"bravo:{vm_dir}", f"charlie:{vm_dir}", "4", "1")
    assert (one.host_path("charlie", vm_dir) / "checkpoint").read_bytes() == b"saved"
    assert one.host_path("charlie", f"{vm_dir}/disk.0").is_symlink()
    assert not one.host_path("bravo", vm_dir).exists()
    assert one.nodes_of(own) == {"bravo": False, "charlie": True}  # the data stays on bravo's replica


def test_cold_move_of_a_storage_only_disk_is_refused(one: One) -> None:
    """Without DRBD the new host could not reach the data: it would get an empty volume."""
    source = cp_image(one, 7, "ubuntu", upload(one, "u.img", MIB, {0: b"x"}))
    vm(one, 4, "cold", [{"DISK_ID": 0, "SOURCE": source, "CLONE": "YES", "IMAGE_ID": 7, "TM_MAD": "linstor"}])
    one.ok("tm", "clone", f"fe:{source}", f"bravo:{SYS}/4/disk.0", "4", "100")
    before = one.state()
    done = one.run("tm", "mv", f"bravo:{SYS}/4/disk.0", f"charlie:{SYS}/4/disk.0", "4", "0")
    assert done.returncode == 1
    assert "has no DRBD layer and its data is only on bravo" in done.stderr
    assert one.state() == before


def test_bad_input_changes_nothing(one: One) -> None:
    source = cp_image(one, 7, "ubuntu", upload(one, "u.img", MIB, {0: b"x"}))
    vm(one, 22, "web", [{"DISK_ID": 0, "SOURCE": source, "CLONE": "YES", "IMAGE_ID": 7, "TM_MAD": "linstor"}])
    good = driver_action(image_xml(9, "new", PATH=one.safe_dir / "u.img", SIZE=1), image_ds(one))
    no_id = driver_action(image_xml(9, "new", PATH=one.safe_dir / "u.img").replace("<ID>9</ID>", ""), image_ds(one))
    before = one.state()
    calls: list[tuple[str, str, list[str], bytes, str]] = [
        ("ds", "cp", ["9"], good[: len(good) // 2 - 1], "base64"),
        ("ds", "cp", ["9"], base64.b64encode(base64.b64decode(good)[:200]), "well-formed"),
        ("ds", "cp", ["9"], b"%%% not base64 %%%", "not base64"),
        ("ds", "cp", ["9"], no_id, "IMAGE/ID"),
        ("ds", "cp", [], good, "takes ID"),
        ("ds", "mkfs", ["9"], driver_action(image_xml(9, "d", SIZE="10G", FS="ext4"), image_ds(one)), "IMAGE/SIZE"),
        ("tm", "clone", [f"fe:{source}", f"bravo:{SYS}/22/disk.0", "22"], b"", "takes 4 arguments"),
        ("tm", "mkimage", ["1G", "raw", f"bravo:{SYS}/22/disk.1", "22", "0"], b"", "MiB"),
        ("tm", "resize", [f"bravo:{SYS}/22/disk.0", "2.5", "22", "100"], b"", "MiB"),
        ("tm", "premigrate", ["bravo", "charlie", f"{SYS}/22", "22", "0"], b"PFZNPjwv", "VM template"),
        ("tm", "snap_create", [f"bravo:{SYS}/22/disk.0", "x", "22", "100"], b"", "snapshot id"),
        ("ds", "cp", ["9"], driver_action(None, image_ds(one)), "has no IMAGE element"),
        ("ds", "cp", ["%%%", "9"], b"", "not base64"),
        ("ds", "cp", ["-", "9"], good[:-6], "base64"),
        ("ds", "rm", [good.decode(), "9", "extra"], b"", "got 3 arguments"),
        ("tm", "monitor", [], b"", "got 0 arguments"),
        ("tm", "resize", [f"bravo:{SYS}/22/disk.0", "512M", "22", "100"], b"", "MiB"),
        ("tm", "mkswap", ["0", f"bravo:{SYS}/22/disk.2", "22", "0"], b"", "positive number of MiB"),
        ("tm", "snap_revert", [f"bravo:{SYS}/22/disk.0", "0", "22"], b"", "takes 4 arguments"),
        ("tm", "delete", [f"bravo:{SYS}/22"], b"", "takes 3 arguments"),
        ("tm", "postmigrate", ["bravo", "charlie"], b"", "takes 5 or 6 or 7 arguments"),
    ]
    for kind, action, args, stdin, message in calls:
        done = one.run(kind, action, *args, stdin=stdin)
        assert_refused(done, kind, action, message)
    assert one.state() == before


def assert_refused(done: subprocess.CompletedProcess[str], kind: str, action: str, message: str) -> None:
    """Exit 1, nothing on stdout, and one unprefixed stderr line (the reason oned shows)."""
    assert done.returncode == 1, (action, done.stdout, done.stderr)
    assert done.stdout == "" and message in done.stderr, (action, done.stderr)
    assert done.stderr.startswith(f"{kind} {action}: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_refusals_from_linstor_and_oned_reach_the_user(one: One) -> None:
    source = cp_image(one, 7, "ubuntu", upload(one, "u.img", MIB, {0: b"x"}))
    vm(one, 22, "web", [{"DISK_ID": 0, "SOURCE": source, "CLONE": "YES", "IMAGE_ID": 7, "TM_MAD": "linstor",
                         "SIZE": 4}])
    one.ok("tm", "clone", f"fe:{source}", f"bravo:{SYS}/22/disk.0", "22", "100")
    templates = {
        101: {**one.template, "LINSTOR_RESOURCE_GROUP": "nosuch"},
        102: {**one.template, "LINSTOR_CONTROLLERS": "http://127.0.0.1:9"},
        103: {k: v for k, v in one.template.items() if k != "LINSTOR_RESOURCE_GROUP"},
    }
    datastores = {ds_id: datastore_xml(ds_id, template) for ds_id, template in templates.items()}
    one.oned.datastores.update(datastores)
    blank = image_xml(9, "blank", SIZE=8, FORMAT="raw")
    before = one.state()
    calls: list[tuple[str, str, list[str], bytes, str]] = [
        ("tm", "resize", [f"bravo:{SYS}/22/disk.0", "2", "22", "100"], b"", "disks only grow"),
        ("ds", "mkfs", ["9"], driver_action(blank, datastores[101]), "nosuch"),
        ("ds", "mkfs", ["9"], driver_action(blank, datastores[102]), "127.0.0.1:9"),
        ("ds", "mkfs", ["9"], driver_action(blank, datastores[103]),
         "LINSTOR_RESOURCE_GROUP"),
        ("tm", "mkimage", ["4", "raw", f"bravo:{SYS}/99/disk.0", "99", "0"], b"", "Error getting object [99]"),
        ("tm", "mkimage", ["4", "raw", f"bravo:{SYS}/22/disk.1", "22", "101"], b"", "nosuch"),
    ]
    for kind, action, args, stdin, message in calls:
        assert_refused(one.run(kind, action, *args, stdin=stdin), kind, action, message)
    assert one.state() == before


def test_a_system_datastore_that_opens_disks_as_files_is_named_with_the_fix(one: One, tmp_path: Path) -> None:
    """Without DISK_TYPE and CONTEXT_DISK_TYPE BLOCK (both FILE by default) libvirt would hand
    QEMU these block devices as files, and the VM would not boot: refused, nothing made."""
    context_sh = tmp_path / "context.sh"
    context_sh.write_text("ETH0_IP='10.0.0.5'\n")
    vm(one, 23, "filesys", [{"DISK_ID": 0, "TYPE": "fs", "SIZE": 4}])
    template = {**one.template, "CONTEXT_DISK_TYPE": "FILE"}
    one.oned.datastores[0] = datastore_xml(0, template, name="system", ds_type=1, disk_type=0)
    before = one.resource_names()
    for action, args, attribute in (("mkimage", ("4", "raw", f"bravo:{SYS}/23/disk.0"), "DISK_TYPE"),
                                    ("mkswap", ("4", f"bravo:{SYS}/23/disk.1"), "DISK_TYPE"),
                                    ("context", (str(context_sh), f"bravo:{SYS}/23/disk.2"), "CONTEXT_DISK_TYPE")):
        done = one.run("tm", action, *args, "23", "0")
        assert done.returncode == 1, done
        assert f"system datastore 0 (system) has {attribute}=FILE" in done.stderr
        assert f'add {attribute}="BLOCK" to its template (onedatastore update 0)' in done.stderr
    assert one.resource_names() == before and not one.host_path("bravo", f"{SYS}/23").exists()


def test_context_cdrom_is_a_linstor_disk(one: One, tmp_path: Path) -> None:
    require("genisoimage", "mkisofs", "xorriso", package="genisoimage")
    context_sh = tmp_path / "context.sh"
    context_sh.write_text("ETH0_IP='10.0.0.5'\n")
    vm(one, 22, "web", [])
    extra = tmp_path / "key.pub"
    extra.write_text("ssh-ed25519 AAAA\n")
    one.ok("tm", "context", str(context_sh), f"{extra}:'authorized_keys'", f"bravo:{SYS}/22/disk.3", "22", "0")
    name = "one-vm22-web-disk-3"
    assert one.get(f"/v1/resource-definitions/{name}")["props"]["Aux/bundle/kind"] == "context"
    assert read_link(one, "bravo", f"{SYS}/22/disk.3", 5, 0x8001) == b"CD001"  # ISO 9660 volume descriptor
    one.ok("tm", "context", str(context_sh), f"bravo:{SYS}/22/disk.3", "22", "0")  # again: replaced, not refused
    assert name in one.resource_names()
    # terminate: oned sends DELETE for each DISK, then for the directory; no DISK names the context
    one.ok("tm", "delete", f"bravo:{SYS}/22", "22", "0")
    assert name not in one.resource_names() and not one.host_path("bravo", f"{SYS}/22").exists()
