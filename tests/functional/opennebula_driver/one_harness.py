"""Run the installed action scripts as oned does, against the embedded controller.

(``One`` and the ssh stand-in; the ``one`` fixture is in this directory's conftest.)

``one`` gives: the ``controller`` fixture's controller with a profile ``gold`` (one replica on
``thinpool``, storage layer only, pinned to ``bravo``: without DRBD a node reads only its own
replica, so ``bravo`` is both the front-end node and the VM host wherever data is checked); an
oned stand-in (XML-RPC on loopback) knowing image datastore 100 and system datastore 0;
``ONE_AUTH``/``ONE_XMLRPC``/``ONE_LOCATION`` as oned sets them for drivers; the action scripts
installed by ``install.sh`` under ``$ONE_LOCATION/var/remotes`` (exec'ing the venv's
``linstor-one`` by absolute path, PATH is oned's minimal one); and an ``ssh`` on PATH that runs
the command here, with
``/var/lib/one/datastores`` mapped to ``<hosts>/<host>/datastores`` so each host keeps its own
VM directories. Every ssh call is logged, so tests see on which host a symlink was made.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from one_docs import datastore_xml, driver_action, image_xml, stat_image_xml, vm_xml
from oned_standin import OnedStandIn

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "packaging" / "opennebula"
ONE_DATASTORES = "/var/lib/one/datastores"
PROFILE = "gold"
FRONTEND = "bravo"
STAT_REQUEST = 31
"""The id oned passes ``ds stat``: a synchronous request's, not the image's."""
# The three ways oned passes a datastore action (see PLATFORMS.md): ID + stdin (>= 6.8),
# DRIVER_ACTION ID (<= 6.6), and "-" ID + stdin.
WAYS = ("stdin", "argument", "dash")

FAKE_SSH = """#!/bin/sh
# ssh stand-in: skip options, take the host, run the command here with per-host datastores.
while [ $# -gt 0 ]; do
    case "$1" in
        -o) shift 2 ;;
        -*) shift ;;
        *) break ;;
    esac
done
host=$1; shift
printf '%s %s\\n' "$host" "$*" >> "$SSH_LOG"
case "$host" in unreachable*) echo "ssh: connect to host $host port 22: No route to host" >&2; exit 255 ;; esac
command=$(printf '%s' "$*" | sed "s|{datastores}|$HOSTS_ROOT/$host/datastores|g")
# oneadmin's login PATH on Debian, without the sbin directories mkfs and mkswap are in
PATH=/usr/local/bin:/usr/bin:/bin exec sh -c "$command"
""".format(datastores=ONE_DATASTORES)


@dataclass
class One:
    """Calls the packaged scripts; reads controller state; knows where each host's files are."""

    url: str
    oned: OnedStandIn
    env: dict[str, str]
    remotes: Path
    hosts_root: Path
    ssh_log: Path
    safe_dir: Path
    template: dict[str, str] = field(default_factory=dict)

    def run(self, kind: str, action: str, *args: str, stdin: bytes | str = b"") -> subprocess.CompletedProcess[str]:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        script = self.remotes / ("datastore" if kind == "ds" else "tm") / "linstor" / action
        done = subprocess.run([str(script), *args], input=data, capture_output=True, env=self.env, timeout=120)
        return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())

    def ok(self, kind: str, action: str, *args: str, stdin: bytes | str = b"") -> str:
        """Run an action that must succeed; oned would take anything on stderr for an error."""
        done = self.run(kind, action, *args, stdin=stdin)
        assert done.returncode == 0, f"{kind} {action} failed: {done.stderr}"
        assert done.stderr == "", f"{kind} {action} wrote to stderr: {done.stderr}"
        return done.stdout

    def ds(self, action: str, object_id: int, document: bytes, way: str = "stdin", kind: str = "ds") -> str:
        """A datastore-style action (``ds *``, ``tm monitor``) with its base64 document passed
        ``way`` (one of WAYS); returns stdout."""
        if way == "argument":
            return self.ok(kind, action, document.decode(), str(object_id))
        return self.ok(kind, action, *(["-"] if way == "dash" else []), str(object_id), stdin=document)

    def host_path(self, host: str, path: str) -> Path:
        """Where ``host``'s ``path`` under /var/lib/one/datastores lives in this test."""
        return self.hosts_root / host / "datastores" / Path(path).relative_to(ONE_DATASTORES)

    def get(self, path: str, **params: Any) -> Any:
        answer = requests.get(f"{self.url}{path}", params=params, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def resource_names(self) -> list[str]:
        return sorted(rd["name"] for rd in self.get("/v1/resource-definitions"))

    def device(self, name: str, node: str = FRONTEND) -> str:
        """The device of resource ``name`` on ``node``, as the controller reports it."""
        resource = self.get(f"/v1/resource-definitions/{name}/resources/{node}")
        return str(resource["volumes"][0]["device_path"])

    def read(self, name: str, length: int, offset: int = 0) -> bytes:
        """``length`` bytes at ``offset`` of resource ``name``'s device on the front-end node."""
        with open(self.device(name), "rb") as device:
            device.seek(offset)
            return device.read(length)

    def nodes_of(self, name: str) -> dict[str, bool]:
        """node -> diskless, for resource ``name``."""
        return {r["node_name"]: "DISKLESS" in (r.get("flags") or []) or "DRBD_DISKLESS" in (r.get("flags") or [])
                for r in self.get(f"/v1/resource-definitions/{name}/resources")}

    def state(self) -> Any:
        """Everything the driver could change, to compare before and after a refusal."""
        return (
            self.get("/v1/resource-definitions"),
            sorted((r["name"], r["node_name"]) for r in self.get("/v1/view/resources")),
            sorted((s["resource_name"], s["name"]) for s in self.get("/v1/view/snapshots")),
            sorted(str(p) for p in self.hosts_root.rglob("*")),
        )


SYS = "/var/lib/one/datastores/0"  # the system datastore's VM directories, on every host
MIB = 1024 * 1024


def image_ds(one: One) -> str:
    """Image datastore 100, as the DATASTORE element of a driver action."""
    return datastore_xml(100, one.template)


def upload(one: One, name: str, size: int, marks: dict[int, bytes]) -> Path:
    """A sparse image file in SAFE_DIRS with ``marks`` (offset -> bytes) to find again on disks."""
    path = one.safe_dir / name
    with open(path, "wb") as handle:
        handle.truncate(size)
        for offset, data in marks.items():
            handle.seek(offset)
            handle.write(data)
    return path


def cp_image(one: One, image_id: int, name: str, path: Path, way: str = "stdin") -> str:
    """Register ``path`` as oned does (ds stat for the size, then ds cp); returns the SOURCE."""
    size_mib = one.ds("stat", STAT_REQUEST, driver_action(stat_image_xml(path), image_ds(one)), way)
    answer = one.ds("cp", image_id, driver_action(
        image_xml(image_id, name, PATH=path, SIZE=size_mib.strip(), FORMAT="raw"), image_ds(one)), way)
    source, fmt = answer.split()
    assert fmt == "raw"
    return source


def device_of(one: One, host: str, path: str) -> str:
    """The device a host's ``disk.<i>`` symlink points at."""
    link = one.host_path(host, path)
    assert link.is_symlink(), f"{link} is not a symlink"
    return os.readlink(link)


def read_link(one: One, host: str, path: str, length: int, offset: int = 0) -> bytes:
    """``length`` bytes at ``offset`` of the disk behind a host's ``disk.<i>`` symlink."""
    with open(device_of(one, host, path), "rb") as device:
        device.seek(offset)
        return device.read(length)


def write_at(one: One, host: str, path: str, offset: int, data: bytes) -> None:
    """Write (and sync) ``data`` into the disk behind a host's ``disk.<i>``, as a guest would."""
    with open(device_of(one, host, path), "r+b") as device:
        device.seek(offset)
        device.write(data)
        device.flush()
        os.fsync(device.fileno())


def vm(one: One, vm_id: int, name: str, disks: list[dict[str, object]]) -> str:
    """Make oned (the stand-in) know VM ``vm_id`` running on bravo; returns its XML."""
    xml = vm_xml(vm_id, name, disks, host="bravo")
    one.oned.vms[vm_id] = xml
    return xml
