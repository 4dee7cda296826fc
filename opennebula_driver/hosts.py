"""Commands on hypervisor hosts: the ``disk.<i>`` symlinks, mkfs/mkswap, VM directories.

TM actions run on the front-end, as OpenNebula's own drivers do, and reach hosts over ssh
(oneadmin's keys, as for every TM). The front-end itself runs commands directly. Commands stay
argument lists: for ssh each argument is quoted for the remote shell, so names never meet a
shell unquoted. The two small shell scripts below are constants that take paths as arguments;
the directory copy hands its tar commands to ssh as oned's own ssh driver does, which assumes
datastore paths without blanks.
"""

from __future__ import annotations

import posixpath
import shlex
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

from linstor_core.errors import InvalidInput
from linstor_core.runner import DEFAULT_TIMEOUT, Runner, run

_LINK_SCRIPT = 'mkdir -p -- "$1" && ln -sfn -- "$2" "$3"'
# Streams a directory from one host to another through the front-end, as OpenNebula's ssh TM
# does: $1/$2 source/destination host ("-" = here), $3 the parent directory, $4 the directory.
_COPY_SCRIPT = (
    'on() { h=$1; shift; if [ "$h" = - ]; then "$@"; else ssh -o BatchMode=yes "$h" "$@"; fi; }; '
    'on "$2" mkdir -p "$3" && on "$1" tar -C "$3" --sparse -cf - "$4" | on "$2" tar -C "$3" --sparse -xf -'
)


def local_names() -> frozenset[str]:
    """Names under which this machine is addressed: ``localhost``, its host name and FQDN."""
    name = socket.gethostname()
    return frozenset({"localhost", name, name.split(".")[0], socket.getfqdn()})


@dataclass
class Hosts:
    """Runs argument lists on a named host: directly when it is this machine, else over ssh."""

    runner: Runner = run
    local: frozenset[str] = field(default_factory=local_names)

    def run(self, host: str, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> str:
        if host in self.local:
            return self.runner(list(argv), timeout=timeout)
        remote = shlex.join(str(a) for a in argv)
        return self.runner(["ssh", "-o", "BatchMode=yes", host, remote], timeout=timeout)

    def runner_on(self, host: str) -> Runner:
        """A ``Runner`` bound to ``host``, for core helpers that take one (mkfs)."""

        def on_host(argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None) -> str:
            return self.run(host, argv, timeout=timeout)

        return on_host

    def link(self, host: str, device: str, path: str) -> None:
        """Point ``path`` at ``device`` (DISK_TYPE=BLOCK), creating the VM directory if needed.

        One command, so one ssh connection: a constant script, the paths as its arguments.
        """
        self.run(host, ["sh", "-c", _LINK_SCRIPT, "link", posixpath.dirname(path), device, path])

    def unlink(self, host: str, path: str) -> None:
        """Remove the ``disk.<i>`` symlink; idempotent."""
        self.run(host, ["rm", "-f", path])

    def copy_directory(self, src_host: str, dst_host: str, path: str) -> None:
        """Copy the directory ``path`` (checkpoint, deployment files) from one host to another."""
        ends = ["-" if h in self.local else h for h in (src_host, dst_host)]
        self.runner(["sh", "-c", _COPY_SCRIPT, "copy", *ends, posixpath.dirname(path), posixpath.basename(path)],
                    timeout=3600)

    def remove_vm_directory(self, host: str, path: str, vm_id: int) -> None:
        """``rm -rf`` a VM directory, only if it really is one (its last component is the VM id)."""
        if posixpath.basename(path) != str(vm_id) or posixpath.dirname(path) in ("", "/"):
            raise InvalidInput("VM directory", path, f"does not end in the VM id {vm_id}; refusing to delete it")
        self.run(host, ["rm", "-rf", "--", path])
