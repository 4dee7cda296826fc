"""The controller itself (``/v1/controller``, ``/v1/health``)."""

from __future__ import annotations

from typing import Any

from linstor_core.client import replies
from linstor_core.client.area import Area


class ControllerApi(Area):
    def version(self) -> dict[str, Any]:
        """``ControllerVersion``: ``version``, ``git_hash``, ``build_time``, ``rest_api_version``.

        Also the cheapest "is a controller there" check: raises ControllerUnreachable if not.
        """
        return dict(self._get("/v1/controller/version"))

    def health(self) -> None:
        """``GET /v1/health``, LINSTOR's health check (newer than the bundled spec): returns while
        the controller's own services work, whatever the satellites do.

        Raises ApiError (its replies say what is wrong) on an error status, ControllerUnreachable
        when no controller answers.
        """
        replies.check_status(self._session.request("GET", "/v1/health"))
