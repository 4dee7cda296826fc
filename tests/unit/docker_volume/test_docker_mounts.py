"""MountTable: holders persisted atomically and reconciled with mountinfo at start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from linstor_core.errors import ConfigError

from docker_volume.mounts import MountTable

if TYPE_CHECKING:
    from conftest import FakeHost


def table(tmp_path: Path, host: FakeHost, state: str | None = None) -> MountTable:
    """A table over ``tmp_path``; ``state``: the state file's text before it is loaded."""
    mounts = MountTable(tmp_path / "state" / "mounts.json", tmp_path / "root", mountinfo=host.mountinfo)
    if state is not None:
        mounts.state_file.parent.mkdir(parents=True)
        mounts.state_file.write_text(state)
    return mounts


def test_holders_are_written_after_every_change(tmp_path: Path, host: FakeHost) -> None:
    mounts = table(tmp_path, host)
    mounts.add("web", "A")
    mounts.add("web", "B")
    assert json.loads(mounts.state_file.read_text()) == {
        "version": 2, "volumes": {"web": {"A": 1, "B": 1}}, "keeps_attached": [],
    }
    assert mounts.remove("web", "A") == frozenset({"B"})
    assert mounts.remove("web", "B") == frozenset()
    assert json.loads(mounts.state_file.read_text())["volumes"] == {}
    assert [p.name for p in mounts.state_file.parent.iterdir()] == ["mounts.json"]


def test_each_mount_with_an_id_is_one_hold_as_docker_counts_them(tmp_path: Path, host: FakeHost) -> None:
    """docker cp into a running container Mounts with the container's mount ID again and
    Unmounts it after: the container's hold stays, and stays across a restart."""
    mounts = table(tmp_path, host)
    mounts.add("web", "A")
    mounts.add("web", "A")
    assert json.loads(mounts.state_file.read_text())["volumes"] == {"web": {"A": 2}}
    assert mounts.remove("web", "A") == frozenset({"A"})
    host.add_mount("/dev/loop1", str(tmp_path / "root" / "web"))
    mounts.add("web", "A")
    restarted = table(tmp_path, host)
    assert restarted.load() == []
    assert restarted.remove("web", "A") == frozenset({"A"})
    assert restarted.remove("web", "A") == frozenset()
    assert restarted.remove("web", "A") == frozenset()  # one too many: changes nothing


def test_a_state_file_of_format_1_counts_one_hold_per_id(tmp_path: Path, host: FakeHost) -> None:
    mounts = table(tmp_path, host, json.dumps({"version": 1, "volumes": {"web": ["A", "B"]}, "keeps_attached": []}))
    host.add_mount("/dev/loop1", str(tmp_path / "root" / "web"))
    assert mounts.load() == []
    assert mounts.remove("web", "A") == frozenset({"B"})
    assert json.loads(mounts.state_file.read_text()) == {"version": 2, "volumes": {"web": {"B": 1}}, "keeps_attached": []}


def test_load_keeps_holders_of_mounted_volumes_and_drops_the_rest(tmp_path: Path, host: FakeHost) -> None:
    before = table(tmp_path, host)
    before.add("web", "A")
    before.add("db", "B")
    host.add_mount("/dev/loop1", str(tmp_path / "root" / "web"))
    host.add_mount("/dev/loop2", str(tmp_path / "root" / "orphan"))
    after = table(tmp_path, host)
    changes = after.load()
    assert changes == [
        "db: not mounted any more, forgot holders B",
        "orphan: mounted without a record; the next Unmount or Remove unmounts it",
    ]
    assert after.holders("web") == frozenset({"A"}) and after.holders("db") == frozenset()
    assert json.loads(after.state_file.read_text())["volumes"] == {"web": {"A": 1}}
    assert after.released == ["db"]  # its diskless client, if it had one, can go


def test_keeps_attached_is_kept_while_mounted_across_a_restart_and_dropped_with_the_last_holder(
    tmp_path: Path, host: FakeHost
) -> None:
    before = table(tmp_path, host)
    before.add("web", "A", keeps_attached=True)
    before.add("web", "B")  # a later Mount does not change what the first one found
    before.add("db", "C", keeps_attached=False)
    host.add_mount("/dev/loop1", str(tmp_path / "root" / "web"))
    host.add_mount("/dev/loop2", str(tmp_path / "root" / "db"))
    after = table(tmp_path, host)
    after.load()
    assert after.keeps_attached("web") and not after.keeps_attached("db")
    after.remove("web", "A")
    assert after.keeps_attached("web")
    after.remove("web", "B")
    assert not after.keeps_attached("web")
    assert json.loads(after.state_file.read_text())["keeps_attached"] == []


def test_a_state_file_of_an_older_release_means_ask_linstor(tmp_path: Path, host: FakeHost) -> None:
    """Without the keeps_attached key nothing is known, so the last Unmount asks about a detach."""
    mounts = table(tmp_path, host, json.dumps({"version": 1, "volumes": {"web": ["A"]}}))
    host.add_mount("/dev/loop1", str(tmp_path / "root" / "web"))
    assert mounts.load() == []
    assert mounts.holders("web") == frozenset({"A"}) and not mounts.keeps_attached("web")


def test_load_without_a_state_file_starts_empty(tmp_path: Path, host: FakeHost) -> None:
    mounts = table(tmp_path, host)
    assert mounts.load() == [] and not mounts.state_file.exists()


@pytest.mark.parametrize("text", ["{not json", '{"version": 3, "volumes": {}}', "[]",
                                  '{"version": 1, "volumes": {}, "keeps_attached": "web"}',
                                  '{"version": 2, "volumes": {"web": {"A": 0}}}',
                                  '{"version": 2, "volumes": {"web": {"A": true}}}',
                                  '{"version": 2, "volumes": {"web": "A"}}'])
def test_a_broken_state_file_stops_the_start_with_the_fix_while_volumes_are_mounted(
    tmp_path: Path, host: FakeHost, text: str
) -> None:
    mounts = table(tmp_path, host, text)
    host.add_mount("/dev/loop1", str(tmp_path / "root" / "web"))
    with pytest.raises(ConfigError, match="removing it makes the plugin rebuild it"):
        mounts.load()
    assert mounts.state_file.read_text() == text


@pytest.mark.parametrize("text", ["", '{"version": 1, "volu', "\0" * 40])
def test_a_state_file_cut_by_a_power_loss_with_nothing_mounted_starts_empty(
    tmp_path: Path, host: FakeHost, text: str
) -> None:
    """The file is not fsynced: a power cut may leave it cut short, and it also unmounted all."""
    mounts = table(tmp_path, host, text)
    (change,) = mounts.load()
    assert "nothing is mounted under" in change and "starting empty" in change
    assert mounts.holders("web") == frozenset()
    assert json.loads(mounts.state_file.read_text())["volumes"] == {}


def test_a_change_that_cannot_be_saved_is_not_kept_in_memory(tmp_path: Path, host: FakeHost,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory and the file keep saying the same when a save fails (a full disk)."""
    mounts = table(tmp_path, host)
    mounts.add("web", "A", keeps_attached=True)

    def disk_full() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mounts, "_save", disk_full)
    with pytest.raises(OSError):
        mounts.add("web", "B", keeps_attached=False)
    with pytest.raises(OSError):
        mounts.add("db", "C")
    with pytest.raises(OSError):
        mounts.remove("web", "A")
    assert mounts.holders("web") == frozenset({"A"}) and mounts.keeps_attached("web")
    assert mounts.holders("db") == frozenset() and not mounts.keeps_attached("db")
    assert json.loads(mounts.state_file.read_text())["volumes"] == {"web": {"A": 1}}


def test_one_state_file_serves_one_plugin_at_a_time(tmp_path: Path) -> None:
    """Two plugins on one state file would write their holders over each other's."""
    state, root = tmp_path / "state" / "mounts.json", tmp_path / "volumes"
    first, second = MountTable(state, root), MountTable(state, root)
    with first.exclusive():
        with pytest.raises(ConfigError, match="another linstor-docker-volume uses the mount state file") as refused:
            with second.exclusive():
                pass
        assert "--state-file" in refused.value.correction
        with MountTable(tmp_path / "other.json", root).exclusive():  # another state file: its own lock
            pass
    with second.exclusive():  # let go when the first ends (as when its process ends, however)
        pass

