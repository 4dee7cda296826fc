"""Shared pieces of the client unit tests: controller URLs, ApiCallRc bodies, what was sent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from linstor_core import retcodes

BASE = "http://ctl-a.test:3370"
OTHER = "http://ctl-b.test:3370"


def ok(code: int = retcodes.CREATED, message: str = "done") -> list[dict[str, Any]]:
    return [{"ret_code": code, "message": message}]


def failure(code: int, message: str = "refused", **extra: str) -> list[dict[str, Any]]:
    return [{"ret_code": code, "message": message, **extra}]


def sent_json(call: Any) -> Any:
    return json.loads(call.request.body) if call.request.body else None


def sent_query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def sent_path(call: Any) -> str:
    return str(urlsplit(call.request.url).path)


def sent_to(call: Any) -> str:
    """The controller base URL a call went to."""
    parts = urlsplit(call.request.url)
    return f"{parts.scheme}://{parts.netloc}"


def refused(url: str) -> requests.ConnectionError:
    """What requests raises when nothing listens at ``url``."""
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, url, cause))  # type: ignore[arg-type]
