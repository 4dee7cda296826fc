"""Resource groups: the profiles disks are spawned from (``/v1/resource-groups``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from linstor_core import retcodes
from linstor_core.client.area import Area, path
from linstor_core.client.replies import raise_errors
from linstor_core.errors import ApiError, ApiReply
from linstor_core.models import Capacity, ResourceGroup, SelectFilter


class ResourceGroupsApi(Area):
    def create(self, name: str, select_filter: SelectFilter | None = None, description: str = "",
               props: Mapping[str, str] | None = None) -> None:
        body: dict[str, Any] = {"name": name,
                                "select_filter": (select_filter or SelectFilter()).to_json()}
        if description:
            body["description"] = description
        if props:
            body["props"] = dict(props)
        self._mutate("POST", "/v1/resource-groups", body)

    def modify(self, name: str, select_filter: SelectFilter | None = None,
               description: str | None = None, override_props: Mapping[str, str] | None = None,
               delete_props: Iterable[str] = ()) -> None:
        """Change only what is given: a new ``select_filter`` replaces the fields it sets."""
        body: dict[str, Any] = {}
        if select_filter is not None:
            body["select_filter"] = select_filter.to_json()
        if description is not None:
            body["description"] = description
        if override_props:
            body["override_props"] = dict(override_props)
        if deleted := list(delete_props):
            body["delete_props"] = deleted
        self._mutate("PUT", path("/v1/resource-groups/{}", name), body)

    def get(self, name: str) -> ResourceGroup:
        """The group; NotFound when there is none of that name."""
        return ResourceGroup.from_json(self._get(path("/v1/resource-groups/{}", name)))

    def list(self) -> list[ResourceGroup]:
        return [ResourceGroup.from_json(g) for g in self._get("/v1/resource-groups")]

    def delete(self, name: str) -> None:
        self._mutate("DELETE", path("/v1/resource-groups/{}", name))

    def spawn(self, group: str, resource: str, sizes_kib: Sequence[int], *,
              props: Mapping[str, str] | None = None, definitions_only: bool = False,
              select_filter: SelectFilter | None = None) -> None:
        """Create resource definition ``resource`` with one volume per size (KiB) from ``group``,
        and place it by the group's filter (``select_filter`` overrides fields) unless
        ``definitions_only``. ``props`` go on the new resource definition.

        ``partial`` is always sent: groups made from profiles carry no volume groups, and real
        LINSTOR refuses to spawn volumes for which a group has no volume group unless asked to."""
        body: dict[str, Any] = {
            "resource_definition_name": resource,
            "volume_sizes": [int(size) for size in sizes_kib],
            "definitions_only": definitions_only,
            "partial": True,
        }
        if props:
            body["resource_definition_props"] = dict(props)
        if select_filter is not None:
            body["select_filter"] = select_filter.to_json()
        self._mutate("POST", path("/v1/resource-groups/{}/spawn", group), body)

    def query_size_info(self, group: str, select_filter: SelectFilter | None = None) -> Capacity:
        """How large a volume ``group`` can still spawn, and its free and total space (KiB)."""
        answer = self._query(path("/v1/resource-groups/{}/query-size-info", group),
                             _size_request(select_filter))
        return _capacity(answer, group)

    def query_all_size_info(self) -> dict[str, Capacity]:
        """``query_size_info`` for every group, in one call: group name -> Capacity."""
        answer = self._query("/v1/queries/resource-groups/query-all-size-info", {})
        _raise_reports(answer)
        return {name: _capacity(info, name) for name, info in (answer.get("result") or {}).items()}


def _size_request(select_filter: SelectFilter | None) -> dict[str, Any]:
    return {"select_filter": select_filter.to_json()} if select_filter is not None else {}


def _raise_reports(answer: Mapping[str, Any]) -> None:
    raise_errors([ApiReply.from_json(r) for r in answer.get("reports") or ()], 200)


def _capacity(answer: Mapping[str, Any], group: str) -> Capacity:
    """A ``QuerySizeInfoResponse`` as Capacity; its error reports raise."""
    _raise_reports(answer)
    info = answer.get("space_info")
    if not info:
        missing = ApiReply(retcodes.FAIL_UNKNOWN_ERROR, f"no space info for resource group {group}",
                           correction="check the group's storage pools")
        raise ApiError([missing], status=200)
    return Capacity(
        max_volume_size_kib=int(info["max_vlm_size_in_kib"]),
        available_size_kib=int(info.get("available_size_in_kib") or 0),
        capacity_kib=int(info.get("capacity_in_kib") or 0),
    )
