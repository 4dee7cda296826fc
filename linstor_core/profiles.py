"""Resource group profiles: an operator's TOML file, validated once, applied idempotently.

Each ``[profiles.<name>]`` table becomes the LINSTOR resource group ``<name>``; platforms then
create disks "from profile gold". The file is checked against
``linstor_core/schemas/profiles.schema.json`` and a few rules JSON Schema cannot say (the last
layer is ``storage``; LINSTOR's name rules). Every problem is an InvalidInput naming the file,
the profile, the field and the fix; unknown keys list the valid ones.

:func:`apply_profiles` only adds and changes: a setting or property removed from the file is
left as it is on the resource group (it may have been set by hand), and nothing is deleted.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from linstor_core.client import LinstorClient
from linstor_core.errors import ConfigError, ControllerUnreachable, InvalidInput, LinstorError, NotFound
from linstor_core.models import ResourceGroup, SelectFilter
from linstor_core.naming import validate_resource_group_name, validate_storage_pool_name

DRBD_OPTIONS_PREFIX = "DrbdOptions/"


@dataclass(frozen=True)
class Profile:
    """One validated profile; ``props`` is what goes on the resource group."""

    name: str
    description: str = ""
    place_count: int | None = None
    storage_pools: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    replicas_on_different: tuple[str, ...] = ()
    replicas_on_same: tuple[str, ...] = ()
    diskless_on_remaining: bool | None = None
    props: Mapping[str, str] = field(default_factory=dict)

    @property
    def resource_group_name(self) -> str:
        return self.name

    @property
    def select_filter(self) -> SelectFilter:
        """The autoplacer filter; a single pool is sent both as ``storage_pool`` and in the list,
        as LINSTOR itself reports it."""
        return SelectFilter(
            place_count=self.place_count,
            storage_pool=self.storage_pools[0] if len(self.storage_pools) == 1 else None,
            storage_pool_list=self.storage_pools,
            replicas_on_same=self.replicas_on_same,
            replicas_on_different=self.replicas_on_different,
            layer_stack=tuple(layer.upper() for layer in self.layers),
            diskless_on_remaining=self.diskless_on_remaining,
        )


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("linstor_core").joinpath("schemas/profiles.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_profiles(path: str | Path) -> dict[str, Profile]:
    """Read and validate the profiles file at ``path`` (ConfigError when it cannot be read)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"cannot read profiles file {path}", cause=str(error), correction="check the path and its permissions"
        ) from error
    return parse_profiles(text, str(path))


def parse_profiles(text: str, source: str = "profiles") -> dict[str, Profile]:
    """Validate TOML ``text`` (``source`` names it in errors) into profiles by name."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput("profiles file", source, f"not valid TOML: {error}", correction="fix the TOML syntax") from error
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(data),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if errors:
        raise _invalid(errors[0], source, len(errors) - 1)
    seen: dict[str, str] = {}
    for name in data["profiles"]:
        if name.lower() in seen:
            raise InvalidInput("profile name", name, f"{source}: the same resource group as profile "
                               f"{seen[name.lower()]} (LINSTOR names ignore case)",
                               correction="merge the two profiles or rename one")
        seen[name.lower()] = name
    return {name: _profile(name, body, source) for name, body in data["profiles"].items()}


def _where(source: str, path: list[str]) -> str:
    if len(path) >= 2 and path[0] == "profiles":
        fieldpath = ".".join(path[2:])
        return f"{source}: profile {path[1]}" + (f" field {fieldpath}" if fieldpath else "")
    return f"{source}: " + (".".join(path) or "top level")


def _type_name(expected: object) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " or ".join(f"{'an' if str(n)[0] in 'aeiou' else 'a'} {n}" for n in names)


def _reason_and_fix(error: ValidationError) -> tuple[str, str]:
    expected = error.validator_value
    match error.validator:
        case "type":
            return f"must be {_type_name(expected)}", f"write {_type_name(expected)}"
        case "required":
            return "has no profiles table", "add a [profiles.<name>] table"
        case "minimum":
            return f"must be at least {expected}", f"use {expected} or more"
        case "maximum":
            return f"must be at most {expected}", f"use {expected} or less"
        case "enum":
            return "is not one of the allowed values", f"use one of {', '.join(map(str, expected))}"
        case "pattern":
            description = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
            return "is not a valid LINSTOR name or key", description or f"match {expected}"
        case "minItems":
            return "must not be empty", "list at least one entry or leave the key out"
        case "minProperties":
            return "must not be empty", "define at least one [profiles.<name>] table"
        case "uniqueItems":
            return "lists an entry twice", "remove the duplicate"
        case "not":
            return "storage_pool and storage_pools exclude each other", "keep only one of them"
    return error.message, "see the profile fields in the README"


def _invalid(error: ValidationError, source: str, more: int) -> InvalidInput:
    """One jsonschema error as a sentence a person can act on."""
    path = [str(p) for p in error.absolute_path]
    value: object = error.instance
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        value = sorted(set(error.instance) - set(known))
        reason = "unknown key" + ("s" if len(value) > 1 else "")
        fix = f"valid keys: {', '.join(known)}"
    else:
        reason, fix = _reason_and_fix(error)
        if "propertyNames" in error.relative_schema_path:
            path.append(str(error.instance))
    invalid = InvalidInput(_where(source, path), value, reason, correction=fix)
    if more:
        invalid.add_note(f"{more} more problem{'s' if more > 1 else ''} in the file")
    return invalid


def _strings(values: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


def _profile(name: str, body: Mapping[str, Any], source: str) -> Profile:
    """Schema-valid ``body`` to a Profile, checking what the schema cannot."""
    where = f"{source}: profile {name}"
    try:
        validate_resource_group_name(name)
        pools = tuple(body.get("storage_pools") or ([body["storage_pool"]] if "storage_pool" in body else []))
        for pool in pools:
            validate_storage_pool_name(pool)
    except InvalidInput as error:
        raise InvalidInput(f"{where} {error.field}", error.value, error.reason, correction=error.correction) from None
    layers = tuple(body.get("layers", ()))
    if layers and layers[-1] != "storage":
        raise InvalidInput(
            f"{where} field layers", list(layers), "the last layer must be storage",
            correction=f"write layers = {json.dumps([*(l for l in layers if l != 'storage'), 'storage'])}",
        )
    props = {DRBD_OPTIONS_PREFIX + key: value for key, value in _strings(body.get("drbd_options", {})).items()}
    own = _strings(body.get("props", {}))
    twice = sorted(set(props) & set(own))
    if twice:
        raise InvalidInput(
            f"{where} field props", twice[0], f"is also drbd_options {twice[0][len(DRBD_OPTIONS_PREFIX):]!r}",
            correction="set it in one place (drbd_options, or props with the DrbdOptions/ key)",
        )
    props.update(own)
    place_count = body.get("place_count")  # the schema's integer: 2.0 in TOML is one too
    return Profile(
        name=name,
        description=body.get("description", ""),
        place_count=None if place_count is None else int(place_count),
        storage_pools=pools,
        layers=layers,
        replicas_on_different=tuple(body.get("replicas_on_different", ())),
        replicas_on_same=tuple(body.get("replicas_on_same", ())),
        diskless_on_remaining=body.get("diskless_on_remaining"),
        props=props,
    )


def _pools(select_filter: SelectFilter) -> tuple[str, ...]:
    if select_filter.storage_pool_list:
        return select_filter.storage_pool_list
    return (select_filter.storage_pool,) if select_filter.storage_pool else ()


def _changes(profile: Profile, group: ResourceGroup) -> list[str]:
    """What differs between the profile and the existing group, for the settings the profile
    sets, as ``"field old -> new"`` phrases."""
    have = group.select_filter
    pairs: list[tuple[str, object, object]] = [
        ("description", group.description, profile.description or None),
        ("place_count", have.place_count, profile.place_count),
        ("storage_pools", list(_pools(have)), list(profile.storage_pools)),
        ("layers", [layer.lower() for layer in have.layer_stack], list(profile.layers)),
        ("replicas_on_different", list(have.replicas_on_different), list(profile.replicas_on_different)),
        ("replicas_on_same", list(have.replicas_on_same), list(profile.replicas_on_same)),
        ("diskless_on_remaining", have.diskless_on_remaining, profile.diskless_on_remaining),
    ]
    changes = [f"{name} {old!r} -> {new!r}" for name, old, new in pairs if new not in (None, []) and old != new]
    changes += [
        f"{key} {group.props.get(key)!r} -> {value!r}"
        for key, value in sorted(profile.props.items())
        if group.props.get(key) != value
    ]
    return changes


class ProfilesNotApplied(LinstorError):
    """The controller refused some profiles; the others were applied. ``lines`` says what
    happened to every profile, a refused one as ``failed <name>: <reason>``."""

    def __init__(self, lines: list[str], failed: list[str], total: int) -> None:
        super().__init__(
            f"{len(failed)} of {total} profiles could not be applied: {', '.join(failed)}",
            cause="the controller refused them (see each failed line); the others are applied",
            correction="fix those profiles and apply the file again (applied ones stay unchanged)",
        )
        self.lines = lines


def apply_profiles(client: LinstorClient, profiles: Mapping[str, Profile] | Iterable[Profile]) -> list[str]:
    """Create or update one resource group per profile; return one human line per profile.

    Idempotent: applying the same profiles twice changes nothing the second time and says
    ``unchanged <name>``. One GET per profile, plus one create or modify when needed. Each
    profile is applied on its own: one the controller refuses does not stop the others, and
    :class:`ProfilesNotApplied` at the end names the refused ones. A controller that cannot be
    reached stops the apply where it is (every other profile would only wait for it too).
    """
    wanted = list(profiles.values() if isinstance(profiles, Mapping) else profiles)
    lines: list[str] = []
    failed: list[str] = []
    for profile in wanted:
        try:
            lines.append(_apply_one(client, profile))
        except ControllerUnreachable as error:
            if lines:
                error.add_note("done before this: " + "; ".join(lines))
            raise
        except LinstorError as error:
            lines.append(f"failed {profile.name}: {error.one_line()}")
            failed.append(profile.name)
    if failed:
        raise ProfilesNotApplied(lines, failed, len(wanted))
    return lines


def _apply_one(client: LinstorClient, profile: Profile) -> str:
    """Create or update ``profile``'s resource group; what was done, as one line."""
    groups = client.resource_groups
    try:
        group = groups.get(profile.resource_group_name)
    except NotFound:
        groups.create(
            profile.resource_group_name,
            select_filter=profile.select_filter,
            description=profile.description,
            props=profile.props,
        )
        return f"created {profile.name}"
    changes = _changes(profile, group)
    if not changes:
        return f"unchanged {profile.name}"
    groups.modify(
        profile.resource_group_name,
        select_filter=profile.select_filter,
        description=profile.description or None,
        override_props={k: v for k, v in profile.props.items() if group.props.get(k) != v},
    )
    return f"updated {profile.name}: {', '.join(changes)}"


__all__ = ["Profile", "ProfilesNotApplied", "DRBD_OPTIONS_PREFIX", "load_profiles", "parse_profiles", "apply_profiles"]
