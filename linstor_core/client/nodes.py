"""Nodes (``/v1/nodes``)."""

from __future__ import annotations

from linstor_core.client.area import Area, path
from linstor_core.client.replies import found
from linstor_core.errors import InvalidInput
from linstor_core.models import Node

# The spec's spelling of each node type (LINSTOR itself accepts any case).
NODE_TYPES = {"SATELLITE": "Satellite", "COMBINED": "Combined", "CONTROLLER": "Controller",
              "AUXILIARY": "Auxiliary"}


class NodesApi(Area):
    def create(self, name: str, address: str, node_type: str = "SATELLITE") -> None:
        """Register a node with one network interface ``default`` at ``address``.

        ``node_type`` is any case of SATELLITE, COMBINED, CONTROLLER or AUXILIARY.
        """
        kind = NODE_TYPES.get(node_type.upper())
        if kind is None:
            raise InvalidInput("node type", node_type, "not a LINSTOR node type",
                               correction=f"use one of {', '.join(NODE_TYPES)}")
        self._mutate("POST", "/v1/nodes", {
            "name": name,
            "type": kind,
            "net_interfaces": [{"name": "default", "address": address}],
        })

    def list(self) -> list[Node]:
        return [Node.from_json(n) for n in self._get("/v1/nodes")]

    def get(self, name: str) -> Node:
        """The node; NotFound when there is none of that name."""
        return Node.from_json(self._get(path("/v1/nodes/{}", name)))

    def delete(self, name: str) -> bool:
        """Remove the node; False when there was none (LINSTOR's warning, not an error)."""
        return found(self._mutate("DELETE", path("/v1/nodes/{}", name)))
