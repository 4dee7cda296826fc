"""linstor_core.filesystems: the exact commands, the refusals, and mountinfo parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core import filesystems, libmount
from linstor_core.errors import InvalidInput, StorageError
from linstor_core.runner import FakeRunner

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
41 22 7:3 / /var/lib/docker-volumes/linstor/web rw,relatime shared:20 - ext4 /dev/loop3 rw
42 22 7:3 / /mnt/with\\040space rw,relatime - ext4 /dev/loop3 rw
43 41 7:4 / /var/lib/docker-volumes/linstor/web rw,noatime - xfs /dev/loop4 rw
44 22 0:5 / /dev rw,nosuid master:2 - devtmpfs udev rw,size=100k
45 22 7:5 / /srv/tab\\011and\\134back\\012slash rw - ext4 /mnt/web rw
"""


@pytest.fixture()
def mountinfo(tmp_path: Path) -> Path:
    path = tmp_path / "mountinfo"
    path.write_text(MOUNTINFO)
    return path


def test_make_filesystem_runs_mkfs_quietly_with_options_before_the_device() -> None:
    runner = FakeRunner().expect(["mkfs.ext4", "-q", "-F", "-L", "data", "-E", "nodiscard", "/dev/loop3"])
    filesystems.make_filesystem("/dev/loop3", "ext4", ["-L", "data"], runner=runner)
    runner.assert_done()


def test_make_filesystem_never_forces_xfs_over_existing_data() -> None:
    runner = FakeRunner().expect(["mkfs.xfs", "-q", "-K", "/dev/loop3"])
    filesystems.make_filesystem("/dev/loop3", "xfs", runner=runner)
    runner.assert_done()


def test_overwrite_forces_xfs_and_changes_nothing_for_ext4() -> None:
    runner = FakeRunner().expect(["mkfs.xfs", "-q", "-f", "-K", "-L", "x", "/dev/loop3"])
    runner.expect(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", "/dev/loop3"])
    filesystems.make_filesystem("/dev/loop3", "xfs", ["-L", "x"], runner=runner, overwrite=True)
    filesystems.make_filesystem("/dev/loop3", "ext4", runner=runner, overwrite=True)
    runner.assert_done()


@pytest.mark.parametrize(("options", "passed"), [
    ([], ["-E", "nodiscard"]),
    (["-E", "lazy_itable_init=0"], ["-E", "nodiscard,lazy_itable_init=0"]),
    (["-Elazy_itable_init=0", "-m", "0"], ["-Enodiscard,lazy_itable_init=0", "-m", "0"]),
    (["-qE", "stride=8"], ["-qE", "nodiscard,stride=8"]),
    # mke2fs keeps only the last -E: that one carries it
    (["-E", "stride=8", "-E", "stripe_width=16"], ["-E", "stride=8", "-E", "nodiscard,stripe_width=16"]),
    # a value that merely looks like -E belongs to the option before it
    (["-L", "-E"], ["-L", "-E", "-E", "nodiscard"]),
    # the user said which: left as given
    (["-E", "discard"], ["-E", "discard"]),
    (["-E", "stride=8,nodiscard"], ["-E", "stride=8,nodiscard"]),
])
def test_ext4_never_discards_unless_the_options_ask_for_it(options: list[str], passed: list[str]) -> None:
    """A fresh volume holds nothing to give back, and discarding a thick one deallocates it."""
    runner = FakeRunner().expect(["mkfs.ext4", "-q", "-F", *passed, "/dev/loop3"])
    filesystems.make_filesystem("/dev/loop3", "ext4", options, runner=runner)
    runner.assert_done()


def test_options_are_checked_before_discarding_is_turned_off() -> None:
    for options, message in ((["-E"], "needs a value"), (["-d", "/etc"], "copies a host directory"),
                             (["data"], "is not an option")):
        with pytest.raises(InvalidInput, match=message):
            filesystems.make_filesystem("/dev/loop3", "ext4", options, runner=FakeRunner())


@pytest.mark.parametrize("fstype", ["btrfs", "vfat", "", "ext4 ", "../ext4"])
def test_make_filesystem_refuses_unknown_types_before_running_anything(fstype: str) -> None:
    with pytest.raises(InvalidInput, match="supported filesystems are ext4, ext3, xfs"):
        filesystems.make_filesystem("/dev/loop3", fstype, runner=FakeRunner())


def test_check_size_refuses_xfs_below_300_mib_and_accepts_small_ext4() -> None:
    filesystems.check_size("ext4", 4096)
    filesystems.check_size("xfs", 300 * 1024)
    with pytest.raises(InvalidInput, match="xfs needs at least 300 MiB"):
        filesystems.check_size("xfs", 100 * 1024)


def test_make_filesystem_refuses_empty_options() -> None:
    with pytest.raises(InvalidInput, match="fsopts"):
        filesystems.make_filesystem("/dev/loop3", "ext4", [""], runner=FakeRunner())


@pytest.fixture()
def device(tmp_path: Path) -> str:
    path = tmp_path / "device"
    path.touch()
    return str(path)


def test_has_filesystem_is_true_when_blkid_finds_a_signature(device: str) -> None:
    runner = FakeRunner().expect(["blkid", "-p", "-o", "value", "-s", "TYPE", device], "ext4\n")
    assert filesystems.has_filesystem(device, runner=runner)


def test_has_filesystem_is_false_on_blkid_exit_2(device: str) -> None:
    argv = ["blkid", "-p", "-o", "value", "-s", "TYPE", device]
    runner = FakeRunner().expect(argv, StorageError(argv, 2, ""))
    assert not filesystems.has_filesystem(device, runner=runner)


def test_has_filesystem_raises_on_other_blkid_failures(device: str) -> None:
    argv = ["blkid", "-p", "-o", "value", "-s", "TYPE", device]
    runner = FakeRunner().expect(argv, StorageError(argv, 4, "blkid: error: No such device"))
    with pytest.raises(StorageError, match="No such device"):
        filesystems.has_filesystem(device, runner=runner)


def test_a_missing_device_is_an_error_not_an_empty_device(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist.*correction: attach the disk"):
        filesystems.has_filesystem(str(tmp_path / "drbd1000"), runner=FakeRunner())


def test_mount_creates_the_target_and_joins_options(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    runner = FakeRunner().expect(
        ["mount", "-t", "xfs", "-o", "noatime,nodev", "/dev/loop3", str(target)]
    )
    filesystems.mount("/dev/loop3", str(target), ["noatime", "nodev"], fstype="xfs",
                      mounter=filesystems.CommandMounter(runner))
    runner.assert_done()
    assert target.is_dir()


def test_mount_without_options_passes_no_dash_o(tmp_path: Path) -> None:
    runner = FakeRunner().expect(["mount", "/dev/loop3", str(tmp_path)])
    filesystems.mount("/dev/loop3", str(tmp_path), mounter=filesystems.CommandMounter(runner))
    runner.assert_done()


def test_mount_refuses_bad_options_and_types_before_anything_runs(tmp_path: Path) -> None:
    mounter = filesystems.CommandMounter(FakeRunner())
    with pytest.raises(InvalidInput, match="mountopts"):
        filesystems.mount("/dev/loop3", str(tmp_path / "a"), ["noatime", ""], mounter=mounter)
    with pytest.raises(InvalidInput, match="fs"):
        filesystems.mount("/dev/loop3", str(tmp_path / "a"), fstype="btrfs", mounter=mounter)
    assert not (tmp_path / "a").exists()


def test_the_default_mounter_is_libmount_and_the_commands_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(filesystems.default_mounter(), libmount.LibMount)
    monkeypatch.setattr(libmount, "available", lambda: False)
    assert filesystems.default_mounter() == filesystems.CommandMounter()


def test_unmount_is_idempotent(mountinfo: Path) -> None:
    runner = FakeRunner().expect(["umount", "/mnt/with space"])
    mounter = filesystems.CommandMounter(runner)
    filesystems.unmount("/mnt/with space", mounter=mounter, mountinfo=mountinfo)
    filesystems.unmount("/not/mounted", mounter=mounter, mountinfo=mountinfo)
    runner.assert_done()


def test_read_mounts_decodes_escapes_and_skips_optional_fields(mountinfo: Path) -> None:
    entries = filesystems.read_mounts(mountinfo)
    assert [e.mount_point for e in entries][:3] == ["/", "/var/lib/docker-volumes/linstor/web", "/mnt/with space"]
    web = entries[1]
    assert (web.source, web.fstype, web.device_number) == ("/dev/loop3", "ext4", (7, 3))
    assert web.options == ("rw", "relatime")


def test_mountpoints_of_a_target_shows_stacked_mounts_twice(mountinfo: Path) -> None:
    target = "/var/lib/docker-volumes/linstor/web"
    assert filesystems.mountpoints_of(target, mountinfo=mountinfo) == [target, target]
    assert filesystems.is_mounted(target, mountinfo=mountinfo)
    assert not filesystems.is_mounted("/var/lib/docker-volumes/linstor", mountinfo=mountinfo)


def test_is_mounted_matches_the_escaped_mount_point_only(mountinfo: Path) -> None:
    """Tab, backslash and newline are escaped in mountinfo; a path named elsewhere on a line
    (here as another mount's source) or a prefix of a mount point is not mounted."""
    assert filesystems.is_mounted("/srv/tab\tand\\back\nslash", mountinfo=mountinfo)
    assert filesystems.is_mounted("/mnt/with space", mountinfo=mountinfo)
    assert not filesystems.is_mounted("/mnt/web", mountinfo=mountinfo)
    assert not filesystems.is_mounted("/mnt/with", mountinfo=mountinfo)
    assert not filesystems.is_mounted("/srv/tab", mountinfo=mountinfo)


def test_mountpoints_of_a_device_lists_each_place_it_is_mounted(mountinfo: Path) -> None:
    # Consistent either way: a real /dev/loop3 is 7:3, and a missing one is matched by name.
    assert filesystems.mountpoints_of("/dev/loop3", mountinfo=mountinfo) == [
        "/var/lib/docker-volumes/linstor/web",
        "/mnt/with space",
    ]


def test_mountpoints_of_a_block_device_matches_by_device_number_not_name(
    mountinfo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filesystems, "_block_device_number", lambda path: (7, 4))
    assert filesystems.mountpoints_of("/dev/drbd/by-res/web/0", mountinfo=mountinfo) == [
        "/var/lib/docker-volumes/linstor/web"
    ]


@pytest.mark.parametrize(("fstype", "options"), [
    ("ext4", ["-E", "nodiscard", "-L", "data"]), ("ext4", ["-Enodiscard", "-m", "0", "-O", "^has_journal"]),
    ("ext4", ["-J", "size=16"]), ("xfs", ["-K", "-L", "x"]), ("xfs", ["-l", "size=16m", "-d", "agcount=4"]),
    ("ext4", ["-s", "1", "-R", "stride=16"]),  # mke2fs's older spellings take values too
])
def test_mkfs_options_on_the_volume_itself_pass_verbatim(fstype: str, options: list[str]) -> None:
    assert filesystems.check_mkfs_options(fstype, options) == options


@pytest.mark.parametrize(("fstype", "options", "message"), [
    ("xfs", ["-l", "logdev=/dev/sdb"], "'logdev=' names a device"),
    ("xfs", ["-llogdev=/dev/sdb"], "'logdev=' names a device"),
    ("xfs", ["-r", "rtdev=/dev/sdc"], "'rtdev=' names a device"),
    ("xfs", ["-l", "name=/dev/sdb"], "'name=' names a device"),  # name= is logdev='s other spelling
    ("xfs", ["-ql", "name=/dev/sdb"], "'name=' names a device"),
    ("xfs", ["-r", "name=/dev/sdc"], "'name=' names a device"),
    ("xfs", ["-d", "file,name=/srv/x"], "names a device or file"),
    ("xfs", ["-p", "/etc/proto"], "-p copies host files"),
    ("xfs", ["-c", "options=/etc/x"], "-c reads a configuration file"),
    ("ext4", ["-d", "/etc"], "-d copies a host directory"),
    ("ext4", ["-Fd", "/etc"], "-d copies a host directory"),
    ("ext4", ["-J", "device=/dev/sdb"], "'device=' names a device"),
    ("ext4", ["-z", "/etc/passwd"], "-z writes an undo file"),
    ("ext4", ["/dev/sdb"], "mkfs would take it for the device"),
    ("ext4", ["-L"], "needs a value"),
])
def test_mkfs_options_reaching_beyond_the_volume_are_refused(fstype: str, options: list[str], message: str) -> None:
    """Passed as arguments, never through a shell, but mkfs's own options name devices and
    host files: an external log would overwrite another disk, -d would copy /etc in."""
    with pytest.raises(InvalidInput, match=message):
        filesystems.check_mkfs_options(fstype, options)


def test_make_filesystem_refuses_them_before_running_anything() -> None:
    ran: list[list[str]] = []
    with pytest.raises(InvalidInput, match="logdev"):
        filesystems.make_filesystem("/dev/loop9", "xfs", ["-l", "logdev=/dev/sdb"],
                                    runner=lambda argv, **kw: ran.append(list(argv)) or "")
    assert ran == []
