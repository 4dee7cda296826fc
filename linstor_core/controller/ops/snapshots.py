"""Snapshots: create, delete, restore (definitions, resources), rollback.

A snapshot belongs to the resource definition, exists on the nodes it was taken on, and
survives the deletion of the resources it was taken from. Rollback follows LINSTOR: only the
most recent snapshot, and only when every diskful replica has that snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from linstor_core import naming
from linstor_core import retcodes as rc
from linstor_core.controller import drbd
from linstor_core.controller.core import Change, Controller, crash_test_pause, now_ms
from linstor_core.controller.deploy import (backing_kib, ensure_not_in_use, real_drbd, volume_name,
                                            write_configs)
from linstor_core.controller.model import RdRec, Repo, SnapRec, VolRec
from linstor_core.controller.ops.definitions import create_rd, create_vds_for_copy
from linstor_core.controller.ops.resources import create_resource, finish
from linstor_core.controller.replies import refuse
from linstor_core.controller.satellite import PoolSpec, VolumeSpec
from linstor_core.errors import ApiReply, LinstorError, NotFound, noted_on


def create_snapshot(ctl: Controller, change: Change, rd_name: str, name: str,
                    nodes: Sequence[str]) -> None:
    """Snapshot every volume on ``nodes`` (all diskful replicas when empty), as one change;
    a node named twice (in any case) is snapshotted once."""
    naming.validate_snapshot_name(name)
    repo = change.repo
    rd = repo.rd(rd_name)
    if any(s.name.lower() == name.lower() for s in repo.snapshots(rd.name)):
        raise refuse(rc.FAIL_EXISTS_SNAPSHOT_DFN, f"Snapshot definition '{name}' of resource "
                     f"definition '{rd.name}' already exists.")
    diskful = {r.node.lower(): r for r in repo.rscs(rd=rd.name) if not r.diskless}
    named = {n.lower(): n for n in nodes if n}
    wanted = list(named.values()) or [r.node for r in diskful.values()]
    if not wanted:
        raise refuse(rc.FAIL_NOT_FOUND_RSC, f"Resource definition '{rd.name}' has no diskful "
                     "resource to take a snapshot of.")
    targets = []
    for node in wanted:
        rsc = diskful.get(node.lower())
        if rsc is None:
            raise refuse(rc.FAIL_NOT_FOUND_RSC, f"Resource '{rd.name}' on node '{node}' not found "
                         "or diskless; a snapshot needs a diskful replica there.")
        targets.append(rsc)
    vds = repo.vds(rd.name)
    for rsc in targets:
        spec = ctl.pool_spec(repo.pool(rsc.node, rsc.pool or ""))
        for vd in vds:
            vol = volume_name(rd.name, vd.vlmnr)
            ctl.satellite.snapshot_volume(spec, vol, name)
            change.on_undo(f"remove snapshot {name} of {vol} on {rsc.node}",
                           _snapshot_deleter(ctl, spec, vol, name))
    crash_test_pause("snapshot")
    repo.insert_snapshot(SnapRec(
        rd.name, name, repo.next_snapshot_sequence(rd.name), now_ms(),
        tuple((r.node, r.pool or "") for r in targets),
        tuple((vd.vlmnr, vd.size_kib) for vd in vds)))
    change.reply(rc.CREATED, f"New snapshot '{name}' of resource '{rd.name}' registered.",
                 obj_refs={"RscDfn": rd.name, "Snapshot": name})


def _snapshot_deleter(ctl: Controller, spec: PoolSpec, vol: str,
                      snapshot: str) -> Callable[[], None]:
    return lambda: ctl.satellite.delete_snapshot(spec, vol, snapshot)


def delete_snapshot(ctl: Controller, change: Change, rd_name: str, name: str,
                    nodes: Sequence[str] = ()) -> None:
    """Delete the snapshot on ``nodes`` (all when empty); gone entirely once no node has it."""
    repo = change.repo
    snap = repo.snapshot(rd_name, name)
    wanted = {n.lower() for n in nodes if n}
    unknown = wanted - {node.lower() for node in snap.node_names}
    if unknown:
        raise refuse(rc.FAIL_NOT_FOUND_SNAPSHOT, f"Snapshot '{snap.name}' of resource "
                     f"'{snap.rd}' on node '{sorted(unknown)[0]}' not found.")
    dropped = [(n, p) for n, p in snap.nodes if not wanted or n.lower() in wanted]
    if len(dropped) == len(snap.nodes):
        repo.delete_snapshot(snap.rd, snap.name)
    else:
        for node, _pool in dropped:
            repo.tx.run("DELETE FROM snapshot_nodes WHERE rd = ? AND snapshot = ? AND node = ?",
                        snap.rd, snap.name, node)
    for node, pool in dropped:
        spec = ctl.pool_spec(repo.pool(node, pool))
        for vlmnr, _size in snap.volumes:
            vol = volume_name(snap.rd, vlmnr)
            change.later(f"removing snapshot {snap.name} of {vol} on {node}",
                         _snapshot_deleter(ctl, spec, vol, snap.name))
    where = "" if len(dropped) == len(snap.nodes) else \
        f" on node(s) {', '.join(n for n, _ in dropped)}"
    change.reply(rc.DELETED, f"Snapshot '{snap.name}' of resource '{snap.rd}' deleted{where}.",
                 obj_refs={"RscDfn": snap.rd, "Snapshot": snap.name})


def restore_volume_definitions(ctl: Controller, change: Change, rd_name: str, name: str,
                               target: str) -> None:
    """Volume definitions of ``target`` (created with the source's layers if missing) sized
    as in the snapshot.

    A target with resources is refused, as LINSTOR does: their volumes would not be made, so
    diskful resources would list volumes without storage."""
    repo = change.repo
    snap = repo.snapshot(rd_name, name)
    source = repo.rd(snap.rd)
    _refuse_a_target_with_resources(repo, target)
    to_rd = repo.find_rd(target) or create_rd(ctl, change, target, group=source.resource_group,
                                              layers=source.layers, props=source.props)
    if repo.vds(to_rd.name):
        raise refuse(rc.FAIL_EXISTS_VLM_DFN, f"Resource definition '{to_rd.name}' already has "
                     "volume definitions.", correction="Restore into an empty resource definition.")
    create_vds_for_copy(change, to_rd, list(snap.volumes))
    change.reply(rc.CREATED, f"Volume definitions of resource definition '{to_rd.name}' "
                 f"restored from snapshot '{snap.name}' of resource '{snap.rd}'.",
                 obj_refs={"RscDfn": to_rd.name, "Snapshot": snap.name})


def _refuse_a_target_with_resources(repo: Repo, target: str) -> None:
    """Refused as LINSTOR does: a restored replica would sit beside one holding other data,
    and volume definitions restored under existing resources would have no storage."""
    existing = repo.find_rd(target)
    if existing is not None and repo.rscs(rd=existing.name):
        raise refuse(rc.FAIL_EXISTS_RSC, "Cannot restore to resource definition which already "
                     "has resources", cause=f"Resource definition '{existing.name}' has resources.",
                     correction="Restore into a resource definition without resources.")


def restore_resources(ctl: Controller, change: Change, rd_name: str, name: str, target: str,
                      nodes: Sequence[str]) -> None:
    """Resources of ``target`` on ``nodes`` (a subset of the snapshot's; all when empty), each
    made from that node's snapshot copy, in the same pool.

    The source's definition props are copied onto the target's, over the ones it was made
    with, as LINSTOR copies them (it copies those the definition had when the snapshot was
    taken; this controller keeps no copy and takes the current ones): a client that wants its
    own props on a restored disk sets them again afterwards."""
    repo = change.repo
    snap = repo.snapshot(rd_name, name)
    pools = {node.lower(): (node, pool) for node, pool in snap.nodes}
    wanted = [n for n in nodes if n] or [node for node, _ in snap.nodes]
    for node in wanted:
        if node.lower() not in pools:
            raise refuse(rc.FAIL_NOT_FOUND_SNAPSHOT, f"Snapshot '{snap.name}' of resource "
                         f"'{snap.rd}' on node '{node}' not found.")
    _refuse_a_target_with_resources(repo, target)  # also when its volume definitions exist
    if repo.find_rd(target) is None or not repo.vds(target):
        restore_volume_definitions(ctl, change, snap.rd, snap.name, target)
    to_rd = repo.rd(target)
    copied = {**to_rd.props, **repo.rd(snap.rd).props}
    if copied != to_rd.props:
        repo.set_rd_props(to_rd.name, copied)
    for node in wanted:
        real_node, pool = pools[node.lower()]

        def maker(spec: PoolSpec, vol: VolumeSpec) -> str:
            return ctl.satellite.restore_volume(
                spec, volume_name(snap.rd, vol.volume_number), snap.name, vol)

        create_resource(ctl, change, to_rd.name, real_node, pool, False, maker=maker)
    finish(ctl, change, to_rd.name)


def rollback(ctl: Controller, change: Change, rd_name: str, name: str) -> None:
    """Roll every diskful replica back to the snapshot (refusals as in the module docstring).

    All or none, and a failure is final: the record committed first (``finish_rollback``)
    is there for a crash, so start-up finishes a rollback that was cut off. A rollback that
    *fails* (a full pool, a replica that cannot be switched) is undone on the replicas already
    switched and its record dropped in the same transaction, and the client hears why: the
    disks stay usable as they were, so nothing may replay the rollback later over what is
    written to them afterwards. Repeating the request is a new rollback.
    """
    repo = change.repo
    snap = repo.snapshot(rd_name, name)
    latest = repo.snapshots(snap.rd)[-1]
    if latest.name.lower() != snap.name.lower():
        raise refuse(rc.FAIL_EXISTS_SNAPSHOT_DFN,
                     "Rollback is only allowed with the most recent snapshot",
                     correction=f"Delete the newer snapshot '{latest.name}' first.")
    on_nodes = {node.lower() for node in snap.node_names}
    diskful = [r for r in repo.rscs(rd=snap.rd) if not r.diskless]
    for rsc in diskful:
        if rsc.node.lower() not in on_nodes:
            raise refuse(rc.FAIL_NOT_FOUND_SNAPSHOT, f"Snapshot '{snap.name}' of resource "
                         f"'{snap.rd}' on node '{rsc.node}' not found.",
                         correction=f"Delete the resource on node '{rsc.node}' or take the "
                                    "snapshot there too.")
    for rsc in repo.rscs(rd=snap.rd):
        ensure_not_in_use(ctl, change, rsc)
    change.reply(rc.MODIFIED, f"Snapshot '{snap.name}' of resource '{snap.rd}' marked down for "
                 "rollback.", obj_refs={"RscDfn": snap.rd, "Snapshot": snap.name})
    repo.tx.run("INSERT OR REPLACE INTO rollbacks (rd, snapshot) VALUES (?, ?)", snap.rd, snap.name)

    def rolled(rd: str, node: str) -> None:
        change.reply(rc.MODIFIED, f"Rolled resource '{rd}' back on node '{node}'.",
                     obj_refs={"RscDfn": rd, "Node": node})

    def switch() -> None:
        try:
            leftovers = finish_rollback(ctl, snap.rd, rolled, snapshot=snap.name)
        except _RollbackGone:
            raise
        except LinstorError as error:
            notes = list(getattr(error, "__notes__", ()))
            fix = f" ({error.correction})" if error.correction else ""
            after = ("; putting back failed on some replicas (details), so their data may "
                     "differ until a rollback succeeds" if notes else
                     "; every replica was put back as it was, and nothing is finished later")
            raise refuse(rc.FAIL_UNKNOWN_ERROR,
                         f"Rollback of '{snap.rd}' to '{snap.name}' failed: {error.message}",
                         cause=error.cause or "a replica could not be switched to the snapshot",
                         correction=f"Repeat the rollback when the cause is fixed{fix}{after}.",
                         details="; ".join(notes)) from error
        for what in leftovers:
            change.warn_leftover(what)

    change.then(switch)


class _RollbackGone(NotFound):
    """The request's rollback record was gone when its switch began: nothing was rolled back."""


def finish_rollback(ctl: Controller, rd_name: str,
                    rolled: Callable[[str, str], None] = lambda rd, node: None, *,
                    snapshot: str | None = None) -> list[str]:
    """Switch every diskful replica of ``rd_name`` to the snapshot its recorded rollback names,
    and drop the record, in one transaction; ``rolled(rd, node)`` hears each replica. Returns
    the clean-ups that failed (data a replica no longer needs, removed at the next start).

    ``rollback`` commits that record before any replica changes, so a controller killed after
    the first replica leaves it behind and start-up reconciliation calls this again: a rollback
    ends up on every replica, never on some (the data is copied from the snapshot anew, so
    doing it twice is harmless). Nothing recorded (or the snapshot deleted since): a no-op at
    start-up; the request (``snapshot``: the one it recorded) is refused instead, so its client
    never hears success for a rollback that did not happen. ``Controller.change`` holds the
    write lock from the record's commit to here, so only a bug can get there.

    When a replica fails, the ones already switched get their data back (the satellite keeps
    it until every replica is switched) and the error is raised with a note for each replica
    that could not be put back. The record is dropped then too, by the request (its client
    hears the failure, see ``rollback``) and at start-up alike: the disks are served again as
    they are, so a rollback finished at a later start would overwrite what was written to
    them meanwhile. After a crash, replicas switched before it keep the snapshot's data until
    the rollback is repeated (start-up says so).

    A replica whose DRBD device is real goes ``down`` before its volumes are switched and is
    ``adjust``ed back once the configs name the new backing devices (start-up reconciliation
    brings it up too if this stops in between).
    """
    failure: LinstorError | OSError | None = None
    switched: list[tuple[str, PoolSpec, int]] = []
    with ctl.store.write() as tx:
        repo = Repo(tx)
        row = tx.one("SELECT snapshot FROM rollbacks WHERE rd = ?", rd_name)
        if snapshot is not None and (row is None or str(row[0]).lower() != snapshot.lower()):
            raise _RollbackGone([ApiReply(
                ret_code=rc.FAIL_NOT_FOUND_SNAPSHOT,
                message=f"Rollback of '{rd_name}' to '{snapshot}' is no longer recorded; "
                        "nothing was rolled back.",
                cause="The snapshot or the rollback record was removed before the replicas "
                      "were switched.",
                correction="Check that the snapshot still exists and repeat the rollback.")],
                status=404)
        if row is None:
            return []
        snap = repo.snapshot(rd_name, str(row[0]))
        rd = repo.rd(snap.rd)
        down: list[str] = []
        try:
            _switch_replicas(ctl, repo, snap, rd, switched, down, rolled)
        except (LinstorError, OSError) as error:
            _put_back(ctl, repo, snap, rd, switched, down, error)
            failure = error
        tx.run("DELETE FROM rollbacks WHERE rd = ?", snap.rd)
    if failure is not None:
        raise failure
    leftovers = []
    for node, spec, vlmnr in switched:
        vol = volume_name(snap.rd, vlmnr)
        try:
            ctl.satellite.commit_rollback(spec, vol)
        except LinstorError:
            leftovers.append(f"removing the data the rollback replaced of {vol} on {node}")
    return leftovers


def _switch_replicas(ctl: Controller, repo: Repo, snap: SnapRec, rd: RdRec,
                     switched: list[tuple[str, PoolSpec, int]], down: list[str],
                     rolled: Callable[[str, str], None]) -> None:
    """``finish_rollback``'s switch; ``switched`` and ``down`` say how far it got.

    A volume grown since the snapshot is grown back to its definition's size after the
    switch (what lies beyond the snapshot's end reads as zeros): the definition keeps the size
    it was given, as a filesystem grown with it expects, instead of a device that is smaller
    than the size every listing shows and that no resize can repair (shrinking is refused).
    """
    sizes = {vd.vlmnr: vd.size_kib for vd in repo.vds(snap.rd)}
    grown: list[tuple[str, int]] = []
    for index, rsc in enumerate(r for r in repo.rscs(rd=snap.rd) if not r.diskless):
        if index:
            crash_test_pause("rollback")
        if rd.drbd and real_drbd(ctl, rsc.node):
            # DRBD holds the backing devices that are about to be switched.
            drbd.bring_down(ctl.state_dir, rsc.node, rd.name, runner=ctl.runner)
            down.append(rsc.node)
        spec = ctl.pool_spec(repo.pool(rsc.node, rsc.pool or ""))
        for vlmnr, snap_size in snap.volumes:
            # Listed first: a switch that fails midway (its loop device) is put back too.
            switched.append((rsc.node, spec, vlmnr))
            vol = volume_name(snap.rd, vlmnr)
            device = ctl.satellite.rollback_volume(spec, vol, snap.name)
            _set_backing(repo, rd, rsc.node, vlmnr, device)
            if sizes.get(vlmnr, snap_size) > snap_size:
                ctl.satellite.resize_volume(spec, vol, backing_kib(ctl, rd.drbd, rsc.node, sizes[vlmnr]))
                grown.append((rsc.node, vlmnr))
        rolled(snap.rd, rsc.node)
    if rd.drbd:
        # Backing devices may have new paths; the configs follow before the device is up.
        write_configs(ctl, repo, rd)
        for node in down:
            drbd.bring_up(ctl.state_dir, node, rd.name, runner=ctl.runner)
        for node, vlmnr in grown:
            if node in down:
                drbd.resize(ctl.state_dir, node, rd.name, vlmnr, runner=ctl.runner)


def _put_back(ctl: Controller, repo: Repo, snap: SnapRec, rd: RdRec,
              switched: list[tuple[str, PoolSpec, int]], down: list[str],
              error: BaseException) -> None:
    """Undo a failed ``_switch_replicas``; each step that fails too is a note on ``error``."""
    for node in down:
        with noted_on(error, f"taking DRBD resource {rd.name} down on {node} again"):
            drbd.bring_down(ctl.state_dir, node, rd.name, runner=ctl.runner)
    for node, spec, vlmnr in reversed(switched):
        vol = volume_name(snap.rd, vlmnr)
        with noted_on(error, f"putting back the data of {vol} on {node}"):
            _set_backing(repo, rd, node, vlmnr, ctl.satellite.undo_rollback(spec, vol))
    if rd.drbd:
        with noted_on(error, f"writing the DRBD configs of {rd.name} again"):
            write_configs(ctl, repo, rd)
        for node in down:
            with noted_on(error, f"bringing DRBD resource {rd.name} up on {node} again"):
                drbd.bring_up(ctl.state_dir, node, rd.name, runner=ctl.runner)


def _set_backing(repo: Repo, rd: RdRec, node: str, vlmnr: int, device: str) -> None:
    """Record ``device`` as the backing device (and, without DRBD, the device) of a volume."""
    if not rd.drbd:
        repo.set_volume_paths(VolRec(rd.name, node, vlmnr, device, device))
    else:
        repo.tx.run("UPDATE volumes SET backing = ? WHERE rd = ? AND node = ? AND vlmnr = ?",
                    device, rd.name, node, vlmnr)


def pending_rollbacks(repo: Repo) -> list[str]:
    """Definitions whose recorded rollback has not finished on every replica (a crash)."""
    return [str(row[0]) for row in repo.tx.all("SELECT rd FROM rollbacks ORDER BY rd")]
