"""DRBD devices brought up where they are real: this host's node, with the drbd module loaded.

The controller runs on real files in tmp_path (sparse volumes, no loop devices); the module is
declared loaded and this host's node name is injected, and every command that would touch the
kernel is scripted: one that is not expected next fails the test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from linstor_core import retcodes as rc
from linstor_core.controller import drbd
from linstor_core.controller.core import Controller
from linstor_core.controller.deploy import drbd_resource
from linstor_core.controller.ops import definitions, nodes, resources, snapshots
from linstor_core.controller.satellite import Satellite
from linstor_core.errors import InUse, StorageError
from linstor_core.runner import DEFAULT_TIMEOUT, FakeRunner
from test_commit_failure import FailingCommit

DRBDADM = ["drbdadm", "--config-file"]
STATUS = ["drbdsetup", "status", "--json"]


class Kernel:
    """The controller's runner here: drbdadm's parse check of a file it writes passes (the real
    parse is tested in test_drbd.py); every other command is answered by ``script``."""

    def __init__(self) -> None:
        self.script = FakeRunner()

    def __call__(self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT,
                 stdin: bytes | None = None) -> str:
        args = [str(a) for a in argv]
        if args[:2] == DRBDADM and args[-1] == "dump" and args[2].endswith(".res.tmp"):
            return ""
        return self.script(args, timeout=timeout, stdin=stdin)


@pytest.fixture
def kernel() -> Kernel:
    return Kernel()


def make_controller(state: Path, kernel: Kernel, *, loaded: bool = True,
                    host: str = "VULCAN") -> Controller:
    """A controller whose host is ``host`` (node vulcan, names compare case-insensitively)."""
    ctl = Controller(state, runner=kernel, satellite=Satellite(state, use_loop=False),
                     node_name=host, drbd_loaded=loaded)
    ctl.open()
    return ctl


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def ctl(state: Path, kernel: Kernel) -> Iterator[Controller]:
    controller = make_controller(state, kernel)
    yield controller
    controller.close()


def setup_cluster(ctl: Controller, tmp_path: Path, kind: str = "FILE_THIN") -> None:
    """Nodes vulcan and kronos, each with a ``kind`` pool; resource definition LocalData
    (DRBD) with one 4 MiB volume."""
    with ctl.change(0) as change:
        for node, address in (("vulcan", "10.0.0.1"), ("kronos", "10.0.0.2")):
            nodes.create_node(ctl, change, node, "SATELLITE", address, {})
            nodes.create_pool(ctl, change, node, "thinpool", kind,
                              {"StorDriver/FileDir": str(tmp_path / "pools" / node)})
        definitions.create_rd(ctl, change, "LocalData", layers=["DRBD", "STORAGE"])
        definitions.create_vds(ctl, change, "LocalData", [4096])


def create(ctl: Controller, wanted: Sequence[tuple[str, str | None, bool]]) -> None:
    with ctl.change(rc.MASK_RSC) as change:
        resources.create_many(ctl, change, "LocalData", wanted)


def config(ctl: Controller, node: str = "vulcan") -> Path:
    return drbd.res_path(ctl.state_dir, node, "LocalData")


def metadata_copy(ctl: Controller) -> str:
    return str(config(ctl)) + ".md"


def backing(tmp_path: Path, node: str = "vulcan") -> Path:
    return tmp_path / "pools" / node / "LocalData_00000.img"


def rendered(ctl: Controller, node: str = "vulcan") -> str:
    with ctl.read() as repo:
        return drbd.render_res(drbd_resource(repo, repo.rd("LocalData")), node)


def expect_create_md(kernel: Kernel, ctl: Controller, tmp_path: Path) -> None:
    def create_md(argv: Sequence[str]) -> str:
        assert f'disk "{backing(tmp_path)}";' in Path(argv[2]).read_text()
        return ""

    kernel.script.expect([*DRBDADM, metadata_copy(ctl), "create-md", "--max-peers=7", "--force",
                          "LocalData/0"], create_md)


def test_create_on_the_local_node_runs_create_md_then_adjust(ctl: Controller, kernel: Kernel,
                                                             tmp_path: Path) -> None:
    setup_cluster(ctl, tmp_path)
    expect_create_md(kernel, ctl, tmp_path)
    kernel.script.expect([*DRBDADM, str(config(ctl)), "adjust", "LocalData"])
    create(ctl, [("vulcan", "thinpool", False), ("kronos", "thinpool", False)])
    kernel.script.assert_done()
    assert config(ctl).read_text() == rendered(ctl)
    assert config(ctl, "kronos").read_text() == rendered(ctl, "kronos")
    assert not Path(metadata_copy(ctl)).exists()


def test_a_diskless_local_resource_runs_adjust_only(ctl: Controller, kernel: Kernel,
                                                    tmp_path: Path) -> None:
    setup_cluster(ctl, tmp_path)
    kernel.script.expect([*DRBDADM, str(config(ctl)), "adjust", "LocalData"])
    create(ctl, [("kronos", "thinpool", False), ("vulcan", None, True)])
    kernel.script.assert_done()
    assert "disk none;" in config(ctl).read_text()


def test_a_simulated_node_runs_nothing(state: Path, kernel: Kernel, tmp_path: Path) -> None:
    ctl = make_controller(state, kernel, host="romulus")
    try:
        setup_cluster(ctl, tmp_path)
        create(ctl, [("vulcan", "thinpool", False), ("kronos", "thinpool", False)])
        with ctl.read() as repo:
            texts = ctl.renderer.texts(repo, ctl.drbd_loaded)
    finally:
        ctl.close()
    assert kernel.script.calls == []
    for body in map(json.loads, texts):
        volume = body["volumes"][0]
        assert volume["state"]["disk_state"] == "Unknown"
        cause = volume["reports"][0]["cause"]
        assert f"node {body['node_name']} is simulated on this host" in cause
        assert "(romulus)" in cause


def up(ctl: Controller, kernel: Kernel, tmp_path: Path, kind: str = "FILE_THIN") -> None:
    """LocalData diskful on vulcan (real) and kronos (simulated), brought up."""
    setup_cluster(ctl, tmp_path, kind)
    expect_create_md(kernel, ctl, tmp_path)
    kernel.script.expect([*DRBDADM, str(config(ctl)), "adjust", "LocalData"])
    create(ctl, [("vulcan", "thinpool", False), ("kronos", "thinpool", False)])
    kernel.script.assert_done()


def status(role: str = "Secondary", disk: str = "UpToDate") -> str:
    return json.dumps([{"name": "LocalData", "node-id": 0, "role": role,
                        "devices": [{"volume": 0, "minor": 1000, "disk-state": disk}]}])


def test_delete_runs_down_before_the_volume_and_config_are_removed(
        ctl: Controller, kernel: Kernel, tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)

    def down(argv: Sequence[str]) -> str:
        assert backing(tmp_path).exists() and config(ctl).exists()
        return ""

    kernel.script.expect(STATUS, status()).expect(
        [*DRBDADM, str(config(ctl)), "down", "LocalData"], down)
    with ctl.change(rc.MASK_RSC) as change:
        resources.delete_resource(ctl, change, "LocalData", "vulcan", False)
    kernel.script.assert_done()
    assert not backing(tmp_path).exists() and not config(ctl).exists()
    assert backing(tmp_path, "kronos").exists() and config(ctl, "kronos").exists()


def test_delete_of_a_primary_is_refused_and_nothing_runs(ctl: Controller, kernel: Kernel,
                                                         tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    kernel.script.expect(STATUS, status(role="Primary"))
    with pytest.raises(InUse) as refused, ctl.change(rc.MASK_RSC) as change:
        resources.delete_resource(ctl, change, "LocalData", "vulcan", False)
    kernel.script.assert_done()
    assert "is Primary on this host" in refused.value.replies[0].cause
    assert backing(tmp_path).exists() and config(ctl).read_text() == rendered(ctl)


def test_a_failing_down_keeps_the_resource(ctl: Controller, kernel: Kernel,
                                           tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    down = [*DRBDADM, str(config(ctl)), "down", "LocalData"]
    kernel.script.expect(STATUS, status()).expect(down, StorageError(down, 11, "held open"))
    with pytest.raises(StorageError, match="held open"), ctl.change(rc.MASK_RSC) as change:
        definitions.delete_rd(ctl, change, "LocalData")
    kernel.script.assert_done()
    with ctl.read() as repo:
        assert [r.node for r in repo.rscs(rd="LocalData")] == ["kronos", "vulcan"]
    assert backing(tmp_path).exists() and config(ctl).exists()


def test_failing_adjust_rolls_the_record_back_and_removes_the_volume(
        ctl: Controller, kernel: Kernel, tmp_path: Path) -> None:
    setup_cluster(ctl, tmp_path)
    adjust = [*DRBDADM, str(config(ctl)), "adjust", "LocalData"]
    expect_create_md(kernel, ctl, tmp_path)
    kernel.script.expect(adjust, StorageError(adjust, 10, "Failure: (114) Lower device is already "
                                                          "claimed"))
    # Undo: the half-made device goes down while its file is still there.
    kernel.script.expect([*DRBDADM, str(config(ctl)), "down", "LocalData"])
    with pytest.raises(StorageError, match="already claimed"):
        create(ctl, [("vulcan", "thinpool", False), ("kronos", "thinpool", False)])
    kernel.script.assert_done()
    with ctl.read() as repo:
        assert repo.rscs(rd="LocalData") == [] and repo.volumes("LocalData") == []
    assert not backing(tmp_path).exists() and not backing(tmp_path, "kronos").exists()
    assert list(config(ctl).parent.iterdir()) == []
    assert not config(ctl, "kronos").exists()


def test_failing_create_md_removes_the_volume_before_anything_is_up(
        ctl: Controller, kernel: Kernel, tmp_path: Path) -> None:
    setup_cluster(ctl, tmp_path)
    create_md = [*DRBDADM, metadata_copy(ctl), "create-md", "--max-peers=7", "--force",
                 "LocalData/0"]
    kernel.script.expect(create_md, StorageError(create_md, 20, "not a block device"))
    with pytest.raises(StorageError, match="not a block device"):
        create(ctl, [("vulcan", "thinpool", False)])
    kernel.script.assert_done()
    assert not backing(tmp_path).exists()
    assert list(config(ctl).parent.iterdir()) == []
    with ctl.read() as repo:
        assert repo.rscs(rd="LocalData") == []


def test_a_failed_change_puts_the_previous_config_back_and_adjusts_to_it(
        ctl: Controller, kernel: Kernel, tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    before = config(ctl).read_text()
    with ctl.change(0) as change:
        nodes.create_node(ctl, change, "remus", "SATELLITE", "10.0.0.3", {})
    adjust = [*DRBDADM, str(config(ctl)), "adjust", "LocalData"]

    def restored(argv: Sequence[str]) -> str:
        assert config(ctl).read_text() == before
        return ""

    kernel.script.expect(adjust, StorageError(adjust, 10, "connect failed"))
    kernel.script.expect(adjust, restored)
    with pytest.raises(StorageError, match="connect failed"):
        create(ctl, [("remus", None, True)])
    kernel.script.assert_done()
    assert config(ctl).read_text() == before and not config(ctl, "remus").exists()


def test_reconcile_adjusts_known_resources_and_downs_stray_ones(
        ctl: Controller, kernel: Kernel, state: Path, tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    ctl.close()
    stray = drbd.res_path(state, "vulcan", "Gone")
    stray.write_text(config(ctl).read_text().replace('"LocalData"', '"Gone"'))
    again = Kernel()
    again.script.expect([*DRBDADM, str(stray), "down", "Gone"]).expect(
        [*DRBDADM, str(config(ctl)), "adjust", "LocalData"])
    restarted = make_controller(state, again)
    restarted.close()
    again.script.assert_done()
    assert not stray.exists() and config(ctl).read_text() == rendered(ctl)


def restart(state: Path, kernel: Kernel) -> list[str]:
    """Open the controller on ``state`` again with ``kernel``'s drbdadm; the lines reconcile reported."""
    restarted = Controller(state, runner=kernel, node_name="vulcan", drbd_loaded=True,
                           satellite=Satellite(state, use_loop=False))
    try:
        return restarted.open()
    finally:
        restarted.close()


def test_reconcile_reports_a_failing_adjust_and_serves_on(
        ctl: Controller, kernel: Kernel, state: Path, tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    ctl.close()
    again = Kernel()
    adjust = [*DRBDADM, str(config(ctl)), "adjust", "LocalData"]
    again.script.expect(adjust, StorageError(adjust, 10, "no such minor"))
    lines = restart(state, again)
    again.script.assert_done()
    assert any("could not bring DRBD resource LocalData up on vulcan" in line for line in lines)


class RefusesConfigs(Kernel):
    """A drbdadm that refuses every config it is asked to parse (a newer drbd-utils' rule)."""

    def __call__(self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT,
                 stdin: bytes | None = None) -> str:
        args = [str(a) for a in argv]
        if args[:2] == DRBDADM and args[-1] == "dump":
            raise StorageError(args, 10, f"{args[2]}:3: parse error")
        return super().__call__(argv, timeout=timeout, stdin=stdin)


def test_reconcile_reports_a_config_drbdadm_refuses_and_starts(
        ctl: Controller, kernel: Kernel, state: Path, tmp_path: Path) -> None:
    """The config there stays as it was (not removed as a stray) and nothing is adjusted."""
    up(ctl, kernel, tmp_path)
    ctl.close()
    before = config(ctl).read_text()
    again = RefusesConfigs()
    lines = restart(state, again)
    again.script.assert_done()
    assert any(line.startswith("could not write the DRBD configs of LocalData, the ones there "
                               "stay and it is not brought up: command drbdadm failed")
               for line in lines)
    assert config(ctl).read_text() == before and config(ctl, "kronos").exists()
    assert list(config(ctl).parent.glob("*.tmp")) == []


def test_a_real_drbd_volume_is_backed_by_its_size_and_its_internal_metadata(
        ctl: Controller, kernel: Kernel, state: Path, tmp_path: Path) -> None:
    """Internal metadata takes the end of the backing device: without room for it the DRBD
    device would be smaller than the definition says. A simulated node's storage device is
    the volume itself, so it keeps the definition's size; a restart finds both as they should be."""
    up(ctl, kernel, tmp_path)
    assert backing(tmp_path).stat().st_size == 4136 * 1024 == drbd.backing_size_kib(4096) * 1024
    assert backing(tmp_path, "kronos").stat().st_size == 4096 * 1024
    ctl.close()
    again = Kernel()
    again.script.expect([*DRBDADM, str(config(ctl)), "adjust", "LocalData"])
    lines = restart(state, again)
    again.script.assert_done()
    assert not [line for line in lines if "LocalData_00000" in line]


@pytest.mark.parametrize("size_kib", [2048, 8192])
def test_reconcile_reports_a_real_drbd_volume_of_another_size_and_leaves_it(
        ctl: Controller, kernel: Kernel, state: Path, tmp_path: Path, size_kib: int) -> None:
    """Smaller (a grow a power cut took back) or larger (a resize whose commit failed after
    drbdadm resize): DRBD's metadata may be at either end, so the size is not changed."""
    up(ctl, kernel, tmp_path)
    ctl.close()
    os.truncate(backing(tmp_path), size_kib * 1024)
    again = Kernel()
    again.script.expect([*DRBDADM, str(config(ctl)), "adjust", "LocalData"])
    lines = restart(state, again)
    again.script.assert_done()
    assert (f"vulcan/thinpool: volume LocalData_00000 has {size_kib} KiB, its definition 4096 KiB "
            "(4136 KiB with its DRBD metadata); DRBD is real here, so it is left as it is: check it "
            "with drbdadm") in lines
    assert backing(tmp_path).stat().st_size == size_kib * 1024
    assert backing(tmp_path, "kronos").stat().st_size == 4096 * 1024


def listing(ctl: Controller) -> dict[str, Any]:
    with ctl.read() as repo:
        texts = ctl.renderer.texts(repo, ctl.drbd_loaded)
    return {body["node_name"]: body for body in map(json.loads, texts)}


def test_the_view_reports_the_state_drbdsetup_gives(ctl: Controller, kernel: Kernel,
                                                    tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    kernel.script.expect(STATUS, status(disk="Inconsistent"))
    found = listing(ctl)
    kernel.script.assert_done()
    local = found["vulcan"]["volumes"][0]
    assert local["state"] == {"disk_state": "Inconsistent"} and "reports" not in local
    assert local["layer_data_list"][0]["data"]["disk_state"] == "Inconsistent"
    assert found["vulcan"]["state"] == {"in_use": False}
    assert found["kronos"]["volumes"][0]["state"] == {"disk_state": "Unknown"}
    assert "simulated" in found["kronos"]["volumes"][0]["reports"][0]["cause"]
    kernel.script.expect(STATUS, status(role="Primary", disk="UpToDate"))
    again = listing(ctl)
    assert again["vulcan"]["volumes"][0]["state"] == {"disk_state": "UpToDate"}
    assert again["vulcan"]["state"] == {"in_use": True}


def test_the_view_says_when_the_state_cannot_be_read_or_the_device_is_not_up(
        ctl: Controller, kernel: Kernel, tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    kernel.script.expect(STATUS, StorageError(STATUS, 20, "Could not connect to 'drbd' generic "
                                                          "netlink family"))
    volume = listing(ctl)["vulcan"]["volumes"][0]
    assert volume["state"] == {"disk_state": "Unknown"}
    assert "reading its state from the kernel failed" in volume["reports"][0]["cause"]
    assert "netlink" in volume["reports"][0]["cause"]
    kernel.script.expect(STATUS, "[]")
    volume = listing(ctl)["vulcan"]["volumes"][0]
    assert volume["state"] == {"disk_state": "Unknown"}
    assert "the kernel has no DRBD device of resource LocalData" in volume["reports"][0]["cause"]
    kernel.script.assert_done()


def test_without_the_module_nothing_runs_and_the_report_is_unchanged(
        state: Path, kernel: Kernel, tmp_path: Path) -> None:
    ctl = make_controller(state, kernel, loaded=False)
    try:
        setup_cluster(ctl, tmp_path)
        create(ctl, [("vulcan", "thinpool", False), ("kronos", "thinpool", False)])
        with ctl.change(rc.MASK_RSC) as change:
            definitions.resize_vd(ctl, change, "LocalData", 0, 8192, {}, [])
        found = listing(ctl)
        with ctl.change(rc.MASK_RSC) as change:
            resources.delete_resource(ctl, change, "LocalData", "vulcan", False)
    finally:
        ctl.close()
    assert kernel.script.calls == []
    for body in found.values():
        volume = body["volumes"][0]
        assert volume["state"] == {"disk_state": "Unknown"}
        assert volume["reports"] == [{
            "ret_code": rc.WARN_NOT_CONNECTED,
            "cause": "the DRBD kernel module is not loaded on this host",
            "message": "/dev/drbd1000 is not up: the DRBD kernel module is not loaded on this "
                       f"host; the DRBD configuration is rendered under nodes/{body['node_name']}"
                       "/drbd.d/."}]


def test_resize_grows_the_local_drbd_device(ctl: Controller, kernel: Kernel,
                                            tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path)
    kernel.script.expect([*DRBDADM, str(config(ctl)), "resize", "LocalData/0"])
    with ctl.change(rc.MASK_RSC) as change:
        definitions.resize_vd(ctl, change, "LocalData", 0, 8192, {}, [])
    kernel.script.assert_done()
    assert backing(tmp_path).stat().st_size == drbd.backing_size_kib(8192) * 1024



def test_a_failed_commit_after_the_drbd_resize_leaves_that_volume_grown(
        ctl: Controller, kernel: Kernel, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """DRBD may have moved its metadata to the new end on vulcan: cutting that volume back
    would destroy it, so it is left and reported; kronos (simulated) is cut back."""
    up(ctl, kernel, tmp_path)
    kernel.script.expect([*DRBDADM, str(config(ctl)), "resize", "LocalData/0"])
    ctl.store._local.conn = FailingCommit(ctl.store._local.conn)
    with pytest.raises(StorageError, match="database or disk is full"), \
            ctl.change(rc.MASK_RSC) as change:
        definitions.resize_vd(ctl, change, "LocalData", 0, 8192, {}, [])
    kernel.script.assert_done()
    assert backing(tmp_path).stat().st_size == drbd.backing_size_kib(8192) * 1024
    assert backing(tmp_path, "kronos").stat().st_size == 4096 * 1024
    assert ("volume LocalData_00000 on vulcan is left at 8192 KiB, larger than its definition's "
            "4096 KiB: DRBD was resized onto it") in caplog.text


def test_rollback_takes_the_local_device_down_while_its_volume_is_switched(
        ctl: Controller, kernel: Kernel, tmp_path: Path) -> None:
    up(ctl, kernel, tmp_path, kind="FILE")  # FILE snapshots are full copies: no reflink needed
    image = backing(tmp_path)
    with image.open("r+b") as disk:
        disk.write(b"before")
    with ctl.change(rc.MASK_SNAPSHOT) as change:
        snapshots.create_snapshot(ctl, change, "LocalData", "Snap1", [])
    with image.open("r+b") as disk:
        disk.write(b"after!")

    def down(argv: Sequence[str]) -> str:
        assert image.read_bytes()[:6] == b"after!"
        return ""

    def adjust(argv: Sequence[str]) -> str:
        assert image.read_bytes()[:6] == b"before"
        assert Path(argv[2]).read_text() == rendered(ctl)
        return ""

    kernel.script.expect(STATUS, status())
    kernel.script.expect([*DRBDADM, str(config(ctl)), "down", "LocalData"], down)
    kernel.script.expect([*DRBDADM, str(config(ctl)), "adjust", "LocalData"], adjust)
    with ctl.change(rc.MASK_SNAPSHOT) as change:
        snapshots.rollback(ctl, change, "LocalData", "Snap1")
    kernel.script.assert_done()
    assert image.read_bytes()[:6] == b"before"
    assert backing(tmp_path, "kronos").exists()
