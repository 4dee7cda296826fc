"""``rest``: plain-HTTP access to the ``controller`` fixture that checks every body against the spec.

A success is checked against the schema the spec promises for its route and status
(``spec_routes``), and also against the one a test names; an error must be an ApiCallRc list of
errors.
``Rest.seen`` records each (method, spec path) answered, so a test can tell which routes it checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from linstor_core.controller.server import ControllerServer
from linstor_core.retcodes import MASK_ERROR, MASK_WARN, code_of
from openapi_schema import validate
from spec_routes import response_schema


class Rest:
    """One requests.Session against the controller; every answer is JSON, checked against the spec."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.seen: set[tuple[str, str]] = set()

    def call(self, method: str, path: str, body: Any = None, *, status: int | None = None,
             schema: str | None = None, many: bool = False,
             params: dict[str, Any] | None = None) -> Any:
        answer = self.session.request(method, self.url + path, json=body, params=params,
                                      timeout=60)
        assert answer.headers.get("Content-Type", "").startswith("application/json"), answer.text
        data = answer.json()
        if status is not None:
            assert answer.status_code == status, (answer.status_code, data)
        route = response_schema(method, path, answer.status_code) if answer.status_code < 400 else None
        if route is None:
            validate(data, "ApiCallRcList")
            # Errors first; warnings may follow (what a failed request's clean-up left behind).
            assert data and data[0]["ret_code"] & MASK_ERROR == MASK_ERROR, data
            assert all(r["ret_code"] & MASK_WARN == MASK_WARN for r in data), data
        else:
            self.seen.add((method.upper(), route.template))
            validate(data, route.schema, many=route.many)
            if schema:
                validate(data, schema, many=many)
        return data

    def ok(self, method: str, path: str, body: Any = None, status: int = 200,
           params: dict[str, Any] | None = None) -> list[Any]:
        """A mutation that must succeed: its ApiCallRc list, with no error entry."""
        data = self.call(method, path, body, status=status, schema="ApiCallRcList",
                         params=params)
        assert not [r for r in data if r["ret_code"] < 0], data
        return list(data)

    def error(self, method: str, path: str, body: Any = None, *, status: int,
              code: int | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A refused request: its first error entry (``code`` compared without masks)."""
        data = self.call(method, path, body, status=status, params=params)
        first = next(r for r in data if r["ret_code"] < 0)
        if code is not None:
            assert code_of(first["ret_code"]) == code, first
        return dict(first)


@pytest.fixture
def unused_port() -> int:
    from controller_process import free_port

    return free_port()


@pytest.fixture
def rest(controller: ControllerServer) -> Iterator[Rest]:
    api = Rest(controller.url)
    yield api
    api.session.close()
