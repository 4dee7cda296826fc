"""Validate JSON bodies against a named schema of LINBIT's LINSTOR REST v1 OpenAPI spec.

``validate(body, "ResourceWithVolumes")`` or ``validate(body, "ResourceDefinition", many=True)``
raises ``AssertionError`` naming the path of the first problem. Two checks run:
1. the schema itself (``$ref`` resolved inside the spec, types, enums, required fields);
2. ``strict`` (default): no undeclared property where the schema lists its properties (the spec
   never sets ``additionalProperties: false``, so a misspelt field would otherwise pass).

The spec's layer payloads are ``oneOf`` without a discriminator (the sibling ``type`` field
says which one applies); any object with common fields matches several branches, so every
``oneOf`` is checked as ``anyOf`` (what the spec means, and what real LINSTOR's answers pass).

The spec is found at ``$LINSTOR_OPENAPI_SPEC``, else ``linstor_core/reference/``, else the
shared reference directory beside the repository.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SPEC_NAME = "linstor-rest-v1-openapi.yaml"
_REPO = Path(__file__).resolve().parent.parent


def spec_path() -> Path:
    candidates = [Path(os.environ["LINSTOR_OPENAPI_SPEC"])] if os.environ.get(
        "LINSTOR_OPENAPI_SPEC") else []
    candidates += [_REPO / "linstor_core" / "reference" / SPEC_NAME,
                   _REPO.parent / "shared" / "reference" / SPEC_NAME,
                   Path("/work/shared/reference") / SPEC_NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{SPEC_NAME} not found; set LINSTOR_OPENAPI_SPEC")


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(spec_path().read_text())
    return loaded


@lru_cache(maxsize=1)
def _components_for_validation() -> dict[str, Any]:
    def any_of(node: Any) -> Any:
        if isinstance(node, dict):
            return {("anyOf" if k == "oneOf" else k): any_of(v) for k, v in node.items()}
        if isinstance(node, list):
            return [any_of(v) for v in node]
        return node

    converted: dict[str, Any] = any_of(spec()["components"])
    return converted


def schema_names() -> list[str]:
    return sorted(spec()["components"]["schemas"])


def validate(body: Any, schema: str, *, many: bool = False, strict: bool = True) -> None:
    """Assert ``body`` is a valid ``schema`` (a list of them with ``many``)."""
    components = _components_for_validation()
    if schema not in components["schemas"]:
        raise KeyError(f"no schema {schema!r} in the spec")
    ref = {"$ref": f"#/components/schemas/{schema}"}
    root = {"type": "array", "items": ref} if many else dict(ref)
    root["components"] = components
    validator = jsonschema.Draft4Validator(root)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise AssertionError(f"{schema}{'[]' if many else ''} invalid at {where}: {first.message}")
    if strict:
        problems = _undeclared(body, root, "")
        if problems:
            raise AssertionError(f"{schema}: undeclared properties {problems}")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec()["components"]["schemas"][name]
    return schema


def _properties(schema: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(declared properties, additionalProperties) of an object schema, allOf merged."""
    schema = _resolve(schema)
    props = dict(schema.get("properties", {}))
    extra = schema.get("additionalProperties")
    for part in schema.get("allOf", []):
        more, more_extra = _properties(part)
        props.update(more)
        extra = extra if extra is not None else more_extra
    return props, extra


def _undeclared(body: Any, schema: dict[str, Any], path: str) -> list[str]:
    schema = _resolve(schema)
    found: list[str] = []
    if isinstance(body, list) and "items" in schema:
        for i, item in enumerate(body):
            found += _undeclared(item, schema["items"], f"{path}/{i}")
    elif isinstance(body, dict):
        if "oneOf" in schema:
            options = [_undeclared(body, option, path) for option in schema["oneOf"]]
            return min(options, key=len)
        props, extra = _properties(schema)
        for key, value in body.items():
            if key in props:
                found += _undeclared(value, props[key], f"{path}/{key}")
            elif isinstance(extra, dict):
                found += _undeclared(value, extra, f"{path}/{key}")
            elif props and extra is None:
                found.append(f"{path}/{key}")
    return found
