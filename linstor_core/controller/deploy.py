"""Putting records onto storage: volumes through the Satellite, DRBD configs through drbd.py.

Every function here works inside a ``Change``: what it makes registers its undo, what it
removes waits for the commit (see ``core.py``). Device paths: a DRBD resource's volumes are
``/dev/drbd<minor>`` on every node (diskless ones too); a storage-only resource's volume is
whatever the satellite made (``/dev/loopN`` or the file).

Which DRBD devices are real: LINSTOR names a satellite after ``uname -n``, so the node named as
this host (``Controller.node_name``, compared case-insensitively) is the local one, and only its
resources are brought up, and only when the drbd kernel module is loaded: the other nodes are
simulated, and one kernel could not give ``/dev/drbd<minor>`` to two of them anyway. For a real
node, in the change (each step with its undo, so a failing drbdadm leaves nothing half-made):
new diskful volumes get ``create-md`` as they are made, its file is written and ``adjust``ed
once the replicas are final, and a resource leaving the node is taken ``down`` before the
commit, while its config and backing volume are still there (they are removed after it).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from linstor_core import retcodes as rc
from linstor_core.controller import drbd
from linstor_core.controller.core import Change, Controller
from linstor_core.controller.model import RdRec, Repo, RscRec, VdRec, VolRec
from linstor_core.controller.replies import refuse
from linstor_core.controller.satellite import PoolSpec, VolumeSpec

# How a new volume gets its data: fresh, from a snapshot, or as a clone (all return the path).
Maker = Callable[[PoolSpec, VolumeSpec], str]


def volume_name(rd: str, vlmnr: int) -> str:
    return VolumeSpec(rd, vlmnr, 0).volume_name


def drbd_device(minor: int | None) -> str:
    return f"/dev/drbd{minor}"


def make_volumes(ctl: Controller, change: Change, rd: RdRec, rsc: RscRec,
                 vds: Sequence[VdRec], maker: Maker | None = None) -> None:
    """Create ``rsc``'s volumes for ``vds`` (storage + rows); undo registered per volume.
    On a real DRBD node (module docstring) the new backing volumes get their DRBD metadata."""
    sat = ctl.satellite
    spec = None if rsc.diskless or rsc.pool is None else ctl.pool_spec(
        change.repo.pool(rsc.node, rsc.pool))
    if spec is not None:
        ctl.free_space.forget(spec)
    made: list[int] = []
    for vd in vds:
        backing = None
        if spec is not None:
            vol = VolumeSpec(rd.name, vd.vlmnr, backing_kib(ctl, rd.drbd, rsc.node, vd.size_kib))
            backing = (maker or sat.create_volume)(spec, vol)
            change.on_undo(f"remove volume {vol.volume_name} on {rsc.node}",
                           _deleter(ctl, spec, vol.volume_name))
        device = drbd_device(vd.minor) if rd.drbd else (backing or "")
        change.repo.insert_volume(VolRec(rd.name, rsc.node, vd.vlmnr, device, backing))
        if backing is not None:
            made.append(vd.vlmnr)
    if rd.drbd and made and real_drbd(ctl, rsc.node):
        # No undo of its own: the metadata lives on the backing volumes, whose undo removes them.
        drbd.create_metadata(ctl.state_dir, rsc.node, drbd_resource(change.repo, rd), made,
                             runner=ctl.runner)


def remove_volumes_later(ctl: Controller, change: Change, rd: str, rsc: RscRec,
                         vlmnrs: Sequence[int]) -> None:
    """Delete ``rsc``'s volumes after the commit (records first, storage second)."""
    if rsc.diskless or rsc.pool is None:
        return
    spec = ctl.pool_spec(change.repo.pool(rsc.node, rsc.pool))
    for vlmnr in vlmnrs:
        name = volume_name(rd, vlmnr)
        change.later(f"removing volume {name} on {rsc.node}", _deleter(ctl, spec, name))


def real_drbd(ctl: Controller, node: str) -> bool:
    """True if ``node``'s DRBD devices are brought up for real (see the module docstring)."""
    return ctl.drbd_loaded and node.lower() == ctl.node_name.lower()


def backing_kib(ctl: Controller, drbd_layer: bool, node: str, size_kib: int) -> int:
    """The size of ``node``'s backing volume for a volume of ``size_kib`` (``drbd_layer``: its
    definition has the DRBD layer): where DRBD is real, the volume and its internal metadata
    (``drbd.backing_size_kib``), else the volume's own (its storage device is then the one used)."""
    return drbd.backing_size_kib(size_kib) if drbd_layer and real_drbd(ctl, node) else size_kib


def ensure_not_in_use(ctl: Controller, change: Change, rsc: RscRec) -> None:
    """Refuse (LINSTOR's FAIL_IN_USE) if a block device of ``rsc`` is mounted or held open
    exclusively: deleting or rolling back under a mounted filesystem would destroy its data.

    Probed with an exclusive open, which the kernel refuses with EBUSY for such devices. A
    DRBD resource that is up on this host holds its backing devices itself; it is in use when
    the kernel says it is Primary (its device is open), as LINSTOR's InUse.
    """
    if change.repo.rd(rsc.rd).drbd and real_drbd(ctl, rsc.node):
        status = drbd.read_status(runner=ctl.runner).get(rsc.rd.lower())
        if status is not None:
            if status.role == "Primary":
                raise refuse(rc.FAIL_IN_USE,
                             f"Resource '{rsc.rd}' on node '{rsc.node}' is still in use.",
                             cause=f"DRBD resource {rsc.rd} is Primary on this host: one of "
                                   "its devices is open.",
                             correction=f"Un-mount resource '{rsc.rd}' on the node "
                                        f"'{rsc.node}'.")
            return
    for vol in change.repo.volumes(rsc.rd):
        if vol.node.lower() != rsc.node.lower() or not vol.backing:
            continue
        if _busy(vol.backing):
            raise refuse(rc.FAIL_IN_USE,
                         f"Resource '{rsc.rd}' on node '{rsc.node}' is still in use.",
                         cause=f"{vol.backing} is mounted or held open exclusively.",
                         correction=f"Un-mount resource '{rsc.rd}' on the node '{rsc.node}'.")


def _busy(device: str) -> bool:
    try:
        if not stat.S_ISBLK(os.stat(device).st_mode):
            return False
        fd = os.open(device, os.O_RDONLY | os.O_EXCL)
    except OSError as exc:
        return exc.errno == errno.EBUSY
    os.close(fd)
    return False


def _deleter(ctl: Controller, spec: PoolSpec, name: str) -> Callable[[], None]:
    return lambda: ctl.satellite.delete_volume(spec, name)


def sync_drbd(ctl: Controller, change: Change, rd_name: str,
              removed_nodes: Sequence[str] = ()) -> None:
    """Render and validate the DRBD config of ``rd_name`` on each of its nodes.

    Called after any change to the resource's replicas; ``removed_nodes`` that no longer hold
    the resource get their config removed after commit. On a real node the resource is
    ``adjust``ed to its new file, or taken ``down`` when it left the node. Every file written
    and every device changed registers its undo.
    """
    repo = change.repo
    rd = repo.find_rd(rd_name)
    holders = repo.rscs(rd=rd.name) if rd is not None and rd.drbd else []
    still = {rsc.node.lower() for rsc in holders}
    for node in (n for n in removed_nodes if n.lower() not in still):
        if real_drbd(ctl, node) and drbd.res_path(ctl.state_dir, node, rd_name).exists():
            drbd.bring_down(ctl.state_dir, node, rd_name, runner=ctl.runner)
            change.on_undo(f"bringing DRBD resource {rd_name} back up on {node}",
                           _bringer_up(ctl, node, rd_name))
        change.later(f"removing DRBD config of {rd_name} on {node}",
                     _res_remover(ctl, node, rd_name))
    if rd is None or not holders:
        return
    res = drbd_resource(repo, rd)
    for rsc in holders:
        path = drbd.res_path(ctl.state_dir, rsc.node, rd.name)
        old = path.read_text() if path.exists() else None
        drbd.write_res(ctl.state_dir, rsc.node, res, runner=ctl.runner)
        real = real_drbd(ctl, rsc.node)
        change.on_undo(f"restoring DRBD config of {rd.name} on {rsc.node}",
                       _res_restorer(ctl, rsc.node, rd.name, old, real))
        if real:
            drbd.bring_up(ctl.state_dir, rsc.node, rd.name, runner=ctl.runner)


def write_configs(ctl: Controller, repo: Repo, rd: RdRec) -> list[tuple[str, Path]]:
    """Write the DRBD config of ``rd`` for every node holding it; ``(node, path)`` of each.

    For callers that need no undo per file (start-up repair, finishing a rollback);
    ``sync_drbd`` keeps each earlier file to restore it.
    """
    res = drbd_resource(repo, rd)
    return [(rsc.node, drbd.write_res(ctl.state_dir, rsc.node, res, runner=ctl.runner))
            for rsc in repo.rscs(rd=rd.name)]


def drbd_resource(repo: Repo, rd: RdRec) -> drbd.DrbdResource:
    """The DRBD view of ``rd``: its port, minors, peers and each peer's backing devices."""
    rscs = repo.rscs(rd=rd.name)
    volumes = repo.volumes(rd.name)
    nodes = []
    for rsc in rscs:
        node = repo.node(rsc.node)
        nodes.append((rsc.node, rsc.node_id or 0, node.address))
    vlm_list = []
    for vd in repo.vds(rd.name):
        disks = {}
        for rsc in rscs:
            backing = next((v.backing for v in volumes
                            if v.node.lower() == rsc.node.lower() and v.vlmnr == vd.vlmnr), None)
            disks[rsc.node] = backing or "none"
        vlm_list.append((vd.vlmnr, vd.minor or 0, disks))
    return drbd.DrbdResource(name=rd.name, port=rd.port or 0, volumes=vlm_list, nodes=nodes)


def _res_remover(ctl: Controller, node: str, name: str) -> Callable[[], None]:
    return lambda: drbd.remove_res(ctl.state_dir, node, name)


def _bringer_up(ctl: Controller, node: str, name: str) -> Callable[[], None]:
    return lambda: drbd.bring_up(ctl.state_dir, node, name, runner=ctl.runner)


def _res_restorer(ctl: Controller, node: str, name: str, old: str | None,
                  real: bool) -> Callable[[], None]:
    """Undo of a config written (and, when ``real``, adjusted): the previous file comes back
    and the device follows it; a resource that had no file is taken down and its file removed."""
    def restore() -> None:
        if old is None:
            try:
                if real:
                    drbd.bring_down(ctl.state_dir, node, name, runner=ctl.runner)
            finally:
                drbd.remove_res(ctl.state_dir, node, name)
            return
        drbd.restore_res(ctl.state_dir, node, name, old)
        if real:
            drbd.bring_up(ctl.state_dir, node, name, runner=ctl.runner)

    return restore
