"""Putting records onto storage: volumes through the Satellite, DRBD configs through drbd.py.

Every function here works inside a ``Change``: what it makes registers its undo, what it
removes waits for the commit (see ``core.py``). Device paths: a DRBD resource's volumes are
``/dev/drbd<minor>`` on every node (diskless ones too); a storage-only resource's volume is
whatever the satellite made (``/dev/loopN`` or the file).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Sequence

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
    """Create ``rsc``'s volumes for ``vds`` (storage + rows); undo registered per volume."""
    sat = ctl.satellite
    spec = None if rsc.diskless or rsc.pool is None else ctl.pool_spec(
        change.repo.pool(rsc.node, rsc.pool))
    if spec is not None:
        ctl.free_space.forget(spec)
    for vd in vds:
        backing = None
        if spec is not None:
            vol = VolumeSpec(rd.name, vd.vlmnr, vd.size_kib)
            backing = (maker or sat.create_volume)(spec, vol)
            change.on_undo(f"remove volume {vol.volume_name} on {rsc.node}",
                           _deleter(ctl, spec, vol.volume_name))
        device = drbd_device(vd.minor) if rd.drbd else (backing or "")
        change.repo.insert_volume(VolRec(rd.name, rsc.node, vd.vlmnr, device, backing))


def remove_volumes_later(ctl: Controller, change: Change, rd: str, rsc: RscRec,
                         vlmnrs: Sequence[int]) -> None:
    """Delete ``rsc``'s volumes after the commit (records first, storage second)."""
    if rsc.diskless or rsc.pool is None:
        return
    spec = ctl.pool_spec(change.repo.pool(rsc.node, rsc.pool))
    for vlmnr in vlmnrs:
        name = volume_name(rd, vlmnr)
        change.later(f"removing volume {name} on {rsc.node}", _deleter(ctl, spec, name))


def ensure_not_in_use(change: Change, rsc: RscRec) -> None:
    """Refuse (LINSTOR's FAIL_IN_USE) if a block device of ``rsc`` is mounted or held open
    exclusively: deleting or rolling back under a mounted filesystem would destroy its data.

    Probed with an exclusive open, which the kernel refuses with EBUSY for such devices.
    """
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
    the resource get their config removed after commit.
    """
    repo = change.repo
    rd = repo.find_rd(rd_name)
    if rd is None or not rd.drbd:
        for node in removed_nodes:
            change.later(f"removing DRBD config of {rd_name} on {node}",
                         _res_remover(ctl, node, rd_name))
        return
    res = drbd_resource(repo, rd)
    holders = repo.rscs(rd=rd.name)
    for rsc in holders:
        drbd.write_res(ctl.state_dir, rsc.node, res)
    still = {rsc.node.lower() for rsc in holders}
    for node in (n for n in removed_nodes if n.lower() not in still):
        change.later(f"removing DRBD config of {rd.name} on {node}",
                     _res_remover(ctl, node, rd.name))


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
