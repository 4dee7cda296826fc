"""Talking to a running plugin over its unix socket, as dockerd does.

Used by ``linstor-docker-volume --check`` (is the plugin up, and what does it list?), and by the
functional tests and the benchmark, which must go through the real socket.
"""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from typing import Any

from linstor_core.errors import LinstorError

from docker_volume.protocol import MEDIA_TYPE


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self._socket_path))


def call(
    socket_path: Path, endpoint: str, body: Any = None, *, raw: bytes | None = None, timeout: float = 120.0
) -> tuple[int, dict[str, Any]]:
    """POST ``body`` (as JSON; or ``raw`` bytes verbatim) to ``endpoint``; return status and JSON.

    Raises LinstorError when the socket does not answer or the answer is not JSON.
    """
    payload = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    connection = _UnixConnection(socket_path, timeout)
    try:
        connection.request("POST", endpoint, body=payload, headers={"Content-Type": MEDIA_TYPE})
        response = connection.getresponse()
        status, text = response.status, response.read()
    except OSError as error:
        raise LinstorError(
            f"the plugin does not answer on {socket_path}",
            cause=str(error),
            correction="start it (systemctl start linstor-docker-volume.socket) or check --socket",
        ) from error
    finally:
        connection.close()
    try:
        return status, json.loads(text)
    except ValueError:
        raise LinstorError(f"{endpoint} answered HTTP {status} with non-JSON: {text[:200]!r}") from None


__all__ = ["call"]
