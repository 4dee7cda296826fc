"""The bundle's security promises, each proved against the real code over its real interface.

- The controller refuses a non-loopback address without a token, TLS or not (``ControllerServer``,
  ``linstor-core controller`` and ``python -m linstor_core.controller.server``).
- With a token, every route of the Flask app (read from its URL map, so a new route is covered
  the day it is added) answers 401 without the token and something else with it.
- The Docker plugin's socket is mode 0600, even when the plugin starts under umask 000.
- Every name that could reach a path or a command is held to ``linstor_core.naming``: path
  traversal (``../x``, ``a/b``, ``..``, absolute paths, NUL) and option injection (``--help``,
  ``-rf``, ``-oProxyCommand=...``) are refused through the controller's REST API (400 with the
  name's LINSTOR ret code), ``DiskService``, and each adapter's entry; and a refusal leaves no
  record in the controller, no file under the test's directory, no request to the controller
  where the check belongs before any, and no command run.

Fixtures are local (this directory's conftest belongs to the other reliability suites): a
controller on loopback with one node, a FILE pool (snapshots work without reflink) and a
profile, and a definition with one volume but no replica, so refused requests have real
objects next to them and nothing on disk needs cleaning but the state directory.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import io
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from docker_volume import probe
from linstor_core import cli as core_cli
from linstor_core import retcodes as rc
from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig
from linstor_core.controller.api import create_app
from linstor_core.controller.server import ControllerServer
from linstor_core.disks import DiskService
from linstor_core.errors import InvalidInput, LinstorError
from linstor_core.naming import validate_resource_name
from opennebula_driver import cli as one_cli
from opennebula_driver.env import Env
from opennebula_driver.hosts import Hosts
from opennebula_driver.oned import Oned, OnedConfig
from proxmox_plugin import cli as pve_cli

REPO = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token"
NODE = "alpha"
POOL = "filepool"
GROUP = "secgrp"
DISK = "SecDisk"
SNAPSHOT = "snap1"
ABSOLUTE = "/tmp/linstor-security-probe"
"""An absolute name; nothing may ever appear at it (checked with a glob after each test)."""
TRAVERSAL = ("../x", "a/b", "..", ABSOLUTE, "x\0y")
INJECTION = ("--help", "-rf")
BAD_NAMES = TRAVERSAL + INJECTION
DB_FILES = re.compile(r"controller\.sqlite3(-wal|-shm|-journal)?$")


# -- the controller under test ------------------------------------------------------------------


@dataclass
class Stack:
    """A running controller (see the module docstring) and the directory everything lives in."""

    server: ControllerServer
    root: Path
    http: requests.Session

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(method, self.url + path, json=body, timeout=60)

    def ok(self, method: str, path: str, body: Any = None) -> None:
        answer = self.call(method, path, body)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)

    def disks(self) -> DiskService:
        return DiskService(LinstorClient(ClientConfig(controllers=(self.url,))))


def _loops_under(directory: Path) -> list[str]:
    """The loop devices whose backing file lies under ``directory`` (none unless root)."""
    if os.geteuid() != 0 or not Path("/dev/loop-control").exists():
        return []
    listing = subprocess.run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"],
                             check=True, capture_output=True, text=True).stdout
    prefix = str(directory.resolve()) + "/"
    return [dev["name"] for dev in json.loads(listing or '{"loopdevices": []}')["loopdevices"]
            if (dev.get("back-file") or "").replace(" (deleted)", "").startswith(prefix)]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    server = ControllerServer(tmp_path / "state", "127.0.0.1", 0)
    server.start()
    made = Stack(server, tmp_path, requests.Session())
    try:
        made.ok("POST", "/v1/nodes", {"name": NODE, "type": "SATELLITE",
                                      "net_interfaces": [{"name": "default", "address": "127.0.0.11"}]})
        made.ok("POST", f"/v1/nodes/{NODE}/storage-pools", {
            "storage_pool_name": POOL, "provider_kind": "FILE",
            "props": {"StorDriver/FileDir": str(tmp_path / "pools" / NODE)}})
        made.ok("POST", "/v1/resource-groups", {"name": GROUP, "select_filter": {
            "place_count": 1, "storage_pool": POOL, "layer_stack": ["STORAGE"]}})
        made.ok("POST", "/v1/resource-definitions", {"resource_definition": {
            "name": DISK, "resource_group_name": GROUP, "layer_data": [{"type": "STORAGE"}]}})
        made.ok("POST", f"/v1/resource-definitions/{DISK}/volume-definitions",
                {"volume_definition": {"size_kib": 4096}})
        yield made
    finally:
        made.http.close()
        server.stop()
        for device in _loops_under(tmp_path):
            subprocess.run(["losetup", "-d", device], check=False, capture_output=True)
    assert not glob.glob(ABSOLUTE + "*"), "a name climbed out to an absolute path"


def _records(target: Stack) -> dict[str, Any]:
    """What the controller holds, by name: nodes, pools, groups, definitions, replicas, snapshots."""
    def names(path: str, *keys: str) -> list[str]:
        answer = target.call("GET", path)
        assert answer.status_code == 200, answer.text
        return sorted(json.dumps([item[k] for k in keys], sort_keys=True) for item in answer.json())

    return {
        "nodes": names("/v1/nodes", "name"),
        "pools": names(f"/v1/nodes/{NODE}/storage-pools", "storage_pool_name", "props"),
        "groups": names("/v1/resource-groups", "name"),
        "definitions": names("/v1/resource-definitions", "name"),
        "resources": names("/v1/view/resources", "name", "node_name"),
        "snapshots": names("/v1/view/snapshots", "resource_name", "name"),
    }


def _files(root: Path) -> set[str]:
    """Every path under ``root`` but the controller's database files (those change on reads)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if not DB_FILES.search(p.name)}


def _requests_served(target: Stack) -> float:
    """How many requests the controller has answered (its own /metrics, this scrape not counted)."""
    answer = target.call("GET", "/metrics")
    assert answer.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    return sum(s.value for s in families["linstor_http_requests"].samples if s.name.endswith("_total"))


@contextlib.contextmanager
def changes_nothing(target: Stack, *, no_requests: bool = False) -> Iterator[None]:
    """The block leaves the controller's records and the files under the test's root as they
    were; with ``no_requests``, no request reached the controller either (refused before any)."""
    records, files = _records(target), _files(target.root)
    served = _requests_served(target)
    yield
    if no_requests:
        assert _requests_served(target) == served + 1, "a refused call still talked to the controller"
    assert _records(target) == records
    assert _files(target.root) == files


# -- listening: loopback unless a token ---------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "controller.example"])
def test_server_refuses_a_public_address_without_token(tmp_path: Path, host: str) -> None:
    for tls in ({}, {"tls_cert": tmp_path / "c.pem", "tls_key": tmp_path / "k.pem"}):
        with pytest.raises(InvalidInput, match="non-loopback address needs a token") as refused:
            ControllerServer(tmp_path / "state", host, 0, **tls)
        assert "--token" in refused.value.correction
        assert not (tmp_path / "state").exists()
    ControllerServer(tmp_path / "state", host, 0, token=TOKEN)
    ControllerServer(tmp_path / "state", host, 0, token=TOKEN, tls_cert=tmp_path / "c.pem",
                     tls_key=tmp_path / "k.pem")


def _free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


@pytest.mark.parametrize("command", [
    [str(Path(sys.executable).with_name("linstor-core")), "controller"],
    [sys.executable, "-m", "linstor_core.controller.server"],
], ids=["linstor-core", "python-m"])
@pytest.mark.parametrize("listen", ["0.0.0.0:{port}", "[::]:{port}"])
def test_command_line_refuses_a_public_address_without_token(
        tmp_path: Path, command: list[str], listen: str) -> None:
    port = _free_port()
    done = subprocess.run([*command, "--state-dir", str(tmp_path / "state"), "--listen",
                           listen.format(port=port)], capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert done.returncode == 1, done
    assert "non-loopback address needs a token" in done.stderr
    assert "--token" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "state").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# -- the bearer token on every route -----------------------------------------------------------

ROUTE_VALUES = {"rd": DISK, "node": NODE, "pool": POOL, "snapshot": SNAPSHOT, "group": GROUP,
                "target": "SecClone"}
_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _filled(rule: str) -> str:
    """A Flask rule with valid-looking values: ``/v1/nodes/<node>`` -> ``/v1/nodes/alpha``."""
    def value(match: re.Match[str]) -> str:
        if match.group(1) == "int":
            return "0"
        return ROUTE_VALUES.get(match.group(2), f"any-{match.group(2)}")

    return _VARIABLE.sub(value, rule)


def test_every_route_needs_the_token(tmp_path: Path) -> None:
    with ControllerServer(tmp_path / "state", "127.0.0.1", 0, token=TOKEN) as server:
        rules = list(create_app(server.controller, token=TOKEN).url_map.iter_rules())
        calls = sorted({(method, _filled(r.rule)) for r in rules for method in r.methods or ()
                        if r.endpoint != "static"})
        assert len(calls) > 60 and ("GET", "/metrics") in calls
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with requests.Session() as http:
            for method, path in calls:
                refused = http.request(method, server.url + path, timeout=30)
                assert refused.status_code == 401, (method, path, refused.status_code)
                if method != "HEAD":
                    assert rc.code_of(refused.json()[0]["ret_code"]) == rc.code_of(rc.API_CALL_AUTH_REQ)
                allowed = http.request(method, server.url + path, headers=auth, timeout=30)
                assert allowed.status_code != 401, (method, path, allowed.text)

            for wrong in (f"Bearer {TOKEN}x", "Bearer", f"Basic {TOKEN}", TOKEN,
                          "Basic " + base64.b64encode(f"admin:{TOKEN}".encode()).decode()):
                answer = http.get(server.url + "/v1/nodes", headers={"Authorization": wrong}, timeout=30)
                assert answer.status_code == 401, wrong
            sneaky = http.post(server.url + "/v1/resource-groups", json={"name": "sneaky"}, timeout=30)
            assert sneaky.status_code == 401
            groups = http.get(server.url + "/v1/resource-groups", headers=auth, timeout=30).json()
            assert "sneaky" not in {g["name"] for g in groups}


# -- the Docker plugin's socket ------------------------------------------------------------------


@contextlib.contextmanager
def docker_plugin(target: Stack) -> Iterator[Path]:
    """``linstor-docker-volume`` as its own process under umask 000; yields its socket."""
    short = Path(tempfile.mkdtemp(prefix="dv-sec-"))  # unix socket paths are short
    sock = short / "plugins" / "linstor.sock"
    log = target.root / "plugin.log"
    argv = [sys.executable, "-m", "docker_volume.cli", "--socket", str(sock), "--controllers", target.url,
            "--mount-root", str(target.root / "volumes"), "--state-file", str(target.root / "mounts.json"),
            "--node", NODE, "--profile", GROUP, "--config", str(target.root / "empty.conf")]
    (target.root / "empty.conf").touch()  # no settings: the host's /etc/linstor is not read
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LS_", "LISTEN_"))}
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, umask=0)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(LinstorError):
                if probe.call(sock, "/Plugin.Activate", timeout=5)[0] == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"plugin did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield sock
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(short)


def test_docker_socket_is_0600_and_refuses_names_that_climb(stack: Stack) -> None:
    with docker_plugin(stack) as sock:
        mode = sock.stat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600, oct(mode)
        with changes_nothing(stack, no_requests=True):
            for name in BAD_NAMES:
                for endpoint, extra in (("/VolumeDriver.Create", {"Opts": {}}), ("/VolumeDriver.Remove", {}),
                                        ("/VolumeDriver.Mount", {"ID": "c1"}), ("/VolumeDriver.Path", {}),
                                        ("/VolumeDriver.Get", {})):
                    status, answer = probe.call(sock, endpoint, {"Name": name, **extra})
                    assert status == 200 and "Name" in answer["Err"], (endpoint, name, answer)
        assert not (stack.root / "volumes").exists() or not any((stack.root / "volumes").iterdir())


# -- names through the controller's REST API ---------------------------------------------------


def _creations(target: Stack, bad: str) -> list[tuple[str, dict[str, Any], int]]:
    """(path, body, the LINSTOR ret code of the refusal) of every POST that names something new."""
    return [
        ("/v1/resource-definitions", {"resource_definition": {"name": bad}}, rc.FAIL_INVLD_RSC_NAME),
        ("/v1/nodes", {"name": bad, "type": "SATELLITE",
                       "net_interfaces": [{"name": "default", "address": "127.0.0.20"}]}, rc.FAIL_INVLD_NODE_NAME),
        (f"/v1/nodes/{NODE}/storage-pools", {"storage_pool_name": bad, "provider_kind": "FILE",
                                             "props": {"StorDriver/FileDir": str(target.root / "pools" / "new")}},
         rc.FAIL_INVLD_STOR_POOL_NAME),
        (f"/v1/resource-definitions/{DISK}/snapshots", {"name": bad}, rc.FAIL_INVLD_SNAPSHOT_NAME),
        ("/v1/resource-groups", {"name": bad}, rc.FAIL_INVLD_RSC_GRP_NAME),
        (f"/v1/resource-groups/{GROUP}/spawn", {"resource_definition_name": bad, "volume_sizes": [4096]},
         rc.FAIL_INVLD_RSC_NAME),
    ]


def _lookups(bad: str) -> list[tuple[str, str, Any]]:
    """(method, path, body) of calls that name an existing object by a bad name."""
    name = quote(bad, safe="")
    return [
        ("GET", f"/v1/resource-definitions/{name}", None),
        ("DELETE", f"/v1/resource-definitions/{name}", None),
        ("DELETE", f"/v1/nodes/{name}", None),
        ("DELETE", f"/v1/nodes/{NODE}/storage-pools/{name}", None),
        ("DELETE", f"/v1/resource-groups/{name}", None),
        ("DELETE", f"/v1/resource-definitions/{DISK}/snapshots/{name}", None),
        ("POST", f"/v1/resource-definitions/{DISK}/resources",
         [{"resource": {"node_name": bad, "props": {"StorPoolName": POOL}}}]),
        ("POST", f"/v1/resource-definitions/{DISK}/resources",
         [{"resource": {"node_name": NODE, "props": {"StorPoolName": bad}}}]),
        ("POST", f"/v1/resource-definitions/{DISK}/snapshots", {"name": "snap2", "nodes": [bad]}),
    ]


@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
def test_rest_api_refuses_names_that_climb_or_look_like_options(stack: Stack, bad: str) -> None:
    with changes_nothing(stack):
        for path, body, code in _creations(stack, bad):
            answer = stack.call("POST", path, body)
            assert answer.status_code == 400, (path, bad, answer.status_code, answer.text)
            first = answer.json()[0]
            assert first["ret_code"] < 0 and rc.code_of(first["ret_code"]) == rc.code_of(code), (path, first)
        for method, path, body in _lookups(bad):
            answer = stack.call(method, path, body)
            assert answer.status_code in (400, 404), (method, path, answer.status_code, answer.text)


def test_copies_refuse_bad_target_names(stack: Stack) -> None:
    """Clones and snapshot restores of a deployed disk: the new name is checked before any copy."""
    stack.ok("POST", f"/v1/resource-definitions/{DISK}/resources",
             [{"resource": {"node_name": NODE, "props": {"StorPoolName": POOL}}}])
    stack.ok("POST", f"/v1/resource-definitions/{DISK}/snapshots", {"name": SNAPSHOT})
    try:
        with changes_nothing(stack):
            for bad in BAD_NAMES:
                for path, body in (
                        (f"/v1/resource-definitions/{DISK}/clone", {"name": bad}),
                        (f"/v1/resource-definitions/{DISK}/snapshot-restore-volume-definition/{SNAPSHOT}",
                         {"to_resource": bad}),
                        (f"/v1/resource-definitions/{DISK}/snapshot-restore-resource/{SNAPSHOT}",
                         {"to_resource": bad, "nodes": [NODE]})):
                    answer = stack.call("POST", path, body)
                    assert answer.status_code == 400, (path, bad, answer.text)
                    assert rc.code_of(answer.json()[0]["ret_code"]) == rc.code_of(rc.FAIL_INVLD_RSC_NAME)
    finally:
        stack.ok("DELETE", f"/v1/resource-definitions/{DISK}/snapshots/{SNAPSHOT}")
        stack.ok("DELETE", f"/v1/resource-definitions/{DISK}/resources/{NODE}")


# -- names through DiskService ----------------------------------------------------------------

DISK_CALLS: dict[str, Callable[[DiskService, str], object]] = {
    "create name": lambda d, bad: d.create(GROUP, bad, 4096),
    "create profile": lambda d, bad: d.create(bad, "SecNew", 4096),
    "create prefer_node": lambda d, bad: d.create(GROUP, "SecNew", 4096, prefer_node=bad),
    "get": lambda d, bad: d.get(bad),
    "exists": lambda d, bad: d.exists(bad),
    "clone source": lambda d, bad: d.clone(bad, "SecNew"),
    "clone target": lambda d, bad: d.clone(DISK, bad),
    "snapshot": lambda d, bad: d.snapshot(DISK, bad),
    "snapshot node": lambda d, bad: d.snapshot(DISK, SNAPSHOT, [bad]),
    "delete_snapshot": lambda d, bad: d.delete_snapshot(DISK, bad),
    "rollback": lambda d, bad: d.rollback(DISK, bad),
    "restore target": lambda d, bad: d.restore(DISK, SNAPSHOT, bad),
    "restore node": lambda d, bad: d.restore(DISK, SNAPSHOT, "SecNew", nodes=[bad]),
    "resize": lambda d, bad: d.resize(bad, 8192),
    "attach name": lambda d, bad: d.attach(bad, NODE),
    "attach node": lambda d, bad: d.attach(DISK, bad),
    "end_migration": lambda d, bad: d.end_migration(DISK, bad),
    "detach": lambda d, bad: d.detach(DISK, bad),
    "path": lambda d, bad: d.path(DISK, bad),
    "delete": lambda d, bad: d.delete(bad),
    "set_props": lambda d, bad: d.set_props(bad, {"Aux/x": "1"}),
    "capacity": lambda d, bad: d.capacity(bad),
}


def test_disk_service_refuses_bad_names_before_any_request(stack: Stack) -> None:
    disks = stack.disks()
    with changes_nothing(stack, no_requests=True):
        for what, call in DISK_CALLS.items():
            for bad in BAD_NAMES:
                with pytest.raises(InvalidInput):
                    call(disks, bad)
                    pytest.fail(f"DiskService {what} took {bad!r}")


def test_linstor_core_cli_refuses_bad_names_before_any_request(stack: Stack) -> None:
    """The operator's command line; ``--`` so that ``-rf`` is a name, not an option to argparse."""
    commands = [
        lambda bad: ["resource-definition", "create", "--", bad],
        lambda bad: ["resource-definition", "delete", "--", bad],
        lambda bad: ["node", "create", "--", bad, "127.0.0.20"],
        lambda bad: ["node", "delete", "--", bad],
        lambda bad: ["storage-pool", "create", "file", "--", NODE, bad, str(stack.root / "pools" / "new")],
        lambda bad: ["resource-group", "create", "--", bad],
        lambda bad: ["resource-group", "spawn-resources", "--", GROUP, bad, "4M"],
        lambda bad: ["resource", "create", "--", NODE, bad],
        lambda bad: ["resource", "create", "--", bad, DISK],
        lambda bad: ["snapshot", "create", "--", DISK, bad],
        lambda bad: ["snapshot", "delete", "--", DISK, bad],
        lambda bad: ["snapshot", "rollback", "--", bad, SNAPSHOT],
    ]
    with changes_nothing(stack, no_requests=True):
        for command in commands:
            for bad in BAD_NAMES:
                out, err = io.StringIO(), io.StringIO()
                code = core_cli.main(["--controllers", stack.url, *command(bad)], stdout=out, stderr=err)
                assert code == 1 and "invalid" in out.getvalue() + err.getvalue(), (command(bad), err.getvalue())


# -- names through each adapter's entry ---------------------------------------------------------


def _pve(target: Stack, method: str, args: dict[str, Any]) -> dict[str, Any]:
    """``linstor-pve <method>`` as the Perl shim runs it; must fail with exit 1 and JSON."""
    request = {"storeid": "sec", "node": NODE, "args": args,
               "scfg": {"type": "linstor", "resourcegroup": GROUP, "controller": target.url}}
    out = io.StringIO()
    code = pve_cli.main([method], stdin=io.BytesIO(json.dumps(request).encode()), stdout=out, stderr=io.StringIO(),
                        environ={pve_cli.CACHE_DIR_ENV: str(target.root / "pve-cache")})
    answer = json.loads(out.getvalue())
    assert code == 1, (method, args, answer)
    return dict(answer["error"])


def test_pve_entry_refuses_volnames_and_snapshots_that_climb(stack: Stack) -> None:
    calls: list[tuple[str, Callable[[str], dict[str, Any]], str]] = [
        ("parse_volname", lambda bad: {"volname": bad}, "invalid volname"),
        ("parse_volname", lambda bad: {"volname": f"base-100-disk-0/{bad}"}, "invalid volname"),
        ("alloc_image", lambda bad: {"vmid": 101, "fmt": "raw", "name": bad, "size": 4096}, "invalid name"),
        ("path", lambda bad: {"volname": bad}, "invalid volname"),
        ("free_image", lambda bad: {"volname": bad}, "invalid volname"),
        ("volume_resize", lambda bad: {"volname": bad, "size": 8 << 20}, "invalid volname"),
        ("volume_snapshot", lambda bad: {"volname": bad, "snap": SNAPSHOT}, "invalid volname"),
        ("volume_snapshot", lambda bad: {"volname": "vm-101-disk-0", "snap": bad}, "snapshot"),
        ("volume_snapshot_delete", lambda bad: {"volname": "vm-101-disk-0", "snap": bad}, "snapshot"),
    ]
    with changes_nothing(stack, no_requests=True):
        for method, args, why in calls:
            for bad in BAD_NAMES:
                error = _pve(stack, method, args(bad))
                assert error["type"] == "InvalidInput" and why in error["message"], (method, bad, error)
    assert not (stack.root / "pve-cache").exists()


class CommandRecorder:
    """A runner for ``Hosts`` that records every command instead of running it."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, argv: list[str], *, timeout: float = 0, stdin: bytes | None = None) -> str:
        self.commands.append(list(argv))
        return ""


def _one(target: Stack, argv: list[str], stdin: bytes = b"") -> tuple[int, str, str, list[list[str]]]:
    """``linstor-one`` in this process, with oned unreachable and host commands recorded:
    (exit status, stdout, stderr, commands)."""
    recorder = CommandRecorder()
    env = Env(oned=Oned(OnedConfig(f"http://127.0.0.1:{_free_port()}/RPC2", target.root / "no-auth")),
              hosts=Hosts(runner=recorder, local=frozenset({"frontend"})), hostname="frontend",
              remotes=target.root / "remotes", read_stdin=lambda: stdin, progress=lambda line: None)
    out, err = io.StringIO(), io.StringIO()
    code = one_cli.main(argv, env=env, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue(), recorder.commands


def _driver_action(target: Stack, image: dict[str, str]) -> bytes:
    fields = "".join(f"<{key}><![CDATA[{value}]]></{key}>" for key, value in image.items())
    return base64.b64encode(
        f"<DS_DRIVER_ACTION_DATA><IMAGE>{fields}</IMAGE><DATASTORE><ID>100</ID><NAME>linstor</NAME>"
        "<TM_MAD>linstor</TM_MAD><BASE_PATH>/var/lib/one/datastores/100</BASE_PATH><TEMPLATE>"
        f"<LINSTOR_CONTROLLERS>{target.url}</LINSTOR_CONTROLLERS>"
        f"<LINSTOR_RESOURCE_GROUP>{GROUP}</LINSTOR_RESOURCE_GROUP></TEMPLATE></DATASTORE>"
        "</DS_DRIVER_ACTION_DATA>".encode())


def test_opennebula_entry_refuses_ids_sources_and_hosts(stack: Stack) -> None:
    disk = "/var/lib/one/datastores/0/22/disk.0"
    injected_host = "-oProxyCommand=touch " + ABSOLUTE
    calls: list[tuple[list[str], bytes]] = []
    for bad in BAD_NAMES:
        calls += [
            (["ds", "rm", bad], _driver_action(stack, {"ID": "7", "SOURCE": DISK})),
            (["ds", "rm", "7"], _driver_action(stack, {"ID": bad, "SOURCE": DISK})),
            (["ds", "rm", "7"], _driver_action(stack, {"ID": "7", "SOURCE": bad})),
            (["ds", "clone", "8"], _driver_action(stack, {"ID": "8", "NAME": "copy", "PATH": bad, "SIZE": "4"})),
            (["ds", "snap_delete", "7"], _driver_action(stack, {"ID": "7", "SOURCE": bad, "TARGET_SNAPSHOT": "1"})),
            (["ds", "snap_revert", "7"], _driver_action(stack, {"ID": "7", "SOURCE": DISK, "TARGET_SNAPSHOT": bad})),
            (["tm", "clone", f"frontend:{DISK}", f"{NODE}:{disk}", bad, "0"], b""),
            (["tm", "clone", f"frontend:{DISK}", f"{NODE}:{disk}", "22", bad], b""),
            (["tm", "delete", f"{bad}:/var/lib/one/datastores/0/22", "22", "0"], b""),
            (["tm", "delete", f"{NODE}:{bad}", "22", "0"], b""),
            (["tm", "mkswap", "16", f"{NODE}:/var/lib/one/datastores/0/22/{bad}", "22", "0"], b""),
        ]
    ssh_options = [
        ["tm", "delete", f"{injected_host}:/var/lib/one/datastores/0/22", "22", "0"],
        ["tm", "mv", f"{NODE}:/var/lib/one/datastores/0/22", f"{injected_host}:/var/lib/one/datastores/0/22",
         "22", "0"],
        ["tm", "premigrate", NODE, injected_host, "/var/lib/one/datastores/0/22", "22", "0"],
    ]
    calls += [(argv, b"") for argv in ssh_options]
    with changes_nothing(stack, no_requests=True):
        for argv, stdin in calls:
            if argv[2:] == ["--help"]:  # an action's only argument: its kind's help, nothing run
                with pytest.raises(SystemExit, match="0"):
                    _one(stack, argv, stdin)
                continue
            code, _, err, commands = _one(stack, argv, stdin)
            assert code == 1 and re.match(r"(ds|tm) \w+: invalid ", err) and err.count("\n") == 1, (argv, err)
            assert commands == [], (argv, commands)
            if argv in ssh_options:
                assert "invalid node name '-oProxyCommand" in err, err


def test_opennebula_hostile_image_names_become_contained_resource_names(stack: Stack) -> None:
    """Image names are oned's to allow, so they are not refused but sanitised into a valid
    definition name (``FORMAT=save_as`` only prints the name: nothing is created)."""
    with changes_nothing(stack, no_requests=True):
        for bad in BAD_NAMES:
            code, out, err, commands = _one(stack, ["ds", "mkfs", "9"], _driver_action(
                stack, {"ID": "9", "NAME": bad.replace("\0", ""), "FORMAT": "save_as"}))
            name = out.strip()
            assert code == 0 and commands == [], err
            assert validate_resource_name(name) == name and name.startswith("one-img9-"), name
            assert "/" not in name and ".." not in name
