"""Run the installed action scripts as oned does, against the embedded controller.

(``One`` and the ssh stand-in; the ``one`` fixture is in this directory's conftest.)

``one`` gives: the ``controller`` fixture's controller with a profile ``gold`` (one replica on
``thinpool``, storage layer only, pinned to ``bravo``: without DRBD a node reads only its own
replica, so ``bravo`` is both the front-end node and the VM host wherever data is checked); an oned stand-in (XML-RPC on loopback) knowing image datastore 100 and system
datastore 0; ``ONE_AUTH``/``ONE_XMLRPC`` as oned sets them for drivers; ``linstor-one`` on
PATH from the venv; and an ``ssh`` on PATH that runs the command here, with
``/var/lib/one/datastores`` mapped to ``<hosts>/<host>/datastores`` so each host keeps its own
VM directories. Every ssh call is logged, so tests see on which host a symlink was made.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from oned_standin import OnedStandIn

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "packaging" / "opennebula"
ONE_DATASTORES = "/var/lib/one/datastores"
PROFILE = "gold"
FRONTEND = "bravo"

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
command=$(printf '%s' "$*" | sed "s|{datastores}|$HOSTS_ROOT/$host/datastores|g")
exec sh -c "$command"
""".format(datastores=ONE_DATASTORES)


@dataclass
class One:
    """Calls the packaged scripts; reads controller state; knows where each host's files are."""

    url: str
    oned: OnedStandIn
    env: dict[str, str]
    hosts_root: Path
    ssh_log: Path
    safe_dir: Path
    template: dict[str, str] = field(default_factory=dict)

    def run(self, kind: str, action: str, *args: str, stdin: bytes | str = b"") -> subprocess.CompletedProcess[str]:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        script = SCRIPTS / ("datastore" if kind == "ds" else "tm") / action
        done = subprocess.run([str(script), *args], input=data, capture_output=True, env=self.env, timeout=120)
        return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())

    def ok(self, kind: str, action: str, *args: str, stdin: bytes | str = b"") -> str:
        done = self.run(kind, action, *args, stdin=stdin)
        assert done.returncode == 0, f"{kind} {action} failed: {done.stderr}"
        return done.stdout

    def host_path(self, host: str, path: str) -> Path:
        """Where ``host``'s ``path`` under /var/lib/one/datastores lives in this test."""
        return self.hosts_root / host / "datastores" / Path(path).relative_to(ONE_DATASTORES)

    def get(self, path: str, **params: Any) -> Any:
        answer = requests.get(f"{self.url}{path}", params=params, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def resource_names(self) -> list[str]:
        return sorted(rd["name"] for rd in self.get("/v1/resource-definitions"))

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
