"""Volume definitions: the sizes of a resource definition's volumes (KiB)."""

from __future__ import annotations

from typing import Any

from linstor_core.client.area import Area, path
from linstor_core.models import VolumeDefinition


class VolumeDefinitionsApi(Area):
    def create(self, resource: str, size_kib: int, volume_number: int | None = None) -> None:
        """Add a volume of ``size_kib``; LINSTOR picks the next free number when None."""
        definition: dict[str, Any] = {"size_kib": int(size_kib)}
        if volume_number is not None:
            definition["volume_number"] = int(volume_number)
        self._mutate("POST", path("/v1/resource-definitions/{}/volume-definitions", resource),
                     {"volume_definition": definition})

    def resize(self, resource: str, volume_number: int, size_kib: int) -> None:
        """Set the volume's size (LINSTOR refuses to shrink a deployed volume)."""
        self._mutate("PUT", path("/v1/resource-definitions/{}/volume-definitions/{}", resource,
                                 volume_number), {"size_kib": int(size_kib)})

    def list(self, resource: str) -> list[VolumeDefinition]:
        found = self._get(path("/v1/resource-definitions/{}/volume-definitions", resource))
        return [VolumeDefinition.from_json(v) for v in found]
