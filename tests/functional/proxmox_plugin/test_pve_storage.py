"""The plugin's PVE contract against the real embedded controller over real HTTP.

VM names come from the PVE API through proxmoxer, answered by ``responses`` (controller
requests pass through). The disks live in the fixture's FILE_THIN pools, placed on node alpha
(the "local" PVE node): as root loop devices on a reflink file system; otherwise plain files,
where snapshots are impossible, so the tests that take them are marked ``root``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import proxmoxer
import pytest
import requests
import responses

from device_io import write_synced
from linstor_core.client import LinstorClient
from linstor_core.config import load_client_config
from linstor_core.disks import DiskService
from linstor_core.errors import InUse, InvalidInput, LinstorError, NotFound
from linstor_core.models import HAND_OVER, TWO_PRIMARIES, SelectFilter
from proxmox_plugin.guests import PveGuestConfigs
from proxmox_plugin.options import parse_options
from proxmox_plugin.plugin import LinstorStorage
from proxmox_plugin.statuscache import StatusCache
from proxmox_plugin.vmnames import PveApi

PVE_API = "https://pve.example:8006/api2/json"
GROUP = "pvefunc"
NODE = "alpha"
POOL = "thinpool"
MiB = 1024 * 1024


@pytest.fixture
def node(client: Any) -> str:
    """The PVE node this storage runs on; our resource group places one replica there."""
    client.resource_groups.create(GROUP, select_filter=SelectFilter(
        place_count=1, storage_pool=POOL, node_name_list=(NODE,), layer_stack=("storage",)))
    return NODE


@pytest.fixture
def storage(controller: Any, client: Any, node: str, tmp_path: Path) -> Iterator[LinstorStorage]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as pve:
        pve.add_passthru(controller.url)
        pve.get(f"{PVE_API}/cluster/resources",
                json={"data": [{"vmid": 100, "name": "tmpl", "type": "qemu"},
                               {"vmid": 101, "name": "web01", "type": "qemu"}]})
        api = proxmoxer.ProxmoxAPI("pve.example", user="root@pam", token_name="t", token_value="s",
                                   verify_ssl=False)
        options = parse_options("ls", {"type": "linstor", "resourcegroup": GROUP,
                                       "controller": controller.url})
        disks = DiskService(client)
        lines: list[str] = []
        yield LinstorStorage(disks, options, node, PveApi(api), StatusCache(tmp_path / "cache", 30),
                             lines.append)
        for disk in disks.list({"Aux/bundle/platform": "pve"}):
            disks.delete(disk.name, with_snapshots=True)




def _read(path: str, length: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return os.pread(fd, length, 0)
    finally:
        os.close(fd)


def _volids(storage: LinstorStorage, vmid: int | None = None) -> list[str]:
    return [image["volid"] for image in storage.list_images(vmid)]


@pytest.mark.root
def test_disk_life_cycle_with_snapshot_rollback(storage: LinstorStorage, client: Any) -> None:
    assert storage.alloc_image(101, "raw", None, 16 * 1024) == "vm-101-disk-0"
    assert storage.alloc_image(101, "raw", "vm-101-cloudinit", 4096) == "vm-101-cloudinit"
    assert storage.alloc_image(101, "raw", "vm-101-cloudinit", 4096) == "vm-101-cloudinit"
    assert _volids(storage) == ["ls:vm-101-cloudinit", "ls:vm-101-disk-0"]
    assert {rd.name for rd in client.resource_definitions.list()} >= {
        "pve-101-web01-disk-0", "pve-101-web01-cloudinit"}

    storage.activate_volume("vm-101-disk-0")
    path, vmid, vtype = storage.path("vm-101-disk-0")
    assert (vmid, vtype) == (101, "images") and os.path.exists(path)
    write_synced(path, b"first")
    storage.volume_snapshot("vm-101-disk-0", "snap1")
    write_synced(path, b"second")
    assert storage.volume_rollback_is_possible("vm-101-disk-0", "snap1") == []
    storage.volume_snapshot_rollback("vm-101-disk-0", "snap1")
    assert _read(storage.path("vm-101-disk-0")[0], 5) == b"first"
    storage.volume_snapshot_delete("vm-101-disk-0", "snap1")

    storage.volume_resize("vm-101-disk-0", 32 * MiB)
    assert storage.volume_size_info("vm-101-disk-0")["size"] == 32 * MiB
    total, free, used, active = storage.status()
    assert total > 0 and free > 0 and active == 1
    storage.deactivate_volume("vm-101-disk-0")
    storage.free_image("vm-101-disk-0")
    storage.free_image("vm-101-cloudinit")
    assert _volids(storage) == []


def test_a_volume_name_two_disks_carry_is_refused_not_guessed(storage: LinstorStorage, client: Any) -> None:
    """Two nodes' allocs of one name (PVE locks per node without `shared`): either disk could
    be the guest's, so no call picks one, and free_image deletes neither."""
    storage.alloc_image(101, "raw", None, 4096)
    props = client.resource_definitions.get("pve-101-web01-disk-0").props
    client.resource_definitions.create("pve-101-twin-disk-0", resource_group=GROUP,
                                       props={k: v for k, v in props.items() if k.startswith("Aux/")})
    for call in (lambda: storage.free_image("vm-101-disk-0"), lambda: storage.path("vm-101-disk-0")):
        with pytest.raises(LinstorError, match="recorded on 2 disks: pve-101-twin-disk-0, pve-101-web01-disk-0"):
            call()
    assert {"pve-101-web01-disk-0", "pve-101-twin-disk-0"} <= {rd.name for rd in client.resource_definitions.list()}


def test_create_base_retried_after_its_snapshot_was_taken(storage: LinstorStorage) -> None:
    """The first attempt's snapshot was taken, the rename never ran (timed out, killed): the
    retry takes the snapshot again and makes the template, where it refused for ever before."""
    storage.alloc_image(100, "raw", None, 8 * 1024)
    (disk,) = storage.disks.list(placement=False)
    storage.disks.snapshot(disk.name, "__base__")
    assert storage.create_base("vm-100-disk-0") == "base-100-disk-0"
    assert storage.disks.get(disk.name).snapshots == ("__base__",)
    assert _volids(storage) == ["ls:base-100-disk-0"]
    storage.free_image("base-100-disk-0")


@pytest.mark.root
def test_template_linked_clones_rename(storage: LinstorStorage) -> None:
    storage.alloc_image(100, "raw", None, 8 * 1024)
    storage.activate_volume("vm-100-disk-0")
    write_synced(storage.path("vm-100-disk-0")[0], b"golden")
    assert storage.create_base("vm-100-disk-0") == "base-100-disk-0"
    first = storage.clone_image("base-100-disk-0", 101)
    second = storage.clone_image("base-100-disk-0", 101)
    assert (first, second) == ("base-100-disk-0/vm-101-disk-0", "base-100-disk-0/vm-101-disk-1")
    storage.activate_volume(second)
    assert _read(storage.path(second)[0], 6) == b"golden"
    with pytest.raises(InUse, match="has linked clones"):
        storage.free_image("base-100-disk-0")
    assert storage.rename_volume(first, 102) == "ls:base-100-disk-0/vm-102-disk-0"
    assert _volids(storage, 102) == ["ls:base-100-disk-0/vm-102-disk-0"]
    for volname in ("base-100-disk-0/vm-102-disk-0", second, "base-100-disk-0"):
        storage.free_image(volname)
    assert _volids(storage) == []


@pytest.mark.root
def test_clones_of_a_snapshot_and_of_a_disk(storage: LinstorStorage) -> None:
    """A snapshot clone is restored from the snapshot; a full clone goes through LINSTOR's clone
    API with its progress reported; both are independent disks of the new guest."""
    reported: list[str] = []
    storage = dataclasses.replace(storage, progress=reported.append)
    storage.alloc_image(100, "raw", None, 8 * 1024)
    storage.activate_volume("vm-100-disk-0")
    source = storage.path("vm-100-disk-0")[0]
    write_synced(source, b"v1")
    storage.volume_snapshot("vm-100-disk-0", "snap1")
    write_synced(source, b"v2")
    assert storage.activate_volume("vm-100-disk-0", "snap1") == 1  # qm clone --snapname does, first
    assert storage.clone_image("vm-100-disk-0", 101, "snap1") == "vm-101-disk-0"
    assert storage.clone_image("vm-100-disk-0", 101) == "vm-101-disk-1"
    assert reported[-1] == "cloned ls:vm-100-disk-0 to ls:vm-101-disk-1 (pve-101-web01-disk-1)"
    for volname, data in (("vm-101-disk-0", b"v1"), ("vm-101-disk-1", b"v2")):
        storage.activate_volume(volname)
        assert _read(storage.path(volname)[0], 2) == data
        assert storage.volume_size_info(volname)["parent"] is None
    storage.volume_snapshot_delete("vm-100-disk-0", "snap1")
    storage.free_image("vm-100-disk-0")
    assert _volids(storage) == ["ls:vm-101-disk-0", "ls:vm-101-disk-1"]


@contextmanager
def mounted(device: str, target: Path, *options: str) -> Iterator[Path]:
    """``device`` mounted on ``target`` for the block; unmounted as vzdump does (lazily, ``-l``),
    also when the block fails."""
    target.mkdir(exist_ok=True)
    subprocess.run(["mount", *(["-o", ",".join(options)] if options else []), device, str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


@pytest.mark.root
def test_a_container_backup_in_snapshot_mode_reads_the_snapshot(storage: LinstorStorage, client: Any,
                                                                tmp_path: Path) -> None:
    """vzdump --mode snapshot of a container: the 'vzdump' snapshot, activated with its name, its
    path mounted read-only (ro,noload as PVE mounts it) shows the files as they were when it was
    taken; vzdump's umount -l and snapshot deletion leave neither the snapshot nor its view."""
    storage.alloc_image(101, "raw", None, 16 * 1024)
    storage.activate_volume("vm-101-disk-0")
    device = storage.path("vm-101-disk-0")[0]
    subprocess.run(["mkfs.ext4", "-q", device], check=True)
    with mounted(device, tmp_path / "ct") as root:
        (root / "state").write_text("at backup")
    storage.volume_snapshot("vm-101-disk-0", "vzdump")
    with mounted(device, tmp_path / "ct") as root:
        (root / "state").write_text("after the backup began")

    assert storage.activate_volume("vm-101-disk-0", "vzdump") == 1
    view = storage.path("vm-101-disk-0", "vzdump")[0]
    assert view != device and storage.path("vm-101-disk-0", "vzdump")[0] == view
    with mounted(view, tmp_path / "snap", "ro", "noload") as snap:
        assert (snap / "state").read_text() == "at backup"
    assert _volids(storage) == ["ls:vm-101-disk-0"]  # the view is no image

    storage.volume_snapshot_delete("vm-101-disk-0", "vzdump")
    assert [rd.name for rd in client.resource_definitions.list() if rd.name.startswith("pvesnap-")] == []
    assert storage.disks.get("pve-101-web01-disk-0").snapshots == ()
    with mounted(device, tmp_path / "ct") as root:
        assert (root / "state").read_text() == "after the backup began"
    storage.deactivate_volume("vm-101-disk-0")
    storage.free_image("vm-101-disk-0")


@pytest.mark.root
def test_free_image_removes_the_views_of_its_snapshots(storage: LinstorStorage, client: Any) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.volume_snapshot("vm-101-disk-0", "snap1")
    storage.path("vm-101-disk-0", "snap1")
    storage.deactivate_volume("vm-101-disk-0", "snap1")
    assert not [rd.name for rd in client.resource_definitions.list() if rd.name.startswith("pvesnap-")]
    with pytest.raises(NotFound, match="nosuch"):
        storage.path("vm-101-disk-0", "nosuch")
    assert not [rd.name for rd in client.resource_definitions.list() if rd.name.startswith("pvesnap-")]
    storage.path("vm-101-disk-0", "snap1")
    storage.free_image("vm-101-disk-0")
    assert [rd.name for rd in client.resource_definitions.list() if rd.name.startswith("pve")] == []


def test_export_then_import_moves_a_disk_through_a_raw_size_stream(storage: LinstorStorage, tmp_path: Path) -> None:
    """An offline migration off a storage without `shared`: the source exports, the destination
    imports; as another guest's disk, the data the same, the size at least the same."""
    storage.alloc_image(101, "raw", None, 8 * 1024)
    storage.activate_volume("vm-101-disk-0")
    write_synced(storage.path("vm-101-disk-0")[0], b"guest data", 3 * MiB)
    with open(tmp_path / "stream", "wb") as stream:
        storage.volume_export("vm-101-disk-0", "raw+size", data_fd=stream.fileno())
    sent = (tmp_path / "stream").read_bytes()
    assert int.from_bytes(sent[:8], "little") == 8 * MiB == len(sent) - 8

    with open(tmp_path / "stream", "rb", buffering=0) as stream:
        assert storage.volume_import("vm-102-disk-0", "raw+size", data_fd=stream.fileno()) == "ls:vm-102-disk-0"
    assert storage.volume_size_info("vm-102-disk-0")["size"] == 8 * MiB
    storage.activate_volume("vm-102-disk-0")
    assert _read(storage.path("vm-102-disk-0")[0], 8 * MiB)[3 * MiB:3 * MiB + 10] == b"guest data"

    with open(tmp_path / "stream", "rb", buffering=0) as stream:  # taken: refused, nothing made
        with pytest.raises(LinstorError, match="already exists"):
            storage.volume_import("vm-102-disk-0", "raw+size", data_fd=stream.fileno())
    assert _volids(storage, 102) == ["ls:vm-102-disk-0"]
    with open(tmp_path / "stream", "rb", buffering=0) as stream:
        assert storage.volume_import("vm-102-disk-0", "raw+size", allow_rename=True,
                                     data_fd=stream.fileno()) == "ls:vm-102-disk-1"


def test_an_import_whose_stream_breaks_leaves_no_disk(storage: LinstorStorage, tmp_path: Path) -> None:
    (tmp_path / "cut").write_bytes((8 * MiB).to_bytes(8, "little") + b"only a little")
    with open(tmp_path / "cut", "rb", buffering=0) as stream:
        with pytest.raises(InvalidInput, match="ended before the 8388608 bytes"):
            storage.volume_import("vm-102-disk-0", "raw+size", data_fd=stream.fileno())
    assert _volids(storage) == []
    (tmp_path / "empty").write_bytes(b"")
    with open(tmp_path / "empty", "rb", buffering=0) as stream:
        with pytest.raises(InvalidInput, match="too short for the raw"):
            storage.volume_import("vm-102-disk-0", "raw+size", data_fd=stream.fileno())
        with pytest.raises(InvalidInput, match="no snapshots"):
            storage.volume_import("vm-102-disk-0", "raw+size", with_snapshots=["snap1"], data_fd=stream.fileno())
    assert _volids(storage) == []


def test_a_vm_locked_for_a_move_but_not_running_gets_one_primary(storage: LinstorStorage, client: Any,
                                                                tmp_path: Path) -> None:
    """pmxcfs says VM 101 is being migrated from alpha, but no QEMU holds its disk there (an
    offline migration): the destination's activation allows no second primary."""
    client.resource_groups.create("replicated", select_filter=SelectFilter(
        place_count=1, storage_pool=POOL, node_name_list=(NODE,), layer_stack=("drbd", "storage")))
    root = tmp_path / "pve"
    (root / "nodes" / NODE / "qemu-server").mkdir(parents=True)
    (root / ".vmlist").write_text(json.dumps({"ids": {"101": {"node": NODE, "type": "qemu"}}}))
    (root / "nodes" / NODE / "qemu-server" / "101.conf").write_text("lock: migrate\nname: web01\n")
    storage = dataclasses.replace(storage, options=dataclasses.replace(storage.options, profile="replicated"),
                                  guests=PveGuestConfigs(root, {"PVE_MIGRATED_FROM": NODE}))
    storage.alloc_image(101, "raw", None, 4096)
    (rd,) = [d.name for d in storage.disks.list({"Aux/bundle/pve-volname": "vm-101-disk-0"})]
    destination = dataclasses.replace(storage, node="bravo")
    assert destination.activate_volume("vm-101-disk-0") == 1
    assert {r.node_name: r.diskless for r in client.resources.list(rd)} == {NODE: False, "bravo": True}
    assert TWO_PRIMARIES not in client.resource_definitions.get(rd).props
    destination.deactivate_volume("vm-101-disk-0")


def test_an_import_stopped_by_a_signal_deletes_the_half_imported_disk(storage: LinstorStorage, controller: Any) -> None:
    """A task abort or a tunnel torn down sends SIGTERM mid-copy: the clean-up runs, and PVE
    hears why (Python's default would end the process with the disk half-filled)."""
    read_fd, write_fd = os.pipe()
    request = {"storeid": "ls", "node": NODE, "args": {"volname": "vm-102-disk-0", "format": "raw+size",
                                                       "data_fd": read_fd},
               "scfg": {"type": "linstor", "resourcegroup": GROUP, "controller": controller.url}}
    importer = subprocess.Popen([str(Path(sys.executable).parent / "linstor-pve"), "volume_import"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                pass_fds=(read_fd,), text=True)
    os.close(read_fd)
    try:
        assert importer.stdin is not None
        importer.stdin.write(json.dumps(request))
        importer.stdin.close()
        os.write(write_fd, (8 * MiB).to_bytes(8, "little") + b"x" * MiB)  # the header, an eighth
        deadline = time.monotonic() + 30
        while not _volids(storage, 102) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _volids(storage, 102) == ["ls:vm-102-disk-0"]  # made, and being filled
        importer.send_signal(signal.SIGTERM)
        importer.wait(timeout=30)
        assert importer.stdout is not None
        out = importer.stdout.read()
    finally:
        os.close(write_fd)
        importer.kill()
    assert importer.returncode == 1
    assert json.loads(out)["error"]["message"].startswith("stopped by SIGTERM")
    assert _volids(storage) == []


def test_path_on_a_node_without_replica_names_the_device_activation_makes(storage: LinstorStorage,
                                                                          client: Any) -> None:
    """qemu-server asks for the path before it activates, on the node that runs the guest; a
    rescan asks for every volume and activates none. With a DRBD profile the path makes
    nothing and is the device the diskless client made by the activation has (one DRBD minor
    on every node); deactivating (twice, as PVE may) removes only that client."""
    client.resource_groups.create("replicated", select_filter=SelectFilter(
        place_count=1, storage_pool=POOL, node_name_list=(NODE,), layer_stack=("drbd", "storage")))
    options = dataclasses.replace(storage.options, profile="replicated")
    storage = dataclasses.replace(storage, options=options)
    storage.alloc_image(101, "raw", None, 4096)
    (rd,) = [d.name for d in storage.disks.list({"Aux/bundle/pve-volname": "vm-101-disk-0"})]
    elsewhere = dataclasses.replace(storage, node="bravo")
    device, _, _ = elsewhere.path("vm-101-disk-0")
    assert {r.node_name: r.diskless for r in client.resources.list(rd)} == {NODE: False}
    assert device == storage.path("vm-101-disk-0")[0]
    assert elsewhere.activate_volume("vm-101-disk-0") == 1
    assert {r.node_name: r.diskless for r in client.resources.list(rd)} == {NODE: False, "bravo": True}
    assert storage.disks.path(rd, "bravo") == device == elsewhere.path("vm-101-disk-0")[0]
    elsewhere.deactivate_volume("vm-101-disk-0")
    elsewhere.deactivate_volume("vm-101-disk-0")
    storage.deactivate_volume("vm-101-disk-0")
    assert {r.node_name: r.diskless for r in client.resources.list(rd)} == {NODE: False}


def test_path_of_a_storage_only_disk_held_elsewhere_is_a_name(storage: LinstorStorage, client: Any) -> None:
    """Without DRBD a disk cannot be reached from bravo: a rescan there still gets its path (the
    holder's device), and only activating it is refused, with nothing made."""
    storage.alloc_image(101, "raw", None, 4096)
    (rd,) = [d.name for d in storage.disks.list({"Aux/bundle/pve-volname": "vm-101-disk-0"})]
    elsewhere = dataclasses.replace(storage, node="bravo")
    assert elsewhere.path("vm-101-disk-0")[0] == storage.disks.path(rd, NODE)
    with pytest.raises(InUse, match="no DRBD layer and its data is only on alpha"):
        elsewhere.activate_volume("vm-101-disk-0")
    assert [r.node_name for r in client.resources.list(rd)] == [NODE]


def test_a_volume_whose_disk_is_gone_has_a_path_and_is_freed(storage: LinstorStorage, client: Any) -> None:
    """Someone deleted the resource definition behind PVE's back: the content API's DELETE
    (path, then vdisk_free) removes the dangling volume instead of failing at path."""
    storage.alloc_image(101, "raw", None, 4096)
    (rd,) = [d.name for d in storage.disks.list({"Aux/bundle/pve-volname": "vm-101-disk-0"})]
    storage.disks.delete(rd)
    assert storage.path("vm-101-disk-0") == ["/dev/linstor-pve/absent/ls/vm-101-disk-0", 101, "images"]
    storage.free_image("vm-101-disk-0")
    assert _volids(storage) == []


def test_the_deactivation_after_a_live_migration_ends_its_two_primaries(storage: LinstorStorage, client: Any) -> None:
    """The destination's activation allowed two primaries (the VM locked for the move, the
    source's QEMU holding the disk: only real DRBD says so, see the unit tests); the source's
    deactivation, once its QEMU is gone, ends them, and no other node's does. The replica on
    the source stays, the destination's client too: the guest runs there now."""
    client.resource_groups.create("replicated", select_filter=SelectFilter(
        place_count=1, storage_pool=POOL, node_name_list=(NODE,), layer_stack=("drbd", "storage")))
    source = dataclasses.replace(storage, options=dataclasses.replace(storage.options, profile="replicated"))
    source.alloc_image(101, "raw", None, 4096)
    (rd,) = [d.name for d in source.disks.list({"Aux/bundle/pve-volname": "vm-101-disk-0"})]
    destination = dataclasses.replace(source, node="bravo")
    source.activate_volume("vm-101-disk-0")
    destination.activate_volume("vm-101-disk-0")
    client.resource_definitions.set_props(rd, override={TWO_PRIMARIES: "yes", HAND_OVER: f"{NODE} bravo"})
    dataclasses.replace(source, node="charlie").deactivate_volume("vm-101-disk-0")  # not in the move
    assert client.resource_definitions.get(rd).props[TWO_PRIMARIES] == "yes"
    source.deactivate_volume("vm-101-disk-0")
    assert {TWO_PRIMARIES, HAND_OVER}.isdisjoint(client.resource_definitions.get(rd).props)
    assert {r.node_name: r.diskless for r in client.resources.list(rd)} == {NODE: False, "bravo": True}
    destination.deactivate_volume("vm-101-disk-0")
    assert {r.node_name: r.diskless for r in client.resources.list(rd)} == {NODE: False}


def test_a_name_the_user_chose_through_pves_content_api(storage: LinstorStorage, client: Any) -> None:
    """pvesm alloc ls 101 vm-101-data 4G: PVE only asks for the vm-<vmid>- start."""
    assert storage.alloc_image(101, "raw", "vm-101-data", 4096) == "vm-101-data"
    assert storage.alloc_image(101, "raw", None, 4096) == "vm-101-disk-0"  # numbering is untouched
    assert _volids(storage, 101) == ["ls:vm-101-data", "ls:vm-101-disk-0"]
    assert "pve-101-web01-data" in {rd.name for rd in client.resource_definitions.list()}
    storage.volume_resize("vm-101-data", 8 * MiB)
    assert storage.volume_size_info("vm-101-data")["size"] == 8 * MiB
    with pytest.raises(InvalidInput, match="not a volume name this storage uses"):
        storage.alloc_image(101, "raw", "vm-101-da.ta", 4096)
    storage.free_image("vm-101-data")
    assert _volids(storage, 101) == ["ls:vm-101-disk-0"]


def test_bad_input_changes_nothing(storage: LinstorStorage) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    before = storage.list_images()
    with pytest.raises(InvalidInput, match="belongs to VM 999"):
        storage.alloc_image(101, "raw", "vm-999-disk-0", 4096)
    with pytest.raises(InvalidInput, match="reserved by Proxmox VE"):
        storage.volume_snapshot("vm-101-disk-0", "__base__")
    with pytest.raises(InvalidInput, match="invalid volname"):
        storage.path("vm-101-disk-0.qcow2")
    with pytest.raises(NotFound, match="ls:vm-101-disk-9 does not exist"):
        storage.volume_snapshot("vm-101-disk-9", "snap1")
    assert storage.list_images() == before


class CountingSession(requests.Session):
    """Records each request as ``METHOD url`` and its query parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.params: list[Any] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls.append(f"{method!s} {url!s}".split("?")[0])
        self.params.append(kwargs.get("params"))
        return super().request(method, url, *args, **kwargs)


def test_rest_calls_per_method(storage: LinstorStorage, controller: Any) -> None:
    """alloc = 2 calls, list = 1 call however many disks, status = 1 call then 0 (cache)."""
    session = CountingSession()
    counted = dataclasses.replace(storage, disks=DiskService(
        LinstorClient(load_client_config(controller.url), session=session)))
    for vmid in (101, 102, 103):
        counted.alloc_image(vmid, "raw", None, 4096)
    assert len(session.calls) == 6
    session.calls.clear()
    session.params.clear()
    assert len(counted.list_images()) == 3
    assert session.calls == [f"GET {controller.url}/v1/resource-definitions"]
    assert {"Aux/bundle/platform=pve", "Aux/bundle/pve-storage=ls"} <= set(session.params[0]["props"])
    session.calls.clear()
    counted.status()
    counted.status()
    assert session.calls == [f"POST {controller.url}/v1/resource-groups/{GROUP}/query-size-info"]
    session.calls.clear()
    counted.path("vm-101-disk-0")
    assert session.calls == [f"GET {controller.url}/v1/resource-definitions", f"GET {controller.url}/v1/view/resources"]


def test_preferlocal_puts_a_replica_on_this_node(storage: LinstorStorage, client: Any, controller: Any) -> None:
    """A profile free to place anywhere; preferlocal pins its one replica to this PVE node
    (charlie, which the autoplacer would not pick first) in 3 calls: list, spawn, autoplace."""
    client.resource_groups.create("anywhere", select_filter=SelectFilter(
        place_count=1, storage_pool=POOL, layer_stack=("storage",)))
    session = CountingSession()
    disks = DiskService(LinstorClient(load_client_config(controller.url), session=session))
    options = dataclasses.replace(storage.options, profile="anywhere", prefer_local=True)
    local = dataclasses.replace(storage, disks=disks, options=options, node="charlie")
    for _ in range(3):
        local.alloc_image(101, "raw", None, 4096)
    assert len(session.calls) == 9
    placed = disks.list({"Aux/bundle/platform": "pve"})
    assert [d.nodes for d in placed] == [("charlie",)] * 3
    assert all(d.diskless_nodes == () for d in placed)
    elsewhere = dataclasses.replace(local, node="nowhere")
    elsewhere.alloc_image(101, "raw", None, 4096)
    assert len(disks.get("pve-101-web01-disk-3").nodes) == 1
