"""Datastore actions against a fake disk service: answers, calls, and nothing left on refusal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from linstor_core import filesystems
from linstor_core.errors import AlreadyExists, ConfigError, InvalidInput, LinstorError, Stopped, StorageError
from linstor_core.models import Attachment, Disk
from opennebula_driver import ds, names
from opennebula_driver.records import Datastore, DriverAction, Image

from one_fakes import TEMPLATE, Harness

IMAGE_RD = "one-img7-ubuntu"


def action(tmp_path: Path, **image: object) -> DriverAction:
    template = {**TEMPLATE, "RESTRICTED_DIRS": "/", "SAFE_DIRS": str(tmp_path)}
    fields = {"id": 7, "name": "ubuntu", **image}
    return DriverAction(datastore=Datastore(id=100, template=template), image=Image(**fields))  # type: ignore[arg-type]


def image_file(tmp_path: Path, data: bytes, size: int) -> Path:
    path = tmp_path / "upload.img"
    with open(path, "wb") as handle:
        handle.write(data)
        handle.truncate(size)
    return path


def test_cp_copies_the_file_and_answers_source_and_format(harness: Harness, tmp_path: Path) -> None:
    path = image_file(tmp_path, b"bootsector", 3 * 1024 * 1024 + 1)
    answer = ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=2))
    assert answer == f"{IMAGE_RD} raw"
    disk = harness.disks.disks[IMAGE_RD]
    assert disk.size_kib == 3 * 1024 + 1  # the file is larger than SIZE: the file wins
    assert disk.props["Aux/bundle/owner-id"] == "img7"
    assert ("attach", IMAGE_RD, "fe") in harness.disks.calls and ("detach", IMAGE_RD, "fe") in harness.disks.calls
    device = Path(harness.disks.device(IMAGE_RD, "fe"))
    assert device.read_bytes()[:10] == b"bootsector"
    assert harness.progress and "100%" in harness.progress[-1]


@pytest.mark.parametrize("zeroed", [True, False])
def test_cp_writes_the_zeros_too_where_a_new_disk_does_not_read_as_zeros(
        harness: Harness, tmp_path: Path, zeroed: bool) -> None:
    """Thick LVM hands out volumes holding old data: skipping the image's zero blocks there
    would leave that data in the image."""
    path = image_file(tmp_path, b"bootsector", 1024 * 1024)
    harness.disks.zeroed = zeroed
    device = harness.disks.workdir / f"{IMAGE_RD}@fe"
    device.write_bytes(b"\xff" * (1024 * 1024))  # what the storage held before
    ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1))
    written = device.read_bytes()
    assert written[:10] == b"bootsector"
    # zero blocks are skipped only where the storage hands out zeros (here the fake's 0xff stays)
    assert written[4096:8192] == (b"\xff" * 4096 if zeroed else bytes(4096))


def test_cp_zeroes_the_disk_past_the_image_where_storage_hands_out_old_data(harness: Harness, tmp_path: Path) -> None:
    """IMAGE/SIZE larger than the file (and the round-up to a MiB): the rest is the guest's too."""
    path = image_file(tmp_path, b"bootsector", 1024 * 1024 + 5)
    harness.disks.zeroed = False
    device = harness.disks.workdir / f"{IMAGE_RD}@fe"
    device.write_bytes(b"\xff" * (3 * 1024 * 1024))
    ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=3))
    written = device.read_bytes()
    assert written[:10] == b"bootsector" and written[10:] == bytes(len(written) - 10)


@pytest.mark.parametrize("fstype", ["", "ext4"], ids=["blank", "formatted"])
def test_mkfs_zeroes_a_disk_whose_storage_hands_out_old_data(harness: Harness, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, fstype: str) -> None:
    device = harness.disks.workdir / f"{IMAGE_RD}@fe"
    seen: list[bytes] = []
    monkeypatch.setattr(filesystems, "make_filesystem", lambda dev, fs, *a, **k: seen.append(Path(dev).read_bytes()))
    for zeroed in (True, False):
        harness.disks.zeroed, harness.disks.disks, harness.disks.calls = zeroed, {}, []
        device.write_bytes(b"\xff" * (2 * 1024 * 1024))
        ds.mkfs(harness.env, action(tmp_path, size_mib=2, fstype=fstype or "raw"))
        if zeroed and not fstype:  # nothing to write and nothing to clear: not even attached
            assert not any(call[0] == "attach" for call in harness.disks.calls)
        expected = b"\xff" if zeroed else b"\x00"
        assert (seen.pop() if fstype else device.read_bytes()) == expected * (2 * 1024 * 1024)


@pytest.mark.parametrize(("head", "what", "fix"), [
    (b"QFI\xfb", "qcow2", "qemu-img convert -O raw"),
    (b"KDMV", "VMDK", "qemu-img convert -O raw"),
    (bytes(64) + b"\x7f\x10\xda\xbe", "VDI", "qemu-img convert -O raw"),
    (b"vhdxfile", "VHDX", "qemu-img convert -O raw"),
    (b"\x1f\x8b\x08", "gzip", "gunzip -k"),
    (b"BZh9", "bzip2", "bunzip2 -k"),
    (b"\xfd7zXZ\x00", "xz", "unxz -k"),
    (b"\x28\xb5\x2f\xfd", "zstd", "unzstd"),
])
def test_cp_and_stat_refuse_images_that_are_not_raw_before_creating(
        harness: Harness, tmp_path: Path, head: bytes, what: str, fix: str) -> None:
    """Copied byte for byte such a file is a disk no guest boots; say how to make it raw."""
    path = image_file(tmp_path, head, 4096)
    for act in (ds.cp, ds.stat):
        with pytest.raises(InvalidInput, match=what) as refused:
            act(harness.env, action(tmp_path, path=str(path), size_mib=1))
        assert refused.value.correction.startswith(f"{fix} {path}")
    assert harness.disks.mutations() == []


def test_cp_checks_the_images_md5_and_sha1_before_creating(harness: Harness, tmp_path: Path) -> None:
    """OpenNebula's downloader refuses a file that does not hash to the image's MD5/SHA1."""
    path = image_file(tmp_path, b"bootsector", 4096)
    md5, sha1 = hashlib.md5(path.read_bytes()).hexdigest(), hashlib.sha1(path.read_bytes()).hexdigest()
    for field, digests in (("MD5", {"md5": "0" * 32}), ("SHA1", {"md5": md5.upper(), "sha1": "0" * 40})):
        with pytest.raises(InvalidInput, match=f"IMAGE/TEMPLATE/{field}"):
            ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1, **digests))
    assert harness.disks.mutations() == []
    assert ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1, md5=md5, sha1=sha1)) == f"{IMAGE_RD} raw"


def test_a_raw_disk_image_with_a_boot_sector_is_copied(harness: Harness, tmp_path: Path) -> None:
    path = image_file(tmp_path, b"\xeb\x63\x90" + bytes(507) + b"\x55\xaa", 1024 * 1024)  # an MBR
    assert ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1)) == f"{IMAGE_RD} raw"


def test_cp_refuses_restricted_missing_url_and_qcow2_before_creating(harness: Harness, tmp_path: Path) -> None:
    qcow = tmp_path / "q.qcow2"
    qcow.write_bytes(b"QFI\xfb" + bytes(100))
    cases = {"/etc/passwd": "RESTRICTED_DIRS", str(tmp_path / "none"): "No such file",
             "https://example.org/x.img": "front-end", str(qcow): "qcow2"}
    for path, reason in cases.items():
        with pytest.raises(InvalidInput, match=reason):
            ds.cp(harness.env, action(tmp_path, path=path, size_mib=1))
    assert harness.disks.mutations() == []


def test_cp_failure_removes_the_new_disk(harness: Harness, tmp_path: Path) -> None:
    path = image_file(tmp_path, b"x", 4096)

    def broken(name: str, node: str) -> Attachment:
        return Attachment(str(tmp_path / "no-such-dir" / "device"), diskless=True, starts_zeroed=True)

    harness.disks.attachment = broken  # type: ignore[method-assign]
    with pytest.raises(InvalidInput):
        ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1))
    assert IMAGE_RD not in harness.disks.disks


def test_an_unexpected_error_during_the_copy_removes_the_new_disk(
        harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """oned never asks to remove an image that got no SOURCE: whatever the error, even a bug's,
    the new disk goes."""
    path = image_file(tmp_path, b"x", 4096)

    def bug(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(ds.datacopy, "copy_into_device", bug)
    with pytest.raises(ValueError, match="a bug"):
        ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1))
    assert IMAGE_RD not in harness.disks.disks


def test_a_stop_signal_during_the_copy_removes_the_new_disk(harness: Harness, tmp_path: Path) -> None:
    """oned's action timeout: the copy stops where it is and the disk goes (no rm would come)."""
    path = image_file(tmp_path, b"x", 4096)

    def stopped(name: str, node: str) -> Attachment:
        raise Stopped("stopped by SIGTERM")

    harness.disks.attachment = stopped  # type: ignore[method-assign]
    with pytest.raises(Stopped):
        ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1))
    assert IMAGE_RD not in harness.disks.disks and ("delete", IMAGE_RD, True) in harness.disks.calls


@pytest.mark.parametrize("owner", [{"Aux/made-by": "admin"}, names.image_props(7, "ubuntu")],
                         ids=["someone-elses", "the-images-own-props"])
def test_a_taken_name_is_refused_and_its_disk_left_alone(harness: Harness, tmp_path: Path,
                                                         owner: dict[str, str]) -> None:
    """Whatever its size and props (a second oned on the same cluster reuses image ids), a disk
    already there was not made by this call: never filled, never deleted."""
    path = image_file(tmp_path, b"x", 4096)
    for size_kib in (8, 1024):
        there = Disk(name=IMAGE_RD, size_kib=size_kib, profile="gold", props=dict(owner))
        harness.disks.disks[IMAGE_RD] = there
        with pytest.raises(AlreadyExists):
            ds.cp(harness.env, action(tmp_path, path=str(path), size_mib=1))
        assert harness.disks.disks[IMAGE_RD] == there
        harness.disks.disks["one-img3-base"] = Disk(name="one-img3-base", size_kib=1024, profile="gold")
        with pytest.raises(AlreadyExists):
            ds.clone(harness.env, action(tmp_path, name="ubuntu", path="one-img3-base", size_mib=4))
        assert harness.disks.disks[IMAGE_RD] == there
    assert {c[0] for c in harness.disks.mutations()} == {"create", "clone"}
    assert not [c for c in harness.disks.calls if c[0] == "definition"]


def test_clone_that_cannot_grow_leaves_no_clone(harness: Harness, tmp_path: Path) -> None:
    harness.disks.disks["one-img3-base"] = Disk(name="one-img3-base", size_kib=1024, profile="gold")

    def full(name: str, size_kib: int) -> None:
        raise StorageError(["truncate"], 1, "No space left on device")

    harness.disks.resize = full  # type: ignore[method-assign]
    with pytest.raises(StorageError):
        ds.clone(harness.env, action(tmp_path, id=8, name="copy", path="one-img3-base", size_mib=4))
    assert set(harness.disks.disks) == {"one-img3-base"}


def test_datastore_without_profile(harness: Harness, tmp_path: Path) -> None:
    path = image_file(tmp_path, b"x", 10)
    bare = DriverAction(datastore=Datastore(id=5, template={"SAFE_DIRS": str(tmp_path)}),
                        image=Image(id=7, name="ubuntu", path=str(path)))
    with pytest.raises(ConfigError, match="LINSTOR_RESOURCE_GROUP"):
        ds.cp(harness.env, bare)
    assert harness.disks.calls == []


def test_mkfs_save_as_only_names(harness: Harness, tmp_path: Path) -> None:
    assert ds.mkfs(harness.env, action(tmp_path, size_mib=10, format="save_as")) == IMAGE_RD
    assert harness.disks.calls == []


def test_mkfs_raw_datablock(harness: Harness, tmp_path: Path) -> None:
    assert ds.mkfs(harness.env, action(tmp_path, size_mib=10, fstype="raw")) == IMAGE_RD
    assert harness.disks.disks[IMAGE_RD].size_kib == 10 * 1024


def test_mkfs_formats_on_the_frontend(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[str, str]] = []
    monkeypatch.setattr(filesystems, "make_filesystem", lambda dev, fstype, *a, **k: ran.append((fstype, dev)))
    assert ds.mkfs(harness.env, action(tmp_path, size_mib=10, fstype="ext4")) == IMAGE_RD
    assert ran == [("ext4", str(tmp_path / f"{IMAGE_RD}@fe"))]


def test_mkfs_refuses_unknown_fs_and_bad_size(harness: Harness, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="fs"):
        ds.mkfs(harness.env, action(tmp_path, size_mib=10, fstype="btrfs"))
    with pytest.raises(InvalidInput, match="IMAGE/SIZE"):
        ds.mkfs(harness.env, action(tmp_path, fstype="raw"))
    assert harness.disks.mutations() == []


def test_clone_grows_to_the_new_size(harness: Harness, tmp_path: Path) -> None:
    harness.disks.disks["one-img3-base"] = Disk(name="one-img3-base", size_kib=1024, profile="gold")
    answer = ds.clone(harness.env, action(tmp_path, id=8, name="copy", path="one-img3-base", size_mib=4))
    assert answer == "one-img8-copy raw"
    assert harness.disks.disks["one-img8-copy"].size_kib == 4096


def test_rm_snapshots_and_flatten(harness: Harness, tmp_path: Path) -> None:
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=1024, profile="gold", snapshots=("snap-0", "snap-1"))
    ds.snap_revert(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=1))
    ds.snap_delete(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=1))
    assert harness.disks.disks[IMAGE_RD].snapshots == ("snap-0",)
    ds.snap_flatten(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=0))
    assert ("rollback", IMAGE_RD, "snap-0") in harness.disks.calls
    assert harness.disks.disks[IMAGE_RD].snapshots == ()
    ds.rm(harness.env, action(tmp_path, source=IMAGE_RD))
    assert harness.disks.disks == {}


def test_flatten_to_an_older_snapshot_drops_the_newer_ones_first(harness: Harness, tmp_path: Path) -> None:
    """LINSTOR rolls back only to the most recent snapshot; oned flattens to any."""
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=1024, profile="gold",
                                         snapshots=("backup", "snap-0", "snap-1", "snap-2"))
    ds.snap_flatten(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=0))
    deleted = [call[2] for call in harness.disks.calls if call[0] == "delete_snapshot"]
    assert deleted[:2] == ["snap-1", "snap-2"]  # before the rollback, which they would block
    assert ("rollback", IMAGE_RD, "snap-0") in harness.disks.calls
    assert harness.disks.disks[IMAGE_RD].snapshots == ("backup",)  # an operator's snapshot stays


def test_flatten_of_an_image_in_use_is_refused_before_any_snapshot_goes(harness: Harness, tmp_path: Path) -> None:
    """The rollback would refuse it, but only after the newer snapshots were deleted for it."""
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=1024, profile="gold",
                                         snapshots=("snap-0", "snap-1", "snap-2"))
    harness.disks.in_use.add(IMAGE_RD)
    with pytest.raises(LinstorError, match="in use") as refused:
        ds.snap_flatten(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=0))
    assert "its snapshots are kept" in refused.value.correction
    assert harness.disks.disks[IMAGE_RD].snapshots == ("snap-0", "snap-1", "snap-2")
    assert harness.disks.mutations() == []


def test_a_flatten_whose_rollback_fails_names_the_snapshots_already_gone(harness: Harness, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """oned keeps every snapshot of a failed flatten in its list: the error says which are gone."""
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=1024, profile="gold",
                                         snapshots=("snap-0", "snap-1", "snap-2"))

    def offline(name: str, snapshot: str) -> None:
        raise LinstorError("Node 'bravo' is offline")

    monkeypatch.setattr(harness.disks, "rollback", offline)
    with pytest.raises(LinstorError, match="offline") as failed:
        ds.snap_flatten(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=0))
    assert "deleted already (snap-1, snap-2)" in failed.value.one_line()
    assert "oneimage snapshot-delete" in failed.value.one_line()


def test_flatten_refused_by_a_newer_foreign_snapshot_changes_nothing(harness: Harness, tmp_path: Path) -> None:
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=1024, profile="gold",
                                         snapshots=("snap-0", "snap-1", "nightly"))
    with pytest.raises(LinstorError, match="nightly") as refused:
        ds.snap_flatten(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=0))
    assert "linstor snapshot delete" in refused.value.correction
    with pytest.raises(InvalidInput, match="no such snapshot"):
        ds.snap_flatten(harness.env, action(tmp_path, source=IMAGE_RD, target_snapshot=7))
    assert harness.disks.mutations() == []
    assert harness.disks.disks[IMAGE_RD].snapshots == ("snap-0", "snap-1", "nightly")


def test_snapshot_actions_need_source_and_snapshot(harness: Harness, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="SOURCE"):
        ds.snap_delete(harness.env, action(tmp_path, target_snapshot=1))
    with pytest.raises(InvalidInput, match="TARGET_SNAPSHOT"):
        ds.snap_revert(harness.env, action(tmp_path, source=IMAGE_RD))


def test_monitor_in_mib(harness: Harness, tmp_path: Path) -> None:
    answer = ds.monitor(harness.env, DriverAction(datastore=Datastore(id=100, template=dict(TEMPLATE))))
    assert answer == "USED_MB=5120\nTOTAL_MB=8192\nFREE_MB=3072"


def test_stat_rounds_up_to_mib(harness: Harness, tmp_path: Path) -> None:
    path = image_file(tmp_path, b"", 1024 * 1024 + 1)
    assert ds.stat(harness.env, action(tmp_path, path=str(path))) == "2"


def test_export_points_at_the_frontend_device(harness: Harness, tmp_path: Path) -> None:
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=1024, profile="gold")
    answer = ds.export(harness.env, action(tmp_path, source=IMAGE_RD, size_mib=1))
    assert f"<IMPORT_SOURCE><![CDATA[{tmp_path / (IMAGE_RD + '@fe')}]]></IMPORT_SOURCE>" in answer
    assert "<MD5><![CDATA[b6d81b360a5672d80c27430f39153e2c]]></MD5>" in answer  # md5 of 1 MiB of zeros
    assert "<FORMAT><![CDATA[raw]]></FORMAT>" in answer
    assert ("detach", IMAGE_RD, "fe") not in harness.disks.calls  # the marketplace reads it next


def test_export_sums_the_whole_device_not_the_registered_file(harness: Harness, tmp_path: Path) -> None:
    """What the marketplace downloads is the device: the file rounded up to whole MiB."""
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=3 * 1024, profile="gold")
    device = Path(harness.disks.device(IMAGE_RD, "fe"))
    with open(device, "r+b") as handle:
        handle.write(b"HELLO")
    # IMAGE/SIZE and IMAGE/TEMPLATE/MD5 are those of the file the image was registered from
    answer = ds.export(harness.env, action(tmp_path, source=IMAGE_RD, size_mib=2, md5="0" * 32))
    assert f"<MD5><![CDATA[{hashlib.md5(device.read_bytes()).hexdigest()}]]></MD5>" in answer
    assert "<SIZE><![CDATA[3]]></SIZE>" in answer


def test_export_that_fails_detaches_a_diskless_attachment(harness: Harness, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    harness.disks.disks[IMAGE_RD] = Disk(name=IMAGE_RD, size_kib=1024, profile="gold")

    def unreadable(path: object, algorithm: object = "md5", length: object = None) -> str:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(ds.datacopy, "hexdigest_of", unreadable)
    with pytest.raises(OSError):
        ds.export(harness.env, action(tmp_path, source=IMAGE_RD))
    assert harness.disks.calls[-1] == ("detach", IMAGE_RD, "fe")
    harness.disks.diskless, harness.disks.calls = False, []  # the front-end holds a replica: it stays
    with pytest.raises(OSError):
        ds.export(harness.env, action(tmp_path, source=IMAGE_RD))
    assert ("detach", IMAGE_RD, "fe") not in harness.disks.calls
