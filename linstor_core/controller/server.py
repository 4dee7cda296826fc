"""Serving the embedded controller: cheroot's threaded WSGI server around the Flask app.

Safety: it listens on loopback by default and refuses any other address unless a bearer token
is configured (``InvalidInput`` naming the fix); TLS alone encrypts but authenticates nobody,
so it does not lift the rule. ``linstor-core controller --state-dir DIR`` runs it in the
foreground; ``python -m linstor_core.controller.server`` is that same command (the test
harnesses start it so, with the interpreter under test).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
from pathlib import Path
from types import TracebackType

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from linstor_core.config import HTTP_PORT, HTTPS_PORT
from linstor_core.controller.api import create_app
from linstor_core.controller.core import Controller
from linstor_core.errors import InvalidInput
from linstor_core.runner import Runner, run
from linstor_core.serving import serve_until_signalled, stops_promptly

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
THREADS = 16
BACKLOG = socket.SOMAXCONN
"""Connections the kernel queues while every worker is busy: every PVE worker and OpenNebula
action of every node connects anew, and cheroot's default of 5 turns a burst into resets."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ControllerServer:
    """One embedded controller on ``host:port``; ``start()``/``stop()`` or a ``with`` block.

    The constructor only checks its arguments; the database is opened (and storage reconciled)
    by ``start()``/``serve_forever()``. Port 0 picks a free port (see ``url``).
    """

    def __init__(self, state_dir: Path, host: str = DEFAULT_HOST, port: int = HTTP_PORT, *,
                 token: str | None = None, tls_cert: Path | None = None,
                 tls_key: Path | None = None, runner: Runner = run) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise InvalidInput("tls", (tls_cert, tls_key), "give both the certificate and the key")
        if not is_loopback(host) and not token:
            raise InvalidInput("listen", host, "a non-loopback address needs a token",
                               correction="pass --token (with --tls-cert/--tls-key so it is not "
                                          "sent in clear), or listen on 127.0.0.1")
        self.state_dir = Path(state_dir)
        self.host = host
        self.port = port
        self.token = token
        self.tls = (tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
        self.controller = Controller(self.state_dir, runner=runner)
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def _prepare(self) -> wsgi.Server:
        repairs = self.controller.open()
        for line in repairs:
            log.warning("reconciled: %s", line)
        app = create_app(self.controller, token=self.token)
        server = stops_promptly(wsgi.Server((self.host, self.port), app, numthreads=THREADS,
                                            request_queue_size=BACKLOG, server_name="linstor-core"))
        if self.tls:
            server.ssl_adapter = BuiltinSSLAdapter(str(self.tls[0]), str(self.tls[1]))
        server.prepare()
        self.port = int(server.bind_addr[1])
        self._server = server
        return server

    def start(self) -> "ControllerServer":
        """Serve in a background thread; returns once the port accepts connections."""
        server = self._prepare()
        self._thread = threading.Thread(target=server.serve, name="linstor-core-controller",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this (the main) thread until SIGTERM/SIGINT."""
        server = self._prepare()
        log.info("linstor-core controller listening on %s (state %s)", self.url, self.state_dir)
        try:
            serve_until_signalled(server)
        finally:
            self.controller.close()
        log.info("linstor-core controller stopped")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.controller.close()

    def __enter__(self) -> "ControllerServer":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def parse_listen(text: str | None, *, tls: bool = False) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``HOST``; None is 127.0.0.1.

    Without a port, LINSTOR's: 3370, or 3371 with TLS, the ports ``linstor://HOST`` and
    ``linstor+ssl://HOST`` dial.
    """
    text = text or DEFAULT_HOST
    default = str(HTTPS_PORT if tls else HTTP_PORT)
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or default
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, default
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidInput("listen", text, "the port is a number 0..65535")
    return host, int(port)


if __name__ == "__main__":  # ``python -m linstor_core.controller.server``: the CLI's own command
    from linstor_core.cli import main

    sys.exit(main(["controller", *sys.argv[1:]]))
