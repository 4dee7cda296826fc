"""``linstor-one``: the entry point oned's per-action wrapper scripts exec.

One argument parser, one error renderer: whatever goes wrong, oned gets exit status 1 and one
human line on stderr (oned shows stderr to the user), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import BinaryIO, NoReturn, TextIO

from linstor_core.config import local_node_name
from linstor_core.errors import InvalidInput, LinstorError
from linstor_core.stopsignals import stops_raise
from opennebula_driver import ds, tm
from opennebula_driver.args import object_id
from opennebula_driver.env import Env, one_directories, oned_own_directories
from opennebula_driver.hosts import Hosts
from opennebula_driver.oned import Oned, load_oned_config
from opennebula_driver.xmldoc import parse_driver_action

PROG = "linstor-one"

DESCRIPTION = """\
OpenNebula datastore (DS_MAD) and transfer manager (TM_MAD) driver for LINSTOR.

oned runs /var/lib/one/remotes/{datastore,tm}/linstor/<action>; each of those scripts is
`exec linstor-one ds|tm <action> "$@"`. Disks are LINSTOR resource definitions spawned from
the datastore's profile (LINSTOR_RESOURCE_GROUP), named after their image or VM, with the
owner in Aux/bundle/* properties. Hosts are the LINSTOR nodes of the same name; every disk
is made available there and linked as <vm dir>/disk.<i> (DISK_TYPE=BLOCK).
"""

DS_HELP = """\
datastore actions (linstor-one ds ACTION [DRIVER_ACTION|-] ID):
  The base64 DS_DRIVER_ACTION_DATA document comes on stdin (oned >= 6.8), as the first
  argument (<= 6.6), or on stdin when the first argument is "-". ID is the image id
  (the datastore id for monitor).
  cp            copy IMAGE/PATH (a local raw file, checked against TEMPLATE/MD5 and SHA1
                when given) into a new disk; prints "SOURCE raw"
  mkfs          new empty disk of IMAGE/SIZE MiB, formatted if IMAGE/FS is ext4/ext3/xfs;
                FORMAT=save_as only prints the name (tm cpds fills it); prints "SOURCE"
  clone         new image from IMAGE/PATH (the source's SOURCE); prints "SOURCE raw"
  rm            delete IMAGE/SOURCE and its snapshots
  monitor       prints USED_MB=, TOTAL_MB=, FREE_MB= of the datastore's profile
  stat          prints the size of IMAGE/PATH in MiB
  snap_delete, snap_revert, snap_flatten
                on IMAGE/SOURCE's snapshot IMAGE/TARGET_SNAPSHOT (LINSTOR "snap-<id>");
                revert only to the most recent one, flatten to any (newer ones deleted)
  export        attach on the front-end and print IMPORT_INFO for the marketplace (the
                device, its MD5 and SIZE)

"""

TM_HELP = """\
transfer manager actions (linstor-one tm ACTION ARGS...):
  ln            fe:SOURCE host:dir/disk.<i> vmid dsid      persistent image, used in place
  clone         fe:SOURCE host:dir/disk.<i> vmid dsid      the VM's own copy of an image
  mkimage       size_mib format host:dir/disk.<i> vmid dsid   volatile disk
  mkswap        size_mib host:dir/disk.<i> vmid dsid        volatile swap disk
  delete        host:dir[/disk.<i>] vmid dsid
  mv            host:src host:dst vmid dsid
  mvds          host:dir/disk.<i> SOURCE vmid dsid         persistent image back home
  cpds          host:dir/disk.<i> SOURCE snap_id vmid dsid   disk-saveas (-1: no snapshot)
                (oned passes SOURCE bare here; fe:SOURCE is accepted too)
  premigrate, postmigrate, failmigrate
                src_host dst_host vm_dir vmid dsid [template] [calling_tm]
                (VM template base64 on stdin since 6.8); attach on the destination before,
                detach from the source after, with DRBD two primaries during the move
  resize        host:dir/disk.<i> size_mib vmid dsid
  snap_create, snap_create_live, snap_delete, snap_revert
                host:dir/disk.<i> snap_id vmid dsid
  context       file... host:dir/disk.<i> vmid dsid         context CD-ROM as a LINSTOR disk
  monitor       as "ds monitor", for a system datastore

"""

COMMON_HELP = """\
datastore template attributes:
  LINSTOR_CONTROLLERS     controller URLs, comma separated (default: LS_CONTROLLERS, the
                          linstor client configuration, linstor://localhost)
  LINSTOR_RESOURCE_GROUP  profile (resource group) new disks are spawned from
  LINSTOR_FRONTEND_NODE   LINSTOR node of the front-end (default: LS_NODE_NAME, else uname -n)
  RESTRICTED_DIRS, SAFE_DIRS   as for every OpenNebula datastore (cp, stat)

environment:
  ONE_XMLRPC    oned's XML-RPC endpoint, an http:// or https:// URL
                (default http://localhost:2633/RPC2); ONEAPI_PROTOCOL, if set, must be xmlrpc
  ONE_AUTH      file holding user:password (default ~/.one/one_auth)
  ONE_LOCATION  self-contained installs: remotes under $ONE_LOCATION/var/remotes

exit status:
  0 done (answer on stdout); 1 refused or failed, with the reason on stderr.

signals:
  SIGTERM (e.g. the opennebula service stopping), SIGHUP and SIGINT stop the action where it
  is, run its clean-up (cp, mkfs and clone delete the image's half-made disk) and exit 1.

examples:
  echo "$DRV_ACTION" | linstor-one ds cp 7
  linstor-one tm clone fe:one-img7-ubuntu node1:/var/lib/one/datastores/0/22/disk.0 22 100
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line exits 1 like every other refusal (argparse uses 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=DS_HELP + TM_HELP + COMMON_HELP, formatter_class=raw)
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="{ds,tm}")
    ds_parser = kinds.add_parser("ds", help="a datastore action", description="Run one datastore action.",
                                 epilog=DS_HELP + COMMON_HELP, formatter_class=raw)
    ds_parser.add_argument("action", choices=sorted(ds.ACTIONS), metavar="ACTION")
    ds_parser.add_argument("args", nargs=argparse.REMAINDER, help="[DRIVER_ACTION|-] ID")
    tm_parser = kinds.add_parser("tm", help="a transfer manager action", description="Run one TM action.",
                                 epilog=TM_HELP + COMMON_HELP, formatter_class=raw)
    tm_parser.add_argument("action", choices=sorted([*tm.ACTIONS, "monitor"]), metavar="ACTION")
    tm_parser.add_argument("args", nargs=argparse.REMAINDER, help="the action's arguments, as listed below")
    return parser


_ACTIONS = {"ds": frozenset(ds.ACTIONS), "tm": frozenset([*tm.ACTIONS, "monitor"])}
_HELP = (["-h"], ["--help"])
"""``KIND ACTION --help``: oned never passes an action one argument that is an option."""


def _parse(argv: list[str]) -> tuple[str, str, list[str]]:
    """``KIND ACTION ARGS...`` as oned's wrapper scripts pass it, read without building the
    argparse parser (each action is a new process, which would pay for it every time); help
    and anything malformed go through argparse, which explains and exits 1. ``KIND ACTION
    --help`` shows the kind's help, which lists every action's arguments, and runs nothing."""
    if len(argv) >= 2 and argv[1] in _ACTIONS.get(argv[0], ()):
        if argv[2:] not in _HELP:
            return argv[0], argv[1], argv[2:]
        argv = [argv[0], "--help"]
    options = _parser().parse_args(argv)
    return options.kind, options.action, list(options.args)


def _run_ds_style(env: Env, action: str, args: list[str]) -> str:
    """The three ways oned passes a datastore action: ``ID`` + stdin, ``B64 ID``, ``- ID``. The
    ID is checked before stdin is read: a mistyped call typed by hand must not wait on it."""
    if len(args) not in (1, 2):
        raise InvalidInput(
            "arguments", " ".join(args), f"{action} takes ID, or DRIVER_ACTION ID, got {len(args)} arguments",
            correction=f"usage: {action} [DRIVER_ACTION|-] ID",
        )
    object_id(args[-1], "id")
    encoded = args[0].encode() if len(args) == 2 and args[0] != "-" else env.read_stdin()
    driver_action = parse_driver_action(encoded, need_image=action != "monitor", need_image_id=action != "stat")
    return ds.ACTIONS[action](env, driver_action)


def run_action(env: Env, kind: str, action: str, args: list[str]) -> str:
    """Dispatch one parsed call; returns what goes to stdout."""
    if kind == "ds" or action == "monitor":
        return _run_ds_style(env, action, args)
    return tm.ACTIONS[action](env, args)


def _progress_to(stderr: TextIO) -> Callable[[str], None]:
    """Progress lines for a person at a terminal only. oned reads a driver's stderr after it
    exits and only when it failed, as the whole reason shown to the user: progress there would
    never be seen on success and would bury the error line on failure."""
    if stderr.isatty():
        return lambda line: print(line, file=stderr, flush=True)
    return lambda line: None


def default_env(stdin: BinaryIO, stderr: TextIO, environ: Mapping[str, str] = os.environ) -> Env:
    """The production wiring: oned from ONE_XMLRPC/ONE_AUTH, hosts over ssh, progress on a
    terminal's stderr."""
    var, _etc = one_directories(environ)
    node = local_node_name(environ)
    return Env(
        oned=Oned(load_oned_config(environ)),
        hosts=Hosts(this_node=node),
        hostname=node,
        remotes=var / "remotes",
        read_stdin=stdin.read,
        progress=_progress_to(stderr),
        restricted_dirs=oned_own_directories(environ),
    )


def render_error(kind: str, action: str, error: BaseException) -> str:
    """The one line oned shows the user: what failed, why, and what to do (``str()`` of a
    LINSTOR error), after the action it happened in."""
    if isinstance(error, LinstorError):
        return f"{kind} {action}: {error.one_line()}"
    return f"{kind} {action}: internal error ({type(error).__name__}: {error}); please report it"


SYSLOG_SOCKET = "/dev/log"


class _QuietSysLog(logging.handlers.SysLogHandler):
    """Syslog for the driver's log lines; a line syslog cannot take is lost, not reported on
    stderr (logging's default), where oned would take it for part of the answer."""

    def __init__(self, address: str) -> None:
        super().__init__(address, facility=logging.handlers.SysLogHandler.LOG_DAEMON)
        self.ident = "linstor-one: "

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def route_logs(stderr: TextIO, *, syslog_socket: str = SYSLOG_SOCKET) -> None:
    """Send the driver's log lines where they inform without being taken for an answer.

    A warning (a host ssh cannot reach during a delete, a leftover snapshot taken again) is
    no reason: oned takes a failed driver's whole stderr as the reason (see ``_progress_to``),
    so a warning before a failure would bury its error line. So log lines go to stderr only
    for someone running ``linstor-one`` by hand (a terminal), else to syslog (ident
    ``linstor-one``), and nowhere on a machine without one. A program that configured logging
    already (the tests) keeps its own.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler: logging.Handler
    if stderr.isatty():
        handler = logging.StreamHandler(stderr)
    else:
        handler = _QuietSysLog(syslog_socket) if os.path.exists(syslog_socket) else logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Env | None = None,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one action; 0 with the answer on stdout, or 1 with the reason on stderr."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    route_logs(err)
    kind, action, args = _parse(list(sys.argv[1:] if argv is None else argv))
    try:
        # A stop signal raises where the action is: its clean-up runs (a half-copied image's disk
        # is deleted, which no later call would do: oned drops an image whose SOURCE it never got
        # without asking the driver), and oned still gets exit status 1 with the reason.
        with stops_raise(correction="run the action again: its clean-up has run"):
            environment = env or default_env(stdin or sys.stdin.buffer, err)
            answer = run_action(environment, kind, action, args)
    except Exception as error:  # the one place errors become oned's answer; no traceback leaks
        print(render_error(kind, action, error), file=err)
        return 1
    if answer:
        print(answer, file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
