"""Transfer manager actions against fakes: which disk calls and which host commands they make."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from linstor_core.errors import (
    AlreadyExists, ApiError, ApiReply, ConfigError, InUse, InvalidInput, LinstorError, NotFound, Stopped, StorageError,
)
from linstor_core.models import Disk
from opennebula_driver import tm
from opennebula_driver.hosts import _COPY_SCRIPT
from opennebula_driver.records import Vm, VmDisk

from one_fakes import Harness, ssh

DIR = "/var/lib/one/datastores/0/22"
IMAGE = "one-img7-ubuntu"
OWN = "one-vm22-web-disk-0"
OWN_PROPS = {"Aux/bundle/platform": "one", "Aux/bundle/owner-id": "vm22", "Aux/bundle/disk": "0"}
VM = Vm(id=22, name="web", disks=(
    VmDisk(disk_id=0, source=IMAGE, clone=True, image_id=7, tm_mad="linstor", size_mib=8, datastore_id=100),
    VmDisk(disk_id=1, source="one-img9-data", clone=False, image_id=9, tm_mad="linstor", datastore_id=100),
    VmDisk(disk_id=2, fs="ext4"),
))


def add(harness: Harness, name: str, size_kib: int = 1024, **props: str) -> None:
    harness.disks.disks[name] = Disk(name=name, size_kib=size_kib, profile="gold", props=props)


def expect_link(harness: Harness, host: str, device: str, path: str) -> None:
    argv = ["sh", "-c", 'mkdir -p -- "$1" && ln -sfn -- "$2" "$3"', "link", str(Path(path).parent), device, path]
    harness.runner.expect(ssh(host, shlex.join(argv)) if host != "fe" else argv)


def expect_copy(harness: Harness, src: str, dst: str, path: str) -> None:
    """The copy runs on the front-end ("-" = here), streaming between the two hosts."""
    harness.runner.expect(["bash", "-c", _COPY_SCRIPT, "copy", src, dst, str(Path(path).parent), Path(path).name])


@pytest.fixture
def vm(harness: Harness) -> Vm:
    harness.oned.records[22] = VM
    return VM


def device(harness: Harness, name: str, node: str) -> str:
    return str(harness.disks.workdir / f"{name}@{node}")


def test_ln_uses_the_persistent_image_in_place(harness: Harness, vm: Vm) -> None:
    add(harness, "one-img9-data")
    expect_link(harness, "node1", device(harness, "one-img9-data", "node1"), f"{DIR}/disk.1")
    tm.ln(harness.env, ["fe:one-img9-data", f"node1:{DIR}/disk.1", "22", "100"])
    assert harness.disks.mutations() == [("attach", "one-img9-data", "node1")]


def test_ln_whose_link_fails_takes_the_image_off_the_host_unless_another_vm_needs_it(
        harness: Harness, vm: Vm) -> None:
    add(harness, "one-img9-data")
    link_fails(harness, "node1", device(harness, "one-img9-data", "node1"), f"{DIR}/disk.1")
    with pytest.raises(StorageError, match="No route"):
        tm.ln(harness.env, ["fe:one-img9-data", f"node1:{DIR}/disk.1", "22", "100"])
    harness.oned.records[23] = ON_NODE1  # powered off on node1 with the image
    link_fails(harness, "node1", device(harness, "one-img9-data", "node1"), f"{DIR}/disk.1")
    with pytest.raises(StorageError, match="No route"):
        tm.ln(harness.env, ["fe:one-img9-data", f"node1:{DIR}/disk.1", "22", "100"])
    harness.runner.assert_done()
    assert harness.disks.mutations() == [("attach", "one-img9-data", "node1"), ("detach", "one-img9-data", "node1"),
                                         ("attach", "one-img9-data", "node1")]


def test_clone_names_the_copy_after_the_vm_and_grows_it(harness: Harness, vm: Vm) -> None:
    add(harness, IMAGE)
    expect_link(harness, "node1", device(harness, OWN, "node1"), f"{DIR}/disk.0")
    tm.clone(harness.env, [f"fe:{IMAGE}", f"node1:{DIR}/disk.0", "22", "100"])
    disk = harness.disks.disks[OWN]
    assert disk.size_kib == 8 * 1024
    assert disk.props["Aux/bundle/owner-id"] == "vm22" and disk.props["Aux/bundle/disk"] == "0"
    assert disk.props["Aux/bundle/image"] == "7" and disk.props["Aux/bundle/owner-name"] == "web"


def test_clone_again_after_a_failed_deploy_reuses_the_copy(harness: Harness, vm: Vm) -> None:
    """oned repeats a failed deploy: the VM's copy (maybe already written by the guest) stays."""
    add(harness, IMAGE)
    add(harness, OWN, 8 * 1024, **OWN_PROPS, **{"Aux/bundle/image": "7", "Aux/test/copy": "the first one"})
    harness.disks.clone = lambda *a, **k: (_ for _ in ()).throw(  # type: ignore[method-assign]
        AlreadyExists([ApiReply(ret_code=-1, message=f"{OWN} exists")]))
    expect_link(harness, "node1", device(harness, OWN, "node1"), f"{DIR}/disk.0")
    tm.clone(harness.env, [f"fe:{IMAGE}", f"node1:{DIR}/disk.0", "22", "100"])
    assert harness.disks.disks[OWN].props["Aux/test/copy"] == "the first one"
    assert harness.disks.mutations() == [("attach", OWN, "node1")]  # neither remade nor resized


def test_clone_refuses_a_disk_of_that_name_that_is_not_the_vms(harness: Harness, vm: Vm) -> None:
    add(harness, IMAGE)
    add(harness, OWN, 8 * 1024, **{**OWN_PROPS, "Aux/bundle/owner-id": "vm23"})  # a case twin's
    harness.disks.clone = lambda *a, **k: (_ for _ in ()).throw(  # type: ignore[method-assign]
        AlreadyExists([ApiReply(ret_code=-1, message=f"{OWN} exists")]))
    with pytest.raises(LinstorError, match="not disk 0 of VM 22"):
        tm.clone(harness.env, [f"fe:{IMAGE}", f"node1:{DIR}/disk.0", "22", "100"])
    assert harness.disks.mutations() == []


def link_fails(harness: Harness, host: str, device: str, path: str) -> None:
    argv = ["sh", "-c", 'mkdir -p -- "$1" && ln -sfn -- "$2" "$3"', "link", str(Path(path).parent), device, path]
    command = ssh(host, shlex.join(argv))
    harness.runner.expect(command, StorageError(command, 255, "ssh: connect to host node1: No route to host"))


def test_a_disk_an_action_made_goes_again_when_the_action_fails(harness: Harness, vm: Vm,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A hot-attach (onevm disk-attach) whose TM step fails gets no tm delete from oned: the
    disk would stay in LINSTOR, and the next attach under that disk id would find it."""
    add(harness, IMAGE)
    link_fails(harness, "node1", device(harness, OWN, "node1"), f"{DIR}/disk.0")
    with pytest.raises(StorageError, match="No route"):
        tm.clone(harness.env, [f"fe:{IMAGE}", f"node1:{DIR}/disk.0", "22", "100"])
    volatile = "one-vm22-web-disk-2"
    harness.runner.expect(ssh("node1", f"mkfs.ext4 -q -F -E nodiscard {device(harness, volatile, 'node1')}"),
                          StorageError(["mkfs.ext4"], 1, "mkfs.ext4: Device size reported to be zero"))
    with pytest.raises(StorageError, match="size reported"):
        tm.mkimage(harness.env, ["256", "raw", f"node1:{DIR}/disk.2", "22", "0"])
    swap = "one-vm22-web-disk-3"
    harness.runner.expect(["mkswap", device(harness, swap, "fe")], _stopped)  # oned's timeout
    with pytest.raises(Stopped):
        tm.mkswap(harness.env, ["64", f"fe:{DIR}/disk.3", "22", "0"])
    monkeypatch.setattr(tm.contextiso, "build_iso", lambda files, workdir, runner: _iso(workdir))
    context = "one-vm22-web-disk-4"
    link_fails(harness, "node1", device(harness, context, "node1"), f"{DIR}/disk.4")
    with pytest.raises(StorageError, match="No route"):
        tm.context(harness.env, ["/tmp/context.sh", f"node1:{DIR}/disk.4", "22", "0"])
    harness.runner.assert_done()
    assert sorted(harness.disks.disks) == [IMAGE]
    assert [c[1] for c in harness.disks.calls if c[0] == "delete"] == [OWN, volatile, swap, context, context]


@pytest.mark.parametrize(("action", "args", "attribute"), [
    (tm.mkimage, ["256", "raw", f"node1:{DIR}/disk.2", "22", "0"], "DISK_TYPE"),
    (tm.mkswap, ["64", f"node1:{DIR}/disk.3", "22", "0"], "DISK_TYPE"),
    (tm.context, ["/tmp/context.sh", f"node1:{DIR}/disk.4", "22", "0"], "CONTEXT_DISK_TYPE"),
])
def test_a_system_datastore_that_would_open_the_disk_as_a_file_is_refused_first(
        harness: Harness, vm: Vm, action: Callable[..., str], args: list[str], attribute: str) -> None:
    """Both attributes default to FILE, and QEMU refuses a block device opened as a file: the
    VM would fail to boot with QEMU's message; this says which attribute to set, and where."""
    system = harness.env.oned.datastores[0]  # type: ignore[attr-defined]
    template = {key: value for key, value in system.template.items() if key != "CONTEXT_DISK_TYPE"}
    harness.env.oned.datastores[0] = replace(system, name="system", disk_type="FILE", template=template)  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=f"system datastore 0 \\(system\\) has {attribute}=FILE") as refused:
        action(harness.env, args)
    assert f'add {attribute}="BLOCK"' in refused.value.correction and "onedatastore update 0" in refused.value.correction
    assert harness.disks.mutations() == []
    harness.runner.assert_done()


def _stopped(argv: object) -> str:
    raise Stopped("stopped by SIGTERM")


def _iso(workdir: Path) -> Path:
    iso = workdir / "context.iso"
    iso.write_bytes(b"CD001")
    return iso


def test_a_leftover_copy_of_another_image_is_not_taken_for_this_one(harness: Harness, vm: Vm) -> None:
    """A driver killed during an earlier attach of image 9 as disk 0 left its copy: attaching
    image 7 under that disk id must not hand the guest image 9's data."""
    add(harness, IMAGE)
    add(harness, OWN, 8 * 1024, **OWN_PROPS, **{"Aux/bundle/image": "9"})
    with pytest.raises(LinstorError, match="is not a copy of image 7") as refused:
        tm.clone(harness.env, [f"fe:{IMAGE}", f"node1:{DIR}/disk.0", "22", "100"])
    assert "resource-definition delete one-vm22-web-disk-0" in refused.value.correction
    volatile = "one-vm22-web-disk-2"
    add(harness, volatile, 128 * 1024, **{**OWN_PROPS, "Aux/bundle/disk": "2", "Aux/bundle/kind": "volatile"})
    with pytest.raises(LinstorError, match="is not a volatile disk of 262144 KiB"):
        tm.mkimage(harness.env, ["256", "raw", f"node1:{DIR}/disk.2", "22", "0"])
    assert [c[0] for c in harness.disks.mutations()] == ["clone", "create"]  # both refused: AlreadyExists
    assert harness.disks.disks[OWN].props["Aux/bundle/image"] == "9" and harness.disks.disks[volatile].size_kib == 128 * 1024
    dev = device(harness, volatile, "node1")  # the same size: a deploy retried, finished now
    harness.runner.expect(ssh("node1", f"mkfs.ext4 -q -F -E nodiscard {dev}"))
    expect_link(harness, "node1", dev, f"{DIR}/disk.2")
    tm.mkimage(harness.env, ["128", "raw", f"node1:{DIR}/disk.2", "22", "0"])
    harness.runner.assert_done()


def test_a_retried_mkimage_formats_its_own_xfs_disk_again(harness: Harness) -> None:
    """A deploy cut off after mkfs.xfs is retried: the disk is this VM's volatile disk (checked),
    and mkfs.xfs refuses to replace a filesystem unless forced."""
    harness.oned.records[22] = replace(VM, disks=(*VM.disks[:2], VmDisk(disk_id=2, fs="xfs")))
    volatile = "one-vm22-web-disk-2"
    add(harness, volatile, 512 * 1024, **{**OWN_PROPS, "Aux/bundle/disk": "2", "Aux/bundle/kind": "volatile"})
    dev = device(harness, volatile, "node1")
    harness.runner.expect(ssh("node1", f"mkfs.xfs -q -f -K {dev}"))
    expect_link(harness, "node1", dev, f"{DIR}/disk.2")
    tm.mkimage(harness.env, ["512", "raw", f"node1:{DIR}/disk.2", "22", "0"])
    harness.runner.assert_done()


def test_mkimage_formats_on_the_host_over_ssh(harness: Harness, vm: Vm) -> None:
    name = "one-vm22-web-disk-2"
    dev = device(harness, name, "node1")
    harness.runner.expect(ssh("node1", f"mkfs.ext4 -q -F -E nodiscard {dev}"))
    expect_link(harness, "node1", dev, f"{DIR}/disk.2")
    tm.mkimage(harness.env, ["256", "raw", f"node1:{DIR}/disk.2", "22", "0"])
    assert harness.disks.disks[name].size_kib == 256 * 1024
    assert harness.disks.disks[name].props["Aux/bundle/kind"] == "volatile"


def test_mkswap(harness: Harness, vm: Vm) -> None:
    name = "one-vm22-web-disk-3"
    dev = device(harness, name, "fe")
    harness.runner.expect(["mkswap", dev])
    expect_link(harness, "fe", dev, f"{DIR}/disk.3")
    tm.mkswap(harness.env, ["64", f"fe:{DIR}/disk.3", "22", "0"])


def test_mkimage_and_mkswap_zero_a_disk_whose_storage_hands_out_old_data(harness: Harness, vm: Vm) -> None:
    """Thick LVM: the guest sees the whole device, not only what mkfs and mkswap write."""
    harness.disks.zeroed = False
    dev = device(harness, "one-vm22-web-disk-2", "node1")
    harness.runner.expect(ssh("node1", f"blkdiscard --zeroout {dev}"))
    harness.runner.expect(ssh("node1", f"mkfs.ext4 -q -F -E nodiscard {dev}"))
    expect_link(harness, "node1", dev, f"{DIR}/disk.2")
    tm.mkimage(harness.env, ["256", "raw", f"node1:{DIR}/disk.2", "22", "0"])
    dev = device(harness, "one-vm22-web-disk-3", "fe")
    harness.runner.expect(["blkdiscard", "--zeroout", dev])
    harness.runner.expect(["mkswap", dev])
    expect_link(harness, "fe", dev, f"{DIR}/disk.3")
    tm.mkswap(harness.env, ["64", f"fe:{DIR}/disk.3", "22", "0"])


@pytest.mark.parametrize("zeroed", [True, False], ids=["thin", "thick"])
def test_context_leaves_nothing_of_the_storages_old_data_around_the_iso(
        harness: Harness, vm: Vm, monkeypatch: pytest.MonkeyPatch, zeroed: bool) -> None:
    def build_iso(files: list[str], workdir: Path, runner: object) -> Path:
        iso = workdir / "context.iso"
        iso.write_bytes(b"CD001" + bytes(8192 - 5))  # zero blocks inside the ISO too
        return iso

    monkeypatch.setattr(tm.contextiso, "build_iso", build_iso)
    harness.disks.zeroed = zeroed
    dev = Path(device(harness, "one-vm22-web-disk-3", "fe"))
    dev.write_bytes(b"\xff" * (1032 * 1024))  # what the storage held before: more than the ISO
    expect_link(harness, "fe", str(dev), f"{DIR}/disk.3")
    tm.context(harness.env, ["/ctx/context.sh", f"fe:{DIR}/disk.3", "22", "0"])
    written = dev.read_bytes()
    assert written[:8192] == b"CD001" + bytes(8192 - 5)
    # past the ISO: the fake's old bytes stay only where the storage reads as zeros anyway
    assert written[8192:] == (b"\xff" if zeroed else b"\x00") * (len(written) - 8192)


def test_delete_own_disk_persistent_disk_and_directory(harness: Harness, vm: Vm) -> None:
    add(harness, OWN, **OWN_PROPS)
    add(harness, "one-img9-data")
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.0"))
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
    harness.runner.expect(ssh("node1", f"rm -rf -- {DIR}"))
    tm.delete(harness.env, [f"node1:{DIR}/disk.0", "22", "100"])
    tm.delete(harness.env, [f"node1:{DIR}/disk.1", "22", "100"])
    tm.delete(harness.env, [f"node1:{DIR}", "22", "100"])
    assert OWN not in harness.disks.disks and "one-img9-data" in harness.disks.disks
    assert ("detach", "one-img9-data", "node1") in harness.disks.calls


def test_delete_on_a_host_that_is_down_still_leaves_nothing_in_linstor(harness: Harness, vm: Vm) -> None:
    """onevm recover --delete of a VM whose host died: ssh cannot reach it (exit 255). The
    disks and the context CD-ROM are deleted in LINSTOR first; the dead host's files are no
    error. Any other failure there still is."""
    add(harness, OWN, **OWN_PROPS)
    add(harness, "one-vm22-web-disk-3", **{**OWN_PROPS, "Aux/bundle/disk": "3", "Aux/bundle/kind": "context"})
    down = StorageError(["ssh", "-o", "BatchMode=yes", "node1", "rm"], 255, "ssh: connect to host node1: No route")
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.0"), down)
    harness.runner.expect(ssh("node1", f"rm -rf -- {DIR}"), down)
    tm.delete(harness.env, [f"node1:{DIR}/disk.0", "22", "100"])
    tm.delete(harness.env, [f"node1:{DIR}", "22", "100"])
    assert harness.disks.disks == {}
    denied = StorageError(["ssh", "-o", "BatchMode=yes", "node1", "rm"], 1, "rm: Permission denied")
    harness.runner.expect(ssh("node1", f"rm -rf -- {DIR}"), denied)
    with pytest.raises(StorageError, match="Permission denied"):
        tm.delete(harness.env, [f"node1:{DIR}", "22", "100"])


def test_delete_removes_every_copy_of_the_disk_a_rename_left(harness: Harness, vm: Vm) -> None:
    """A mkimage or clone retried after the VM was renamed names its copy anew: both carry the
    disk's owner props, and deleting the disk must not leak the first one."""
    add(harness, OWN, **OWN_PROPS)
    add(harness, "one-vm22-app-disk-0", **OWN_PROPS)
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.0"))
    tm.delete(harness.env, [f"node1:{DIR}/disk.0", "22", "100"])
    assert OWN not in harness.disks.disks and "one-vm22-app-disk-0" not in harness.disks.disks
    assert harness.oned.vm_lookups == []


def test_context_after_a_rename_replaces_the_old_context_disk(harness: Harness, vm: Vm,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Left beside the new one, the context disk named after the old name could be the one a
    migration links: the guest would boot with the old contextualisation."""
    def build_iso(files: list[str], workdir: Path, runner: object) -> Path:
        iso = workdir / "context.iso"
        iso.write_bytes(b"CD001" + bytes(8192 - 5))
        return iso

    monkeypatch.setattr(tm.contextiso, "build_iso", build_iso)
    stale = "one-vm22-old-disk-3"
    add(harness, stale, **{**OWN_PROPS, "Aux/bundle/disk": "3", "Aux/bundle/kind": "context"})
    dev = device(harness, "one-vm22-web-disk-3", "fe")
    expect_link(harness, "fe", dev, f"{DIR}/disk.3")
    tm.context(harness.env, ["/ctx/context.sh", f"fe:{DIR}/disk.3", "22", "0"])
    assert stale not in harness.disks.disks and "one-vm22-web-disk-3" in harness.disks.disks


def leave_node1_three_ways(harness: Harness) -> None:
    """VM 22's disk.1 (image 9, used in place) leaves node1 by delete, mvds and mv to node2."""
    for action, args in (("delete", [f"node1:{DIR}/disk.1", "22", "100"]),
                         ("mvds", [f"node1:{DIR}/disk.1", "one-img9-data", "22", "100"])):
        harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
        tm.ACTIONS[action](harness.env, args)
    expect_link(harness, "node2", device(harness, "one-img9-data", "node2"), f"{DIR}/disk.1")
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
    tm.mv(harness.env, [f"node1:{DIR}/disk.1", f"node2:{DIR}/disk.1", "22", "100"])
    harness.runner.assert_done()


def test_an_image_another_vm_still_uses_stays_on_the_host(harness: Harness, vm: Vm,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """CD-ROM, shareable and immutable images keep one resource for every VM using them: a VM
    going away must not pull it from the others on the host (LINSTOR refuses: in use)."""
    add(harness, "one-img9-data")

    def in_use(name: str, node: str) -> None:
        harness.disks.calls.append(("detach", name, node))
        raise InUse([ApiReply(ret_code=-1, message="Resource 'one-img9-data' on node 'node1' is still in use.")])

    monkeypatch.setattr(harness.disks, "detach", in_use)
    leave_node1_three_ways(harness)
    assert "one-img9-data" in harness.disks.disks
    assert [c for c in harness.disks.calls if c[0] == "detach"] == [("detach", "one-img9-data", "node1")] * 3


ON_NODE1 = Vm(id=23, name="db", state=8, hosts=("node1",), disks=(
    VmDisk(disk_id=3, source="one-img9-data", clone=False, image_id=9, tm_mad="linstor", datastore_id=100),))
"""Another user of image 9 (a CD-ROM, say): powered off on node1, where it has the image linked."""


@pytest.mark.parametrize("other, stays", [
    (ON_NODE1, True),
    (replace(ON_NODE1, state=5), True),  # suspended there
    (replace(ON_NODE1, state=3, lcm_state=3), True),  # running there
    (replace(ON_NODE1, state=3, lcm_state=1), True),  # being deployed there
    (replace(ON_NODE1, state=3, lcm_state=4, hosts=("node1", "node3")), True),  # live-migrating away
    (replace(ON_NODE1, state=3, lcm_state=7, hosts=("node1", "node3")), True),  # saving for a cold migration
    (replace(ON_NODE1, state=3, lcm_state=8, hosts=("node1", "node3")), False),  # saved, copied to node3
    (replace(ON_NODE1, hosts=("node1", "node3")), False),  # powered off on node3
    (replace(ON_NODE1, state=3, lcm_state=11), False),  # being terminated
    (replace(ON_NODE1, state=3, lcm_state=30), False),  # being undeployed
    (replace(ON_NODE1, state=9), False),  # undeployed
    (replace(ON_NODE1, state=6), False),  # done
])
def test_a_shared_image_leaves_a_host_with_the_last_vm_that_needs_it_there(
        harness: Harness, vm: Vm, other: Vm, stays: bool) -> None:
    """A powered-off or suspended VM holds no device open, so LINSTOR would not refuse: oned's
    users of the image say whether one is still on the host."""
    add(harness, "one-img9-data")
    harness.oned.records[23] = other
    leave_node1_three_ways(harness)
    detached = [c for c in harness.disks.calls if c[0] == "detach"]
    assert detached == ([] if stays else [("detach", "one-img9-data", "node1")] * 3)
    assert "one-img9-data" in harness.disks.disks


def test_a_vm_is_not_its_own_other_user(harness: Harness, vm: Vm) -> None:
    """VM 22 itself is among image 9's users (oned releases the image after the epilog)."""
    add(harness, "one-img9-data")
    assert harness.oned.image_users(9) == (22,)
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
    tm.delete(harness.env, [f"node1:{DIR}/disk.1", "22", "100"])
    assert harness.disks.mutations() == [("detach", "one-img9-data", "node1")]


def test_a_vms_own_disk_in_use_still_fails_the_move(harness: Harness, vm: Vm, monkeypatch: pytest.MonkeyPatch) -> None:
    add(harness, OWN, **OWN_PROPS)

    def in_use(name: str, node: str) -> None:
        raise InUse([ApiReply(ret_code=-1, message="still in use")])

    monkeypatch.setattr(harness.disks, "detach", in_use)
    expect_link(harness, "node2", device(harness, OWN, "node2"), f"{DIR}/disk.0")
    with pytest.raises(InUse):
        tm.mv(harness.env, [f"node1:{DIR}/disk.0", f"node2:{DIR}/disk.0", "22", "100"])


def test_delete_refuses_a_directory_that_is_not_the_vms(harness: Harness) -> None:
    with pytest.raises(InvalidInput, match="VM id"):
        tm.delete(harness.env, ["node1:/var/lib/one/datastores/0", "22", "0"])


def test_renamed_vm_disk_found_by_owner_props(harness: Harness) -> None:
    harness.oned.records[22] = Vm(id=22, name="renamed")
    add(harness, OWN, **OWN_PROPS)
    tm.snap_create(harness.env, [f"node1:{DIR}/disk.0", "4", "22", "100"])
    assert harness.disks.disks[OWN].snapshots == ("snap-4",)


def test_two_resources_for_one_vm_disk_are_refused_not_guessed_between(harness: Harness, tmp_path: Path) -> None:
    """A deploy retried after onevm rename made a second resource under the new name: a
    snapshot or a migration picking either could act on the copy the VM does not use."""
    add(harness, OWN, **OWN_PROPS)
    add(harness, "one-vm22-renamed-disk-0", **OWN_PROPS)
    with pytest.raises(LinstorError, match="VM 22 disk 0 has 2 LINSTOR resources: one-vm22-renamed-disk-0, "
                                           "one-vm22-web-disk-0") as refused:
        tm.snap_create(harness.env, [f"node1:{DIR}/disk.0", "4", "22", "100"])
    assert "disk.<i> links to" in refused.value.correction
    harness.env.read_stdin = lambda: vm_template()
    with pytest.raises(LinstorError, match="VM 22 disk 0 has 2 LINSTOR resources"):
        tm.premigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    assert harness.disks.mutations() == []  # refused before anything moved, the directory too


def test_snapshots_and_resize(harness: Harness, vm: Vm) -> None:
    add(harness, OWN, **OWN_PROPS)
    args = [f"node1:{DIR}/disk.0", "0", "22", "100"]
    tm.snap_create(harness.env, args)
    expect_link(harness, "node1", device(harness, OWN, "node1"), f"{DIR}/disk.0")  # the device may be new
    tm.snap_revert(harness.env, args)
    tm.snap_delete(harness.env, args)
    tm.resize(harness.env, [f"node1:{DIR}/disk.0", "2048", "22", "100"])
    assert [c[0] for c in harness.disks.mutations()] == ["snapshot", "rollback", "delete_snapshot", "resize"]
    assert [c for c in harness.disks.calls if c[0] in ("exists", "list")] == [("list", OWN_PROPS)] * 4
    assert harness.oned.vm_lookups == []  # the VM's own disk is found by its owner props alone
    assert harness.disks.disks[OWN].size_kib == 2048 * 1024


def test_a_snapshot_left_by_a_create_oned_gave_up_on_is_taken_anew(harness: Harness, vm: Vm) -> None:
    """oned asks only for ids it does not have: a snap-0 there is a killed create's, and a disk
    with no snapshots left in oned numbers from 0 again."""
    harness.disks.disks[OWN] = Disk(name=OWN, size_kib=1024, profile="gold", props=OWN_PROPS, snapshots=("snap-0",))
    tm.snap_create(harness.env, [f"node1:{DIR}/disk.0", "0", "22", "100"])
    assert [c[0] for c in harness.disks.mutations()] == ["snapshot", "delete_snapshot", "snapshot"]
    assert harness.disks.disks[OWN].snapshots == ("snap-0",)


def test_a_snapshot_create_that_is_stopped_takes_its_snapshot_away(harness: Harness, vm: Vm,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """oned's timeout stops the driver after LINSTOR took the snapshot: oned forgets the id."""
    add(harness, OWN, **OWN_PROPS)
    take = harness.disks.snapshot

    def taken_then_stopped(name: str, snapshot: str, nodes: tuple[str, ...] = ()) -> None:
        take(name, snapshot, nodes)
        raise Stopped("stopped by SIGTERM")

    monkeypatch.setattr(harness.disks, "snapshot", taken_then_stopped)
    with pytest.raises(Stopped):
        tm.snap_create(harness.env, [f"node1:{DIR}/disk.0", "3", "22", "100"])
    assert harness.disks.disks[OWN].snapshots == ()


def test_a_persistent_disk_is_looked_up_in_the_vm_template(harness: Harness, vm: Vm) -> None:
    add(harness, "one-img9-data")
    tm.snap_create(harness.env, [f"node1:{DIR}/disk.1", "2", "22", "100"])
    tm.resize(harness.env, [f"node1:{DIR}/disk.1", "2048", "22", "100"])
    assert [c[:2] for c in harness.disks.mutations()] == [("snapshot", "one-img9-data"), ("resize", "one-img9-data")]
    assert harness.oned.vm_lookups == [22, 22]


def test_missing_disk_is_a_clear_error(harness: Harness, vm: Vm) -> None:
    with pytest.raises(LinstorError, match="VM 22 disk 0 has no LINSTOR resource"):
        tm.snap_create(harness.env, [f"node1:{DIR}/disk.0", "0", "22", "100"])


@pytest.mark.parametrize(
    "action, args, reason",
    [
        ("ln", ["fe:x", f"n1:{DIR}/disk.0", "22"], "takes 4"),
        ("clone", ["fe:x", f"n1:{DIR}/disk.0", "vm22", "100"], "vmid"),
        ("mkimage", ["10G", "raw", f"n1:{DIR}/disk.0", "22", "0"], "MiB"),
        ("mkimage", ["10", "btrfs", f"n1:{DIR}/disk.5", "22", "0"], "supported filesystems"),
        ("resize", [f"n1:{DIR}/disk.0", "1.5", "22", "100"], "MiB"),
        ("snap_create", [f"n1:{DIR}/disk.0", "-1", "22", "100"], "zero or more"),
        ("mkimage", ["256", "qcow2", f"n1:{DIR}/disk.2", "22", "0"], "raw block devices"),
        ("snap_create", [f"n1:{DIR}/checkpoint", "1", "22", "100"], "disk.<number>"),
        ("mv", ["n1:/a", "n2"], "takes 4"),
        ("cpds", [f"n1:{DIR}/disk.0", "fe:not-ours", "-1", "22", "100"], "one disk name"),
        ("context", ["x", "y", "z"], "at least 4"),
        ("premigrate", ["a", "b", DIR, "22"], "takes 5"),
    ],
)
def test_bad_arguments_change_nothing(harness: Harness, vm: Vm, action: str, args: list[str], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        tm.ACTIONS[action](harness.env, args)
    assert harness.disks.mutations() == []


@pytest.mark.parametrize("destination", ["node2:/var/lib/one/datastores/101/22", "node1:/var/lib/one/datastores/101/22"])
def test_mv_of_a_vm_directory_to_another_path_is_refused(harness: Harness, vm: Vm, destination: str) -> None:
    """The copy keeps the path, so a directory for another system datastore would land in the
    old one's (or, on the same host, not move at all) while oned believes it moved."""
    with pytest.raises(InvalidInput, match="to another path.*DS_MIGRATE=NO"):
        tm.mv(harness.env, [f"node1:{DIR}", destination, "22", "0"])
    assert harness.disks.mutations() == []
    harness.runner.assert_done()


def test_mv_moves_a_disk_between_hosts(harness: Harness, vm: Vm) -> None:
    add(harness, OWN, **OWN_PROPS)
    expect_link(harness, "node2", device(harness, OWN, "node2"), f"{DIR}/disk.0")
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.0"))
    tm.mv(harness.env, [f"node1:{DIR}/disk.0", f"node2:{DIR}/disk.0", "22", "100"])
    assert harness.disks.mutations() == [("attach", OWN, "node2"), ("detach", OWN, "node1")]


@pytest.mark.parametrize("lcm_state", [10, 30], ids=["EPILOG_STOP", "EPILOG_UNDEPLOY"])
@pytest.mark.parametrize("refusal", [
    NotFound([ApiReply(ret_code=-1, message="Node 'fe' not found.")]),  # the front-end is no LINSTOR node
    InUse([ApiReply(ret_code=-1, message="no DRBD layer, data only on node1")]),
    LinstorError("Satellite 'fe' is offline"),
])
def test_mv_to_a_frontend_that_cannot_reach_the_disk_only_leaves_the_host(
        harness: Harness, vm: Vm, monkeypatch: pytest.MonkeyPatch, refusal: LinstorError, lcm_state: int) -> None:
    """Undeploy and stop move disks to the front-end, which need not be a LINSTOR node."""
    add(harness, OWN, **OWN_PROPS)
    harness.oned.records[22] = replace(VM, lcm_state=lcm_state)

    def refused(name: str, node: str, *, migrating: bool = False) -> str:
        raise refusal

    monkeypatch.setattr(harness.disks, "attach", refused)
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.0"))
    tm.mv(harness.env, [f"node1:{DIR}/disk.0", f"fe:{DIR}/disk.0", "22", "100"])
    assert harness.disks.mutations() == [("detach", OWN, "node1")]


@pytest.mark.parametrize("lcm_state", [8, 9, 31, 43, 45, 60], ids=[
    "PROLOG_MIGRATE", "PROLOG_RESUME", "PROLOG_UNDEPLOY", "PROLOG_MIGRATE_POWEROFF", "PROLOG_MIGRATE_SUSPEND",
    "PROLOG_MIGRATE_UNKNOWN"])
def test_mv_to_a_frontend_the_vm_is_to_run_on_fails_with_linstors_refusal(
        harness: Harness, vm: Vm, monkeypatch: pytest.MonkeyPatch, lcm_state: int) -> None:
    """A cold migration or a resume onto a front-end that is also a hypervisor needs the disk
    there: the refusal is the action's error (before, the MV succeeded without a disk.<i>
    link and only the deploy failed, on a missing file), and the disk stays on its host."""
    add(harness, OWN, **OWN_PROPS)
    harness.oned.records[22] = replace(VM, lcm_state=lcm_state)

    def refused(name: str, node: str, *, migrating: bool = False) -> str:
        raise LinstorError("Satellite 'fe' is offline")

    monkeypatch.setattr(harness.disks, "attach", refused)
    with pytest.raises(LinstorError, match="Satellite 'fe' is offline"):
        tm.mv(harness.env, [f"node1:{DIR}/disk.0", f"fe:{DIR}/disk.0", "22", "100"])
    assert harness.disks.mutations() == []


def test_mv_to_a_frontend_that_is_a_linstor_node_attaches_there(harness: Harness, vm: Vm) -> None:
    """A front-end that is also a hypervisor: undeployed there, the VM may be resumed there,
    with an MV whose source and destination are the same host."""
    add(harness, OWN, **OWN_PROPS)
    expect_link(harness, "fe", device(harness, OWN, "fe"), f"{DIR}/disk.0")
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.0"))
    tm.mv(harness.env, [f"node1:{DIR}/disk.0", f"fe:{DIR}/disk.0", "22", "100"])
    assert harness.disks.mutations() == [("attach", OWN, "fe"), ("detach", OWN, "node1")]
    expect_link(harness, "fe", device(harness, OWN, "fe"), f"{DIR}/disk.0")
    tm.mv(harness.env, [f"fe:{DIR}/disk.0", f"fe:{DIR}/disk.0", "22", "100"])  # resumed on the front-end
    assert harness.disks.mutations()[2:] == [("attach", OWN, "fe")]
    harness.runner.assert_done()


def test_a_stop_while_attaching_on_the_front_end_still_stops(harness: Harness, vm: Vm,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Any refusal there only means the disk leaves the host; a stop signal is no refusal."""
    add(harness, OWN, **OWN_PROPS)

    def stopped(name: str, node: str, *, migrating: bool = False) -> str:
        raise Stopped("stopped by SIGTERM")

    monkeypatch.setattr(harness.disks, "attach", stopped)
    with pytest.raises(Stopped):
        tm.mv(harness.env, [f"node1:{DIR}/disk.0", f"fe:{DIR}/disk.0", "22", "100"])
    assert harness.disks.mutations() == []


def test_a_remote_host_that_cannot_reach_the_disk_fails_the_mv(harness: Harness, vm: Vm,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    add(harness, OWN, **OWN_PROPS)

    def refused(name: str, node: str, *, migrating: bool = False) -> str:
        raise NotFound([ApiReply(ret_code=-1, message="Node 'node9' not found.")])

    monkeypatch.setattr(harness.disks, "attach", refused)
    with pytest.raises(NotFound, match="node9"):
        tm.mv(harness.env, [f"node1:{DIR}/disk.0", f"node9:{DIR}/disk.0", "22", "100"])
    assert harness.disks.mutations() == []


def test_mv_of_the_vm_directory_copies_it_and_removes_the_old_one(harness: Harness) -> None:
    expect_copy(harness, "node1", "-", DIR)
    harness.runner.expect(ssh("node1", f"rm -rf -- {DIR}"))
    tm.mv(harness.env, [f"node1:{DIR}", f"fe:{DIR}", "22", "0"])
    assert harness.disks.mutations() == []


CONTEXT = "one-vm22-web-disk-3"
CONTEXT_PROPS = {**OWN_PROPS, "Aux/bundle/disk": "3", "Aux/bundle/kind": "context"}


def test_the_context_disk_moves_with_the_vm_directory(harness: Harness) -> None:
    """oned moves only DISKs one by one; the context CD-ROM's link lives in the directory."""
    add(harness, OWN, **OWN_PROPS)
    add(harness, CONTEXT, **CONTEXT_PROPS)
    expect_copy(harness, "node1", "node2", DIR)
    expect_link(harness, "node2", device(harness, CONTEXT, "node2"), f"{DIR}/disk.3")
    harness.runner.expect(ssh("node1", f"rm -rf -- {DIR}"))
    tm.mv(harness.env, [f"node1:{DIR}", f"node2:{DIR}", "22", "0"])
    harness.runner.assert_done()
    assert harness.disks.mutations() == [("attach", CONTEXT, "node2"), ("detach", CONTEXT, "node1")]


def test_deleting_the_vm_directory_deletes_the_context_disk(harness: Harness) -> None:
    """oned sends DELETE for each DISK and then for the directory: the context disk, which no
    DISK names, goes with the directory (it leaked with every terminated VM before)."""
    add(harness, OWN, **OWN_PROPS)
    add(harness, CONTEXT, **CONTEXT_PROPS)
    add(harness, "one-vm23-db-disk-3", **{**CONTEXT_PROPS, "Aux/bundle/owner-id": "vm23"})
    harness.runner.expect(ssh("node1", f"rm -rf -- {DIR}"))
    tm.delete(harness.env, [f"node1:{DIR}", "22", "0"])
    assert harness.disks.mutations() == [("delete", CONTEXT, True)]


def test_mvds_leaves_the_host(harness: Harness, vm: Vm) -> None:
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
    tm.mvds(harness.env, [f"node1:{DIR}/disk.1", "one-img9-data", "22", "100"])  # bare, as oned sends it
    assert harness.disks.mutations() == [("detach", "one-img9-data", "node1")]


def test_cpds_clones_or_restores_into_the_saved_image(harness: Harness, vm: Vm) -> None:
    add(harness, OWN, **OWN_PROPS)
    harness.oned.images[12] = "saved"
    tm.cpds(harness.env, [f"node1:{DIR}/disk.0", "one-img12-saved", "-1", "22", "100"])
    assert harness.disks.disks["one-img12-saved"].props["Aux/bundle/owner-name"] == "saved"
    harness.oned.images[13] = "snap"
    harness.disks.snapshot(OWN, "snap-3")
    tm.cpds(harness.env, [f"node1:{DIR}/disk.0", "fe:one-img13-snap", "3", "22", "100"])
    assert ("restore", OWN, "snap-3", "one-img13-snap", harness.disks.disks["one-img13-snap"].props) in harness.disks.calls


def vm_template() -> bytes:
    xml = (f"<VM><ID>22</ID><NAME>web</NAME><TEMPLATE>"
           f"<DISK><DISK_ID>0</DISK_ID><SOURCE>{IMAGE}</SOURCE><CLONE>YES</CLONE><TM_MAD>linstor</TM_MAD></DISK>"
           "<DISK><DISK_ID>1</DISK_ID><SOURCE>one-img9-data</SOURCE><CLONE>NO</CLONE><TM_MAD>linstor</TM_MAD></DISK>"
           "<DISK><DISK_ID>4</DISK_ID><SOURCE>/x</SOURCE><TM_MAD>shared</TM_MAD></DISK>"
           "</TEMPLATE></VM>")
    return base64.b64encode(xml.encode())


def test_premigrate_attaches_on_destination_and_calls_other_tms(harness: Harness, tmp_path: Path) -> None:
    add(harness, OWN, **OWN_PROPS)
    add(harness, "one-img9-data")
    other = tmp_path / "remotes" / "tm" / "shared" / "premigrate"
    other.parent.mkdir(parents=True)
    other.write_text("#!/bin/sh\n")
    harness.env.read_stdin = lambda: vm_template()
    expect_copy(harness, "node1", "node2", DIR)
    expect_link(harness, "node2", device(harness, OWN, "node2"), f"{DIR}/disk.0")
    expect_link(harness, "node2", device(harness, "one-img9-data", "node2"), f"{DIR}/disk.1")
    harness.runner.expect([str(other), "node1", "node2", DIR, "22", "0", "linstor"])
    tm.premigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    assert harness.runner.stdins[-1] == vm_template() + b"\n"  # 6.8's TMs read the template there
    assert [c for c in harness.disks.calls if c[0] == "attach"] == [
        ("attach", OWN, "node2", "migrating"), ("attach", "one-img9-data", "node2", "migrating"),
    ]
    assert not [c for c in harness.disks.calls if c[0] == "set_props"]


def test_an_old_style_template_argument_is_forwarded_as_an_argument(harness: Harness, tmp_path: Path) -> None:
    """oned 6.6 and earlier pass the template as $6: their TMs read it there and the calling
    TM as $7, so a forwarded call carries it in the same place (and on stdin, which 6.8 reads)."""
    add(harness, OWN, **OWN_PROPS)
    add(harness, "one-img9-data")
    other = tmp_path / "remotes" / "tm" / "shared" / "premigrate"
    other.parent.mkdir(parents=True)
    other.write_text("#!/bin/sh\n")
    template = vm_template().decode()
    expect_copy(harness, "node1", "node2", DIR)
    expect_link(harness, "node2", device(harness, OWN, "node2"), f"{DIR}/disk.0")
    expect_link(harness, "node2", device(harness, "one-img9-data", "node2"), f"{DIR}/disk.1")
    harness.runner.expect([str(other), "node1", "node2", DIR, "22", "0", template, "linstor"])
    tm.premigrate(harness.env, ["node1", "node2", DIR, "22", "0", template])
    harness.runner.assert_done()
    assert harness.runner.stdins[-1] == template.encode() + b"\n"


def test_postmigrate_detaches_from_source_old_style_template_argument(harness: Harness) -> None:
    add(harness, OWN, **OWN_PROPS)
    harness.oned.datastores[100] = harness.oned.datastores[0]
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.0"))
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
    tm.postmigrate(harness.env, ["node1", "node2", DIR, "22", "0", vm_template().decode(), "ssh"])
    assert [c for c in harness.disks.calls if c[0] in ("detach", "end_migration")] == [
        ("end_migration", OWN, "node1"), ("end_migration", "one-img9-data", "node1"),
    ]


def test_failmigrate_undoes_premigrate_on_the_destination(harness: Harness) -> None:
    add(harness, OWN, **OWN_PROPS)
    harness.env.read_stdin = lambda: vm_template()
    harness.runner.expect(ssh("node2", f"rm -f {DIR}/disk.0"))
    harness.runner.expect(ssh("node2", f"rm -f {DIR}/disk.1"))
    harness.runner.expect(ssh("node2", f"rm -rf -- {DIR}"))
    tm.failmigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    assert [c for c in harness.disks.calls if c[0] in ("detach", "end_migration")] == [
        ("end_migration", OWN, "node2"), ("end_migration", "one-img9-data", "node2"),
    ]


def test_a_failed_premigrate_takes_back_what_it_did(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """oned runs no failmigrate after a failed premigrate: disk 0 would stay attached on the
    destination with two primaries allowed, and the copied directory there."""
    add(harness, OWN, **OWN_PROPS)
    add(harness, "one-img9-data")
    harness.env.read_stdin = lambda: vm_template()
    attach = harness.disks.attach

    def refused_for_the_image(name: str, node: str, *, migrating: bool = False) -> str:
        if name == "one-img9-data":
            raise LinstorError("Node 'node2' is offline")
        return attach(name, node, migrating=migrating)

    monkeypatch.setattr(harness.disks, "attach", refused_for_the_image)
    expect_copy(harness, "node1", "node2", DIR)
    expect_link(harness, "node2", device(harness, OWN, "node2"), f"{DIR}/disk.0")
    harness.runner.expect(ssh("node2", f"rm -f {DIR}/disk.1"))
    harness.runner.expect(ssh("node2", f"rm -f {DIR}/disk.0"))
    harness.runner.expect(ssh("node2", f"rm -rf -- {DIR}"))
    with pytest.raises(LinstorError, match="offline"):
        tm.premigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    harness.runner.assert_done()
    assert [c for c in harness.disks.calls if c[0] == "end_migration"] == [
        ("end_migration", "one-img9-data", "node2"), ("end_migration", OWN, "node2"),
    ]


def test_postmigrate_leaves_a_shared_image_another_guest_uses(harness: Harness,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """disk.1 (one-img9-data, used in place) is refused in use on node1: it stays there for the
    other guest; the VM's own disk 0 in use still fails the postmigrate, after disk 1 was
    done all the same (oned does not repeat a postmigrate)."""
    add(harness, OWN, **OWN_PROPS)
    harness.env.read_stdin = lambda: vm_template()
    refused = {"one-img9-data"}

    def end_migration(name: str, node: str) -> None:
        harness.disks.calls.append(("end_migration", name, node))
        if name in refused:
            raise InUse([ApiReply(ret_code=-1, message=f"{name} is still in use")])

    monkeypatch.setattr(harness.disks, "end_migration", end_migration)
    for link in ("disk.0", "disk.1"):
        harness.runner.expect(ssh("node1", f"rm -f {DIR}/{link}"))
    harness.runner.expect(ssh("node1", f"rm -rf -- {DIR}"))
    tm.postmigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    harness.runner.assert_done()
    refused.add(OWN)
    harness.disks.calls.clear()
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
    with pytest.raises(InUse, match=OWN):
        tm.postmigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    harness.runner.assert_done()
    assert [c for c in harness.disks.calls if c[0] == "end_migration"] == [
        ("end_migration", OWN, "node1"), ("end_migration", "one-img9-data", "node1")]


def test_postmigrate_keeps_a_shared_image_for_a_powered_off_vm_on_the_source(harness: Harness) -> None:
    """Two primaries end all the same; the image stays attached on node1 for VM 23."""
    add(harness, OWN, **OWN_PROPS)
    harness.oned.records[23] = ON_NODE1
    harness.env.read_stdin = lambda: vm_template()
    for link in ("disk.0", "disk.1", ""):
        harness.runner.expect(ssh("node1", f"rm -f {DIR}/{link}" if link else f"rm -rf -- {DIR}"))
    tm.postmigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    harness.runner.assert_done()
    assert [c for c in harness.disks.calls if c[0] in ("detach", "end_migration", "end_two_primaries")] == [
        ("end_migration", OWN, "node1"), ("end_two_primaries", "one-img9-data")]


def test_postmigrate_ends_the_migration_of_every_disk_when_one_fails(harness: Harness,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk skipped after the failed one would keep two primaries allowed: DRBD's guard
    against the guest running twice."""
    add(harness, OWN, **OWN_PROPS)
    second = "one-vm22-web-disk-2"
    add(harness, second, **{**OWN_PROPS, "Aux/bundle/disk": "2"})
    harness.env.read_stdin = lambda: vm_template()
    ended: list[str] = []

    def end_migration(name: str, node: str) -> None:
        ended.append(name)
        if name == OWN:
            raise ApiError([ApiReply(ret_code=-1, message="controller hiccup")])

    monkeypatch.setattr(harness.disks, "end_migration", end_migration)
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.1"))
    harness.runner.expect(ssh("node1", f"rm -f {DIR}/disk.2"))
    with pytest.raises(ApiError, match="controller hiccup"):
        tm.postmigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    harness.runner.assert_done()
    assert sorted(ended) == sorted([OWN, "one-img9-data", second])


def test_migration_to_the_same_host_does_nothing(harness: Harness) -> None:
    harness.env.read_stdin = lambda: vm_template()
    tm.failmigrate(harness.env, ["node1", "node1", DIR, "22", "0"])
    assert harness.disks.calls == []


def test_migration_with_a_broken_template_changes_nothing(harness: Harness) -> None:
    harness.env.read_stdin = lambda: b"PFZNPjwvVk0"  # "<VM></VM" truncated
    with pytest.raises(InvalidInput):
        tm.premigrate(harness.env, ["node1", "node2", DIR, "22", "0"])
    assert harness.disks.calls == []
