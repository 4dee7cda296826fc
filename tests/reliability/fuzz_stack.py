"""The real parts the failover and fuzz suites drive, wired once per module.

``stack(scratch)``: an in-process embedded controller (``controller_setup.serving``: nodes
alpha, bravo, charlie with FILE_THIN pools, on a reflink xfs as root) plus a resource group
``rel`` that places one storage-only replica on ``alpha``, the node every adapter runs as (no
DRBD module is needed, and a disk is always local). Each adapter is reached the way its
platform reaches it, in this process: ``linstor-pve``'s ``main`` with the request on stdin,
``linstor-one``'s ``main`` with oned's argv and stdin (an oned stand-in answers its lookups over
XML-RPC), and the Docker plugin's WSGI app through Flask's test client.

``StateWatch`` is the "no state change" oracle: the controller's SQLite ``data_version`` read
after every call (cheap, and names the call that changed it) and a full snapshot (the listings
of nodes, groups, definitions, resources, snapshots; the files under the pools and any watched
directory; loop devices and mounts) compared once per batch.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from flask.testing import FlaskClient

from controller_setup import is_root, loops_under, reflink_filesystem, serving
from linstor_core import filesystems
from linstor_core.config import ClientConfig, load_client_config
from linstor_core.controller.server import ControllerServer
from linstor_core.disks import DiskService

# The OpenNebula documents and oned stand-in of tests/functional/opennebula_driver, reused.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functional" / "opennebula_driver"))
from one_docs import datastore_xml, driver_action, image_xml, vm_xml  # noqa: E402
from oned_standin import OnedStandIn  # noqa: E402

GROUP = "rel"
NODE = "alpha"
POOL = "thinpool"
TRACEBACK = "Traceback (most recent call last)"


def _post(url: str, path: str, body: Any) -> None:
    answer = requests.post(url + path, json=body, timeout=30)
    assert answer.status_code < 400, answer.text


@dataclass
class Stack:
    """A running controller, where its pools live, and a scratch directory for the adapters."""

    server: ControllerServer
    pool_root: Path
    scratch: Path

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def stack(scratch: Path) -> Iterator[Stack]:
    """The controller with group ``rel``; everything (loops, mounts, server) gone afterwards."""
    with ExitStack() as cleanup:
        if is_root():
            base = scratch / "xfs"
            base.mkdir()
            pool_root = cleanup.enter_context(reflink_filesystem(base)) / "pools"
        else:
            pool_root = scratch / "pools"
        pool_root.mkdir()
        server = cleanup.enter_context(serving(scratch, pool_root))
        _post(server.url, "/v1/resource-groups", {"name": GROUP, "select_filter": {
            "place_count": 1, "storage_pool": POOL, "layer_stack": ["storage"],
            "node_name_list": [NODE]}})
        yield Stack(server, pool_root, scratch)


def unmount_under(directory: Path) -> None:
    """Unmount whatever a test left mounted below ``directory`` (deepest first)."""
    for entry in reversed(filesystems.read_mounts()):
        if Path(entry.mount_point).is_relative_to(directory):
            filesystems.unmount(entry.mount_point)


# --- the adapters, reached as their platforms reach them ---------------------------------


@dataclass(frozen=True)
class Answer:
    """What PVE's shim or oned gets back from one call: exit status, stdout and stderr."""

    status: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def pve_call(method: str, request: Any, cache_dir: Path) -> Answer:
    """``linstor-pve <method>`` with ``request`` as its stdin JSON (raw text when a ``str``),
    sent as the shim sends it: UTF-8 bytes (a lone surrogate as the bytes that are not UTF-8)."""
    from proxmox_plugin import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    text = request if isinstance(request, str) else json.dumps(request, ensure_ascii=False)
    stdin = io.BytesIO(text.encode("utf-8", "surrogatepass"))
    status = cli.main([method], stdin=stdin, stdout=stdout, stderr=stderr,
                      environ={cli.CACHE_DIR_ENV: str(cache_dir)})
    return Answer(status, stdout.getvalue(), stderr.getvalue())


def pve_request(storeid: str, scfg: Mapping[str, Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON the Perl shim sends: storage id, its storage.cfg section, node, arguments."""
    return {"storeid": storeid, "scfg": dict(scfg), "node": NODE, "args": dict(args)}


@dataclass
class One:
    """``linstor-one`` in this process against an oned stand-in; commands for host alpha run
    on this machine (through ``hosts_runner`` when given), for other hosts over ssh.

    ``service_factory`` builds the disk service from the datastore's ``LINSTOR_CONTROLLERS``
    as the driver does, with ``connect_timeout`` seconds instead of the client's default.
    """

    oned: OnedStandIn
    auth_file: Path
    remotes: Path
    connect_timeout: float
    hosts_runner: Callable[..., str] | None = None
    progress: list[str] = field(default_factory=list)

    def service_factory(self, controllers: tuple[str, ...]) -> DiskService:
        config = load_client_config(list(controllers) or None)
        return DiskService.from_config(dataclasses.replace(config, connect_timeout=self.connect_timeout))

    def call(self, argv: Sequence[str], stdin: bytes = b"") -> Answer:
        from opennebula_driver import cli
        from opennebula_driver.env import Env
        from opennebula_driver.hosts import Hosts
        from opennebula_driver.oned import Oned, OnedConfig

        hosts = (Hosts(local=frozenset({NODE})) if self.hosts_runner is None
                 else Hosts(runner=self.hosts_runner, local=frozenset({NODE}), direct_links=False))
        env = Env(oned=Oned(OnedConfig(self.oned.endpoint, self.auth_file)), hosts=hosts,
                  hostname=NODE, remotes=self.remotes, read_stdin=lambda: stdin,
                  progress=self.progress.append, service_factory=self.service_factory)
        stdout, stderr = io.StringIO(), io.StringIO()
        try:  # argparse writes usage and help to sys.stdout/sys.stderr, then exits
            with redirect_stdout(stdout), redirect_stderr(stderr):
                status = cli.main(list(argv), env=env, stdout=stdout, stderr=stderr)
        except SystemExit as done:
            status = done.code if isinstance(done.code, int) else 1
        return Answer(status, stdout.getvalue(), stderr.getvalue())


@contextmanager
def one_driver(scratch: Path, template: Mapping[str, str], *, connect_timeout: float = 5.0,
               hosts_runner: Callable[..., str] | None = None) -> Iterator[One]:
    """The oned stand-in knows image datastore 100, system datastore 0 (both with
    ``template``) and VM 7 ``web`` on host alpha with one disk 0; stopped afterwards."""
    oned = OnedStandIn()
    oned.datastores[100] = datastore_xml(100, template)
    oned.datastores[0] = datastore_xml(0, template, name="system", ds_type=1)
    oned.vms[7] = vm_xml(7, "web", [{"DISK_ID": 0, "SIZE": 8, "TYPE": "fs"}], host=NODE)
    auth = scratch / "one_auth"
    auth.write_text(oned.session + "\n")
    oned.start()
    try:
        yield One(oned, auth, scratch / "remotes", connect_timeout, hosts_runner)
    finally:
        oned.stop()


def docker_client(config_file: Path, *, connect_timeout: float = 5.0,
                  runner: Callable[..., str] | None = None) -> FlaskClient:
    """The Docker plugin's app configured by ``config_file`` (its ``[global]`` section, as
    ``linstor-docker-volume --config`` reads it), behind Flask's test client."""
    from docker_volume.config import load_plugin_config
    from docker_volume.driver import VolumeDriver
    from docker_volume.mounts import MountTable
    from docker_volume.protocol import create_app
    from linstor_core.runner import run

    settings = load_plugin_config({}, config_file=config_file, environ={}, client_config_paths=())
    client: ClientConfig = dataclasses.replace(settings.client, connect_timeout=connect_timeout)
    driver = VolumeDriver(DiskService.from_config(client), MountTable(settings.state_file, settings.mount_root),
                          node=settings.node, default_profile=settings.profile, runner=runner or run)
    return create_app(driver).test_client()


def docker_call(client: FlaskClient, endpoint: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
    """POST as dockerd does; (HTTP status, decoded JSON answer)."""
    data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    answer = client.post(endpoint, data=data, content_type="application/vnd.docker.plugins.v1.2+json")
    return answer.status_code, json.loads(answer.get_data())


# --- the "no state change" oracle ----------------------------------------------------------


class StateWatch:
    """Did anything change? ``data_version`` after each call, a full snapshot per batch.

    A call that may change state (an accepted mutation: the input was valid after all) takes
    a new baseline. Every other call, refused or a read, must change nothing: ``after`` fails at
    once if the database changed, and ``check()`` compares everything else.
    """

    def __init__(self, url: str, roots: Sequence[Path], database: Path) -> None:
        self.url = url
        self.roots = tuple(roots)
        self._db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None)
        self._http = requests.Session()
        self._http.trust_env = False
        self.changes = 0
        self.calls = 0
        self.rebaseline()

    def close(self) -> None:
        self._db.close()
        self._http.close()

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def snapshot(self) -> dict[str, Any]:
        def get(path: str) -> Any:
            answer = self._http.get(self.url + path, timeout=30)
            assert answer.status_code == 200, answer.text
            return answer.json()

        files = sorted((str(p), p.lstat().st_size, p.is_symlink()) for root in self.roots
                       for p in root.rglob("*"))
        mounts = sorted(e.mount_point for e in filesystems.read_mounts()
                        if any(Path(e.mount_point).is_relative_to(root) for root in self.roots))
        return {
            "nodes": get("/v1/nodes"), "groups": get("/v1/resource-groups"),
            "definitions": get("/v1/resource-definitions"), "resources": get("/v1/view/resources"),
            "snapshots": get("/v1/view/snapshots"), "files": files, "mounts": mounts,
            "loops": sorted(b for root in self.roots for b in loops_under(root).values()),
        }

    def rebaseline(self) -> None:
        self.baseline = self.snapshot()
        self.version = self._version()

    def after(self, may_change: bool, what: object) -> None:
        self.calls += 1
        if may_change:
            self.changes += 1
            self.rebaseline()
            return
        assert self._version() == self.version, f"a refused call or a read changed the database: {what!r}"

    def check(self) -> None:
        """Everything equals the baseline (the last accepted change, or the start)."""
        now = self.snapshot()
        changed = {key: (self.baseline[key], now[key]) for key in now if now[key] != self.baseline[key]}
        assert not changed, f"state changed without an accepted call: {changed}"


def watch(target: Stack, *extra_roots: Path) -> StateWatch:
    return StateWatch(target.url, (target.pool_root, *extra_roots),
                      target.server.state_dir / "controller.sqlite3")


def no_traceback(answer: str) -> None:
    assert TRACEBACK not in answer, answer
    assert "internal error" not in answer.lower(), answer


__all__ = ["GROUP", "NODE", "Answer", "One", "Stack", "StateWatch", "datastore_xml", "docker_call",
           "docker_client", "driver_action", "image_xml", "no_traceback", "one_driver", "pve_call",
           "pve_request", "stack", "unmount_under", "watch"]
