"""DRBD .res files: golden rendering, a real drbdadm parse, atomic writes, module detection."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from linstor_core.controller import drbd
from linstor_core.errors import InvalidInput, StorageError
from linstor_core.runner import FakeRunner
from prerequisites import require

RES = drbd.DrbdResource(
    name="LocalData",
    port=7000,
    volumes=[(0, 1000, {"vulcan": "/dev/loop0", "kronos": "/dev/loop1"}), (1, 1001, {"vulcan": "/dev/loop2"})],
    nodes=[("vulcan", 0, "10.0.0.1"), ("kronos", 1, "10.0.0.2")],
)

GOLDEN = """\
# DRBD resource LocalData for node kronos, written by linstor-core; do not edit
resource "LocalData" {
    on "vulcan" {
        node-id 0;
        address ipv4 10.0.0.1:7000;
        volume 0 {
            device minor 1000;
            disk "/dev/loop0";
            meta-disk internal;
        }
        volume 1 {
            device minor 1001;
            disk "/dev/loop2";
            meta-disk internal;
        }
    }
    on "kronos" {
        node-id 1;
        address ipv4 10.0.0.2:7000;
        volume 0 {
            device minor 1000;
            disk "/dev/loop1";
            meta-disk internal;
        }
        volume 1 {
            device minor 1001;
            disk none;
            meta-disk internal;
        }
    }
    connection-mesh {
        hosts "vulcan" "kronos";
    }
}
"""

DUMP = ["drbdadm", "--config-file"]


def test_render_golden() -> None:
    assert drbd.render_res(RES, "kronos") == GOLDEN


def test_single_node_has_no_connection_mesh_and_ipv6_is_bracketed() -> None:
    res = drbd.DrbdResource("r1", 7001, [(0, 1000, {})], [("vulcan", 0, "fd00::1")])
    text = drbd.render_res(res, "vulcan")
    assert "address ipv6 [fd00::1]:7001;" in text and "connection-mesh" not in text
    assert "disk none;" in text


@pytest.mark.parametrize(
    ("res", "field"),
    [
        (drbd.DrbdResource("LocalData", 7000, [], [("vulcan", 0, "vulcan.example")]), "address"),
        (drbd.DrbdResource("LocalData", 0, [], [("vulcan", 0, "10.0.0.1")]), "port"),
        (drbd.DrbdResource("LocalData", 7000, [], [("vulcan", 0, "10.0.0.1"), ("b", 0, "10.0.0.2")]), "node id"),
        (drbd.DrbdResource("LocalData", 7000, [(0, -1, {})], [("vulcan", 0, "10.0.0.1")]), "minor"),
        (drbd.DrbdResource("LocalData", 7000, [(0, 1, {"vulcan": 'x"; }'})], [("vulcan", 0, "10.0.0.1")]), "disk"),
        (drbd.DrbdResource("all", 7000, [], [("vulcan", 0, "10.0.0.1")]), "resource name"),
    ],
)
def test_bad_resources_are_refused(res: drbd.DrbdResource, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        drbd.render_res(res, "vulcan")
    assert caught.value.field == field


def test_render_for_a_node_without_a_replica_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no replica"):
        drbd.render_res(RES, "remus")


def test_real_drbdadm_parses_the_written_file(tmp_path: Path) -> None:
    require("drbdadm", package="drbd-utils")
    path = drbd.write_res(tmp_path, "vulcan", RES)
    assert path == tmp_path / "nodes" / "vulcan" / "drbd.d" / "LocalData.res"
    assert path.read_text() == GOLDEN.replace("for node kronos", "for node vulcan")
    assert [p.name for p in path.parent.iterdir()] == ["LocalData.res"]


def test_real_drbdadm_rejects_a_broken_file(tmp_path: Path) -> None:
    require("drbdadm", package="drbd-utils")
    broken = tmp_path / "broken.res"
    broken.write_text(GOLDEN.replace("meta-disk internal;", "meta-data internal;"))
    with pytest.raises(StorageError, match="meta-data"):
        drbd.check_res(broken)


def test_a_rejected_file_never_replaces_the_old_one(tmp_path: Path) -> None:
    path = drbd.write_res(tmp_path, "vulcan", RES, runner=FakeRunner().expect(
        [*DUMP, str(drbd.res_path(tmp_path, "vulcan", "LocalData")) + ".tmp", "dump"]))
    old = path.read_text()
    temp = f"{path}.tmp"
    runner = FakeRunner().expect([*DUMP, temp, "dump"], StorageError([*DUMP, temp, "dump"], 10, "parse error"))
    changed = drbd.DrbdResource("LocalData", 7002, RES.volumes, RES.nodes)
    with pytest.raises(StorageError, match="parse error"):
        drbd.write_res(tmp_path, "vulcan", changed, runner=runner)
    assert path.read_text() == old
    assert [p.name for p in path.parent.iterdir()] == ["LocalData.res"]


def test_a_full_state_disk_is_a_storage_error_that_says_free_space(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not an internal error: the config and the create-md copy both say where to free space."""
    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    directory = drbd.res_path(tmp_path, "vulcan", "LocalData").parent
    for write in (lambda: drbd.write_res(tmp_path, "vulcan", RES, runner=FakeRunner()),
                  lambda: drbd.create_metadata(tmp_path, "vulcan", RES, [0], runner=FakeRunner())):
        with pytest.raises(StorageError, match="No space left on device") as caught:
            write()
        assert caught.value.correction == (f"free space on the filesystem of {directory} (the "
                                           "controller's DRBD configs) or grow it, then try again")
        assert list(directory.iterdir()) == []


def test_without_drbdadm_the_file_is_written_unchecked(tmp_path: Path) -> None:
    temp = str(drbd.res_path(tmp_path, "vulcan", "LocalData")) + ".tmp"
    runner = FakeRunner().expect([*DUMP, temp, "dump"], StorageError(["drbdadm"], 127, "drbdadm: command not found"))
    assert drbd.write_res(tmp_path, "vulcan", RES, runner=runner).exists()


def test_remove_res_is_idempotent(tmp_path: Path) -> None:
    path = drbd.res_path(tmp_path, "vulcan", "LocalData")
    path.parent.mkdir(parents=True)
    path.write_text("x")
    drbd.remove_res(tmp_path, "vulcan", "LocalData")
    drbd.remove_res(tmp_path, "vulcan", "LocalData")
    assert not path.exists()


def test_module_detection(tmp_path: Path) -> None:
    modules = tmp_path / "modules"
    modules.write_text("drbd_transport_tcp 28672 0 - Live 0x0\nloop 40960 0 - Live 0x0\n")
    absent = tmp_path / "sys-module-drbd"
    assert drbd.drbd_module_loaded(proc_modules=modules, sys_module=absent) is False
    modules.write_text("drbd 1000000 1 drbd_transport_tcp, Live 0x0\n")
    assert drbd.drbd_module_loaded(proc_modules=modules, sys_module=absent) is True
    absent.mkdir()
    assert drbd.drbd_module_loaded(proc_modules=tmp_path / "none", sys_module=absent) is True
    absent.rmdir()
    assert drbd.drbd_module_loaded(proc_modules=tmp_path / "none", sys_module=absent) is False


def test_commands_that_touch_the_kernel(tmp_path: Path) -> None:
    config = str(drbd.res_path(tmp_path, "vulcan", "LocalData"))
    runner = (
        FakeRunner()
        .expect([*DUMP, config, "adjust", "LocalData"])
        .expect([*DUMP, config, "resize", "LocalData/1"])
        .expect([*DUMP, config, "down", "LocalData"])
    )
    drbd.bring_up(tmp_path, "vulcan", "LocalData", runner=runner)
    drbd.resize(tmp_path, "vulcan", "LocalData", 1, runner=runner)
    drbd.bring_down(tmp_path, "vulcan", "LocalData", runner=runner)
    runner.assert_done()


def test_create_metadata_reads_a_private_copy_of_the_config_and_removes_it(tmp_path: Path) -> None:
    temp = drbd.res_path(tmp_path, "vulcan", "LocalData").with_suffix(".res.md")
    seen: list[str] = []

    def create_md(argv: object) -> str:
        seen.append(temp.read_text())
        return ""

    runner = (
        FakeRunner()
        .expect([*DUMP, str(temp), "create-md", "--max-peers=7", "--force", "LocalData/0"],
                create_md)
        .expect([*DUMP, str(temp), "create-md", "--max-peers=7", "--force", "LocalData/1"],
                StorageError(["drbdadm"], 10, "no such device"))
    )
    with pytest.raises(StorageError, match="no such device"):
        drbd.create_metadata(tmp_path, "vulcan", RES, [0, 1], runner=runner)
    runner.assert_done()
    assert seen == [drbd.render_res(RES, "vulcan")]
    assert list(temp.parent.iterdir()) == []


STATUS = """[{"name": "LocalData", "node-id": 0, "role": "Primary", "devices": [
  {"volume": 0, "minor": 1000, "disk-state": "UpToDate"},
  {"volume": 1, "minor": 1001, "disk-state": "Inconsistent"}], "connections": []}]"""


def test_read_status_parses_drbdsetup_json() -> None:
    runner = FakeRunner().expect(["drbdsetup", "status", "--json"], STATUS)
    assert drbd.read_status(runner=runner) == {
        "localdata": drbd.DrbdStatus("Primary", {0: "UpToDate", 1: "Inconsistent"})}


@pytest.mark.parametrize("answer", ["not json", '{"name": "x"}', '[{"devices": []}]'])
def test_read_status_refuses_what_is_not_drbdsetups_list(answer: str) -> None:
    runner = FakeRunner().expect(["drbdsetup", "status", "--json"], answer)
    with pytest.raises(StorageError, match="unreadable output"):
        drbd.read_status(runner=runner)
