"""The base of every REST area (``nodes``, ``snapshots``, ...): path building and the three call
shapes LINSTOR has (read JSON, mutate -> ApiCallRc list, post a query -> JSON)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from linstor_core.client import replies
from linstor_core.client.session import Session
from linstor_core.errors import ApiReply, InvalidInput


def path(template: str, *names: str | int) -> str:
    """``template`` with each ``{}`` replaced by a URL-quoted name (never a raw ``/`` or ``?``).

    ``.`` and ``..`` survive quoting and would be resolved away by the HTTP client, turning
    ``/v1/resource-definitions/..`` into a different route: they are refused as names.
    """
    for name in names:
        if str(name) in (".", "..", ""):
            raise InvalidInput("name", str(name), "is not a LINSTOR object name",
                               correction="give the name of a node, pool, group, definition or snapshot")
    return template.format(*(quote(str(name), safe="") for name in names))


def query(**filters: Iterable[str] | str | None) -> dict[str, str | list[str]]:
    """Query parameters without the empty ones; lists are sent repeated (``?nodes=a&nodes=b``)."""
    params: dict[str, str | list[str]] = {}
    for key, value in filters.items():
        if isinstance(value, str):
            params[key] = value
        elif value is not None and (listed := list(value)):
            params[key] = listed
    return params


class Area:
    """One REST area on a shared Session; subclasses add one thin method per call."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _get(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        return replies.json_body(self._session.request("GET", url, params=params))

    def _mutate(self, method: str, url: str, body: Any = None,
                params: Mapping[str, Any] | None = None) -> list[ApiReply]:
        return replies.api_replies(self._session.request(method, url, params=params, body=body))

    def _query(self, url: str, body: Any) -> Any:
        return replies.json_body(self._session.request("POST", url, body=body))
