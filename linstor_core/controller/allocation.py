"""DRBD numbers the controller hands out: TCP ports, device minors, node ids.

Ranges are LINSTOR's defaults (ports 7000-7999, minors 1000-49999, node ids 0-31). The lowest
free number is taken, so numbers are reused after a delete, and each allocation is read and
written in the caller's write transaction, so two requests never get the same number (the
UNIQUE constraints in the schema would catch it anyway).
"""

from __future__ import annotations

from linstor_core import retcodes as rc
from linstor_core.controller.model import Repo
from linstor_core.controller.replies import refuse

PORTS = range(7000, 8000)
MINORS = range(1000, 50000)
NODE_IDS = range(0, 32)


def _lowest_free(used: set[int], numbers: range, count: int) -> list[int]:
    free = []
    for number in numbers:
        if number not in used:
            free.append(number)
            if len(free) == count:
                return free
    return free


def allocate_port(repo: Repo) -> int:
    used = {int(r[0]) for r in repo.tx.all(
        "SELECT port FROM resource_definitions WHERE port IS NOT NULL")}
    found = _lowest_free(used, PORTS, 1)
    if not found:
        raise refuse(rc.FAIL_POOL_EXHAUSTED_TCP_PORT, "No free DRBD TCP port in 7000-7999.")
    return found[0]


def allocate_minors(repo: Repo, count: int) -> list[int]:
    used = {int(r[0]) for r in repo.tx.all(
        "SELECT minor FROM volume_definitions WHERE minor IS NOT NULL")}
    found = _lowest_free(used, MINORS, count)
    if len(found) < count:
        raise refuse(rc.FAIL_POOL_EXHAUSTED_MINOR_NR, "No free DRBD minor number in 1000-49999.")
    return found


def allocate_node_id(repo: Repo, rd: str) -> int:
    used = {int(r[0]) for r in repo.tx.all(
        "SELECT node_id FROM resources WHERE rd = ? AND node_id IS NOT NULL", rd)}
    found = _lowest_free(used, NODE_IDS, 1)
    if not found:
        raise refuse(rc.FAIL_POOL_EXHAUSTED_NODE_ID,
                     f"Resource '{rd}' already has the maximum of 32 DRBD peers.")
    return found[0]
