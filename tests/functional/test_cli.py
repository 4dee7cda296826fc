"""linstor-core against the real embedded controller over real HTTP: the seed article's command
lines verbatim, the listings (tables and -m JSON), and the refusals with their exit codes.

Pools live under the ``pool_root`` fixture (tests/functional/conftest.py: an xfs filesystem as
root, which also detaches our loop devices afterwards; plain directories otherwise): FILE_THIN
for placement and listings, FILE where a test needs snapshots, because FILE_THIN snapshots need
a reflink filesystem (the demo test covers those as root).
"""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linstor_core.cli import main
from linstor_core.controller.server import ControllerServer

NODES = ("vulcan", "kronos", "remus", "romulus")
# The console script, run with this interpreter (the venv's ``linstor-core`` may not be on PATH).
LINSTOR_CORE = (sys.executable, "-c", "import sys; from linstor_core.cli import main; sys.exit(main())")
ADDRESSES = {node: f"127.0.0.{index}" for index, node in enumerate(NODES, start=1)}


@dataclass(frozen=True)
class Result:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture
def server(tmp_path: Path, pool_root: Path) -> Iterator[ControllerServer]:
    """An empty controller (the ``controller`` fixture's nodes would not be the article's)."""
    with ControllerServer(tmp_path / "state", "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def cli(server: ControllerServer) -> Cli:
    """Run ``linstor-core --controllers URL ARGS`` in-process; a string is split on spaces."""

    def run(*argv: str) -> Result:
        args = argv[0].split() if len(argv) == 1 else list(argv)
        out, err = io.StringIO(), io.StringIO()
        status = main(["--controllers", server.url, *args], stdout=out, stderr=err)
        return Result(status, out.getvalue(), err.getvalue())

    return run


def ok(cli: Cli, line: str) -> Result:
    result = cli(line)
    assert result.status == 0, f"{line}: {result.err}"
    assert "Traceback" not in result.err
    return result


def refused(cli: Cli, line: str, message: str) -> Result:
    result = cli(line)
    assert result.status == 1, f"{line} should be refused: {result.out}"
    assert result.err.startswith("ERROR: ") and message in result.err, result.err
    assert "Traceback" not in result.err
    return result


def pool_dir(pool_root: Path, node: str, pool: str) -> Path:
    return pool_root / node / pool


@pytest.fixture
def cluster(cli: Cli, pool_root: Path) -> Cli:
    """The article's four nodes, each with FILE_THIN ``thinpool`` and FILE ``filepool``."""
    for node in NODES:
        ok(cli, f"node create {node} {ADDRESSES[node]}")
        ok(cli, f"storage-pool create filethin {node} thinpool {pool_dir(pool_root, node, 'thinpool')}")
        ok(cli, f"storage-pool create file {node} filepool {pool_dir(pool_root, node, 'filepool')}")
    return cli


def test_nodes_and_pools_are_listed_as_tables_and_json(cluster: Cli, pool_root: Path) -> None:
    table = ok(cluster, "node list").out
    assert table.startswith("╭") and "┊ Node " in table
    for node in NODES:
        assert f"┊ {node} " in table and ADDRESSES[node] in table
    nodes = ok(cluster, "-m node list").json()
    assert sorted(n["name"] for n in nodes) == sorted(NODES)

    ok(cluster, "sp c diskless romulus dless")
    pools = ok(cluster, "-m storage-pool list").json()
    kinds = {(p["node_name"], p["name"]): p["provider_kind"] for p in pools}
    assert kinds[("vulcan", "thinpool")] == "FILE_THIN" and kinds[("romulus", "dless")] == "DISKLESS"
    thin = next(p for p in pools if (p["node_name"], p["name"]) == ("vulcan", "thinpool"))
    assert thin["props"]["StorDriver/FileDir"] == str(pool_dir(pool_root, "vulcan", "thinpool"))
    assert thin["total_capacity_kib"] > 0

    listing = ok(cluster, "--no-utf8 sp l -n vulcan -s thinpool").out
    assert listing.startswith("+") and "FILE_THIN" in listing and "kronos" not in listing


def test_listing_1_local_data_on_vulcan_and_kronos(cluster: Cli, pool_root: Path) -> None:
    ok(cluster, "resource-definition create --layer-list storage LocalData")
    ok(cluster, "volume-definition create LocalData 150m")
    created = ok(cluster, "resource create --storage-pool thinpool vulcan kronos LocalData").out
    assert created.count("SUCCESS:") == 2

    volumes = ok(cluster, "-m volume list").json()
    assert sorted(r["node_name"] for r in volumes) == ["kronos", "vulcan"]
    for resource in volumes:
        (volume,) = resource["volumes"]
        assert volume["storage_pool_name"] == "thinpool"
        assert volume["usable_size_kib"] in (None, 150 * 1024) and volume["device_path"]
        assert volume["drbd_minor"] is None and resource["drbd_port"] is None
    for node in ("vulcan", "kronos"):
        assert (pool_dir(pool_root, node, "thinpool") / "LocalData_00000.img").is_file()
    table = ok(cluster, "volume list").out
    assert table.count("LocalData") == 2 and "150 MiB" in table
    assert ok(cluster, "resource list-volumes").out == table
    assert "LocalData" in ok(cluster, "volume-definition list").out
    assert "STORAGE" in ok(cluster, "rd l").out.upper()

    ok(cluster, "resource-definition delete LocalData")
    assert ok(cluster, "-m resource list").json() == []
    assert not (pool_dir(pool_root, "vulcan", "thinpool") / "LocalData_00000.img").exists()


def _holders(cli: Cli, resource: str) -> list[str]:
    """Nodes with a diskful replica (LINSTOR adds a diskless tiebreaker to 2-replica DRBD)."""
    diskless = {"DISKLESS", "DRBD_DISKLESS", "TIE_BREAKER"}
    return sorted(r["node_name"] for r in ok(cli, f"-m resource list -r {resource}").json()
                  if not diskless & set(r["flags"]))


def test_listing_2_auto_place_port_7000_minor_1000_and_migration(cluster: Cli) -> None:
    ok(cluster, "resource-definition create SharedData")
    ok(cluster, "volume-definition create SharedData 150m")
    placed = ok(cluster, "resource create --storage-pool thinpool --auto-place 3 SharedData").out
    holders = _holders(cluster, "SharedData")
    assert len(holders) == 3
    assert f"auto-placed on {', '.join(holders)}" in placed

    table = ok(cluster, "resource list").out
    assert table.count(" 7000 ") == 3
    volumes = ok(cluster, "volume list").out
    assert volumes.count(" 1000 ") == 3 and "/dev/drbd1000" in volumes

    free = next(node for node in NODES if node not in holders)
    ok(cluster, f"resource create -s thinpool {free} SharedData")
    ok(cluster, f"resource delete {holders[0]} SharedData")
    assert _holders(cluster, "SharedData") == sorted({*holders, free} - {holders[0]})


@pytest.fixture
def snapshotted(cluster: Cli) -> Cli:
    """SharedData on vulcan, remus, romulus (FILE pool), Snap1 taken on romulus and remus."""
    ok(cluster, "rd c SharedData")
    ok(cluster, "vd c SharedData 20m")
    ok(cluster, "r c -s filepool vulcan remus romulus SharedData")
    ok(cluster, "snapshot create romulus remus SharedData Snap1")
    return cluster


def test_snapshot_on_chosen_nodes_and_restore(snapshotted: Cli) -> None:
    (snap,) = ok(snapshotted, "-m snapshot list").json()
    assert (snap["name"], snap["resource_name"], sorted(snap["nodes"])) == ("Snap1", "SharedData", ["remus", "romulus"])
    assert "Snap1" in ok(snapshotted, "s l").out

    ok(snapshotted, "snapshot resource restore --from-resource SharedData --from-snapshot Snap1 "
                    "--to-resource SharedData_Restore romulus remus")
    assert _holders(snapshotted, "SharedData_Restore") == ["remus", "romulus"]
    restored = ok(snapshotted, "-m rd l -r SharedData_Restore").json()
    assert [vd["size_kib"] for vd in restored[0]["volume_definitions"]] == [20 * 1024]
    ports = {r["drbd_port"] for r in ok(snapshotted, "-m r l").json()}
    assert ports == {7000, 7001}


def test_volume_definitions_alone_restore_into_a_new_definition(snapshotted: Cli) -> None:
    ok(snapshotted, "snapshot volume-definition restore --from-resource SharedData --from-snapshot Snap1 "
                    "--to-resource Copy1")
    (copy,) = ok(snapshotted, "-m rd l -r Copy1").json()
    assert [vd["size_kib"] for vd in copy["volume_definitions"]] == [20 * 1024]
    assert _holders(snapshotted, "Copy1") == []
    ok(snapshotted, "s r rst --fr SharedData --fs Snap1 --tr Copy1 remus")  # continues the restore
    assert _holders(snapshotted, "Copy1") == ["remus"]


def test_rollback_is_refused_while_a_replica_lacks_the_snapshot(snapshotted: Cli) -> None:
    refused(snapshotted, "snapshot rollback SharedData Snap1", "vulcan")
    ok(snapshotted, "resource delete vulcan SharedData")
    ok(snapshotted, "snapshot rollback SharedData Snap1")


def test_definition_delete_is_refused_while_snapshots_exist(snapshotted: Cli) -> None:
    refused(snapshotted, "resource-definition delete SharedData", "napshot")
    ok(snapshotted, "snapshot delete SharedData Snap1")
    ok(snapshotted, "resource-definition delete SharedData")


def test_diskless_resource_keep_tiebreaker_and_deletes(cluster: Cli) -> None:
    ok(cluster, "rd c SharedData")
    ok(cluster, "vd c SharedData 10m")
    ok(cluster, "r c -s thinpool vulcan kronos SharedData")
    ok(cluster, "resource create --diskless remus SharedData")
    flags = {r["node_name"]: r["flags"] for r in ok(cluster, "-m r l -r SharedData").json()}
    assert {"DISKLESS", "DRBD_DISKLESS"} & set(flags["remus"])
    assert "Diskless" in ok(cluster, "r l -n remus").out
    ok(cluster, "resource delete remus SharedData")
    again = ok(cluster, "resource delete remus SharedData")  # as LINSTOR: a warning, nothing changes
    assert again.out == "WARNING: resource SharedData not found on node remus: nothing deleted\n"
    ok(cluster, "resource delete --keep-tiebreaker vulcan kronos SharedData")
    ok(cluster, "rd d SharedData")

    ok(cluster, "storage-pool delete romulus filepool")
    assert ("romulus", "filepool") not in {(p["node_name"], p["name"]) for p in ok(cluster, "-m sp l").json()}
    ok(cluster, "node delete romulus")
    assert "romulus" not in ok(cluster, "n l").out
    assert ok(cluster, "node delete romulus").out == "WARNING: node romulus not found: nothing deleted\n"


def test_resource_group_spawn_and_volume_resize(cluster: Cli) -> None:
    ok(cluster, "resource-group create --place-count 2 --storage-pool thinpool --layer-list drbd,storage "
                "--description two-replicas gold")
    groups = ok(cluster, "rg l").out
    assert "PlaceCount: 2" in groups and "two-replicas" in groups
    (gold,) = [g for g in ok(cluster, "-m rg l").json() if g["name"] == "gold"]
    assert gold["select_filter"]["place_count"] == 2

    ok(cluster, "resource-group spawn gold web01-disk-0 20m")
    assert len(_holders(cluster, "web01-disk-0")) == 2
    ok(cluster, "volume-definition set-size web01-disk-0 0 40m")
    ok(cluster, "volume-definition set-size web01-disk-0 0 40m")  # idempotent, as its help says
    (rd,) = ok(cluster, "-m rd l -r web01-disk-0").json()
    assert rd["resource_group_name"] == "gold" and rd["volume_definitions"][0]["size_kib"] == 40 * 1024
    ok(cluster, "rd d web01-disk-0")
    ok(cluster, "rg d gold")


def test_profiles_check_then_apply_is_idempotent(cluster: Cli, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.gold]\ndescription = "3 replicas"\nplace_count = 3\n'
                        'storage_pool = "thinpool"\nlayers = ["drbd", "storage"]\n')
    checked = ok(cluster, f"profiles check {profiles}").out
    assert "1 valid profile" in checked and "gold: PlaceCount: 3" in checked
    assert ok(cluster, f"profiles apply {profiles}").out.strip() == "created gold"
    assert ok(cluster, f"profiles apply {profiles}").out.strip() == "unchanged gold"
    assert ok(cluster, f"-m profiles apply {profiles}").json() == {"changes": ["unchanged gold"]}

    profiles.write_text('[profiles.gold]\nplace_count = "three"\n')
    refused(cluster, f"profiles check {profiles}", "gold")


@pytest.mark.parametrize(
    ("line", "message"),
    [("resource create -s thinpool nowhere LocalData", "not found"),
     ("resource delete vulcan Missing", "not found"),
     ("node create vulcan 127.0.0.9", "exists"),
     ("resource create --storage-pool nopool vulcan LocalData", "nopool"),
     ("volume-definition create LocalData 15x", "unknown unit"),
     ("resource-definition create all", "reserved")],
)
def test_refusals_exit_1_with_the_controllers_message(cluster: Cli, line: str, message: str) -> None:
    ok(cluster, "rd c --layer-list storage LocalData")
    ok(cluster, "vd c LocalData 10m")
    refused(cluster, line, message)


def test_machine_readable_refusal_carries_the_api_replies(cluster: Cli) -> None:
    result = cluster("-m node create vulcan 127.0.0.9")
    assert result.status == 1
    error = json.loads(result.err)["error"]
    assert error["type"] == "AlreadyExists" and error["replies"][0]["ret_code"] < 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_controller_is_a_clear_error() -> None:
    err = io.StringIO()
    url = f"http://127.0.0.1:{_free_port()}"
    assert main(["--controllers", url, "node", "list"], stdout=io.StringIO(), stderr=err) == 1
    assert "no LINSTOR controller reachable" in err.getvalue() and "Traceback" not in err.getvalue()


def _node_names(argv: list[str]) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    assert main([*argv, "-m", "node", "list"], stdout=out, stderr=err) == 0, err.getvalue()
    return [node["name"] for node in json.loads(out.getvalue())]


def test_a_controller_that_cannot_listen_says_why(tmp_path: Path) -> None:
    """A port already taken is the operator's to fix, not 'an internal error, this is a bug'."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = io.StringIO()
        status = main(["controller", "--state-dir", str(tmp_path / "state"), "--listen", f"127.0.0.1:{port}"],
                      stdout=io.StringIO(), stderr=err)
    assert status == 1
    assert "the controller cannot start on" in err.getvalue() and "Address already in use" in err.getvalue()
    assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue()


def test_controllers_come_from_the_flag_then_ls_controllers_then_the_config_file(
        server: ControllerServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI finds its controller as the linstor client does; the stronger source wins."""
    live, dead = server.url.replace("http://", "linstor://"), f"linstor://127.0.0.1:{_free_port()}"
    main(["--controllers", server.url, "node", "create", "vulcan", "127.0.0.1"], stdout=io.StringIO())
    home = tmp_path / "home"
    config = home / ".config" / "linstor" / "linstor-client.conf"
    config.parent.mkdir(parents=True)
    config.write_text(f"[global]\ncontrollers = {live}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("LS_CONTROLLERS", raising=False)
    assert _node_names([]) == ["vulcan"]
    monkeypatch.setenv("LS_CONTROLLERS", f"{dead},{live}")  # tried in order: fails over
    assert _node_names([]) == ["vulcan"]
    config.write_text(f"[global]\ncontrollers = {dead}\n")
    monkeypatch.setenv("LS_CONTROLLERS", live)
    assert _node_names([]) == ["vulcan"]
    monkeypatch.setenv("LS_CONTROLLERS", dead)
    assert _node_names(["--controllers", live]) == ["vulcan"]
    err = io.StringIO()
    assert main(["node", "list"], stdout=io.StringIO(), stderr=err) == 1
    assert dead.replace("linstor://", "http://") in err.getvalue()


@contextmanager
def served(state_dir: Path, *options: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``linstor-core controller`` as its own process on a free port; killed if still running."""
    port = _free_port()
    command = [*LINSTOR_CORE, "controller", "--state-dir", str(state_dir), "--listen", f"127.0.0.1:{port}", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_controller_command_serves_with_a_token_and_stops_on_sigterm(tmp_path: Path) -> None:
    with served(tmp_path / "state", "--token", "s3cret") as (port, process):
        url = f"http://127.0.0.1:{port}"
        err = io.StringIO()
        assert main(["--controllers", url, "node", "list"], stdout=io.StringIO(), stderr=err) == 1
        out = io.StringIO()
        assert main(["--controllers", url, "--token", "s3cret", "-m", "node", "list"], stdout=out, stderr=err) == 0
        assert json.loads(out.getvalue()) == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_controller_command_serves_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    monkeypatch.setenv("LS_ROOT_CA", str(cert))
    with served(tmp_path / "state", "--tls-cert", str(cert), "--tls-key", str(key)) as (port, _):
        out = io.StringIO()
        status = main(["--controllers", f"linstor+ssl://127.0.0.1:{port}", "-m", "node", "list"], stdout=out,
                      stderr=io.StringIO())
        assert (status, json.loads(out.getvalue())) == (0, [])


def test_controller_refuses_a_public_address_without_token_or_tls(tmp_path: Path) -> None:
    result = subprocess.run(
        [*LINSTOR_CORE, "controller",
         "--state-dir", str(tmp_path / "s"), "--listen", f"0.0.0.0:{_free_port()}"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.startswith("ERROR: ") and "Traceback" not in result.stderr
