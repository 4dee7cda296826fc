"""Resource groups: CRUD, spawn (definitions + autoplace in one transaction), size queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linstor_core import naming
from linstor_core import retcodes as rc
from linstor_core.controller import placement
from linstor_core.controller.core import Change, Controller, crash_test_pause
from linstor_core.controller.model import GroupRec, Repo
from linstor_core.controller.ops.common import edit_props
from linstor_core.controller.ops.definitions import DEFAULT_GROUP, create_rd, create_vds, ensure_new_rd
from linstor_core.controller.ops.resources import Placement, autoplace, candidates, clean_filter, overlay_filters
from linstor_core.controller.replies import refuse


def create_group(ctl: Controller, change: Change, name: str, description: str,
                 select_filter: Mapping[str, Any] | None, props: Mapping[str, str]) -> None:
    """A resource group with a checked select filter (unknown filter keys are dropped)."""
    naming.validate_resource_group_name(name)
    repo = change.repo
    if repo.find_group(name):
        raise refuse(rc.FAIL_EXISTS_RSC_GRP, f"Resource group '{name}' already exists.")
    repo.save_group(GroupRec(name, description, clean_filter(select_filter),
                             edit_props({}, props, ())))
    change.reply(rc.CREATED, f"New resource group '{name}' created.", obj_refs={"RscGrp": name})


def modify_group(ctl: Controller, change: Change, name: str, *, description: str | None,
                 select_filter: Mapping[str, Any] | None, override: Mapping[str, object],
                 delete: Sequence[str], delete_namespaces: Sequence[str]) -> None:
    """Change a group's description, filter (given keys replace the stored ones) and props."""
    repo = change.repo
    group = repo.group(name)
    merged = overlay_filters(group.select_filter, select_filter)
    repo.save_group(GroupRec(group.name, group.description if description is None
                             else description, clean_filter(merged),
                             edit_props(group.props, override, delete, delete_namespaces)))
    change.reply(rc.MODIFIED, f"Resource group '{group.name}' modified.",
                 obj_refs={"RscGrp": group.name})


def delete_group(ctl: Controller, change: Change, name: str) -> None:
    """Remove a group; the default group and groups with definitions are refused."""
    repo = change.repo
    group = repo.group(name)
    if group.name.lower() == DEFAULT_GROUP.lower():
        raise refuse(rc.FAIL_IN_USE, f"The default resource group '{DEFAULT_GROUP}' cannot be "
                     "deleted.")
    used = repo.tx.one("SELECT name FROM resource_definitions WHERE resource_group = ?",
                       group.name)
    if used:
        raise refuse(rc.FAIL_IN_USE, f"Resource group '{group.name}' still has resource "
                     f"definitions (e.g. '{used['name']}').",
                     correction="Delete or move its resource definitions first.")
    repo.delete_group(group.name)
    change.reply(rc.DELETED, f"Resource group '{group.name}' deleted.",
                 obj_refs={"RscGrp": group.name})


def spawn(ctl: Controller, change: Change, group_name: str, rd_name: str, sizes: Sequence[int],
          *, props: Mapping[str, str], definitions_only: bool,
          select_filter: Mapping[str, Any] | None) -> None:
    """RD + VDs (+ autoplace when the group has a place count) as one transaction.

    As LINSTOR does, a taken name is refused before the request's select filter is looked at,
    so a caller can tell "exists" from any other refusal (DiskService cleans up after the
    latter, which must never hit a disk this call did not make)."""
    repo = change.repo
    group = repo.group(group_name)
    naming.validate_resource_name(rd_name)
    ensure_new_rd(repo, rd_name)
    merged = overlay_filters(group.select_filter, clean_filter(select_filter))
    rd = create_rd(ctl, change, rd_name, group=group.name, layers=merged.get("layer_stack") or (),
                   props=props)
    create_vds(ctl, change, rd.name, list(sizes))
    if not definitions_only and merged.get("place_count"):
        autoplace(ctl, change, rd.name, Placement.from_filters(merged))
    crash_test_pause("spawn")


def size_info(ctl: Controller, repo: Repo, group: GroupRec,
              select_filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """QuerySizeInfoResponse: the largest volume a spawn could get now, and pool totals.

    Pools whose free space cannot be read count for nothing; a filter that names only such
    pools also gets the refusal a spawn would get, as an error report."""
    want = Placement.from_filters(group.select_filter, clean_filter(select_filter))
    pools = candidates(ctl, repo, want)
    request = want.request("", want.place_count, 0)
    qualified = placement.eligible(pools.usable, request)
    chosen = placement.choose(pools.usable, request) or []
    max_size = min((c.free_kib for c in chosen), default=0)
    qualified_pools = {(c.node.lower(), c.pool.lower()) for c in qualified}
    capacity = sum(ctl.satellite.capacity(ctl.pool_spec(pool))[1] for pool in repo.pools()
                   if (pool.node.lower(), pool.name.lower()) in qualified_pools)
    answer: dict[str, Any] = {"space_info": {
        "max_vlm_size_in_kib": max_size,
        "available_size_in_kib": sum(c.free_kib for c in qualified),
        "capacity_in_kib": capacity,
        "next_spawn_result": [{"node_name": c.node, "stor_pool_name": c.pool} for c in chosen],
    }}
    refusal = pools.only_unreadable(want)
    if refusal is not None:
        answer["reports"] = [reply.to_json() for reply in refusal.replies]
    return answer
