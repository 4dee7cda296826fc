"""Storage pools (``/v1/nodes/{node}/storage-pools``, ``/v1/view/storage-pools``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from linstor_core.client.area import Area, path, query
from linstor_core.models import StoragePool


class StoragePoolsApi(Area):
    def create(self, node: str, pool: str, provider_kind: str,
               props: Mapping[str, str] | None = None) -> None:
        """Create ``pool`` on ``node``; the backing store is named by a ``StorDriver/...`` prop
        (``StorDriver/FileDir`` for FILE and FILE_THIN, ``StorDriver/LvmVg`` for LVM, ...)."""
        body: dict[str, object] = {"storage_pool_name": pool, "provider_kind": provider_kind}
        if props:
            body["props"] = dict(props)
        self._mutate("POST", path("/v1/nodes/{}/storage-pools", node), body)

    def list(self, nodes: Iterable[str] = (), pools: Iterable[str] = ()) -> list[StoragePool]:
        """All pools, or only those on ``nodes`` / named in ``pools`` (filtered by the server)."""
        found = self._get("/v1/view/storage-pools", query(nodes=nodes, storage_pools=pools))
        return [StoragePool.from_json(p) for p in found]

    def delete(self, node: str, pool: str) -> None:
        self._mutate("DELETE", path("/v1/nodes/{}/storage-pools/{}", node, pool))
