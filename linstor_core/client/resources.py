"""Resources: a resource definition deployed on nodes (``.../resources``, ``/v1/view/resources``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from linstor_core.client.area import Area, path, query
from linstor_core.client.replies import found
from linstor_core.models import Resource, SelectFilter

DISKLESS_FLAG = "DRBD_DISKLESS"


class ResourcesApi(Area):
    def create(self, resource: str, node: str, *, storage_pool: str | None = None,
               diskless: bool = False) -> None:
        """Deploy ``resource`` on ``node``: with a replica in ``storage_pool`` (the node's
        ``StorPoolName`` default when None), or as a diskless DRBD client."""
        item: dict[str, Any] = {"node_name": node}
        if storage_pool:
            item["props"] = {"StorPoolName": storage_pool}
        if diskless:
            item["flags"] = [DISKLESS_FLAG]
        self._mutate("POST", path("/v1/resource-definitions/{}/resources", resource),
                     [{"resource": item}])

    def autoplace(self, resource: str, select_filter: SelectFilter | None = None) -> None:
        """Place replicas by the group's filter; fields set in ``select_filter`` override it."""
        self._mutate("POST", path("/v1/resource-definitions/{}/autoplace", resource),
                     {"select_filter": (select_filter or SelectFilter()).to_json()})

    def list(self, resource: str) -> list[Resource]:
        """The resource on every node, with volumes and device paths (none when the definition
        does not exist).

        Asked through the resources view: LINSTOR's per-definition listing
        (``/v1/resource-definitions/{rd}/resources``) answers ``Resource`` objects, which carry
        no volumes, so no device path and no storage kind.
        """
        return [r for r in self.view(resources=[resource]) if r.name.lower() == resource.lower()]

    def view(self, *, resources: Iterable[str] = (), nodes: Iterable[str] = (),
             props: Iterable[str] = ()) -> builtins.list[Resource]:
        """Resources of many definitions in one call, filtered by the server."""
        found = self._get("/v1/view/resources",
                          query(resources=resources, nodes=nodes, props=props))
        return [Resource.from_json(r) for r in found]

    def delete(self, resource: str, node: str, *, keep_tiebreaker: bool = False) -> bool:
        """Remove the resource from ``node``; ``keep_tiebreaker`` lets LINSTOR turn it into a
        diskless tiebreaker instead when quorum needs one. False when ``node`` had none
        (LINSTOR's warning, not an error; a missing definition or node is NotFound)."""
        params = {"keep_tiebreaker": "true"} if keep_tiebreaker else None
        return found(self._mutate(
            "DELETE", path("/v1/resource-definitions/{}/resources/{}", resource, node), params=params))

    def make_available(self, resource: str, node: str, *, diskful: bool = False) -> None:
        """Make the resource usable on ``node``: nothing if it is there, else a diskless client
        (a replica with ``diskful``). Idempotent."""
        self._mutate("POST", path("/v1/resource-definitions/{}/resources/{}/make-available",
                                  resource, node), {"diskful": diskful})
