"""LINSTOR REST API v1 client: ``LinstorClient(config)``, one namespace per REST area.

::

    client = LinstorClient(load_client_config())
    client.resource_groups.spawn("gold", "pve-101-disk-0", [10 * 1024 * 1024])
    client.resources.list("pve-101-disk-0")          # -> [Resource, ...]

Layout, as ``requests`` reads: ``session`` (one ``requests.Session``: failover, retries,
timeouts, auth, TLS), ``replies`` (ApiCallRc -> result or exception), ``area`` (what every
area shares) and one module per REST area. Every call returns ``linstor_core.models`` records
or None and raises ``linstor_core.errors`` (ApiError and subclasses, ControllerUnreachable);
sizes are KiB. Building a client does no I/O.
"""

from __future__ import annotations

import requests

from linstor_core.client.controller import ControllerApi
from linstor_core.client.nodes import NodesApi
from linstor_core.client.resource_definitions import ResourceDefinitionsApi
from linstor_core.client.resource_groups import ResourceGroupsApi
from linstor_core.client.resources import ResourcesApi
from linstor_core.client.session import Session
from linstor_core.client.snapshots import SnapshotsApi
from linstor_core.client.storage_pools import StoragePoolsApi
from linstor_core.client.volume_definitions import VolumeDefinitionsApi
from linstor_core.config import ClientConfig


class LinstorClient:
    """The REST API v1 on one HTTP session, shared by all areas."""

    def __init__(self, config: ClientConfig, session: requests.Session | None = None) -> None:
        self.session = Session(config, session)
        self.controller = ControllerApi(self.session)
        self.nodes = NodesApi(self.session)
        self.storage_pools = StoragePoolsApi(self.session)
        self.resource_groups = ResourceGroupsApi(self.session)
        self.resource_definitions = ResourceDefinitionsApi(self.session)
        self.volume_definitions = VolumeDefinitionsApi(self.session)
        self.resources = ResourcesApi(self.session)
        self.snapshots = SnapshotsApi(self.session)


__all__ = ["LinstorClient"]
