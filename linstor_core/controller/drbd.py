"""DRBD 9 resource files: render, check with drbdadm, write per node; bring devices up and down.

The controller allocates ports, minors and node ids and hands them over in a ``DrbdResource``;
this module only turns them into the ``.res`` file each node would load, at
``<state_dir>/nodes/<node>/drbd.d/<resource>.res``. Every file is checked by ``drbdadm`` (parse
and dump only, nothing touches the kernel) before it replaces the previous one, so a file on
disk always parses. The commands that touch the kernel (``create-md``, ``adjust``, ``down``,
``drbdsetup status``) are run only where the caller decided the device is real: the drbd kernel
module is loaded and the node is this host (see ``deploy.py``); elsewhere it reports that state
instead of pretending.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from linstor_core.controller.oserrors import os_errors
from linstor_core.errors import InvalidInput, StorageError
from linstor_core.naming import validate_node_name, validate_resource_name
from linstor_core.runner import Runner, run

PROC_MODULES = Path("/proc/modules")
SYS_MODULE = Path("/sys/module/drbd")
DISKLESS = "none"
NODE_ID_MAX = 31
MINOR_MAX = (1 << 20) - 1
# Room in the metadata for peers added later (LINSTOR's default too).
MAX_PEERS = 7
# Internal metadata (drbdmeta v09) at a backing device's end: a 4 KiB superblock, the activity
# log (one 32 KiB stripe, the default) and per peer a bitmap of one bit per 4 KiB of the device
# in 64-bit words, all rounded up to 4 KiB.
_SUPERBLOCK_KIB = 4
_ACTIVITY_LOG_KIB = 32
_BITMAP_BLOCK_KIB = 4
_COMMAND_NOT_FOUND = 127
_INDENT = "    "


def internal_metadata_kib(backing_kib: int, peers: int = MAX_PEERS) -> int:
    """KiB of internal metadata ``create-md --max-peers=peers`` puts at the end of a backing
    device of ``backing_kib`` (checked against drbdmeta's offsets)."""
    blocks = -(-backing_kib // _BITMAP_BLOCK_KIB)
    bitmap_bytes = -(-blocks // 64) * 8 * peers
    return _SUPERBLOCK_KIB + _ACTIVITY_LOG_KIB + -(-bitmap_bytes // 4096) * 4


def backing_size_kib(net_kib: int) -> int:
    """The backing size whose DRBD device, after its internal metadata, still holds
    ``net_kib`` (LINSTOR's gross size): a volume definition's size is what the device offers,
    not what its storage takes."""
    gross = -(-net_kib // 4) * 4 + internal_metadata_kib(net_kib)
    while gross - internal_metadata_kib(gross) < net_kib:
        gross += 4
    return gross


@dataclass(frozen=True)
class DrbdResource:
    """One DRBD resource as the controller allocated it.

    ``volumes``: ``(volume number, minor, {node: backing device or "none"})``;
    ``nodes``: ``(node name, node id, IP address)``; one TCP ``port`` for all nodes.
    """

    name: str
    port: int
    volumes: Sequence[tuple[int, int, Mapping[str, str]]]
    nodes: Sequence[tuple[str, int, str]]


def render_res(res: DrbdResource, for_node: str) -> str:
    """The ``.res`` text for ``for_node`` (which must be one of the resource's nodes).

    Every node gets every node's section, as drbdadm needs its peers' addresses and node ids;
    a node's volumes name its own backing device, or ``none`` where it is diskless.
    """
    _check(res)
    names = [node for node, _, _ in res.nodes]
    if for_node not in names:
        raise InvalidInput("node", for_node, f"has no replica of DRBD resource {res.name}")
    lines = [f"# DRBD resource {res.name} for node {for_node}, written by linstor-core; do not edit",
             f"resource {_quote(res.name)} {{"]
    for node, node_id, address in res.nodes:
        lines += _on_section(res, node, node_id, address)
    if len(names) > 1:
        lines += [f"{_INDENT}connection-mesh {{",
                  f"{_INDENT * 2}hosts {' '.join(_quote(n) for n in names)};",
                  f"{_INDENT}}}"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def res_path(state_dir: Path, node: str, name: str) -> Path:
    """Where ``node``'s file for resource ``name`` lives."""
    return Path(state_dir) / "nodes" / validate_node_name(node) / "drbd.d" / f"{validate_resource_name(name)}.res"


def write_res(state_dir: Path, node: str, res: DrbdResource, *, runner: Runner = run) -> Path:
    """Render, check with drbdadm, and atomically put ``node``'s file in place; returns its path.

    A file drbdadm rejects never replaces the previous one (``StorageError`` with drbdadm's
    message). Without drbd-utils installed the file is written unchecked.
    """
    path = res_path(state_dir, node, res.name)
    _replace(path, render_res(res, node), check=lambda temp: check_res(temp, runner=runner))
    return path


def _replace(path: Path, text: str, *, check: Callable[[Path], None] | None = None) -> None:
    """Put ``text`` at ``path`` atomically (a temp file renamed over it), after ``check`` of
    the temp file passed; a failed check leaves the previous file and no temp file. The
    files are in the state directory: an OSError (a full disk) is a ``StorageError`` naming
    it and the fix (``oserrors``), not an internal error."""
    with _config_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(path.name + ".tmp")
        try:
            temp.write_text(text)
            if check is not None:
                check(temp)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)


def _config_errors(path: Path) -> AbstractContextManager[None]:
    """Writing ``path`` or a copy beside it (``oserrors``: a full state disk is the operator's)."""
    return os_errors(["write", str(path)], path.parent, "the controller's DRBD configs")


def check_res(path: Path, *, runner: Runner = run) -> None:
    """Parse ``path`` alone with drbdadm (``-c FILE dump``: no kernel, no hostname match needed).

    Skipped, not failed, when drbdadm is not installed.
    """
    try:
        runner(["drbdadm", "--config-file", str(path), "dump"])
    except StorageError as error:
        if error.returncode != _COMMAND_NOT_FOUND:
            raise
        return


def restore_res(state_dir: Path, node: str, name: str, text: str) -> None:
    """Atomically put back ``node``'s earlier file for ``name`` (checked when first written)."""
    _replace(res_path(state_dir, node, name), text)


def remove_res(state_dir: Path, node: str, name: str) -> None:
    """Remove ``node``'s file for resource ``name``; done already if it is missing."""
    res_path(state_dir, node, name).unlink(missing_ok=True)


def drbd_module_loaded(*, proc_modules: Path = PROC_MODULES, sys_module: Path = SYS_MODULE) -> bool:
    """True if the drbd kernel module is loaded (``/proc/modules`` or ``/sys/module/drbd``)."""
    if sys_module.is_dir():
        return True
    try:
        text = proc_modules.read_text()
    except OSError:
        return False
    return any(line.split(" ", 1)[0] == "drbd" for line in text.splitlines())


def create_metadata(state_dir: Path, node: str, res: DrbdResource, volumes: Sequence[int], *,
                    runner: Runner = run) -> None:
    """Write fresh DRBD metadata (``create-md``) on ``node``'s backing devices of ``volumes``.

    A volume needs this once, when its backing device is made (fresh, restored or cloned: the
    internal metadata at the end of a copy belongs to its source). ``res`` may be the records
    as they are in the middle of a change, so the file drbdadm reads is a private copy, removed
    at once; ``node``'s file in place is written (and adjusted) when the change is complete.
    """
    path = res_path(state_dir, node, res.name)
    temp = path.with_name(path.name + ".md")
    with _config_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            temp.write_text(render_res(res, node))
            for number in volumes:
                _drbdadm(temp, ["create-md", f"--max-peers={MAX_PEERS}", "--force",
                                f"{res.name}/{number}"], runner)
        finally:
            temp.unlink(missing_ok=True)


def bring_up(state_dir: Path, node: str, name: str, *, runner: Runner = run) -> None:
    """Make the kernel's resource match ``node``'s file (``adjust``: up if it was down, peers
    and volumes added or removed; a repeat is harmless)."""
    _drbdadm(res_path(state_dir, node, name), ["adjust", name], runner)


def bring_down(state_dir: Path, node: str, name: str, *, runner: Runner = run) -> None:
    """Take ``node``'s resource down (``down``), which releases its backing devices."""
    _drbdadm(res_path(state_dir, node, name), ["down", name], runner)


def resize(state_dir: Path, node: str, name: str, volume: int, *, runner: Runner = run) -> None:
    """Grow ``node``'s DRBD device of ``volume`` to its grown backing device (``resize``)."""
    _drbdadm(res_path(state_dir, node, name), ["resize", f"{name}/{volume}"], runner)


@dataclass(frozen=True)
class DrbdStatus:
    """What the kernel says of one resource that is up: its role and each volume's disk state."""

    role: str
    disk_states: Mapping[int, str]


STATUS_ARGV = ("drbdsetup", "status", "--json")


def read_status(*, runner: Runner = run) -> dict[str, DrbdStatus]:
    """Every resource the kernel has up, by lower-cased name (``drbdsetup status --json``);
    ``StorageError`` when drbdsetup fails or answers something else than its JSON list."""
    text = runner(list(STATUS_ARGV))
    try:
        listing = json.loads(text)
        return {str(item["name"]).lower(): DrbdStatus(
            role=str(item.get("role", "Unknown")),
            disk_states={int(dev["volume"]): str(dev["disk-state"])
                         for dev in item.get("devices", [])})
            for item in listing}
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise StorageError(list(STATUS_ARGV), 0, f"unreadable output ({error}): {text[:200]}") \
            from None


def _drbdadm(path: Path, args: list[str], runner: Runner) -> None:
    runner(["drbdadm", "--config-file", str(path), *args])


def _on_section(res: DrbdResource, node: str, node_id: int, address: str) -> list[str]:
    lines = [f"{_INDENT}on {_quote(node)} {{",
             f"{_INDENT * 2}node-id {node_id};",
             f"{_INDENT * 2}address {_address(address, res.port)};"]
    for number, minor, disks in res.volumes:
        disk = disks.get(node, DISKLESS)
        lines += [f"{_INDENT * 2}volume {number} {{",
                  f"{_INDENT * 3}device minor {minor};",
                  f"{_INDENT * 3}disk {DISKLESS if disk == DISKLESS else _quote(disk)};",
                  f"{_INDENT * 3}meta-disk internal;",
                  f"{_INDENT * 2}}}"]
    lines.append(f"{_INDENT}}}")
    return lines


def _address(address: str, port: int) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise InvalidInput("address", address, "DRBD needs an IP address, not a host name") from None
    if ip.version == 6:
        return f"ipv6 [{ip}]:{port}"
    return f"ipv4 {ip}:{port}"


def _check(res: DrbdResource) -> None:
    validate_resource_name(res.name)
    if not 1 <= res.port <= 65535:
        raise InvalidInput("port", res.port, "must be 1..65535")
    ids = [node_id for _, node_id, _ in res.nodes]
    if len(set(ids)) != len(ids) or not all(0 <= i <= NODE_ID_MAX for i in ids):
        raise InvalidInput("node id", ids, f"must be distinct and within 0..{NODE_ID_MAX}")
    for node, _, _ in res.nodes:
        validate_node_name(node)
    for number, minor, disks in res.volumes:
        if not 0 <= minor <= MINOR_MAX:
            raise InvalidInput("minor", minor, f"must be 0..{MINOR_MAX}")
        for disk in disks.values():
            if disk != DISKLESS and (not disk.startswith("/") or any(c in disk for c in '"\\\n;{}')):
                raise InvalidInput("disk", disk, f"volume {number}: must be an absolute path or 'none'")


def _quote(text: str) -> str:
    return f'"{text}"'


__all__ = [
    "DrbdResource",
    "DISKLESS",
    "render_res",
    "res_path",
    "write_res",
    "check_res",
    "remove_res",
    "drbd_module_loaded",
    "create_metadata",
    "internal_metadata_kib",
    "backing_size_kib",
    "bring_up",
    "bring_down",
    "resize",
    "DrbdStatus",
    "read_status",
]
