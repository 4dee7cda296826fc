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


class PluginClient:
    """One connection to the plugin for many calls, as dockerd makes them: Go's HTTP transport
    keeps the connection to a plugin's socket open between calls (idle for up to 30 s).

    http.client opens it on the first call and again after :meth:`close` or after the plugin
    closed it between calls. A context manager that closes it.
    """

    def __init__(self, socket_path: Path, timeout: float = 120.0) -> None:
        self.socket_path = socket_path
        self._connection = _UnixConnection(socket_path, timeout)

    def call(self, endpoint: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
        """POST ``body`` (as JSON; or ``raw`` bytes verbatim) to ``endpoint``; return status and JSON.

        Raises LinstorError when the socket does not answer or the answer is not JSON.
        """
        payload = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        try:
            self._connection.request("POST", endpoint, body=payload, headers={"Content-Type": MEDIA_TYPE})
            response = self._connection.getresponse()
            status, text = response.status, response.read()
        except OSError as error:
            self.close()
            raise LinstorError(
                f"the plugin does not answer on {self.socket_path}",
                cause=str(error),
                correction="start it (systemctl start linstor-docker-volume.socket) or check --socket",
            ) from error
        try:
            return status, json.loads(text)
        except ValueError:
            raise LinstorError(f"{endpoint} answered HTTP {status} with non-JSON: {text[:200]!r}") from None

    @property
    def current_socket(self) -> socket.socket | None:
        """The open connection's socket (None before the first call and after close)."""
        return self._connection.sock

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> PluginClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def call(
    socket_path: Path, endpoint: str, body: Any = None, *, raw: bytes | None = None, timeout: float = 120.0
) -> tuple[int, dict[str, Any]]:
    """One call on a connection of its own (see :meth:`PluginClient.call`)."""
    with PluginClient(socket_path, timeout) as client:
        return client.call(endpoint, body, raw=raw)


__all__ = ["PluginClient", "call"]
