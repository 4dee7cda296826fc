"""The controller itself (``/v1/controller``)."""

from __future__ import annotations

from typing import Any

from linstor_core.client.area import Area


class ControllerApi(Area):
    def version(self) -> dict[str, Any]:
        """``ControllerVersion``: ``version``, ``git_hash``, ``build_time``, ``rest_api_version``.

        Also the cheapest "is a controller there" check: raises ControllerUnreachable if not.
        """
        return dict(self._get("/v1/controller/version"))
