"""Snapshots: create, list, delete, restore into a new definition, roll back."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from linstor_core.client.area import Area, path, query
from linstor_core.models import Snapshot


class SnapshotsApi(Area):
    def create(self, resource: str, snapshot: str, nodes: Iterable[str] = ()) -> None:
        """Snapshot ``resource`` on ``nodes`` (every node with a replica when empty)."""
        body: dict[str, Any] = {"name": snapshot}
        if chosen := list(nodes):
            body["nodes"] = chosen
        self._mutate("POST", path("/v1/resource-definitions/{}/snapshots", resource), body)

    def list(self, resource: str) -> list[Snapshot]:
        found = self._get(path("/v1/resource-definitions/{}/snapshots", resource))
        return [Snapshot.from_json(s) for s in found]

    def view(self, *, resources: Iterable[str] = (), nodes: Iterable[str] = ()) -> builtins.list[Snapshot]:
        """Snapshots of many definitions in one call, filtered by the server."""
        found = self._get("/v1/view/snapshots", query(resources=resources, nodes=nodes))
        return [Snapshot.from_json(s) for s in found]

    def delete(self, resource: str, snapshot: str) -> None:
        self._mutate("DELETE", path("/v1/resource-definitions/{}/snapshots/{}", resource, snapshot))

    def restore_volume_definitions(self, resource: str, snapshot: str, to_resource: str) -> None:
        """Give the existing, empty ``to_resource`` the snapshot's volume definitions."""
        self._mutate("POST", path("/v1/resource-definitions/{}/snapshot-restore-volume-definition/{}",
                                  resource, snapshot), {"to_resource": to_resource})

    def restore_resources(self, resource: str, snapshot: str, to_resource: str,
                          nodes: Iterable[str] = ()) -> None:
        """Deploy ``to_resource`` from the snapshot's data on ``nodes`` (all its nodes when
        empty); call ``restore_volume_definitions`` first."""
        body: dict[str, Any] = {"to_resource": to_resource}
        if chosen := list(nodes):
            body["nodes"] = chosen
        self._mutate("POST", path("/v1/resource-definitions/{}/snapshot-restore-resource/{}",
                                  resource, snapshot), body)

    def rollback(self, resource: str, snapshot: str) -> None:
        """Return ``resource``'s data to ``snapshot`` (LINSTOR refuses while it is in use)."""
        self._mutate("POST", path("/v1/resource-definitions/{}/snapshot-rollback/{}",
                                  resource, snapshot), {})
