"""The autoplacer: which nodes (and pools) get the next diskful replicas. Pure, no I/O.

Rules, as LINSTOR's autoplacer applies them to the subset this controller supports:
- a candidate is one storage pool on one node: not diskless, named by the filter (if any), with
  at least the resource's size free, on a node from ``node_name_list`` (if any), not already
  holding the resource, not holding a resource named in ``not_place_with_rsc`` or matching
  ``not_place_with_rsc_regex``;
- ``replicas_on_same`` keys: every replica (the existing ones included) has the same value
  for each key (nodes lacking the key are not candidates); ``replicas_on_different`` keys: no
  two replicas share a value;
- among the rest prefer the node with the most free space, ties broken by node name then pool
  name, so the same state always gives the same answer.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from linstor_core import retcodes as rc
from linstor_core.controller.replies import refuse


NO_PROPS: Mapping[str, str] = MappingProxyType({})


class Candidate(NamedTuple):
    """One storage pool on one node, with what the placer needs to know about it.

    A named tuple rather than a frozen dataclass: the controller builds one per pool on every
    autoplace, and on 1,000 nodes a frozen dataclass's field-by-field ``__init__`` alone cost
    twice as long.
    """

    node: str
    pool: str
    free_kib: int
    diskless: bool = False
    node_props: Mapping[str, str] = NO_PROPS
    resources: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Request:
    """What to place: ``count`` new replicas of ``resource`` needing ``size_kib`` each."""

    resource: str
    count: int
    size_kib: int
    storage_pools: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()
    replicas_on_same: tuple[str, ...] = ()
    replicas_on_different: tuple[str, ...] = ()
    not_place_with_rsc: tuple[str, ...] = ()
    not_place_with_rsc_regex: str | None = None
    existing: tuple[Mapping[str, str], ...] = ()


def place(candidates: Sequence[Candidate], request: Request) -> list[Candidate]:
    """Choose ``request.count`` candidates on distinct nodes, or refuse with LINSTOR's error."""
    chosen = choose(candidates, request)
    if chosen is None:
        raise refuse(
            rc.FAIL_NOT_ENOUGH_NODES,
            "Not enough available nodes",
            details=(f"Resource '{request.resource}' needs {request.count} more diskful "
                     f"replica(s) of {request.size_kib} KiB; "
                     f"{len(eligible(candidates, request))} node(s) qualify for the selection "
                     "filter."),
            correction="Add nodes or storage pools, free space, or relax the selection filter.",
        )
    return chosen


def choose(candidates: Sequence[Candidate], request: Request) -> list[Candidate] | None:
    """Like ``place`` but ``None`` when the request cannot be met (size queries)."""
    if request.count <= 0:
        return []
    if not request.replicas_on_same and not request.replicas_on_different:
        # No group or spread rule: the best ``count`` nodes, without sorting them all.
        top = heapq.nsmallest(request.count, _best_pool_per_node(candidates, _Rule(request)).values(), key=_rank)
        return top if len(top) == request.count else None
    best: list[Candidate] | None = None
    for members in _groups_by_same_keys(eligible(candidates, request), request).values():
        chosen = _pick_different(members, request)
        if len(chosen) < request.count:
            continue
        if best is None or _score(chosen) < _score(best):
            best = chosen
    return best


def eligible(candidates: Sequence[Candidate], request: Request) -> list[Candidate]:
    """The best pool of every node that passes the per-node rules, best first."""
    return sorted(_best_pool_per_node(candidates, _Rule(request)).values(), key=_rank)


class _Rule:
    """The per-candidate rules of one request, prepared once (the placer sees 1,000s of pools)."""

    def __init__(self, request: Request) -> None:
        self.size = request.size_kib
        self.pools = {p.lower() for p in request.storage_pools}
        self.nodes = {n.lower() for n in request.node_names}
        self.avoid = {request.resource.lower()} | {r.lower() for r in request.not_place_with_rsc}
        self.pattern = (re.compile(request.not_place_with_rsc_regex, re.IGNORECASE)
                        if request.not_place_with_rsc_regex else None)
        self.same_keys = request.replicas_on_same
        self.filtered = bool(self.pools or self.nodes or self.pattern or self.same_keys)

    def admits(self, c: Candidate) -> bool:
        if c.diskless or c.free_kib < self.size or not self.avoid.isdisjoint(c.resources):
            return False
        if not self.filtered:
            return True
        if (self.pools and c.pool.lower() not in self.pools) or (
                self.nodes and c.node.lower() not in self.nodes):
            return False
        if self.pattern is not None and any(self.pattern.fullmatch(r) for r in c.resources):
            return False
        return all(key in c.node_props for key in self.same_keys)


def _best_pool_per_node(candidates: Iterable[Candidate], rule: _Rule) -> dict[str, Candidate]:
    """Node (lower case) -> its best admitted pool."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        if not rule.admits(c):
            continue
        key = c.node.lower()
        known = best.get(key)
        if known is None or _rank(c) < _rank(known):
            best[key] = c
    return best


def _rank(c: Candidate) -> tuple[int, str, str]:
    """Most free first, then by node and pool name as recorded (unique ignoring case)."""
    return (-c.free_kib, c.node, c.pool)


def _groups_by_same_keys(eligible: list[Candidate],
                         request: Request) -> dict[tuple[str, ...], list[Candidate]]:
    fixed: tuple[str, ...] | None = None
    if request.existing and request.replicas_on_same:
        first = request.existing[0]
        fixed = tuple(first.get(k, "") for k in request.replicas_on_same)
    groups: dict[tuple[str, ...], list[Candidate]] = {}
    for c in eligible:
        values = tuple(c.node_props[k] for k in request.replicas_on_same)
        if fixed is not None and values != fixed:
            continue
        groups.setdefault(values, []).append(c)
    return groups


def _pick_different(members: list[Candidate], request: Request) -> list[Candidate]:
    keys = request.replicas_on_different
    taken = {(k, props[k]) for props in request.existing for k in keys if k in props}
    chosen: list[Candidate] = []
    for c in members:
        values = {(k, c.node_props[k]) for k in keys if k in c.node_props}
        if values & taken:
            continue
        chosen.append(c)
        taken |= values
        if len(chosen) == request.count:
            break
    return chosen


def _score(chosen: list[Candidate]) -> tuple[int, list[tuple[int, str, str]]]:
    return (-sum(c.free_kib for c in chosen), [_rank(c) for c in chosen])
