"""The schema LINBIT's OpenAPI spec promises for an answer, found from its method, path and status.

``response_schema("GET", "/v1/nodes/alpha/storage-pools", 200)`` -> ``Route("/v1/nodes/{}/storage-pools",
"StoragePool", many=True)``. Two kinds of answer are not spelt out by the spec, and real LINSTOR
answers them as follows (the embedded controller does the same):

- a GET of one object whose path the spec lists only for PUT/DELETE (``/v1/nodes/{node}``,
  ``/v1/resource-definitions/{resource}``, ...): the item schema of its collection's GET;
- the resources of one definition (``/v1/resource-definitions/{resource}/resources[/{node}]``):
  ``ResourceWithVolumes``, as in ``/v1/view/resources``, where the spec says ``Resource``.

A 2xx status the spec does not list for the route is an error: the status is part of the contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from openapi_schema import spec

_PARAM = re.compile(r"\{[^}]*\}")
_WITH_VOLUMES = "ResourceWithVolumes"
_OVERRIDES = {
    ("GET", "/v1/resource-definitions/{}/resources/{}"): (_WITH_VOLUMES, False),
}
"""Where the embedded controller answers more than the spec's schema says (the per-definition
listing answers the spec's ``Resource``, without volumes, as LINSTOR does)."""


@dataclass(frozen=True)
class Route:
    """A spec path (parameters written ``{}``) and the schema of its answer."""

    template: str
    schema: str
    many: bool


def template_of(path: str) -> str:
    """``/v1/nodes/{node}`` or ``/v1/nodes/<node>`` (a Flask rule) -> ``/v1/nodes/{}``."""
    return re.sub(r"<[^>]*>", "{}", _PARAM.sub("{}", path))


@lru_cache(maxsize=1)
def _templates() -> dict[str, dict[str, Any]]:
    """Every spec path by its template, with its operations."""
    return {template_of(path): ops for path, ops in spec()["paths"].items()}


def _matching_template(path: str) -> str | None:
    """The spec template ``path`` fills in; the most literal one when several match."""
    matches = [t for t in _templates()
               if re.fullmatch("/".join("[^/]+" if p == "{}" else re.escape(p)
                                        for p in t.split("/")), path)]
    return min(matches, key=lambda t: t.count("{}"), default=None)


def _schema_of(operation: dict[str, Any], status: int) -> tuple[str, bool] | None:
    answer = operation.get("responses", {}).get(str(status))
    if answer is None or "$ref" in answer:
        return None
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("type") == "array":
        return schema["items"]["$ref"].rsplit("/", 1)[-1], True
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1], False
    return None


def response_schema(method: str, path: str, status: int) -> Route:
    """The spec's schema for a ``status`` answer to ``method path``; AssertionError when it has none."""
    method = method.upper()
    template = _matching_template(path)
    if template is None:
        raise AssertionError(f"{method} {path} is no path of the LINSTOR REST spec")
    if (method, template) in _OVERRIDES:
        return Route(template, *_OVERRIDES[(method, template)])
    operation = _templates().get(template, {}).get(method.lower())
    found = _schema_of(operation, status) if operation else None
    if found is None and method == "GET" and operation is None:
        collection = _templates().get(template.rsplit("/", 1)[0], {}).get("get")
        listed = _schema_of(collection, status) if collection else None
        if listed is not None and listed[1]:
            found = (listed[0], False)
    if found is None:
        raise AssertionError(f"the LINSTOR REST spec promises no JSON body for {status} to "
                             f"{method} {template}")
    return Route(template, *found)
