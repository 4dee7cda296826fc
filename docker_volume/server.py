"""Serving the plugin on a unix socket with cheroot (a threaded WSGI server).

Docker finds a legacy plugin by its socket, ``/run/docker/plugins/<name>.sock``. The socket is
made mode 0600 (only root, i.e. dockerd, may ask for mounts) in a parent directory created if
missing. Under systemd socket activation (the ``.socket`` unit, which lets dockerd start before
the plugin without "connection refused") the listening socket is inherited instead of bound.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from cheroot import wsgi

from linstor_core.errors import ConfigError
from linstor_core.serving import serve_until_signalled, stops_promptly

log = logging.getLogger(__name__)

SOCKET_MODE = 0o600
BACKLOG = socket.SOMAXCONN
"""Connections the socket queues while every worker is busy: cheroot's default of 5 makes a
burst of ``docker volume create`` fail to connect (a full unix-socket backlog is EAGAIN, not a
wait)."""
WORKER_THREADS = 32
"""Requests served at once. A first Mount holds its volume for up to ``MKFS_TIMEOUT`` while
mkfs runs, and every other call for that volume (``docker compose up --scale``) waits in a
worker meanwhile: with few workers those would leave none for dockerd's List and Get, which it
gives up on after a minute. A worker waiting costs a thread stack, no CPU."""
_SYSTEMD_FIRST_FD = 3
_SYSTEMD_VARIABLES = ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")


def inherited_socket(environ: dict[str, str] | os._Environ[str] = os.environ) -> socket.socket | None:
    """The listening socket systemd passed us (``LISTEN_FDS``), or None when not socket-activated.

    Removes the systemd variables from ``environ`` as ``sd_listen_fds(1)`` does, so no child
    process (mkfs, mount) believes the socket is meant for it.
    """
    pid, count = environ.get("LISTEN_PID"), environ.get("LISTEN_FDS", "0")
    for variable in _SYSTEMD_VARIABLES:
        environ.pop(variable, None)
    if pid != str(os.getpid()):
        return None
    if count != "1":
        raise ConfigError(f"systemd passed {count} sockets", correction="give the .socket unit one ListenStream")
    inherited = socket.socket(fileno=_SYSTEMD_FIRST_FD)
    if inherited.family != socket.AF_UNIX or inherited.type != socket.SOCK_STREAM:
        where = inherited.getsockname()
        inherited.detach()  # systemd's descriptor: not ours to close
        raise ConfigError(
            f"systemd passed a socket that is not a unix stream socket ({where})",
            cause="Mount and Remove would be served to whoever reaches it",
            correction="set ListenStream= in the .socket unit to a path, e.g. /run/docker/plugins/linstor.sock",
        )
    return inherited


def _refuse_if_served(path: str) -> None:
    """cheroot replaces a socket file it finds; refuse instead when a live plugin answers on it."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        return
    finally:
        probe.close()
    raise ConfigError(
        f"another process is already serving {path}",
        correction="stop it (systemctl stop linstor-docker-volume) or choose another --socket",
    )


class _UnixServer(wsgi.Server):
    """cheroot's server, binding its unix socket 0600 from the start, or using an inherited one."""

    def __init__(self, *args: Any, inherited: socket.socket | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inherited = inherited

    def bind_unix_socket(self, bind_addr: str) -> socket.socket:
        if self._inherited is not None:
            self.socket = self._inherited
            return self._inherited
        _refuse_if_served(bind_addr)
        Path(bind_addr).parent.mkdir(parents=True, exist_ok=True)
        previous = os.umask(0o777 & ~SOCKET_MODE)
        try:
            sock: socket.socket = super().bind_unix_socket(bind_addr)  # type: ignore[no-untyped-call]
        finally:
            os.umask(previous)
        os.chmod(bind_addr, SOCKET_MODE)
        return sock


class PluginServer:
    """The plugin's HTTP server on ``socket_path``; a context manager that always cleans up.

    ``start()`` serves in a background thread (tests, benchmarks); ``serve_forever()`` blocks
    (the command line). No I/O in the constructor.
    """

    def __init__(
        self, app: Any, socket_path: Path, *, inherited: socket.socket | None = None,
        threads: int = WORKER_THREADS
    ) -> None:
        self.socket_path = socket_path
        self._inherited = inherited
        self._server = stops_promptly(_UnixServer(
            str(socket_path), app, numthreads=threads, request_queue_size=BACKLOG, inherited=inherited
        ))
        self._thread: threading.Thread | None = None
        self._bound = False

    def bind(self) -> PluginServer:
        """Bind (or adopt) the socket; ``ConfigError`` while another plugin serves it.

        Connections queue from here on and are answered once serving starts: the command line
        binds before it reads the mount state, so a second copy started by hand is refused
        before it rewrites the running plugin's state file or detaches its volumes.
        """
        if not self._bound:
            self._server.prepare()
            self._bound = True
        return self

    def start(self) -> PluginServer:
        """Bind (or adopt) the socket and serve in a daemon thread; return once accepting."""
        self.bind()
        self._thread = threading.Thread(target=self._server.serve, name="docker-volume-plugin", daemon=True)
        self._thread.start()
        log.info("serving the Docker volume plugin on %s", self.socket_path)
        return self

    def serve_forever(self) -> None:
        """Serve in this (the main) thread until SIGTERM/SIGINT, then clean up."""
        self.bind()  # outside the try: a refused socket is another plugin's, not ours to remove
        log.info("serving the Docker volume plugin on %s", self.socket_path)
        try:
            serve_until_signalled(self._server)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and remove the socket file (an inherited socket belongs to systemd)."""
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._inherited is None:
            self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> PluginServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


__all__ = ["SOCKET_MODE", "WORKER_THREADS", "PluginServer", "inherited_socket"]
