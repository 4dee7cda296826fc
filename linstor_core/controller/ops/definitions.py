"""Resource definitions, volume definitions and clones.

A resource definition with the DRBD layer gets its TCP port at creation and each of its volume
definitions a minor; both are freed (and reusable) when it is deleted. Deleting a definition
that still has snapshots is refused with LINSTOR's message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from linstor_core import naming
from linstor_core import retcodes as rc
from linstor_core.controller import drbd
from linstor_core.controller.allocation import allocate_minors, allocate_port
from linstor_core.controller.core import Change, Controller, crash_test_pause
from linstor_core.controller.deploy import (backing_kib, ensure_not_in_use, make_volumes, real_drbd,
                                            remove_volumes_later, sync_drbd, volume_name)
from linstor_core.controller.model import RdRec, Repo, VdRec, dump
from linstor_core.controller.ops.common import edit_props, layer_stack
from linstor_core.controller.ops.resources import Placement, create_resource, finish
from linstor_core.controller.replies import refuse
from linstor_core.controller.satellite import PoolSpec, VolumeSpec
from linstor_core.errors import LinstorError

DEFAULT_GROUP = "DfltRscGrp"
VOLUME_NUMBERS = range(32000)
"""LINSTOR's volume numbers (``VolumeNumber``: 0 to 31999)."""
MAX_VOLUME_KIB = 1 << 42


def create_rd(ctl: Controller, change: Change, name: str, *, group: str | None = None,
              layers: Sequence[str] = (), props: Mapping[str, str] | None = None,
              clone_source: str | None = None) -> RdRec:
    """A resource definition; layers from the request, else the group's filter, else
    DRBD,STORAGE; a DRBD one gets its TCP port now."""
    naming.validate_resource_name(name)
    repo = change.repo
    group_rec = repo.group(group or DEFAULT_GROUP)
    ensure_new_rd(repo, name)
    stack = layer_stack(layers or group_rec.select_filter.get("layer_stack") or ())
    port = allocate_port(repo) if "DRBD" in stack else None
    rd = RdRec(name, group_rec.name, stack, port, edit_props({}, props or {}, ()), clone_source,
               "COMPLETE" if clone_source else None)
    repo.insert_rd(rd)
    change.reply(rc.CREATED, f"New resource definition '{name}' created.",
                 obj_refs={"RscDfn": name})
    return rd


def ensure_new_rd(repo: Repo, name: str) -> None:
    """Refuse (LINSTOR's FAIL_EXISTS_RSC_DFN) a definition name that is taken."""
    if repo.find_rd(name):
        raise refuse(rc.FAIL_EXISTS_RSC_DFN, f"Resource definition '{name}' already exists.")


def modify_rd(ctl: Controller, change: Change, name: str, *, override: Mapping[str, object],
              delete: Sequence[str], delete_namespaces: Sequence[str],
              group: str | None, layers: Sequence[str] = ()) -> None:
    """Props and resource group of a definition; its layer stack is fixed at creation here."""
    repo = change.repo
    rd = repo.rd(name)
    if layers and layer_stack(layers) != rd.layers:
        raise refuse(rc.FAIL_INVLD_LAYER_STACK,
                     f"The layer stack of resource definition '{rd.name}' cannot be changed by "
                     "the embedded controller.",
                     correction="Create a new resource definition (or clone this one) with the "
                                "wanted layers.")
    repo.set_rd_props(rd.name, edit_props(rd.props, override, delete, delete_namespaces))
    if group is not None:
        target = repo.group(group)
        repo.tx.run("UPDATE resource_definitions SET resource_group = ? WHERE name = ?",
                    target.name, rd.name)
    change.reply(rc.MODIFIED, f"Resource definition '{rd.name}' modified.",
                 obj_refs={"RscDfn": rd.name})


def delete_rd(ctl: Controller, change: Change, name: str) -> None:
    """Delete a definition with its resources (storage removed after commit); refused with
    LINSTOR's message while snapshots exist, or while a volume is in use. A definition that is
    not there is LINSTOR's warning, not an error: the delete is done."""
    repo = change.repo
    rd = repo.find_rd(naming.validate_resource_name(name))
    if rd is None:
        change.reply(rc.WARN_NOT_FOUND, f"Resource definition '{name}' not found.")
        return
    if repo.snapshots(rd.name):
        raise refuse(rc.FAIL_EXISTS_SNAPSHOT_DFN,
                     f"Cannot delete resource definition '{rd.name}' because it has snapshots.",
                     correction="Delete its snapshots first.")
    vlmnrs = [vd.vlmnr for vd in repo.vds(rd.name)]
    rscs = repo.rscs(rd=rd.name)
    for rsc in rscs:
        ensure_not_in_use(ctl, change, rsc)
    for rsc in rscs:
        repo.delete_rsc(rd.name, rsc.node)
        remove_volumes_later(ctl, change, rd.name, rsc, vlmnrs)
    repo.delete_rd(rd.name)
    sync_drbd(ctl, change, rd.name, removed_nodes=[r.node for r in rscs])
    change.reply(rc.DELETED, f"Resource definition '{rd.name}' deleted.",
                 obj_refs={"RscDfn": rd.name})


def check_size(size_kib: object) -> int:
    """A volume size in KiB: a whole number from 1 to 4 PiB (400 otherwise)."""
    if isinstance(size_kib, bool) or not isinstance(size_kib, int) or not (
            0 < size_kib <= MAX_VOLUME_KIB):
        raise refuse(rc.FAIL_INVLD_VLM_SIZE, f"Invalid volume size {size_kib!r} KiB.",
                     correction=f"Give a whole number of KiB from 1 to {MAX_VOLUME_KIB}.")
    return size_kib


def create_vds(ctl: Controller, change: Change, rd_name: str, sizes: Sequence[int],
               vlmnr: int | None = None, props: Mapping[str, str] | None = None) -> list[VdRec]:
    """Volume definitions (and their volumes on every existing resource of the definition)."""
    repo = change.repo
    rd = repo.rd(rd_name)
    existing = {vd.vlmnr for vd in repo.vds(rd.name)}
    minors = allocate_minors(repo, len(sizes)) if rd.drbd else [None] * len(sizes)
    created = []
    for size, minor in zip(sizes, minors):
        check_size(size)
        number = vlmnr if vlmnr is not None and not created else _next_vlmnr(existing)
        if number not in VOLUME_NUMBERS:
            raise refuse(rc.FAIL_INVLD_VLM_NR, f"Invalid volume number {number}.")
        if number in existing:
            raise refuse(rc.FAIL_EXISTS_VLM_DFN, f"Volume definition {number} of resource "
                         f"definition '{rd.name}' already exists.")
        existing.add(number)
        vd = VdRec(rd.name, number, size, minor, edit_props({}, props or {}, ()))
        repo.insert_vd(vd)
        created.append(vd)
        change.reply(rc.CREATED, f"New volume definition with number '{number}' of resource "
                     f"definition '{rd.name}' created.", obj_refs={"RscDfn": rd.name,
                                                                   "VlmNr": str(number)})
    for rsc in repo.rscs(rd=rd.name):
        make_volumes(ctl, change, rd, rsc, created)
    if created and repo.rscs(rd=rd.name):
        sync_drbd(ctl, change, rd.name)
    return created


def _next_vlmnr(existing: set[int]) -> int:
    number = 0
    while number in existing:
        number += 1
    return number


def resize_vd(ctl: Controller, change: Change, rd_name: str, vlmnr: int,
              size_kib: int | None, override: Mapping[str, object],
              delete: Sequence[str]) -> None:
    """Grow a volume definition and every diskful volume of it (file and loop device, and the
    DRBD device where it is real), all or none.

    Each replica registers its undo (cut back to the old size; nothing if it did not grow)
    before it grows, so when it or a later one cannot grow (a full pool: its ``StorageError``
    names the pool and what to free) the definition keeps its size and so does every
    replica, even one that grew and then failed (its loop device). DRBD devices are resized
    last, once every backing volume has grown, so a full pool is found before DRBD has moved
    its metadata to a new end; a volume DRBD was resized onto is not cut back by a later
    failure (the commit's), but left larger and reported (``_grow_undoer``).
    """
    repo = change.repo
    vd = repo.vd(rd_name, vlmnr)
    rd = repo.rd(vd.rd)
    if override or delete:
        repo.tx.run("UPDATE volume_definitions SET props = ? WHERE rd = ? AND vlmnr = ?",
                    dump(edit_props(vd.props, override, delete)),
                    vd.rd, vd.vlmnr)
    if size_kib is not None and size_kib != vd.size_kib:
        check_size(size_kib)
        if size_kib < vd.size_kib:
            raise refuse(rc.FAIL_INVLD_VLM_SIZE,
                         f"Volume definition {vlmnr} of resource definition '{vd.rd}' cannot "
                         f"shrink from {vd.size_kib} KiB to {size_kib} KiB.",
                         correction="Only growing a volume is supported.")
        repo.set_vd_size(vd.rd, vd.vlmnr, size_kib)
        name = volume_name(vd.rd, vd.vlmnr)
        grown = []
        drbd_resized: set[str] = set()
        for rsc in repo.rscs(rd=vd.rd):
            if rsc.diskless or rsc.pool is None:
                continue
            spec = ctl.pool_spec(repo.pool(rsc.node, rsc.pool))
            # Before the grow: one cut off midway (a stop) still leaves the replicas one size.
            change.on_undo(f"cutting volume {name} on {rsc.node} back to {vd.size_kib} KiB",
                           _grow_undoer(ctl, spec, name, vd.size_kib, size_kib, drbd_resized,
                                        backing_kib(ctl, rd.drbd, rsc.node, vd.size_kib)))
            ctl.satellite.resize_volume(spec, name, backing_kib(ctl, rd.drbd, rsc.node, size_kib))
            grown.append(rsc.node)
        crash_test_pause("resize")
        for node in grown:
            if rd.drbd and real_drbd(ctl, node):
                drbd.resize(ctl.state_dir, node, rd.name, vd.vlmnr, runner=ctl.runner)
                drbd_resized.add(node)
    change.reply(rc.MODIFIED, f"Volume definition with number '{vlmnr}' of resource definition "
                 f"'{vd.rd}' modified.", obj_refs={"RscDfn": vd.rd, "VlmNr": str(vlmnr)})


def _grow_undoer(ctl: Controller, spec: PoolSpec, name: str, size_kib: int, new_size_kib: int,
                 drbd_resized: set[str], backing_size_kib: int) -> Callable[[], None]:
    """The undo of growing ``name`` on ``spec``'s node to ``new_size_kib``: cut back to
    ``backing_size_kib`` (what ``size_kib`` takes there, ``backing_kib``), unless DRBD was
    resized there by then (``drbd_resized``, filled as the request goes on). DRBD may have moved its metadata to the new end, which cutting would
    destroy, so that volume is left larger and reported (as start-up leaves it, ``reconcile``)."""
    def undo() -> None:
        if spec.node not in drbd_resized:
            ctl.satellite.undo_grow(spec, name, backing_size_kib)
            return
        raise LinstorError(
            f"volume {name} on {spec.node} is left at {new_size_kib} KiB, larger than its "
            f"definition's {size_kib} KiB: DRBD was resized onto it, and cutting it back would "
            "destroy the DRBD metadata at its new end",
            correction=f"resize the volume definition to {new_size_kib} KiB again")

    return undo


def delete_vd(ctl: Controller, change: Change, rd_name: str, vlmnr: int) -> None:
    """Delete a volume definition and its volumes; refused while the definition has snapshots."""
    repo = change.repo
    vd = repo.vd(rd_name, vlmnr)
    if repo.snapshots(vd.rd):
        raise refuse(rc.FAIL_EXISTS_SNAPSHOT_DFN, f"Cannot delete volume definition {vlmnr} of "
                     f"resource definition '{vd.rd}' because it has snapshots.")
    repo.tx.run("DELETE FROM volumes WHERE rd = ? AND vlmnr = ?", vd.rd, vd.vlmnr)
    for rsc in repo.rscs(rd=vd.rd):
        remove_volumes_later(ctl, change, vd.rd, rsc, [vd.vlmnr])
    repo.tx.run("DELETE FROM volume_definitions WHERE rd = ? AND vlmnr = ?", vd.rd, vd.vlmnr)
    sync_drbd(ctl, change, vd.rd)
    change.reply(rc.DELETED, f"Volume definition with number '{vlmnr}' of resource definition "
                 f"'{vd.rd}' deleted.", obj_refs={"RscDfn": vd.rd, "VlmNr": str(vlmnr)})


def clone_rd(ctl: Controller, change: Change, source: str, target: str, *,
             layers: Sequence[str] = (), group: str | None = None,
             override: Mapping[str, object] | None = None,
             delete: Sequence[str] = ()) -> RdRec:
    """A new definition whose diskful replicas are copies of ``source``'s, on the same nodes;
    synchronous, so its status is COMPLETE at once.

    Each copy stays in its source's pool (a reflink where the pool allows) unless ``group``'s
    select filter names pools without it: then, as LINSTOR's clone request promises ("use
    storage pools of this group"), it is made in the first of those pools on its node, as a
    full copy in that pool's own kind (a clone into a thick group is thick). A node without
    any of them is refused before anything is made.
    """
    repo = change.repo
    src = repo.rd(source)
    src_vds = repo.vds(src.name)
    diskful = [r for r in repo.rscs(rd=src.name) if not r.diskless]
    if not src_vds or not diskful:
        raise refuse(rc.FAIL_INVLD_REQUEST, f"Resource definition '{src.name}' has no volumes "
                     "to clone.", correction="Clone a definition with deployed volumes.")
    wanted = Placement.from_filters(repo.group(group).select_filter).storage_pools if group else ()
    pools = {rsc.node: _clone_pool(repo, rsc.node, rsc.pool, wanted, group) for rsc in diskful}
    props = edit_props(src.props, override or {}, delete)
    clone = create_rd(ctl, change, target, group=group or src.resource_group,
                      layers=layers or src.layers, props=props, clone_source=src.name)
    create_vds_for_copy(change, clone, [(vd.vlmnr, vd.size_kib) for vd in src_vds])
    for rsc in diskful:
        src_spec = ctl.pool_spec(repo.pool(rsc.node, rsc.pool))

        def maker(spec: PoolSpec, vol: VolumeSpec, _src: str = src.name, _from: PoolSpec = src_spec) -> str:
            src_vol = volume_name(_src, vol.volume_number)
            if spec.name == _from.name:
                return ctl.satellite.clone_volume(spec, src_vol, vol)
            return ctl.satellite.copy_volume(_from, src_vol, spec, vol)

        create_resource(ctl, change, clone.name, rsc.node, pools[rsc.node], False, maker=maker)
    finish(ctl, change, clone.name)
    return clone


def _clone_pool(repo: Repo, node: str, pool: str, wanted: Sequence[str], group: str | None) -> str:
    """The pool a clone's replica on ``node`` goes to: its source's ``pool`` when the group
    names no pools or names that one, else the first ``wanted`` pool on the node."""
    if not wanted or pool.lower() in {name.lower() for name in wanted}:
        return pool
    here = {known.name.lower(): known.name for known in repo.pools(node) if not known.diskless}
    for name in wanted:
        if name.lower() in here:
            return here[name.lower()]
    raise refuse(rc.FAIL_NOT_FOUND_STOR_POOL,
                 f"Resource group '{group}' uses the storage pools {', '.join(wanted)}, none of which "
                 f"is on node '{node}', where the source has a replica.",
                 correction=f"Create one of them on '{node}', or clone into a group with a pool there.")


def create_vds_for_copy(change: Change, rd: RdRec,
                        volumes: Sequence[tuple[int, int]]) -> list[VdRec]:
    """Volume definitions with given numbers and sizes (clone, snapshot restore)."""
    repo = change.repo
    minors = allocate_minors(repo, len(volumes)) if rd.drbd else [None] * len(volumes)
    created = []
    for (vlmnr, size), minor in zip(volumes, minors):
        vd = VdRec(rd.name, vlmnr, size, minor, {})
        repo.insert_vd(vd)
        created.append(vd)
    return created
