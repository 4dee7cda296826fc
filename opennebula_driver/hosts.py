"""Commands on hypervisor hosts: the ``disk.<i>`` symlinks, mkfs/mkswap, VM directories.

TM actions run on the front-end, as OpenNebula's own drivers do, and reach hosts over ssh
(oneadmin's keys, as for every TM). The front-end itself runs commands directly. Commands stay
argument lists: for ssh each argument is quoted for the remote shell, so names never meet a
shell unquoted. The two small shell scripts below are constants that take paths as arguments;
the directory copy hands its tar commands to ssh as oned's own ssh driver does, which assumes
datastore paths without blanks.
"""

from __future__ import annotations

import os
import posixpath
import shlex
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

from linstor_core.errors import InvalidInput, LinstorError
from linstor_core.runner import DEFAULT_TIMEOUT, SYSTEM_PATH, Runner, run

_LINK_SCRIPT = 'mkdir -p -- "$1" && ln -sfn -- "$2" "$3"'
# Streams a directory from one host to another through the front-end, as OpenNebula's ssh TM
# does: $1/$2 source/destination host ("-" = here), $3 the parent directory, $4 the directory.
# bash for pipefail: a sending tar that failed on a file still ends its archive, the receiving
# one then succeeds, and the caller would remove the source with that file missing. A source
# that is gone (test exits 1; ssh failing exits 255, which stops the copy) while the
# destination has the directory is an MV oned repeats: done already.
_COPY_SCRIPT = (
    'set -o pipefail; '
    'on() { h=$1; shift; if [ "$h" = - ]; then "$@"; else ssh -o BatchMode=yes "$h" "$@"; fi; }; '
    'name() { if [ "$1" = - ]; then echo the front-end; else echo "$1"; fi; }; '
    'look() { on "$1" test -d "$3/$4"; found=$?; if [ "$found" -gt 1 ]; then '
    'echo "cannot look for $3/$4 on $(name "$1")" >&2; exit "$found"; fi; return "$found"; }; '
    'if ! look "$1" "$2" "$3" "$4"; then look "$2" "$1" "$3" "$4" && exit 0; '
    'echo "$3/$4 is on neither $(name "$1") nor $(name "$2")" >&2; exit 1; fi; '
    'on "$2" mkdir -p "$3" && on "$1" tar -C "$3" --sparse -cf - "$4" | on "$2" tar -C "$3" --sparse -xf -'
)


def local_names() -> frozenset[str]:
    """Names under which this machine is addressed that need no DNS: ``localhost`` and its host
    name (with and without the domain)."""
    name = socket.gethostname()
    return frozenset({"localhost", name, name.split(".")[0]})


def local_fqdn() -> str:
    """This machine's FQDN: a DNS lookup (a resolver timeout would stall the action)."""
    return socket.getfqdn()


def check_vm_directory(path: str, vm_id: int) -> str:
    """``path`` if it is VM ``vm_id``'s directory (its last component is the VM id, below some
    directory), else InvalidInput: nothing else is ever removed as one."""
    if posixpath.basename(path) != str(vm_id) or posixpath.dirname(path) in ("", "/"):
        raise InvalidInput("VM directory", path, f"does not end in the VM id {vm_id}; refusing to delete it")
    return path


def _link_here(device: str, path: str) -> None:
    """``mkdir -p`` and ``ln -sfn`` without a process: a new symlink renamed over ``path``."""
    temporary = f"{path}.{os.getpid()}.new"
    try:
        os.makedirs(posixpath.dirname(path), exist_ok=True)
        os.symlink(device, temporary)
        try:
            os.replace(temporary, path)
        except OSError:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise LinstorError(f"cannot link {path} to {device}", cause=error.strerror or str(error),
                           correction="check the VM directory and its permissions") from None


def _unlink_here(path: str) -> None:
    """``rm -f`` without a process."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise LinstorError(f"cannot remove {path}", cause=error.strerror or str(error)) from None


@dataclass
class Hosts:
    """Runs argument lists on a named host: directly when it is this machine, else over ssh.

    ``local`` names this machine; left out, it is ``local_names()`` plus ``this_node``, found
    on first use, and the FQDN (``local_fqdn()``, a DNS lookup) only for a host none of
    those names: oned usually names the front-end as ``hostname`` does, and actions touching
    no host (snapshots, resize, every ``ds`` action) ask nothing. ``direct_links``: the
    ``disk.<i>`` symlinks of this machine are made and removed in-process (a front-end that is
    also a host spares a fork per disk); tests that check every command through a fake runner
    turn it off.
    """

    runner: Runner = run
    local: frozenset[str] | None = None
    direct_links: bool = True
    this_node: str = ""
    _names: frozenset[str] | None = field(default=None, init=False, repr=False)
    _fqdn: str | None = field(default=None, init=False, repr=False)

    def is_local(self, host: str) -> bool:
        """Whether ``host`` is this machine (see ``local``)."""
        if self.local is not None:
            return host in self.local
        if self._names is None:
            self._names = local_names() | ({self.this_node} if self.this_node else frozenset())
        if host in self._names:
            return True
        if self._fqdn is None:
            self._fqdn = local_fqdn()
        return host == self._fqdn

    def run(self, host: str, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> str:
        if self.is_local(host):
            return self.runner(list(argv), timeout=timeout)
        # oneadmin's ssh login PATH has no sbin directory on Debian and Ubuntu, where mkfs,
        # mkswap and blkdiscard are (OpenNebula's own drivers put sbin on PATH for them too):
        # the system directories replace it, so a directory oneadmin adds is not searched.
        remote = shlex.join(["env", f"PATH={SYSTEM_PATH}", *(str(a) for a in argv)])
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
        if self.direct_links and self.is_local(host):
            _link_here(device, path)
        else:
            self.run(host, ["sh", "-c", _LINK_SCRIPT, "link", posixpath.dirname(path), device, path])

    def unlink(self, host: str, path: str) -> None:
        """Remove the ``disk.<i>`` symlink; idempotent."""
        if self.direct_links and self.is_local(host):
            _unlink_here(path)
        else:
            self.run(host, ["rm", "-f", path])

    def copy_directory(self, src_host: str, dst_host: str, path: str) -> None:
        """Copy the directory ``path`` (checkpoint, deployment files) from one host to another."""
        ends = ["-" if self.is_local(h) else h for h in (src_host, dst_host)]
        self.runner(["bash", "-c", _COPY_SCRIPT, "copy", *ends, posixpath.dirname(path), posixpath.basename(path)],
                    timeout=3600)

    def remove_vm_directory(self, host: str, path: str, vm_id: int) -> None:
        """``rm -rf`` a VM directory, only if it really is one (see :func:`check_vm_directory`)."""
        self.run(host, ["rm", "-rf", "--", check_vm_directory(path, vm_id)])
