"""Records that cross module boundaries: frozen, typed, built from the REST v1 JSON once.

The client turns controller answers into these; ``disks`` and the adapters only ever see these.
Sizes are KiB, as in the API. ``from_json`` accepts the OpenAPI shapes (``ResourceWithVolumes``,
``Snapshot``, ...) and tolerates fields real LINSTOR adds that we do not model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Props = Mapping[str, str]


def _props(body: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (body.get("props") or {}).items()}


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    address: str = ""
    connection_status: str = ""
    props: Props = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Node":
        interfaces = body.get("net_interfaces") or []
        address = str(interfaces[0].get("address", "")) if interfaces else ""
        return cls(
            name=str(body["name"]),
            type=str(body.get("type", "SATELLITE")),
            address=address,
            connection_status=str(body.get("connection_status", "")),
            props=_props(body),
        )


@dataclass(frozen=True)
class StoragePool:
    name: str
    node_name: str
    provider_kind: str
    free_capacity_kib: int | None = None
    total_capacity_kib: int | None = None
    props: Props = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "StoragePool":
        free = body.get("free_capacity")
        total = body.get("total_capacity")
        return cls(
            name=str(body["storage_pool_name"]),
            node_name=str(body.get("node_name", "")),
            provider_kind=str(body.get("provider_kind", "")),
            free_capacity_kib=int(free) if free is not None else None,
            total_capacity_kib=int(total) if total is not None else None,
            props=_props(body),
        )


MAX_PLACE_COUNT = 32
"""The most diskful replicas a select filter may ask for (DRBD connects at most 32 peers)."""


@dataclass(frozen=True)
class SelectFilter:
    """The autoplacer's constraints (OpenAPI ``AutoSelectFilter``)."""

    place_count: int | None = None
    storage_pool: str | None = None
    storage_pool_list: tuple[str, ...] = ()
    node_name_list: tuple[str, ...] = ()
    replicas_on_same: tuple[str, ...] = ()
    replicas_on_different: tuple[str, ...] = ()
    not_place_with_rsc: tuple[str, ...] = ()
    not_place_with_rsc_regex: str | None = None
    layer_stack: tuple[str, ...] = ()
    diskless_on_remaining: bool | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key in (
            "place_count", "storage_pool", "storage_pool_list", "node_name_list", "replicas_on_same",
            "replicas_on_different", "not_place_with_rsc", "not_place_with_rsc_regex", "layer_stack",
            "diskless_on_remaining",
        ):
            value = getattr(self, key)
            if value is None or value == ():
                continue
            body[key] = list(value) if isinstance(value, tuple) else value
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "SelectFilter":
        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in body.get(key) or ())

        place_count = body.get("place_count")
        dless = body.get("diskless_on_remaining")
        return cls(
            place_count=int(place_count) if place_count is not None else None,
            storage_pool=body.get("storage_pool"),
            storage_pool_list=strings("storage_pool_list"),
            node_name_list=strings("node_name_list"),
            replicas_on_same=strings("replicas_on_same"),
            replicas_on_different=strings("replicas_on_different"),
            not_place_with_rsc=strings("not_place_with_rsc"),
            not_place_with_rsc_regex=body.get("not_place_with_rsc_regex"),
            layer_stack=strings("layer_stack"),
            diskless_on_remaining=bool(dless) if dless is not None else None,
        )


@dataclass(frozen=True)
class ResourceGroup:
    name: str
    description: str = ""
    select_filter: SelectFilter = field(default_factory=SelectFilter)
    props: Props = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "ResourceGroup":
        return cls(
            name=str(body["name"]),
            description=str(body.get("description", "") or ""),
            select_filter=SelectFilter.from_json(body.get("select_filter") or {}),
            props=_props(body),
        )


@dataclass(frozen=True)
class VolumeDefinition:
    volume_number: int
    size_kib: int
    props: Props = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "VolumeDefinition":
        return cls(
            volume_number=int(body.get("volume_number", 0)),
            size_kib=int(body["size_kib"]),
            props=_props(body),
        )


@dataclass(frozen=True)
class ResourceDefinition:
    name: str
    resource_group_name: str = ""
    layers: tuple[str, ...] = ()
    volume_definitions: tuple[VolumeDefinition, ...] = ()
    props: Props = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "ResourceDefinition":
        layers = tuple(str(layer.get("type", "")).lower() for layer in body.get("layer_data") or ())
        return cls(
            name=str(body["name"]),
            resource_group_name=str(body.get("resource_group_name", "") or ""),
            layers=layers,
            volume_definitions=tuple(
                VolumeDefinition.from_json(v) for v in body.get("volume_definitions") or ()
            ),
            props=_props(body),
        )


@dataclass(frozen=True)
class Volume:
    volume_number: int
    device_path: str = ""
    allocated_size_kib: int | None = None
    usable_size_kib: int | None = None
    disk_state: str = ""
    storage_pool_name: str = ""
    provider_kind: str = ""
    drbd_minor: int | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Volume":
        state = body.get("state") or {}
        allocated = body.get("allocated_size_kib")
        usable = body.get("usable_size_kib")
        drbd = next((layer.get("data") or {} for layer in body.get("layer_data_list") or ()
                     if layer.get("type") == "DRBD"), {})
        minor = (drbd.get("drbd_volume_definition") or {}).get("minor_number")
        return cls(
            volume_number=int(body.get("volume_number", 0)),
            device_path=str(body.get("device_path", "") or ""),
            allocated_size_kib=int(allocated) if allocated is not None else None,
            usable_size_kib=int(usable) if usable is not None else None,
            disk_state=str(state.get("disk_state", "") or ""),
            storage_pool_name=str(body.get("storage_pool_name", "") or ""),
            provider_kind=str(body.get("provider_kind", "") or ""),
            drbd_minor=int(minor) if minor is not None else None,
        )


@dataclass(frozen=True)
class Resource:
    name: str
    node_name: str
    flags: tuple[str, ...] = ()
    volumes: tuple[Volume, ...] = ()
    in_use: bool | None = None
    props: Props = field(default_factory=dict)
    drbd_port: int | None = None
    replicated: bool = False
    """True when the resource has a DRBD layer: other nodes can reach its data over the network."""
    layers: tuple[str, ...] = ()
    """Every layer of its stack, top first (``("DRBD", "LUKS", "STORAGE")``)."""

    @property
    def diskless(self) -> bool:
        return "DISKLESS" in self.flags or "DRBD_DISKLESS" in self.flags

    @property
    def tiebreaker(self) -> bool:
        return "TIE_BREAKER" in self.flags

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Resource":
        state = body.get("state") or {}
        in_use = state.get("in_use")
        layers = body.get("layer_object") or {}
        drbd = layers.get("drbd") or {}
        port = (drbd.get("drbd_resource_definition") or {}).get("port")
        return cls(
            name=str(body["name"]),
            node_name=str(body["node_name"]),
            flags=tuple(str(f) for f in body.get("flags") or ()),
            volumes=tuple(Volume.from_json(v) for v in body.get("volumes") or ()),
            in_use=bool(in_use) if in_use is not None else None,
            props=_props(body),
            drbd_port=int(port) if port is not None else None,
            replicated=bool(drbd) or str(layers.get("type", "")).upper() == "DRBD",
            layers=_layer_types(layers),
        )


def _layer_types(layer: Mapping[str, Any]) -> tuple[str, ...]:
    """The types in a ``layer_object`` tree, depth first (a stack is one chain of children)."""
    own = (str(layer["type"]).upper(),) if layer.get("type") else ()
    return own + tuple(t for child in layer.get("children") or () for t in _layer_types(child))


SEQUENCE_NUMBER = "SequenceNumber"


@dataclass(frozen=True)
class Snapshot:
    name: str
    resource_name: str
    nodes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    volume_sizes_kib: tuple[int, ...] = ()
    props: Props = field(default_factory=dict)
    created_ms: int = 0
    """When it was taken (ms since the epoch, its first node's), 0 when not reported."""
    sequence: int | None = None
    """Its place among the definition's snapshots (the ``SequenceNumber`` property, where the
    controller sets one): what "the most recent snapshot" means to the rollback."""

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Snapshot":
        taken = [int(s.get("create_timestamp") or 0) for s in body.get("snapshots") or ()]
        # ``props`` is deprecated in LINSTOR's answer (resource definition props with the
        # snapshot definition's laid over them); ``snapshot_definition_props`` is where it lives
        sequence = str({**(body.get("props") or {}), **(body.get("snapshot_definition_props") or {})}
                       .get(SEQUENCE_NUMBER, ""))
        return cls(
            name=str(body["name"]),
            resource_name=str(body["resource_name"]),
            nodes=tuple(str(n) for n in body.get("nodes") or ()),
            flags=tuple(str(f) for f in body.get("flags") or ()),
            volume_sizes_kib=tuple(
                int(v.get("size_kib", 0)) for v in body.get("volume_definitions") or ()
            ),
            props=_props(body),
            created_ms=min((t for t in taken if t > 0), default=0),
            sequence=int(sequence) if sequence.isascii() and sequence.isdigit() else None,
        )


@dataclass(frozen=True)
class Capacity:
    """What a resource group (profile) can still hold, from ``query-size-info``; KiB."""

    max_volume_size_kib: int
    available_size_kib: int
    capacity_kib: int


TWO_PRIMARIES = "DrbdOptions/Net/allow-two-primaries"
"""Set on a disk's resource definition during a live migration: DRBD lets the source and the
destination both be primary while the hypervisors hand the running guest over."""
HAND_OVER = "Aux/bundle/hand-over"
"""Beside ``TWO_PRIMARIES`` when a hand-over the bundle saw begin set it: ``<source> <destination>``,
the only nodes whose deactivation ends it (an admin's own setting has no such record)."""


@dataclass(frozen=True)
class Disk:
    """One platform disk as the adapters see it: a resource definition with one volume."""

    name: str
    size_kib: int
    profile: str
    props: Props = field(default_factory=dict)
    nodes: tuple[str, ...] = ()
    diskless_nodes: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = ()

    @property
    def two_primaries(self) -> bool:
        """Whether DRBD lets a second node be primary: a live migration's hand-over is on."""
        return self.props.get(TWO_PRIMARIES) == "yes"

    @property
    def hand_over_nodes(self) -> tuple[str, ...]:
        """The source and destination of the hand-over that allowed two primaries, if one did."""
        return tuple(self.props.get(HAND_OVER, "").split()) if self.two_primaries else ()


@dataclass(frozen=True)
class Attachment:
    """Where a disk is reachable on a node: its ``device``, and whether that node's resource is
    ``diskless`` (a DRBD client that detaching removes) or holds the data (which stays).

    ``starts_zeroed``: what :meth:`DiskService.starts_zeroed` says, read from the same listing
    (False when not known): whether a new disk reads as zeros or shows what its storage held.
    """

    device: str
    diskless: bool
    starts_zeroed: bool = False
