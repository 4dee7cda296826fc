"""Resources: create on named nodes, autoplace, delete, make-available, the DRBD tiebreaker.

Tiebreaker rule (LINSTOR's quorum helper): a DRBD resource with exactly two diskful replicas
and no other diskless peer keeps one diskless ``TIE_BREAKER`` resource on a third node (the
first free node by name), so losing one replica does not lose quorum; it goes away as soon as
the count is no longer two or another diskless peer exists.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from linstor_core import retcodes as rc
from linstor_core.controller import placement
from linstor_core.controller.allocation import allocate_node_id
from linstor_core.controller.core import Change, Controller, now_ms
from linstor_core.controller.deploy import (Maker, ensure_not_in_use, make_volumes,
                                            remove_volumes_later, sync_drbd)
from linstor_core.controller.model import (TIE_BREAKER, PoolRec, RdRec, Repo, RscRec,
                                           parse_props)
from linstor_core.controller.ops.common import layer_stack
from linstor_core.controller.ops.nodes import DISKLESS_POOL
from linstor_core.controller.replies import refuse
from linstor_core.errors import ApiError, LinstorError

log = logging.getLogger(__name__)

DISKLESS = ("DISKLESS", "DRBD_DISKLESS")
DEFAULT_PLACE_COUNT = 2
INT32 = range(-(2 ** 31), 2 ** 31)

# OpenAPI AutoSelectFilter: field -> (JSON type, LINSTOR's ret code for a bad value).
FILTER_SCHEMA: dict[str, tuple[str, int]] = {
    "place_count": ("int32", rc.FAIL_INVLD_PLACE_COUNT),
    "additional_place_count": ("int32", rc.FAIL_INVLD_PLACE_COUNT),
    "node_name_list": ("strings", rc.FAIL_INVLD_NODE_NAME),
    "storage_pool": ("string", rc.FAIL_INVLD_STOR_POOL_NAME),
    "storage_pool_list": ("strings", rc.FAIL_INVLD_STOR_POOL_NAME),
    "storage_pool_diskless_list": ("strings", rc.FAIL_INVLD_STOR_POOL_NAME),
    "not_place_with_rsc": ("strings", rc.FAIL_INVLD_RSC_NAME),
    "not_place_with_rsc_regex": ("regex", rc.FAIL_INVLD_RSC_NAME),
    "replicas_on_same": ("strings", rc.FAIL_INVLD_PROP),
    "replicas_on_different": ("strings", rc.FAIL_INVLD_PROP),
    "x_replicas_on_different_map": ("int32 map", rc.FAIL_INVLD_PROP),
    "layer_stack": ("strings", rc.FAIL_INVLD_LAYER_STACK),
    "provider_list": ("strings", rc.FAIL_INVLD_PROVIDER),
    "diskless_on_remaining": ("boolean", rc.FAIL_INVLD_REQUEST),
    "diskless_type": ("string", rc.FAIL_INVLD_REQUEST),
    "overprovision": ("number", rc.FAIL_INVLD_REQUEST),
    "port_count": ("int32", rc.FAIL_INVLD_REQUEST),
}
CHECKED_ONLY = frozenset({"x_replicas_on_different_map", "overprovision", "port_count"})
"""Fields the embedded controller checks and then drops (it keeps every other one)."""
_WANTED = {"int32": "a whole number", "strings": "a list of strings", "string": "a string",
           "regex": "a regular expression", "int32 map": "an object of whole numbers",
           "boolean": "true or false", "number": "a number"}


POOL_KEYS = ("storage_pool", "storage_pool_list")


def overlay_filters(*filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """``filters`` laid over each other, left to right: a key a later one sets (not None, not
    empty) replaces the earlier value. ``storage_pool`` and ``storage_pool_list`` are one
    setting, as LINSTOR folds the single pool into the list: a filter naming either replaces
    both, so a group changed from pool ``a`` to pools ``b, c`` (or a spawn asking for pool ``x``
    of a group with ``a, b``) is never placed in a pool it no longer names."""
    merged: dict[str, Any] = {}
    for given in filters:
        given = {k: v for k, v in (given or {}).items() if v is not None and v != []}
        if any(key in given for key in POOL_KEYS):
            for key in POOL_KEYS:
                merged.pop(key, None)
        merged.update(given)
    return merged


def clean_filter(select_filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """An AutoSelectFilter checked against the spec's types: the fields we keep.

    The one gate for every filter a request brings (group create and modify, spawn,
    autoplace, size queries), so a stored or applied filter never fails later on a type: a
    bad value is a 400 naming the field, before anything changes. Unknown keys are dropped,
    the layer stack is normalised and the place count must be positive.
    """
    result: dict[str, Any] = {}
    for key, value in (select_filter or {}).items():
        if value is None or key not in FILTER_SCHEMA:
            continue
        _check_filter_value(key, value)
        if key not in CHECKED_ONLY:
            result[key] = value
    if result.get("layer_stack"):
        result["layer_stack"] = list(layer_stack(result["layer_stack"]))
    if "place_count" in result:
        Placement.from_filters(result)
    return result


def _check_filter_value(key: str, value: Any) -> None:
    kind, code = FILTER_SCHEMA[key]
    if kind == "regex" and isinstance(value, str):
        try:
            re.compile(value)
        except re.error as error:
            raise refuse(code, f"Invalid select filter: '{key}' is not a regular expression: "
                         f"{error}.", correction="Escape characters such as ( [ * that are "
                         "meant literally.") from None
        return
    if not _is_json_type(kind, value):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise refuse(code, f"Invalid select filter: '{key}' must be {_WANTED[kind]}, not "
                     f"{shown}.", correction="Send the select filter as the LINSTOR REST API's "
                     "AutoSelectFilter describes it.")


def _is_json_type(kind: str, value: Any) -> bool:
    if kind == "int32":
        return _is_int32(value)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind == "int32 map":
        return isinstance(value, dict) and all(_is_int32(item) for item in value.values())
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _is_int32(value: Any) -> bool:
    """JSON's integers (Python's bool is an int, JSON's true is not), in Java's int range."""
    return isinstance(value, int) and not isinstance(value, bool) and value in INT32


@dataclass(frozen=True)
class Placement:
    """Effective autoplace parameters (resource group filter overlaid by the request's)."""

    place_count: int
    storage_pools: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()
    replicas_on_same: tuple[str, ...] = ()
    replicas_on_different: tuple[str, ...] = ()
    not_place_with_rsc: tuple[str, ...] = ()
    not_place_with_rsc_regex: str | None = None
    diskless_on_remaining: bool = False

    @classmethod
    def from_filters(cls, *filters: Mapping[str, Any]) -> "Placement":
        """Overlay ``filters`` left to right; LINSTOR's default place count is 2."""
        merged = overlay_filters(*filters)
        count = merged.get("place_count", DEFAULT_PLACE_COUNT)
        if not isinstance(count, int) or count < 1:
            raise refuse(rc.FAIL_INVLD_PLACE_COUNT, f"Invalid place count {count!r}.",
                         correction="The place count is a positive number.")
        pools = tuple(merged.get("storage_pool_list") or ())
        if merged.get("storage_pool"):
            pools = (merged["storage_pool"],) + tuple(p for p in pools
                                                      if p != merged["storage_pool"])
        return cls(
            place_count=count,
            storage_pools=pools,
            node_names=tuple(merged.get("node_name_list") or ()),
            replicas_on_same=tuple(merged.get("replicas_on_same") or ()),
            replicas_on_different=tuple(merged.get("replicas_on_different") or ()),
            not_place_with_rsc=tuple(merged.get("not_place_with_rsc") or ()),
            not_place_with_rsc_regex=merged.get("not_place_with_rsc_regex"),
            diskless_on_remaining=bool(merged.get("diskless_on_remaining", False)),
        )

    def names(self, node: str, pool: str) -> bool:
        """Whether the node and pool names of the filter (where it has them) admit this pool."""
        return ((not self.node_names or node.lower() in {n.lower() for n in self.node_names})
                and (not self.storage_pools
                     or pool.lower() in {p.lower() for p in self.storage_pools}))

    def request(self, resource: str, count: int, size_kib: int,
                existing: Sequence[Mapping[str, str]] = ()) -> placement.Request:
        """The placer's request for ``count`` more replicas under these constraints."""
        return placement.Request(
            resource=resource, count=count, size_kib=size_kib, storage_pools=self.storage_pools,
            node_names=self.node_names, replicas_on_same=self.replicas_on_same,
            replicas_on_different=self.replicas_on_different,
            not_place_with_rsc=self.not_place_with_rsc,
            not_place_with_rsc_regex=self.not_place_with_rsc_regex, existing=tuple(existing))


def create_resource(ctl: Controller, change: Change, rd_name: str, node: str,
                    pool: str | None, diskless: bool, *, maker: Maker | None = None,
                    flags: Sequence[str] = (), announce: bool = True) -> RscRec:
    """One resource on ``node`` (diskful in ``pool``, or diskless); storage made in the change."""
    repo = change.repo
    rd = repo.rd(rd_name)
    node_rec = repo.node(node)
    if repo.find_rsc(rd.name, node_rec.name):
        raise refuse(rc.FAIL_EXISTS_RSC,
                     f"Resource '{rd.name}' on node '{node_rec.name}' already exists.")
    if diskless:
        if not rd.drbd:
            raise refuse(rc.FAIL_INVLD_LAYER_STACK,
                         f"A diskless resource needs the DRBD layer; '{rd.name}' has "
                         f"{','.join(rd.layers)}.", correction="Create it with a storage pool.")
        pool_name, all_flags = DISKLESS_POOL, tuple(DISKLESS) + tuple(flags)
    else:
        pool_name, all_flags = _diskful_pool(repo, node_rec.name, pool), tuple(flags)
    node_id = allocate_node_id(repo, rd.name) if rd.drbd else None
    rsc = RscRec(rd.name, node_rec.name, pool_name, all_flags, node_id, now_ms())
    repo.insert_rsc(rsc)
    make_volumes(ctl, change, rd, rsc, repo.vds(rd.name), maker)
    if announce:
        change.reply(rc.CREATED, f"New resource '{rd.name}' on node '{node_rec.name}' "
                     "registered.", obj_refs={"RscDfn": rd.name, "Node": node_rec.name})
    return rsc


def _diskful_pool(repo: Repo, node: str, pool: str | None) -> str:
    if pool:
        found = repo.pool(node, pool)
        if found.diskless:
            raise refuse(rc.FAIL_INVLD_STOR_POOL_NAME,
                         f"Storage pool '{found.name}' on node '{node}' is diskless.")
        return found.name
    disk_pools = [p for p in repo.pools(node) if not p.diskless]
    if len(disk_pools) != 1:
        raise refuse(rc.FAIL_INVLD_STOR_POOL_NAME,
                     f"No storage pool given for the resource on node '{node}'.",
                     correction="Name the storage pool (property StorPoolName).")
    return disk_pools[0].name


def finish(ctl: Controller, change: Change, rd_name: str, removed: Sequence[str] = (),
           no_tiebreaker_on: Sequence[str] = ()) -> None:
    """After replicas changed: keep the tiebreaker right, then re-render DRBD configs.

    ``no_tiebreaker_on``: nodes whose diskless resource was just deleted on purpose.
    """
    ensure_tiebreaker(ctl, change, rd_name, exclude=no_tiebreaker_on)
    sync_drbd(ctl, change, rd_name, removed_nodes=removed)


def autoplace(ctl: Controller, change: Change, rd_name: str, want: Placement) -> None:
    """Add diskful replicas until ``want.place_count`` exist (then diskless ones if asked)."""
    repo = change.repo
    rd = repo.rd(rd_name)
    rscs = repo.rscs(rd=rd.name)
    diskful = [r for r in rscs if not r.diskless]
    missing = want.place_count - len(diskful)
    if missing <= 0:
        change.reply(rc.INFO_NOOP, f"Resource '{rd.name}' already has {len(diskful)} diskful "
                     f"replica(s) (place count {want.place_count}).")
    else:
        size = sum(vd.size_kib for vd in repo.vds(rd.name))
        request = want.request(rd.name, missing, size,
                               existing=[repo.node(r.node).props for r in diskful])
        for pick in place(ctl, repo, want, request):
            _drop_diskless(change, rd, pick.node)
            create_resource(ctl, change, rd.name, pick.node, pick.pool, False)
    if want.diskless_on_remaining and rd.drbd:
        taken = {r.node.lower() for r in repo.rscs(rd=rd.name)}
        for node in repo.nodes():
            if node.name.lower() not in taken:
                create_resource(ctl, change, rd.name, node.name, None, True)
    finish(ctl, change, rd.name)


def _drop_diskless(change: Change, rd: RdRec, node: str) -> None:
    """A diskless peer (e.g. the tiebreaker) on a node that becomes diskful is replaced."""
    existing = change.repo.find_rsc(rd.name, node)
    if existing is not None and existing.diskless:
        change.repo.delete_rsc(rd.name, existing.node)


@dataclass(frozen=True)
class Unreadable:
    """A diskful pool whose free space could not be read (its directory is gone, say)."""

    node: str
    pool: str
    error: LinstorError


@dataclass(frozen=True)
class Candidates:
    """The pools a placement can use, and those left out because their capacity is unknown.

    One broken pool must not fail every placement and size query of the cluster, so it is
    left out (and logged); only a request that names nothing but such pools is refused, with
    their errors, rather than answered "not enough nodes" without a reason.
    """

    usable: list[placement.Candidate]
    unreadable: list[Unreadable]

    def only_unreadable(self, want: Placement) -> ApiError | None:
        """The refusal for a ``want`` whose node/pool names admit unreadable pools only."""
        if not (want.node_names or want.storage_pools):
            return None
        if any(want.names(c.node, c.pool) for c in self.usable):
            return None
        named = [u for u in self.unreadable if want.names(u.node, u.pool)]
        if not named:
            return None
        listing = ", ".join(f"'{u.pool}' on node '{u.node}'" for u in named)
        return refuse(rc.FAIL_NOT_ENOUGH_NODES,
                      f"Not enough available nodes: the free space of storage pool {listing} "
                      "cannot be read.", details="; ".join(u.error.message for u in named),
                      correction=named[0].error.correction
                      or "Repair the storage pool, or name another one.")


def place(ctl: Controller, repo: Repo, want: Placement,
          request: placement.Request) -> list[placement.Candidate]:
    """``placement.place`` over the pools whose free space can be read (see ``Candidates``)."""
    pools = candidates(ctl, repo, want, request.resource)
    refusal = pools.only_unreadable(want)
    if refusal is not None:
        raise refusal
    return placement.place(pools.usable, request)


def candidates(ctl: Controller, repo: Repo, want: Placement,
               resource: str = "") -> Candidates:
    """Every diskful pool with its (recently reported) free space and what ``want`` checks.

    Only the facts ``want`` can use are loaded: node props for same/different rules, and the
    placements of ``resource`` and of the resources it must avoid (all of them only for a
    regex). A diskless resource of ``resource`` does not keep its node from a diskful one.
    """
    if want.not_place_with_rsc_regex:
        rows = repo.tx.all("SELECT rd, node, flags FROM resources")
    else:
        names = [resource, *want.not_place_with_rsc]
        rows = repo.tx.all("SELECT rd, node, flags FROM resources WHERE rd IN "
                           f"({', '.join('?' * len(names))})", *names)
    on_node: dict[str, set[str]] = {}
    for rd, node, flags in rows:
        if rd.lower() == resource.lower() and "DISKLESS" in flags:
            continue
        on_node.setdefault(node.lower(), set()).add(rd.lower())
    held = {node: frozenset(names) for node, names in on_node.items()}
    props: dict[str, dict[str, str]] = {}
    if want.replicas_on_same or want.replicas_on_different:
        props = {name.lower(): parse_props(text)
                 for name, text in repo.tx.all("SELECT name, props FROM nodes")}
    pools = ctl.diskful_pools.rows(repo.tx)
    free, unreadable = _free_space(ctl, pools)
    nothing: frozenset[str] = frozenset()
    result = []
    for (node, name, _kind, _directory), known in zip(pools, free):
        if known is None:
            continue
        key = node.lower()
        result.append(placement.Candidate(node, name, known[0], False,
                                          props.get(key, placement.NO_PROPS),
                                          held.get(key, nothing)))
    return Candidates(result, unreadable)


def _free_space(ctl: Controller, pools: Sequence[tuple[str, str, str, str | None]]
                ) -> tuple[list[tuple[int, int] | None], list[Unreadable]]:
    """``(free, total)`` KiB of every pool, ``None`` (logged, and listed as unreadable) where
    the satellite cannot tell."""
    answers = ctl.free_space.get_all([(node, name) for node, name, _kind, _dir in pools],
                                     lambda index: ctl.pool_spec(PoolRec(*pools[index])))
    free: list[tuple[int, int] | None] = []
    unreadable = []
    for (node, name, _kind, _dir), answer in zip(pools, answers):
        if isinstance(answer, LinstorError):
            log.warning("storage pool %s on node %s is left out of placement: %s", name, node, answer)
            unreadable.append(Unreadable(node, name, answer))
            free.append(None)
        else:
            free.append(answer)
    return free, unreadable


def delete_resource(ctl: Controller, change: Change, rd_name: str, node: str,
                    keep_tiebreaker: bool) -> None:
    """Delete ``rd_name`` on ``node`` (records now, storage after commit); refused while in use
    and, for the last diskful replica, while diskless peers remain; a diskless one that quorum
    needs stays as tiebreaker when ``keep_tiebreaker``."""
    repo = change.repo
    rd = repo.rd(rd_name)
    repo.node(node)
    rsc = repo.find_rsc(rd.name, node)
    if rsc is None:  # LINSTOR's warning: definition and node exist, the resource is gone already
        change.reply(rc.WARN_NOT_FOUND, f"Resource '{rd.name}' on node '{node}' not found.")
        return
    ensure_not_in_use(ctl, change, rsc)
    _ensure_not_last_disk(repo, rsc)
    if rsc.diskless and not rsc.tiebreaker and keep_tiebreaker and _quorum_needs(repo, rsc):
        repo.set_rsc_flags(rsc.rd, rsc.node, tuple(rsc.flags) + (TIE_BREAKER,))
        change.reply(rc.MODIFIED, f"Resource '{rsc.rd}' on node '{rsc.node}' is kept as "
                     "diskless tiebreaker for quorum.",
                     obj_refs={"RscDfn": rsc.rd, "Node": rsc.node})
        sync_drbd(ctl, change, rd.name)
        return
    repo.delete_rsc(rsc.rd, rsc.node)
    remove_volumes_later(ctl, change, rsc.rd, rsc, [vd.vlmnr for vd in repo.vds(rsc.rd)])
    change.reply(rc.DELETED, f"Resource '{rsc.rd}' on node '{rsc.node}' deleted.",
                 obj_refs={"RscDfn": rsc.rd, "Node": rsc.node})
    finish(ctl, change, rd.name, removed=[rsc.node],
           no_tiebreaker_on=[rsc.node] if rsc.diskless else [])


def _ensure_not_last_disk(repo: Repo, leaving: RscRec) -> None:
    """LINSTOR's ``ensureNotLastDisk``: diskless peers read and write through a diskful
    replica, so the last one is refused while any diskless resource (a tiebreaker too) remains;
    deleting it would lose the data they still use."""
    if leaving.diskless:
        return
    rest = [r for r in repo.rscs(rd=leaving.rd) if r.node.lower() != leaving.node.lower()]
    if any(r.diskless for r in rest) and all(r.diskless for r in rest):
        raise refuse(rc.FAIL_IN_USE, f"Last resource of '{leaving.rd}' with disk still has "
                     "diskless resources attached.", cause="Resource still has diskless users.",
                     correction="Before deleting this resource, delete the diskless resources "
                     "attached to it.")


def _quorum_needs(repo: Repo, leaving: RscRec) -> bool:
    rest = [r for r in repo.rscs(rd=leaving.rd) if r.node.lower() != leaving.node.lower()]
    diskful = [r for r in rest if not r.diskless]
    return len(diskful) == 2 and not any(r.diskless for r in rest)


def ensure_tiebreaker(ctl: Controller, change: Change, rd_name: str,
                      exclude: Sequence[str] = ()) -> None:
    """Create or drop the diskless tiebreaker as the module docstring's rule says."""
    repo = change.repo
    rd = repo.find_rd(rd_name)
    if rd is None or not rd.drbd:
        return
    rscs = repo.rscs(rd=rd.name)
    diskful = [r for r in rscs if not r.diskless]
    breakers = [r for r in rscs if r.tiebreaker]
    needed = len(diskful) == 2 and not any(r.diskless and not r.tiebreaker for r in rscs)
    if needed and not breakers:
        taken = {r.node.lower() for r in rscs} | {n.lower() for n in exclude}
        free = [n for n in repo.nodes() if n.name.lower() not in taken]
        if free:
            node = free[0].name
            create_resource(ctl, change, rd.name, node, None, True, flags=(TIE_BREAKER,),
                            announce=False)
            change.reply(rc.INFO_TIE_BREAKER_CREATED,
                         f"Tie breaker resource '{rd.name}' created on {node}",
                         obj_refs={"RscDfn": rd.name, "Node": node})
    elif not needed:
        for breaker in breakers:
            repo.delete_rsc(breaker.rd, breaker.node)
            change.reply(rc.INFO_TIE_BREAKER_DELETING,
                         f"Tie breaker resource '{rd.name}' on {breaker.node} deleted",
                         obj_refs={"RscDfn": rd.name, "Node": breaker.node})
            sync_drbd(ctl, change, rd.name, removed_nodes=[breaker.node])


def make_available(ctl: Controller, change: Change, rd_name: str, node: str,
                   diskful: bool) -> None:
    """Ensure ``rd`` is usable on ``node``: keep what is there, else add diskless (or diskful)."""
    repo = change.repo
    rd = repo.rd(rd_name)
    node_rec = repo.node(node)
    existing = repo.find_rsc(rd.name, node_rec.name)
    refs = {"RscDfn": rd.name, "Node": node_rec.name}
    if existing is not None and (not existing.diskless or not diskful):
        if existing.tiebreaker:
            repo.set_rsc_flags(rd.name, node_rec.name,
                               [f for f in existing.flags if f != TIE_BREAKER])
            change.reply(rc.MODIFIED, f"Tie breaker resource '{rd.name}' on node "
                         f"'{node_rec.name}' is now a regular diskless resource.", obj_refs=refs)
            finish(ctl, change, rd.name)
        else:
            change.reply(rc.INFO_RSC_ALREADY_EXISTS,
                         f"Resource '{rd.name}' is already available on node '{node_rec.name}'.",
                         obj_refs=refs)
        return
    if existing is not None:
        repo.delete_rsc(rd.name, node_rec.name)
    if diskful or not rd.drbd:
        group = repo.group(rd.resource_group)
        want = replace(Placement.from_filters(group.select_filter, {"place_count": 1}),
                       node_names=(node_rec.name,))
        size = sum(vd.size_kib for vd in repo.vds(rd.name))
        pick = place(ctl, repo, want, want.request(rd.name, 1, size))[0]
        create_resource(ctl, change, rd.name, node_rec.name, pick.pool, False)
    else:
        create_resource(ctl, change, rd.name, node_rec.name, None, True)
    finish(ctl, change, rd.name)


def create_many(ctl: Controller, change: Change, rd_name: str,
                wanted: Sequence[tuple[str, str | None, bool]],
                layer_lists: Sequence[Sequence[str]] = ()) -> None:
    """``(node, pool, diskless)`` resources of one definition, created together.

    ``layer_lists``: the ``layer_list`` each request item asked for (empty: the definition's).
    A resource here has its definition's layers, so one asking for others is refused rather
    than made with layers it did not ask for."""
    asked_for = [asked for asked in layer_lists if asked]
    layers = change.repo.rd(rd_name).layers if asked_for else ()
    for asked in asked_for:
        if layer_stack(asked) != tuple(layers):
            raise refuse(rc.FAIL_INVLD_LAYER_STACK,
                         f"The layer list {','.join(asked).lower()} differs from resource definition "
                         f"'{rd_name}''s {','.join(layers).lower()}.",
                         correction="Leave layer_list out, or create the resource definition with that layer stack.")
    for node, pool, diskless in wanted:
        existing = change.repo.find_rsc(rd_name, node)
        if existing is not None and existing.tiebreaker and diskless:
            make_available(ctl, change, rd_name, node, False)
            continue
        if existing is not None and existing.tiebreaker:
            change.repo.delete_rsc(existing.rd, existing.node)
        create_resource(ctl, change, rd_name, node, pool, diskless)
    finish(ctl, change, rd_name)
