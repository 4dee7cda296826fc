"""Start-up reconciliation: make storage match the database after a crash or a reboot.

The database is the truth. A rollback recorded but not finished on every replica is finished
first. Per storage pool the satellite removes what no record knows (files
and loop devices a killed request left behind) and re-attaches known volumes that lost their
loop device (reboot); device paths that changed are written back, the DRBD configs of every
DRBD resource are rendered again and configs of resources no record knows are removed. A
volume file larger than its definition (a resize a crash cut off before its commit) is cut
back, one smaller (a committed grow a power cut took back) grown again. Where DRBD is real
(this host's node, module loaded; see ``deploy.py``) every resource the records know is
``adjust``ed (up again after a reboot), and a stray one is taken ``down`` before the orphan
volumes it may hold are removed.

What cannot be repaired (a pool whose directory is not mounted, a volume whose backing file is
gone, a resource whose DRBD config drbdadm refuses or the disk cannot take) is reported and
left as recorded, a rollback that fails again is reported and dropped, and the rest is
reconciled: one broken pool must not keep the controller, and every other pool, down.
"""

from __future__ import annotations

from pathlib import Path

from linstor_core.controller import drbd
from linstor_core.controller.core import Controller
from linstor_core.controller.deploy import backing_kib, real_drbd, volume_name, write_configs
from linstor_core.controller.model import Repo, VolRec
from linstor_core.controller.satellite import PoolSpec
from linstor_core.controller.ops.snapshots import finish_rollback, pending_rollbacks
from linstor_core.errors import LinstorError


def reconcile(ctl: Controller) -> list[str]:
    """Repair storage against the records; returns one human line per repair."""
    lines = _finish_rollbacks(ctl)
    with ctl.store.write() as tx:
        repo = Repo(tx)
        rds = {rd.name.lower(): rd for rd in repo.rds()}
        known = {(r.node.lower(), r.rd.lower()) for r in repo.rscs() if rds[r.rd.lower()].drbd}
        configs = sorted((ctl.state_dir / "nodes").glob("*/drbd.d/*.res"))
        lines += _remove_drbd_temp_files(ctl)
        # A device a killed request left up holds its backing volume: down before the orphans go.
        lines += _take_down(ctl, [path for path in configs if _config_of(path) not in known])
        pool_of = {(r.rd.lower(), r.node.lower()): (r.pool or "").lower() for r in repo.rscs()}
        sizes = {(vd.rd.lower(), vd.vlmnr): vd.size_kib for vd in repo.vds()}
        volumes: dict[tuple[str, str], list[VolRec]] = {}
        for vol in repo.volumes():
            if vol.backing:
                pool = pool_of[(vol.rd.lower(), vol.node.lower())]
                volumes.setdefault((vol.node.lower(), pool), []).append(vol)
        snapshots: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for snap in repo.snapshots():
            for node, pool in snap.nodes:
                snapshots.setdefault((node.lower(), pool.lower()), set()).update(
                    (volume_name(snap.rd, vlmnr), snap.name) for vlmnr, _ in snap.volumes)
        for pool in repo.pools():
            if pool.diskless:
                continue
            key = (pool.node.lower(), pool.name.lower())
            mine = volumes.get(key, [])
            spec = ctl.pool_spec(pool)
            try:
                repairs = ctl.satellite.reconcile(spec, {volume_name(v.rd, v.vlmnr) for v in mine},
                                                  snapshots.get(key, set()))
            except (LinstorError, OSError) as error:
                repairs = [f"could not reconcile the pool: {error}"]
            lines += [f"{pool.node}/{pool.name}: {line}" for line in repairs]
            for vol in mine:
                name = volume_name(vol.rd, vol.vlmnr)
                lines += _match_definition(ctl, spec, name, sizes[(vol.rd.lower(), vol.vlmnr)],
                                           rds[vol.rd.lower()].drbd)
                try:
                    device = ctl.satellite.device_path(spec, name)
                except (LinstorError, OSError) as error:
                    lines.append(f"{pool.node}/{pool.name}: volume {name} has no device, its "
                                 f"record stays as it was: {error}")
                    continue
                if device != vol.backing:
                    shown = vol.device_path if rds[vol.rd.lower()].drbd else device
                    repo.set_volume_paths(VolRec(vol.rd, vol.node, vol.vlmnr, shown, device))
        wanted: set[Path] = set()
        for rd in (rd for rd in rds.values() if rd.drbd):
            try:
                written = write_configs(ctl, repo, rd)
            except (LinstorError, OSError) as error:
                lines.append(f"could not write the DRBD configs of {rd.name}, the ones there stay "
                             f"and it is not brought up: {error}")
                wanted.update(path for path in configs
                              if path.stem.lower() == rd.name.lower() and _config_of(path) in known)
                continue
            wanted.update(path for _node, path in written)
            lines += _bring_up(ctl, rd.name, [node for node, _path in written])
        for stray in sorted(set(configs) - wanted):
            stray.unlink()
            lines.append(f"removed DRBD config {stray} of no known resource")
    return lines


def _match_definition(ctl: Controller, spec: PoolSpec, name: str, size_kib: int,
                      drbd_layer: bool) -> list[str]:
    """Give a volume its definition's size again. One larger is a resize a crash cut off
    between the grow and the commit: nobody was told of the larger size, so it is cut back,
    and a later grow to any size is not refused as a shrink. One smaller is a committed grow
    a power cut took back (written before the grow was fsynced): it is grown again, so the
    device has the size every listing shows. Where DRBD is real it may have moved its
    metadata to the new end, which changing the size would destroy: that is reported and
    left as it is."""
    where = f"{spec.node}/{spec.name}"
    expected_kib = backing_kib(ctl, drbd_layer, spec.node, size_kib)
    try:
        size = ctl.satellite.volume_bytes(spec, name)
        if size is None or size == expected_kib * 1024:
            return []
        if drbd_layer and real_drbd(ctl, spec.node):
            return [f"{where}: volume {name} has {size // 1024} KiB, its definition {size_kib} KiB "
                    f"({expected_kib} KiB with its DRBD metadata); DRBD is real here, "
                    "so it is left as it is: check it with drbdadm"]
        if size > size_kib * 1024:
            ctl.satellite.undo_grow(spec, name, size_kib)
            return [f"{where}: cut volume {name} back to its {size_kib} KiB (a resize a crash cut off)"]
        ctl.satellite.resize_volume(spec, name, size_kib)
    except (LinstorError, OSError) as error:
        return [f"{where}: could not give volume {name} its {size_kib} KiB: {error}"]
    return [f"{where}: grew volume {name} again to its {size_kib} KiB (a committed grow a power cut "
            "took back; what was written past its old end is lost)"]


def _config_of(path: Path) -> tuple[str, str]:
    """``(node, resource)``, lower case, of a ``<nodes>/<node>/drbd.d/<resource>.res``."""
    return path.parent.parent.name.lower(), path.stem.lower()


def _remove_drbd_temp_files(ctl: Controller) -> list[str]:
    """The private copies ``drbd`` writes beside a ``.res`` (``.res.tmp`` before its rename,
    ``.res.md`` for create-md) outlive a kill between writing and removing them: no drbdadm
    reads them, so they go."""
    lines = []
    for temp in sorted((ctl.state_dir / "nodes").glob("*/drbd.d/*.res.*")):
        if temp.suffix in (".tmp", ".md"):
            temp.unlink(missing_ok=True)
            lines.append(f"removed {temp.name}, a DRBD configuration copy a stopped request left")
    return lines


def _take_down(ctl: Controller, strays: list[Path]) -> list[str]:
    """``down`` the resources of stray configs of this host's node where DRBD is real."""
    lines = []
    for path in strays:
        node, name = path.parent.parent.name, path.stem
        if not real_drbd(ctl, node):
            continue
        try:
            drbd.bring_down(ctl.state_dir, node, name, runner=ctl.runner)
        except LinstorError as error:
            lines.append(f"could not take down DRBD resource {name} of no known record: {error}")
    return lines


def _bring_up(ctl: Controller, name: str, nodes: list[str]) -> list[str]:
    """``adjust`` the resource on this host's node where DRBD is real (after a reboot it is
    down); a failure is reported, and the controller serves on with the state shown honestly."""
    lines = []
    for node in (n for n in nodes if real_drbd(ctl, n)):
        try:
            drbd.bring_up(ctl.state_dir, node, name, runner=ctl.runner)
        except LinstorError as error:
            lines.append(f"could not bring DRBD resource {name} up on {node}: {error}")
    return lines


def _finish_rollbacks(ctl: Controller) -> list[str]:
    """Rollbacks a crash cut off are finished on every replica (see ``finish_rollback``). One
    that fails (a refusal, or the OS: a full disk) is reported and dropped rather than keeping
    the controller down or being finished at a later start, over what is written meanwhile."""
    with ctl.store.read() as tx:
        pending = pending_rollbacks(Repo(tx))
    lines = []
    for rd in pending:
        try:
            finish_rollback(ctl, rd)
        except (LinstorError, OSError) as error:
            lines.append(f"rollback of {rd}, cut off by a crash, could not be finished: {error}; it is dropped, "
                         "not finished at a later start over what is written meanwhile: repeat it (a replica "
                         "switched before the crash holds the snapshot's data until then)")
        else:
            lines.append(f"finished the rollback of {rd} a crash had cut off")
    return lines
