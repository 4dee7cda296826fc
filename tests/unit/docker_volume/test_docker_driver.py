"""VolumeDriver against a fake DiskService and a fake host: the promises Docker relies on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from linstor_core.errors import ControllerUnreachable, InvalidInput, LinstorError, StorageError
from linstor_core.models import SelectFilter

from docker_volume.driver import PROP_FILESYSTEM, VolumeDriver

if TYPE_CHECKING:
    from conftest import FakeDisks, FakeHost



def test_create_records_owner_options_and_creation_time(driver: VolumeDriver, disks: FakeDisks) -> None:
    driver.create("web", {"size": "1G", "fs": "ext4", "mountopts": "noatime"})
    disk = disks.disks["docker-web"]
    assert (disk.profile, disk.size_kib) == ("gold", 1024 * 1024)
    assert disk.props["Aux/bundle/platform"] == "docker"
    assert disk.props["Aux/bundle/owner-name"] == "web"
    assert disk.props["Aux/bundle/created-at"] == "2023-11-14T22:13:20Z"
    assert disk.props["Aux/bundle/docker/mountopts"] == "noatime"
    assert disk.props["Aux/bundle/docker/size"] == "1048576KiB"


def test_create_is_idempotent_for_options_meaning_the_same(driver: VolumeDriver, disks: FakeDisks) -> None:
    driver.create("web", {"size": "1G"})
    driver.create("web", {"size": "1024M", "fs": "ext4", "profile": "gold"})
    assert list(disks.disks) == ["docker-web"]


def test_create_refuses_the_same_name_with_other_options(driver: VolumeDriver, disks: FakeDisks) -> None:
    driver.create("web", {"size": "1G"})
    with pytest.raises(InvalidInput, match=r"size: 1 GiB, asked 2 GiB; fs: ext4, asked xfs"):
        driver.create("web", {"size": "2G", "fs": "xfs"})
    assert disks.disks["docker-web"].size_kib == 1024 * 1024


def test_create_again_after_a_resize_in_linstor_is_the_same_volume(driver: VolumeDriver, disks: FakeDisks) -> None:
    """An admin grew the definition (linstor vd set-size): the volume is still the one asked for."""
    driver.create("web", {"size": "1G"})
    disks.disks["docker-web"] = replace(disks.disks["docker-web"], size_kib=2 * 1024 * 1024)
    driver.create("web", {"size": "1G"})
    assert disks.disks["docker-web"].size_kib == 2 * 1024 * 1024


def test_create_refuses_a_case_twin_of_another_volume(driver: VolumeDriver, disks: FakeDisks) -> None:
    driver.create("web", {})
    disks.disks["docker-Web"] = disks.disks["docker-web"]  # LINSTOR finds "docker-Web" as docker-web
    with pytest.raises(LinstorError, match="does not hold Docker volume Web.*ignore case"):
        driver.create("Web", {})


def test_remove_and_mount_of_a_case_twin_never_touch_the_other_volume(
    driver: VolumeDriver, disks: FakeDisks
) -> None:
    """The definition is looked up by name (LINSTOR ignores case) and its owner must match."""
    driver.create("web", {})
    driver.remove("Web")
    assert "docker-web" in disks.disks and not any(call.startswith("delete") for call in disks.calls)
    with pytest.raises(LinstorError, match="volume Web does not exist"):
        driver.mount("Web", "A")
    assert disks.attached == set()


@pytest.mark.parametrize(
    ("name", "opts", "message"),
    [
        ("../x", {}, "not a Docker volume name"),
        ("a/b", {}, "not a Docker volume name"),
        (None, {}, "a volume name is required"),
        ("x" * 65, {}, "longer than 64"),
        ("web", {"sise": "1G"}, "valid options are size, profile, fs"),
        ("web", {"size": "0"}, "greater than zero"),
        ("web", {"size": "-1"}, "greater than zero"),
        ("web", {"size": "abc"}, "not a number"),
        ("web", {"size": "1M"}, "at least 4 MiB"),
        ("web", {"fs": "xfs"}, "xfs needs at least 300 MiB"),
        ("web", {"fs": "vfat"}, "supported filesystems"),
        ("web", {"replicas": "0"}, "from 1 to 16"),
        ("web", {"nodes": "good,-bad"}, "node name"),
        ("web", {"fsopts": "-L 'unbalanced"}, "balance the quotes"),
        ("web", ["size=1G"], "map of option names"),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(
    driver: VolumeDriver, disks: FakeDisks, name: object, opts: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        driver.create(name, opts)  # type: ignore[arg-type]
    assert disks.disks == {} and disks.calls == []


def test_two_mounts_share_one_mount_and_the_last_unmount_detaches(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    driver.create("web", {})
    target = str(mount_root / "web")
    host.expect_first_mount(disks.device("docker-web"), target)
    assert driver.mount("web", "A") == target
    assert driver.mount("web", "B") == target
    assert host.mounted().count(target) == 1 and driver.path("web") == target
    driver.unmount("web", "A")
    assert target in host.mounted() and "docker-web" in disks.attached
    host.expect_unmount(target)
    driver.unmount("web", "B")
    host.runner.assert_done()
    assert target not in host.mounted() and disks.attached == set()
    assert driver.path("web") == ""


def test_the_first_mount_formats_without_probing_and_records_the_filesystem(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """Create records "pending"; the first Mount formats (no blkid: the runner would fail on it)."""
    driver.create("web", {})
    assert disks.disks["docker-web"].props[PROP_FILESYSTEM] == "pending"
    host.expect_first_mount(disks.device("docker-web"), str(mount_root / "web"))
    driver.mount("web", "A")
    host.runner.assert_done()
    assert disks.disks["docker-web"].props[PROP_FILESYSTEM] == "ext4"


@pytest.mark.parametrize("found", [None, "ext4"])
def test_a_volume_without_a_filesystem_record_is_probed_and_formatted_only_when_blank(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path, found: str | None
) -> None:
    """A volume made by an older release (or by hand) has no record: blkid decides."""
    driver.create("web", {})
    disk = disks.disks["docker-web"]
    disks.disks["docker-web"] = replace(disk, props={k: v for k, v in disk.props.items() if k != PROP_FILESYSTEM})
    host.expect_first_mount(disks.device("docker-web"), str(mount_root / "web"), probed=True,
                            formatted=found is not None)
    driver.mount("web", "A")
    host.runner.assert_done()
    assert disks.disks["docker-web"].props.get(PROP_FILESYSTEM) == (None if found else "ext4")


def test_a_failed_record_after_mkfs_fails_the_mount_and_formats_again_next_time(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is sent while the kernel mounts; when it fails the volume is unmounted before
    any container saw it, so the next Mount formats again and loses nothing."""
    driver.create("web", {})
    device, target = disks.device("docker-web"), str(mount_root / "web")
    host.expect_first_mount(device, target)
    host.expect_unmount(target)

    def unreachable(name: str, override: object = {}, delete: object = ()) -> None:
        raise ControllerUnreachable([("http://ctl:3370", "connection refused")])

    with monkeypatch.context() as patch:
        patch.setattr(disks, "set_props", unreachable)
        with pytest.raises(ControllerUnreachable):
            driver.mount("web", "A")
    assert target not in host.mounted() and disks.attached == set() and driver._mounts.holders("web") == frozenset()
    assert disks.disks["docker-web"].props[PROP_FILESYSTEM] == "pending"
    host.expect_first_mount(device, target)
    driver.mount("web", "A")
    host.runner.assert_done()


def test_a_failed_mount_after_mkfs_keeps_the_record_and_the_next_mount_does_not_format(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    driver.create("web", {})
    device, target = disks.device("docker-web"), str(mount_root / "web")
    mount = ["mount", "-t", "ext4", device, target]
    host.runner.expect(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", device]).expect(mount, StorageError(mount, 32, "mount: busy"))
    with pytest.raises(StorageError, match="busy"):
        driver.mount("web", "A")
    assert disks.disks["docker-web"].props[PROP_FILESYSTEM] == "ext4" and disks.attached == set()
    host.expect_first_mount(device, target, formatted=True)
    driver.mount("web", "A")
    host.runner.assert_done()


def test_a_mount_left_by_a_plugin_killed_before_the_record_is_recorded_before_it_is_handed_out(
    make_driver: Callable[[], VolumeDriver], disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """Killed during the first Mount, after the kernel mounted and before the record was stored:
    the mount has no holder and the record says pending. Taking it over stores the record, so
    the Mount after its last Unmount does not format the volume over the containers' data."""
    make_driver().create("web", {})
    target = mount_root / "web"
    target.mkdir(parents=True)
    host.add_mount(disks.device("docker-web"), str(target))  # mkfs and the mount happened
    assert disks.disks["docker-web"].props[PROP_FILESYSTEM] == "pending"
    restarted = make_driver()
    assert restarted.mount("web", "A") == str(target)
    assert disks.disks["docker-web"].props[PROP_FILESYSTEM] == "ext4"
    host.expect_unmount(str(target))
    restarted.unmount("web", "A")
    host.expect_first_mount(disks.device("docker-web"), str(target), formatted=True)  # no mkfs
    restarted.mount("web", "B")
    host.runner.assert_done()


def test_the_last_unmount_of_a_replica_here_only_unmounts_even_after_a_restart(
    make_driver: Callable[[], VolumeDriver], disks: FakeDisks, host: FakeHost, mount_root: Path, node: str
) -> None:
    """Detaching a resource that holds the data would change nothing: no call is made for it."""
    first = make_driver()
    first.create("web", {})
    disks.disks["docker-web"] = replace(disks.disks["docker-web"], nodes=(node,))
    target = str(mount_root / "web")
    host.expect_first_mount(disks.device("docker-web"), target)
    first.mount("web", "A")
    second = make_driver()  # a plugin restart in between
    disks.calls.clear()
    host.expect_unmount(target)
    second.unmount("web", "A")
    host.runner.assert_done()
    assert target not in host.mounted() and disks.calls == []


def test_mount_of_a_formatted_device_makes_no_filesystem(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    driver.create("db", {"size": "1G", "fs": "xfs", "fsopts": "-L data", "mountopts": "noatime,nodev"})
    target = str(mount_root / "db")
    # -f: a pending volume holds at most this plugin's own unused filesystem (see below)
    host.expect_first_mount(disks.device("docker-db"), target, mkfs=("mkfs.xfs", "-q", "-f", "-K", "-L", "data"),
                            mount_args=("-t", "xfs", "-o", "noatime,nodev"))
    driver.mount("db", "A")
    host.expect_unmount(target)
    driver.unmount("db", "A")
    host.expect_first_mount(disks.device("docker-db"), target, formatted=True,
                            mount_args=("-t", "xfs", "-o", "noatime,nodev"))
    driver.mount("db", "A")
    host.runner.assert_done()


def test_a_failed_mkfs_detaches_again_and_records_no_holder(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost
) -> None:
    driver.create("web", {})
    mkfs = ["mkfs.ext4", "-q", "-F", "-E", "nodiscard", disks.device("docker-web")]
    host.runner.expect(mkfs, StorageError(mkfs, 1, "mkfs.ext4: Device size reported to be zero."))
    with pytest.raises(StorageError, match="Device size reported to be zero"):
        driver.mount("web", "A")
    assert disks.attached == set() and driver._mounts.holders("web") == frozenset()


def test_a_mount_refused_for_its_options_says_where_they_come_from(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """A typo in -o mountopts passes Create (only the kernel knows its options); every Mount
    then fails, and the Err says the options are the volume's and how to get other ones."""
    driver.create("typo", {"mountopts": "noatim"})
    device, target = disks.device("docker-typo"), str(mount_root / "typo")
    mount = ["mount", "-t", "ext4", "-o", "noatim", device, target]
    host.runner.expect(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", device]).expect(
        mount, StorageError(mount, 32, "wrong fs type, bad option, bad superblock"))
    with pytest.raises(StorageError, match="bad option") as refused:
        driver.mount("typo", "A")
    assert "noatim are this volume's -o mountopts" in refused.value.one_line()
    assert "create it again" in refused.value.one_line() and disks.attached == set()


def test_an_attachment_that_fails_after_the_attach_detaches_again(
    driver: VolumeDriver, disks: FakeDisks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make-available made the diskless resource, then its device could not be found."""
    driver.create("web", {})
    attach = disks.attachment

    def attached_without_device(name: str, node: str, **accept: Any) -> object:
        attach(name, node, **accept)
        raise LinstorError(f"disk {name} has no device on node {node}")

    monkeypatch.setattr(disks, "attachment", attached_without_device)
    with pytest.raises(LinstorError, match="has no device"):
        driver.mount("web", "A")
    assert disks.attached == set() and driver._mounts.holders("web") == frozenset()


def test_volumes_forgotten_at_start_are_detached_unless_mounted_again(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    driver.create("web", {})
    driver.create("db", {})
    disks.attached.update({"docker-web", "docker-db"})  # diskless clients a reboot left
    driver._mounts.add("db", "A")
    driver.detach_released(["web", "db"])
    assert disks.attached == {"docker-db"}
    assert [c for c in disks.calls if c.startswith("detach")] == ["detach docker-web node-a"]


def test_mount_of_a_missing_volume_says_so(driver: VolumeDriver) -> None:
    with pytest.raises(LinstorError, match="volume ghost does not exist"):
        driver.mount("ghost", "A")


def test_mount_needs_the_caller_id(driver: VolumeDriver) -> None:
    with pytest.raises(InvalidInput, match="ID"):
        driver.mount("web", None)  # type: ignore[arg-type]


def test_an_unknown_caller_unmounting_changes_nothing(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    driver.create("web", {})
    host.expect_first_mount(disks.device("docker-web"), str(mount_root / "web"))
    driver.mount("web", "A")
    driver.unmount("web", "stranger")
    assert str(mount_root / "web") in host.mounted()


def test_holders_survive_a_restart_and_unmount_happens_once(
    make_driver: Callable[[], VolumeDriver], disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    first = make_driver()
    first.create("web", {})
    target = str(mount_root / "web")
    host.expect_first_mount(disks.device("docker-web"), target)
    first.mount("web", "A")
    first.mount("web", "B")
    second = make_driver()
    second.unmount("web", "A")
    assert host.mounted().count(target) == 1
    host.expect_unmount(target)
    second.unmount("web", "B")
    host.runner.assert_done()
    assert target not in host.mounted()


def test_holders_of_a_volume_unmounted_behind_our_back_are_forgotten_on_restart(
    make_driver: Callable[[], VolumeDriver], disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    first = make_driver()
    first.create("web", {})
    target = str(mount_root / "web")
    host.expect_first_mount(disks.device("docker-web"), target)
    first.mount("web", "A")
    host.expect_unmount(target)
    host.runner(["umount", target])  # the host rebooted, say
    second = make_driver()
    assert second._mounts.holders("web") == frozenset()
    host.expect_first_mount(disks.device("docker-web"), target, formatted=True)
    assert second.mount("web", "A") == target
    host.runner.assert_done()


def test_remove_refuses_while_mounted(driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path) -> None:
    driver.create("web", {})
    host.expect_first_mount(disks.device("docker-web"), str(mount_root / "web"))
    driver.mount("web", "A")
    with pytest.raises(LinstorError, match="in use by 1 container"):
        driver.remove("web")
    assert "docker-web" in disks.disks


def test_remove_unmounts_a_mount_without_holders_then_deletes(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    driver.create("web", {})
    target = mount_root / "web"
    target.mkdir(parents=True)
    host.add_mount(disks.device("docker-web"), str(target))
    host.expect_unmount(str(target))
    driver.remove("web")
    host.runner.assert_done()
    assert disks.disks == {} and not target.exists()
    assert disks.calls == ["create docker-web", "definition docker-web", "delete docker-web"]  # no detach


def test_remove_of_a_missing_volume_is_done(driver: VolumeDriver, disks: FakeDisks) -> None:
    driver.remove("ghost")
    assert "delete docker-ghost" not in disks.calls


def test_get_reports_creation_time_and_status(driver: VolumeDriver) -> None:
    driver.create("web", {"size": "200M"})
    info = driver.get("web")
    assert (info.name, info.mountpoint, info.created_at) == ("web", "", "2023-11-14T22:13:20Z")
    assert info.status["size"] == "200 MiB" and info.status["replicas"] == ["node-b"]
    assert info.status["resource"] == "docker-web" and info.status["mounted"] is False


def test_get_of_a_missing_volume_is_an_error(driver: VolumeDriver) -> None:
    with pytest.raises(LinstorError, match="does not exist"):
        driver.get("ghost")


def test_list_shows_only_this_plugins_volumes_by_their_docker_names(driver: VolumeDriver, disks: FakeDisks) -> None:
    driver.create("my.vol", {})
    disks.create("gold", "pve-101-web-disk-0", 1024, props={"Aux/bundle/platform": "pve"})
    assert [v.name for v in driver.list()] == ["my.vol"]


def test_a_volume_lost_on_the_controller_still_unmounts(driver: VolumeDriver, disks: FakeDisks, node: str) -> None:
    driver.unmount("ghost", "A")
    assert disks.calls == [f"detach docker-ghost {node}"]


@pytest.mark.parametrize(
    ("opts", "expected"),
    [
        ({}, None),
        ({"replicas": "3"}, SelectFilter(place_count=3)),
        ({"storagepool": "ssd"}, SelectFilter(storage_pool="ssd")),
        ({"nodes": "node-a, node-b"}, SelectFilter(place_count=2, node_name_list=("node-a", "node-b"))),
        ({"nodes": "node-a,node-b,node-c", "replicas": "2", "storagepool": "ssd"},
         SelectFilter(place_count=2, storage_pool="ssd", node_name_list=("node-a", "node-b", "node-c"))),
    ],
)
def test_placement_options_override_the_profile_for_this_volume_only(
    driver: VolumeDriver, disks: FakeDisks, opts: dict[str, str], expected: SelectFilter | None
) -> None:
    driver.create("web", opts)
    assert disks.select_filters == {"docker-web": expected}
    driver.create("web", opts)
    with pytest.raises(InvalidInput, match="exists with other options: replicas: "):
        driver.create("web", {**opts, "replicas": "5"})


def test_a_pending_xfs_volume_is_formatted_again_after_a_first_mount_that_failed(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """mkfs.xfs refuses to replace a filesystem unless forced: without -f, a first Mount that
    failed after mkfs (record lost, plugin killed) left an xfs volume no Mount could format."""
    driver.create("db", {"size": "1G", "fs": "xfs"})
    device, target = disks.device("docker-db"), str(mount_root / "db")
    mount = ["mount", "-t", "xfs", device, target]
    host.runner.expect(["mkfs.xfs", "-q", "-f", "-K", device]).expect(mount, StorageError(mount, 32, "mount: no medium"))
    with pytest.raises(StorageError):
        driver.mount("db", "A")
    disks.set_props("docker-db", {PROP_FILESYSTEM: "pending"})  # as if the record never arrived
    host.expect_first_mount(device, target, mkfs=("mkfs.xfs", "-q", "-f", "-K"), mount_args=("-t", "xfs"))
    driver.mount("db", "A")
    host.runner.assert_done()


def test_a_volume_without_a_record_is_never_forced(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """Only blkid's "blank" lets such a volume be formatted, and then xfs is not forced."""
    driver.create("db", {"size": "1G", "fs": "xfs"})
    disk = disks.disks["docker-db"]
    disks.disks["docker-db"] = replace(disk, props={k: v for k, v in disk.props.items() if k != PROP_FILESYSTEM})
    host.expect_first_mount(disks.device("docker-db"), str(mount_root / "db"), probed=True,
                            mkfs=("mkfs.xfs", "-q", "-K"), mount_args=("-t", "xfs"))
    driver.mount("db", "A")
    host.runner.assert_done()


def test_a_mkfs_slower_than_docker_waits_fails_the_mount_and_says_what_to_check(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """dockerd gives up on a Mount after 2 minutes and sends no Unmount: a Mount that finished
    later would hold the volume for a container that never started."""
    driver.create("db", {"size": "1G", "fs": "xfs"})
    device = disks.device("docker-db")
    argv = ["mkfs.xfs", "-q", "-f", "-K", device]

    def slow(command: object) -> str:
        raise StorageError(argv, -1, "timed out after 90 s")

    host.runner.expect(argv, slow)
    with pytest.raises(StorageError, match="did not finish within 90 s") as raised:
        driver.mount("db", "A")
    assert "how fast this node writes to the volume" in raised.value.correction
    assert disks.attached == set() and driver._mounts.holders("db") == frozenset()
    assert disks.disks["docker-db"].props[PROP_FILESYSTEM] == "pending"
    host.runner.assert_done()


def test_a_mount_point_that_cannot_be_made_detaches_again(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """Not only LinstorErrors undo the attach: an OSError from the mount root does too."""
    driver.create("web", {})
    mount_root.mkdir(parents=True)
    (mount_root / "web").write_text("a file where the mount point goes")
    host.runner.expect(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", disks.device("docker-web")])
    with pytest.raises(OSError):
        driver.mount("web", "A")
    assert disks.attached == set() and driver._mounts.holders("web") == frozenset()


def test_a_mount_whose_holder_cannot_be_saved_is_undone(
    driver: VolumeDriver, disks: FakeDisks, host: FakeHost, mount_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docker sends no Unmount for a Mount that failed: a holder kept in memory only would
    hold the volume until a restart (Remove refused), so the mount and attach are undone."""
    driver.create("web", {})
    target = str(mount_root / "web")
    host.expect_first_mount(disks.device("docker-web"), target)
    host.expect_unmount(target)

    def disk_full() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(driver._mounts, "_save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        driver.mount("web", "A")
    host.runner.assert_done()
    assert target not in host.mounted() and disks.attached == set()
    assert driver._mounts.holders("web") == frozenset()
