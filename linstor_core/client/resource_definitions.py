"""Resource definitions and their clones (``/v1/resource-definitions``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from linstor_core.client.area import Area, path, query
from linstor_core.client.replies import found, raise_errors
from linstor_core import retcodes
from linstor_core.errors import ApiReply, NotFound
from linstor_core.models import ResourceDefinition

WITH_VOLUMES = {"with_volume_definitions": "true"}


def layer_list(layers: Iterable[str]) -> list[str]:
    """Layer names as the spec spells them (``drbd`` -> ``DRBD``)."""
    return [layer.upper() for layer in layers]


class ResourceDefinitionsApi(Area):
    def create(self, name: str, *, resource_group: str | None = None, layers: Iterable[str] = (),
               props: Mapping[str, str] | None = None) -> None:
        """An empty definition (no volumes) in ``resource_group`` (LINSTOR's default when None)."""
        definition: dict[str, Any] = {"name": name}
        if resource_group:
            definition["resource_group_name"] = resource_group
        if stack := layer_list(layers):
            definition["layer_data"] = [{"type": layer} for layer in stack]
        if props:
            definition["props"] = dict(props)
        self._mutate("POST", "/v1/resource-definitions", {"resource_definition": definition})

    def get(self, name: str) -> ResourceDefinition:
        """The definition with its volume definitions; NotFound when there is none.

        Asked as a listing filtered to ``name``: LINSTOR's ``GET /v1/resource-definitions/{rd}``
        (not in the REST spec) ignores ``with_volume_definitions``, so it would give no size.
        """
        for found in self.list(names=[name]):
            if found.name.lower() == name.lower():  # LINSTOR names ignore case
                return found
        raise NotFound([ApiReply(ret_code=retcodes.FAIL_NOT_FOUND_RSC_DFN,
                                 message=f"Resource definition '{name}' not found.")], status=404)

    def list(self, *, names: Iterable[str] = (), props: Iterable[str] = ()) -> list[ResourceDefinition]:
        """Definitions with their volume definitions, filtered by the server: ``names``, and
        ``props`` entries ``"Key=Value"`` that must all match."""
        params = query(resource_definitions=names, props=props) | WITH_VOLUMES
        return [ResourceDefinition.from_json(d) for d in self._get("/v1/resource-definitions", params)]

    def delete(self, name: str) -> bool:
        """Delete the definition with all its resources; InUse while snapshots exist. False
        when there was none (LINSTOR's warning, not an error)."""
        return found(self._mutate("DELETE", path("/v1/resource-definitions/{}", name)))

    def set_props(self, name: str, override: Mapping[str, str] | None = None,
                  delete: Iterable[str] = ()) -> None:
        body: dict[str, Any] = {"override_props": dict(override or {})}
        if deleted := list(delete):
            body["delete_props"] = deleted
        self._mutate("PUT", path("/v1/resource-definitions/{}", name), body)

    def clone(self, src: str, dst: str, *, layers: Iterable[str] = (),
              resource_group: str | None = None, override_props: Mapping[str, str] | None = None,
              delete_props: Iterable[str] = ()) -> None:
        """Start cloning ``src`` into the new ``dst``; the copy goes on in the background, poll
        ``clone_status`` until it is COMPLETE or FAILED. ``dst`` has ``src``'s properties with
        ``override_props`` set and ``delete_props`` removed from the start."""
        body: dict[str, Any] = {"name": dst}
        if stack := layer_list(layers):
            body["layer_list"] = stack
        if resource_group:
            body["resource_group"] = resource_group
        if override_props:
            body["override_props"] = dict(override_props)
        if deleted := list(delete_props):
            body["delete_props"] = deleted
        answer = self._query(path("/v1/resource-definitions/{}/clone", src), body)
        messages = answer.get("messages") if isinstance(answer, dict) else answer
        raise_errors([ApiReply.from_json(m) for m in messages or ()], 201)

    def clone_status(self, src: str, dst: str) -> str:
        """``CLONING``, ``COMPLETE`` or ``FAILED``; NotFound when ``dst`` is no clone of ``src``."""
        return str(self._get(path("/v1/resource-definitions/{}/clone/{}", src, dst))["status"])
