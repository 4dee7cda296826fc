"""Start-up reconciliation: make storage match the database after a crash or a reboot.

The database is the truth. Per storage pool the satellite removes what no record knows (files
and loop devices a killed request left behind) and re-attaches known volumes that lost their
loop device (reboot); device paths that changed are written back, and the DRBD configs of
every DRBD resource are rendered again.
"""

from __future__ import annotations

from linstor_core.controller import drbd
from linstor_core.controller.core import Controller
from linstor_core.controller.deploy import drbd_resource, volume_name
from linstor_core.controller.model import Repo, VolRec


def reconcile(ctl: Controller) -> list[str]:
    """Repair storage against the records; returns one human line per repair."""
    lines: list[str] = []
    with ctl.store.write() as tx:
        repo = Repo(tx)
        rscs = repo.rscs()
        snaps = repo.snapshots()
        rds = {rd.name.lower(): rd for rd in repo.rds()}
        for pool in repo.pools():
            if pool.diskless:
                continue
            key = (pool.node.lower(), pool.name.lower())
            mine = [r for r in rscs if (r.node.lower(), (r.pool or "").lower()) == key]
            volumes = {volume_name(r.rd, vd.vlmnr) for r in mine for vd in repo.vds(r.rd)}
            snapshots = {(volume_name(s.rd, vlmnr), s.name) for s in snaps
                         for node, spool in s.nodes
                         if (node.lower(), spool.lower()) == key for vlmnr, _ in s.volumes}
            spec = ctl.pool_spec(pool)
            lines += [f"{pool.node}/{pool.name}: {line}"
                      for line in ctl.satellite.reconcile(spec, volumes, snapshots)]
            for vol in repo.volumes():
                if (vol.node.lower() == pool.node.lower() and vol.backing
                        and any(r.rd.lower() == vol.rd.lower() for r in mine)):
                    device = ctl.satellite.device_path(spec, volume_name(vol.rd, vol.vlmnr))
                    if device != vol.backing:
                        drbd_rd = rds[vol.rd.lower()].drbd
                        repo.set_volume_paths(VolRec(vol.rd, vol.node, vol.vlmnr,
                                                     vol.device_path if drbd_rd else device,
                                                     device))
        for rd in rds.values():
            on = repo.rscs(rd=rd.name)
            if rd.drbd and on:
                res = drbd_resource(repo, rd)
                for rsc in on:
                    drbd.write_res(ctl.state_dir, rsc.node, res)
    return lines
