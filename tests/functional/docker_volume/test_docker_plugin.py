"""Docker-shaped JSON over the plugin's real unix socket, on the real embedded controller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from device_io import write_synced
from linstor_core import filesystems
from linstor_core.models import SelectFilter
from docker_volume import probe
from docker_volume.names import resource_name

if TYPE_CHECKING:
    from conftest import Plugin


def rd_names(client: Any) -> list[str]:
    return sorted(rd.name for rd in client.resource_definitions.list())


@pytest.mark.root
def test_full_lifecycle_two_containers_share_one_mount(plugin: Plugin, client: Any) -> None:
    target = plugin.mount_root / "web"
    plugin.ok("/VolumeDriver.Create", {"Name": "web", "Opts": {"size": "64M", "mountopts": "noatime"}})
    assert plugin.ok("/VolumeDriver.Mount", {"Name": "web", "ID": "A"})["Mountpoint"] == str(target)
    assert plugin.ok("/VolumeDriver.Mount", {"Name": "web", "ID": "B"})["Mountpoint"] == str(target)
    assert filesystems.mountpoints_of(str(target)) == [str(target)]
    (target / "hello.txt").write_text("kept\n")

    plugin.ok("/VolumeDriver.Unmount", {"Name": "web", "ID": "A"})
    assert filesystems.is_mounted(str(target))
    plugin.ok("/VolumeDriver.Unmount", {"Name": "web", "ID": "B"})
    assert not filesystems.is_mounted(str(target))
    local = [r for r in client.resources.list("docker-web") if r.node_name == plugin.node]
    assert not any(r.diskless for r in local)  # detached: only a diskful replica may stay

    assert plugin.ok("/VolumeDriver.Mount", {"Name": "web", "ID": "C"})["Mountpoint"] == str(target)
    assert (target / "hello.txt").read_text() == "kept\n"
    entry = next(e for e in filesystems.read_mounts() if e.mount_point == str(target))
    assert entry.fstype == "ext4" and "noatime" in entry.options
    refused = plugin.call("/VolumeDriver.Remove", {"Name": "web"})
    assert "in use by 1 container" in refused["Err"] and "docker-web" in rd_names(client)

    plugin.ok("/VolumeDriver.Unmount", {"Name": "web", "ID": "C"})
    plugin.ok("/VolumeDriver.Remove", {"Name": "web"})
    assert "docker-web" not in rd_names(client)
    assert not target.exists()


@pytest.mark.root
def test_docker_cp_into_a_running_container_leaves_its_volume_mounted(plugin: Plugin, client: Any) -> None:
    """dockerd Mounts with the running container's mount ID again for docker cp and Unmounts
    it afterwards: the container's own hold stays, so nothing is unmounted and Remove is
    refused until the container's Unmount."""
    target = plugin.mount_root / "cp"
    plugin.ok("/VolumeDriver.Create", {"Name": "cp", "Opts": {"size": "16M"}})
    plugin.ok("/VolumeDriver.Mount", {"Name": "cp", "ID": "A"})  # the container starts
    plugin.ok("/VolumeDriver.Mount", {"Name": "cp", "ID": "A"})  # docker cp
    (target / "copied").write_text("in")
    plugin.ok("/VolumeDriver.Unmount", {"Name": "cp", "ID": "A"})  # docker cp done
    assert filesystems.is_mounted(str(target)) and (target / "copied").read_text() == "in"
    refused = plugin.call("/VolumeDriver.Remove", {"Name": "cp"})
    assert "in use by 1 container" in refused["Err"] and "docker-cp" in rd_names(client)
    plugin.ok("/VolumeDriver.Unmount", {"Name": "cp", "ID": "A"})  # the container stops
    assert not filesystems.is_mounted(str(target))
    plugin.ok("/VolumeDriver.Remove", {"Name": "cp"})


def test_dockerds_kept_connection_carries_every_call(plugin: Plugin, client: Any) -> None:
    """dockerd's Go transport keeps its connection to a plugin between calls: every call, an
    answer with an Err among them, is answered on the one connection."""
    calls = [
        ("/Plugin.Activate", {}),
        ("/VolumeDriver.Capabilities", {}),
        ("/VolumeDriver.Create", {"Name": "kept", "Opts": {"size": "8M"}}),
        ("/VolumeDriver.Get", {"Name": "not-there"}),
        ("/VolumeDriver.Get", {"Name": "kept"}),
        ("/VolumeDriver.List", {}),
        ("/VolumeDriver.Remove", {"Name": "kept"}),
    ]
    with probe.PluginClient(plugin.socket) as docker:
        answers, sockets = [], []  # the objects themselves: an id may be reused
        for endpoint, body in calls:
            status, answer = docker.call(endpoint, body)
            assert status == 200, answer
            answers.append(answer)
            sockets.append(docker.current_socket)
    assert sockets[0] is not None and all(kept is sockets[0] for kept in sockets)
    assert answers[0] == {"Implements": ["VolumeDriver"]}
    assert "does not exist" in answers[3]["Err"] and answers[4]["Volume"]["Name"] == "kept"
    assert [v["Name"] for v in answers[5]["Volumes"]] == ["kept"]
    assert all(not a.get("Err") for i, a in enumerate(answers) if i != 3)
    assert "docker-kept" not in rd_names(client)


@pytest.mark.root
def test_a_killed_plugin_restarts_without_losing_or_doubling_mounts(plugin: Plugin) -> None:
    target = str(plugin.mount_root / "db")
    plugin.ok("/VolumeDriver.Create", {"Name": "db", "Opts": {"size": "32M"}})
    plugin.ok("/VolumeDriver.Mount", {"Name": "db", "ID": "A"})
    plugin.ok("/VolumeDriver.Mount", {"Name": "db", "ID": "B"})

    plugin.kill()
    plugin.start()
    assert plugin.ok("/VolumeDriver.Path", {"Name": "db"})["Mountpoint"] == target
    plugin.ok("/VolumeDriver.Unmount", {"Name": "db", "ID": "A"})
    assert filesystems.mountpoints_of(target) == [target]
    plugin.ok("/VolumeDriver.Unmount", {"Name": "db", "ID": "B"})
    assert filesystems.mountpoints_of(target) == []
    log = plugin.log.read_text()
    assert log.count("volume db: mounted") == 1 and log.count("volume db: no holder left, unmounting") == 1
    plugin.ok("/VolumeDriver.Remove", {"Name": "db"})


@pytest.mark.root
def test_a_plugin_killed_before_the_filesystem_record_never_formats_the_volume_again(
    plugin: Plugin, client: Any
) -> None:
    """Killed during the first Mount after the kernel mounted, before the holder and the
    filesystem record were stored: the volume is mounted, nobody holds it and the record still
    says pending. The Mount that takes the mount over records the filesystem, so the data its
    container writes survives the next first Mount."""
    target = plugin.mount_root / "crash"
    plugin.ok("/VolumeDriver.Create", {"Name": "crash", "Opts": {"size": "32M"}})
    plugin.ok("/VolumeDriver.Mount", {"Name": "crash", "ID": "A"})
    plugin.kill()
    plugin.state_file.write_text(json.dumps({"version": 1, "volumes": {}, "keeps_attached": []}))
    client.resource_definitions.set_props("docker-crash", {"Aux/bundle/filesystem": "pending"})
    plugin.start()

    plugin.ok("/VolumeDriver.Mount", {"Name": "crash", "ID": "B"})
    assert client.resource_definitions.get("docker-crash").props["Aux/bundle/filesystem"] == "ext4"
    (target / "precious.txt").write_text("precious\n")
    plugin.ok("/VolumeDriver.Unmount", {"Name": "crash", "ID": "B"})
    assert not filesystems.is_mounted(str(target))
    plugin.ok("/VolumeDriver.Mount", {"Name": "crash", "ID": "C"})
    assert (target / "precious.txt").read_text() == "precious\n"
    assert plugin.log.read_text().count("making ext4") == 1
    plugin.ok("/VolumeDriver.Unmount", {"Name": "crash", "ID": "C"})
    plugin.ok("/VolumeDriver.Remove", {"Name": "crash"})


def local_device(client: Any, plugin: Plugin, rd: str) -> str:
    (resource,) = [r for r in client.resources.list(rd) if r.node_name == plugin.node]
    return resource.volumes[0].device_path


@pytest.mark.root
def test_a_made_filesystem_is_recorded_and_a_damaged_one_is_never_formatted_again(
    plugin: Plugin, client: Any
) -> None:
    """The record, not a probe, says the filesystem is made: with its superblock wiped the volume
    fails to mount, and what is left on it (the data blocks) stays for fsck or recovery."""
    plugin.ok("/VolumeDriver.Create", {"Name": "logs", "Opts": {"size": "32M"}})
    assert client.resource_definitions.get("docker-logs").props["Aux/bundle/filesystem"] == "pending"
    target = plugin.mount_root / "logs"
    plugin.ok("/VolumeDriver.Mount", {"Name": "logs", "ID": "A"})
    assert client.resource_definitions.get("docker-logs").props["Aux/bundle/filesystem"] == "ext4"
    (target / "kept.txt").write_text("kept\n")
    plugin.ok("/VolumeDriver.Unmount", {"Name": "logs", "ID": "A"})

    device = local_device(client, plugin, "docker-logs")
    write_synced(device, bytes(1024), 1024)  # ext4's primary superblock: 1 KiB at offset 1 KiB
    refused = plugin.call("/VolumeDriver.Mount", {"Name": "logs", "ID": "A"})
    assert "wrong fs type" in refused["Err"] and not filesystems.is_mounted(str(target))
    assert "making ext4" not in plugin.log.read_text().split("volume logs: mounted")[-1]
    probe = subprocess.run(["blkid", "-p", device], capture_output=True, text=True, check=False)
    assert probe.returncode == 2  # still no superblock: nothing was formatted over the rest
    plugin.ok("/VolumeDriver.Remove", {"Name": "logs"})


@pytest.mark.root
def test_a_volume_without_the_record_is_probed_and_its_filesystem_kept(plugin: Plugin, client: Any) -> None:
    """Made by an older release: no record, so blkid decides, and finds the filesystem."""
    plugin.ok("/VolumeDriver.Create", {"Name": "old", "Opts": {"size": "32M"}})
    target = plugin.mount_root / "old"
    plugin.ok("/VolumeDriver.Mount", {"Name": "old", "ID": "A"})
    (target / "kept.txt").write_text("kept\n")
    plugin.ok("/VolumeDriver.Unmount", {"Name": "old", "ID": "A"})
    client.resource_definitions.set_props("docker-old", delete=["Aux/bundle/filesystem"])
    plugin.ok("/VolumeDriver.Mount", {"Name": "old", "ID": "B"})
    assert (target / "kept.txt").read_text() == "kept\n"
    assert plugin.log.read_text().count("making ext4") == 1
    plugin.ok("/VolumeDriver.Unmount", {"Name": "old", "ID": "B"})
    plugin.ok("/VolumeDriver.Remove", {"Name": "old"})


BAD_CREATES = [
    pytest.param(b'{"Name": "web", "Opts": {', "not JSON", id="malformed-json"),
    pytest.param(b'{"Opts": {}}', "a volume name is required", id="missing-name"),
    pytest.param(b'{"Name": "../x"}', "not a Docker volume name", id="dotdot"),
    pytest.param(b'{"Name": "a/b"}', "not a Docker volume name", id="slash"),
    pytest.param(b'{"Name": "' + b"n" * 200 + b'"}', "longer than 64", id="oversize"),
    pytest.param(
        b'{"Name": "web", "Opts": {"colour": "red"}}', "valid options are size, profile, fs", id="unknown-option"
    ),
    pytest.param(b'{"Name": "web", "Opts": {"size": "0"}}', "greater than zero", id="size-0"),
    pytest.param(b'{"Name": "web", "Opts": {"size": "-1"}}', "greater than zero", id="size-negative"),
    pytest.param(b'{"Name": "web", "Opts": {"size": "abc"}}', "not a number", id="size-abc"),
    pytest.param(b'{"Name": "other", "Opts": {"size": "400M", "fs": "xfs", "fsopts": "-l logdev=/dev/sda"}}',
                 "'logdev=' names a device or file beside the volume", id="fsopts-other-device"),
    pytest.param(b'{"Name": "other", "Opts": {"fsopts": "-d /etc"}}', "-d copies a host directory", id="fsopts-host-dir"),
    pytest.param(b'{"Name": "other", "Opts": {"fsopts": "/dev/sda"}}', "is not an option", id="fsopts-a-device"),
]


def world(plugin: Plugin, client: Any) -> dict[str, Any]:
    """Everything a request could change: definitions with their properties, resources, the
    mount state file, the mount root's entries and what is mounted under it."""
    state = plugin.state_file.read_text() if plugin.state_file.exists() else None
    root = str(plugin.mount_root)
    return {
        "definitions": {rd.name: dict(rd.props) for rd in client.resource_definitions.list()},
        "resources": sorted((r.name, r.node_name, r.diskless) for r in client.resources.view()),
        "state file": state,
        "mount root": sorted(p.name for p in plugin.mount_root.iterdir()) if plugin.mount_root.exists() else [],
        "mounts": [e.mount_point for e in filesystems.read_mounts() if e.mount_point.startswith(root + "/")],
    }


BAD_CALLS = [
    pytest.param("/VolumeDriver.Mount", b'{"Name": "web", ', "not JSON", id="mount-malformed-json"),
    pytest.param("/VolumeDriver.Mount", b'{"ID": "A"}', "a volume name is required", id="mount-missing-name"),
    pytest.param("/VolumeDriver.Mount", b'{"Name": "web"}', "container's ID", id="mount-missing-id"),
    pytest.param("/VolumeDriver.Unmount", b'{"ID": "A"}', "a volume name is required", id="unmount-missing-name"),
    pytest.param("/VolumeDriver.Remove", b"{}", "a volume name is required", id="remove-missing-name"),
    pytest.param("/VolumeDriver.Remove", b'["web"]', "must be a JSON object", id="remove-not-an-object"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_CREATES)
def test_bad_input_gets_an_err_and_changes_nothing(plugin: Plugin, client: Any, raw: bytes, message: str) -> None:
    plugin.ok("/VolumeDriver.Create", {"Name": "web", "Opts": {"size": "8M"}})
    before = world(plugin, client)
    answer = plugin.call("/VolumeDriver.Create", raw=raw)
    assert message in answer["Err"]
    assert world(plugin, client) == before


@pytest.mark.parametrize(("endpoint", "raw", "message"), BAD_CALLS)
def test_bad_mount_unmount_and_remove_requests_change_nothing(
    plugin: Plugin, client: Any, endpoint: str, raw: bytes, message: str
) -> None:
    plugin.ok("/VolumeDriver.Create", {"Name": "web", "Opts": {"size": "8M"}})
    before = world(plugin, client)
    assert message in plugin.call(endpoint, raw=raw)["Err"]
    assert world(plugin, client) == before


@pytest.mark.parametrize("endpoint", ["/VolumeDriver.Mount", "/VolumeDriver.Remove", "/VolumeDriver.Get"])
@pytest.mark.parametrize("name", ["../x", "a/b", "/etc"])
def test_path_traversal_names_are_refused_on_every_endpoint(
    plugin: Plugin, client: Any, endpoint: str, name: str
) -> None:
    before = world(plugin, client)
    assert "not a Docker volume name" in plugin.call(endpoint, {"Name": name, "ID": "A"})["Err"]
    assert world(plugin, client) == before


def test_get_list_and_idempotent_create(plugin: Plugin, client: Any) -> None:
    assert plugin.call("/VolumeDriver.Capabilities") == {"Capabilities": {"Scope": "global"}}
    plugin.ok("/VolumeDriver.Create", {"Name": "app.data", "Opts": {"size": "20MiB"}})
    plugin.ok("/VolumeDriver.Create", {"Name": "app.data", "Opts": {"size": "20M", "profile": plugin.profile}})
    # LINSTOR names ignore case: the group it reports back is spelled as it was made.
    plugin.ok("/VolumeDriver.Create", {"Name": "app.data", "Opts": {"size": "20M", "profile": plugin.profile.upper()}})
    different = plugin.call("/VolumeDriver.Create", {"Name": "app.data", "Opts": {"size": "40M"}})
    assert "exists with other options: size: 20 MiB, asked 40 MiB" in different["Err"]
    plugin.ok("/VolumeDriver.Create", {"Name": "default.size"})  # 100MB: 97657 KiB
    nearly = plugin.call("/VolumeDriver.Create", {"Name": "default.size", "Opts": {"size": "97656KiB"}})
    assert "exists with other options: size: 95.37 MiB (97657 KiB), asked 95.37 MiB (97656 KiB)" in nearly["Err"]
    plugin.ok("/VolumeDriver.Remove", {"Name": "default.size"})
    client.resource_groups.spawn(plugin.profile, "not-docker", [8192])

    volume = plugin.ok("/VolumeDriver.Get", {"Name": "app.data"})["Volume"]
    assert volume["Name"] == "app.data" and volume["Mountpoint"] == ""
    assert volume["CreatedAt"].endswith("Z") and volume["Status"]["size"] == "20 MiB"
    assert volume["Status"]["profile"] == plugin.profile and volume["Status"]["resource"].startswith("docker-app_data-")
    assert plugin.ok("/VolumeDriver.List")["Volumes"] == [{"Name": "app.data", "Mountpoint": ""}]

    missing = plugin.call("/VolumeDriver.Get", {"Name": "ghost"})
    assert "volume ghost does not exist" in missing["Err"]
    plugin.ok("/VolumeDriver.Remove", {"Name": "app.data"})
    plugin.ok("/VolumeDriver.Remove", {"Name": "app.data"})
    assert plugin.ok("/VolumeDriver.List")["Volumes"] == []
    client.resource_definitions.delete("not-docker")


def test_a_mount_of_a_definition_made_by_hand_attaches_nothing(plugin: Plugin, client: Any) -> None:
    """A definition with the name a volume would get, made without the plugin, replicated by
    DRBD on another node: its definition is read alongside its resources, and refused before
    the make-available that would add a diskless resource here."""
    (elsewhere, *_) = sorted(n.name for n in client.nodes.list() if n.name != plugin.node)
    rd = resource_name("handmade")
    select = SelectFilter(place_count=1, node_name_list=(elsewhere,), layer_stack=("drbd", "storage"))
    client.resource_groups.spawn(plugin.profile, rd, [8192], select_filter=select)
    try:
        before = world(plugin, client)
        refused = plugin.call("/VolumeDriver.Mount", {"Name": "handmade", "ID": "A"})
        assert "volume handmade does not exist" in refused["Err"]
        assert world(plugin, client) == before
        assert [r.node_name for r in client.resources.list(rd)] == [elsewhere]
    finally:
        client.resource_definitions.delete(rd)


def test_a_missing_profile_reaches_docker_with_linstors_message(plugin: Plugin, client: Any) -> None:
    answer = plugin.call("/VolumeDriver.Create", {"Name": "web", "Opts": {"profile": "nosuchgroup"}})
    assert "nosuchgroup" in answer["Err"]
    assert "docker-web" not in rd_names(client)


def test_check_lists_the_running_plugins_volumes_and_sigterm_stops_it_cleanly(plugin: Plugin) -> None:
    plugin.ok("/VolumeDriver.Create", {"Name": "seen", "Opts": {"size": "8M"}})
    argv = [sys.executable, "-m", "docker_volume.cli", "--check", "--socket", str(plugin.socket),
            "--config", str(plugin.empty_config()), "--node", plugin.node]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"Name": "seen", "Mountpoint": ""}]
    plugin.ok("/VolumeDriver.Remove", {"Name": "seen"})

    plugin.stop()
    assert plugin.process is not None and plugin.process.returncode == 0
    assert not plugin.socket.exists()
    failed = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert failed.returncode == 1 and "does not answer" in failed.stderr


@pytest.mark.root
def test_concurrent_first_mounts_attach_and_mount_once(plugin: Plugin) -> None:
    target = str(plugin.mount_root / "race")
    plugin.ok("/VolumeDriver.Create", {"Name": "race", "Opts": {"size": "16M"}})
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda caller: plugin.call("/VolumeDriver.Mount", {"Name": "race", "ID": caller}),
                                ["A", "B", "C", "D"]))
    assert [a["Err"] for a in answers] == [""] * 4 and {a["Mountpoint"] for a in answers} == {target}
    assert filesystems.mountpoints_of(target) == [target]
    for caller in "ABCD":
        plugin.ok("/VolumeDriver.Unmount", {"Name": "race", "ID": caller})
    assert filesystems.mountpoints_of(target) == []
    plugin.ok("/VolumeDriver.Remove", {"Name": "race"})


@pytest.mark.root
def test_xfs_with_mkfs_and_mount_options(plugin: Plugin) -> None:
    target = str(plugin.mount_root / "logs")
    opts = {"size": "300M", "fs": "xfs", "fsopts": "-L dvlogs", "mountopts": "noatime,nodev"}
    plugin.ok("/VolumeDriver.Create", {"Name": "logs", "Opts": opts})
    plugin.ok("/VolumeDriver.Mount", {"Name": "logs", "ID": "A"})
    entry = next(e for e in filesystems.read_mounts() if e.mount_point == target)
    assert entry.fstype == "xfs" and {"noatime", "nodev"} <= set(entry.options)
    label = subprocess.run(["blkid", "-o", "value", "-s", "LABEL", entry.source],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert label == "dvlogs"
    plugin.ok("/VolumeDriver.Unmount", {"Name": "logs", "ID": "A"})
    plugin.ok("/VolumeDriver.Remove", {"Name": "logs"})


@pytest.mark.root
def test_a_volume_in_a_thick_pool_stays_allocated_after_its_first_mount(
    plugin: Plugin, client: Any, pool_root: Path
) -> None:
    """mkfs discards the device by default, and through a loop device a discard punches holes
    in the file: a volume of a FILE (thick) pool would be thin after its first Mount, and could
    later fail writes when the pool fills up."""
    client.storage_pools.create(plugin.node, "thick", "FILE", props={"StorDriver/FileDir": str(pool_root / "thick")})
    plugin.ok("/VolumeDriver.Create", {"Name": "thick", "Opts": {"size": "16M", "storagepool": "thick"}})
    mountpoint = plugin.ok("/VolumeDriver.Mount", {"Name": "thick", "ID": "A"})["Mountpoint"]
    (source,) = [entry.source for entry in filesystems.read_mounts() if entry.mount_point == mountpoint]
    backing = Path(f"/sys/block/{Path(source).name}/loop/backing_file").read_text().strip()
    os.sync()
    assert Path(backing).parent == pool_root / "thick"
    assert Path(backing).stat().st_blocks * 512 >= 16 * 1024 * 1024
    plugin.ok("/VolumeDriver.Unmount", {"Name": "thick", "ID": "A"})
    plugin.ok("/VolumeDriver.Remove", {"Name": "thick"})


@pytest.mark.root
def test_settings_come_from_the_config_file_under_ls_variables_and_flags(plugin: Plugin, client: Any) -> None:
    """The file names the socket, mount root, state file and node; LS_CONTROLLERS beats its
    (unreachable) controllers and --profile beats its profile."""
    plugin.stop()
    plugin.config_file = plugin.log.parent / "docker-volume.conf"
    plugin.config_file.write_text(
        "[global]\n"
        "controllers = linstor://192.0.2.1:1\n"
        "profile = nosuchgroup\n"
        f"node = {plugin.node}\n"
        f"socket = {plugin.socket}\n"
        f"mount-root = {plugin.mount_root}\n"
        f"state-file = {plugin.state_file}\n"
    )
    plugin.environ = {"LS_CONTROLLERS": plugin.controller_url}
    plugin.start()

    plugin.ok("/VolumeDriver.Create", {"Name": "conf", "Opts": {"size": "8M"}})
    assert plugin.ok("/VolumeDriver.Get", {"Name": "conf"})["Volume"]["Status"]["profile"] == plugin.profile
    target = plugin.mount_root / "conf"
    assert plugin.ok("/VolumeDriver.Mount", {"Name": "conf", "ID": "A"})["Mountpoint"] == str(target)
    assert any(r.node_name == plugin.node for r in client.resources.list("docker-conf"))
    assert json.loads(plugin.state_file.read_text())["volumes"] == {"conf": {"A": 1}}
    plugin.ok("/VolumeDriver.Unmount", {"Name": "conf", "ID": "A"})
    plugin.ok("/VolumeDriver.Remove", {"Name": "conf"})


def test_placement_options_override_the_profile_on_the_controller(plugin: Plugin, client: Any) -> None:
    def placed(volume: str) -> list[str]:
        rd = plugin.ok("/VolumeDriver.Get", {"Name": volume})["Volume"]["Status"]["resource"]
        return sorted(r.node_name for r in client.resources.list(rd) if not r.diskless)

    pool = next(p.name for p in client.storage_pools.list() if p.provider_kind != "DISKLESS")
    plugin.ok("/VolumeDriver.Create", {"Name": "two", "Opts": {"size": "8M", "replicas": "2"}})
    assert len(placed("two")) == 2  # the profile places one
    plugin.ok("/VolumeDriver.Create", {"Name": "pinned", "Opts": {"size": "8M", "nodes": "bravo,charlie"}})
    assert placed("pinned") == ["bravo", "charlie"]
    plugin.ok("/VolumeDriver.Create", {"Name": "pooled", "Opts": {"size": "8M", "storagepool": pool}})
    assert len(placed("pooled")) == 1

    before = world(plugin, client)
    refused = plugin.call("/VolumeDriver.Create", {"Name": "nowhere", "Opts": {"size": "8M", "storagepool": "nosuch"}})
    assert "Not enough available nodes" in refused["Err"] and "asked with -o storagepool=nosuch" in refused["Err"]
    refused = plugin.call("/VolumeDriver.Create", {"Name": "nowhere", "Opts": {"size": "8M", "nodes": "zulu"}})
    assert "asked with -o replicas=1 -o nodes=zulu" not in refused["Err"] and "-o nodes=zulu" in refused["Err"]
    assert world(plugin, client) == before
    for volume in ("two", "pinned", "pooled"):
        plugin.ok("/VolumeDriver.Remove", {"Name": volume})


def test_a_mount_where_no_replica_is_attaches_diskless_and_detaches_after_a_failure(
    plugin: Plugin, client: Any
) -> None:
    """A DRBD volume with its one replica elsewhere: Mount makes it available here diskless.
    Without the DRBD kernel module (CI) the device never appears, so the Mount fails, and the
    diskless resource must be gone again with no holder recorded."""
    (elsewhere, *_) = sorted(n.name for n in client.nodes.list() if n.name != plugin.node)
    select = SelectFilter(place_count=1, node_name_list=(elsewhere,), layer_stack=("drbd", "storage"))
    client.resource_groups.create("dockerdrbd", select_filter=select)
    try:
        plugin.ok("/VolumeDriver.Create", {"Name": "far", "Opts": {"size": "8M", "profile": "dockerdrbd"}})
        rd = plugin.ok("/VolumeDriver.Get", {"Name": "far"})["Volume"]["Status"]["resource"]
        assert [(r.node_name, r.diskless) for r in client.resources.list(rd)] == [(elsewhere, False)]
        before = world(plugin, client)
        failed = plugin.call("/VolumeDriver.Mount", {"Name": "far", "ID": "A"})
        assert failed["Err"] and "/dev/drbd" in failed["Err"]
        assert world(plugin, client) == before
        plugin.ok("/VolumeDriver.Remove", {"Name": "far"})
    finally:
        for stale in client.resource_definitions.list(props=["Aux/bundle/platform=docker"]):
            client.resource_definitions.delete(stale.name)
        client.resource_groups.delete("dockerdrbd")
