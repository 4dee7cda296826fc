"""``controller``: serve the embedded LINSTOR-compatible controller in the foreground."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from types import FrameType

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, UsageError, add_command

DEFAULT_PORT, DEFAULT_TLS_PORT = 3370, 3371


def parse_listen(text: str, *, tls: bool) -> tuple[str, int]:
    """``HOST[:PORT]`` or ``[IPV6][:PORT]`` -> (host, port); the port defaults as LINSTOR's do."""
    default = DEFAULT_TLS_PORT if tls else DEFAULT_PORT
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise UsageError(f"--listen {text!r}: give a host, e.g. 127.0.0.1:3370")
    if not port_text:
        return host, default
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--listen {text!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """systemd stops a service with SIGTERM: unwind like Ctrl-C so the server closes cleanly."""
    raise KeyboardInterrupt


def serve(args: argparse.Namespace, ctx: Context) -> None:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    host, port = parse_listen(args.listen, tls=bool(args.tls_cert))
    # Imported here: the web stack is only needed by this command, not by every client call.
    from linstor_core.controller.server import ControllerServer

    server = ControllerServer(Path(args.state_dir), host, port, token=args.server_token,
                              tls_cert=args.tls_cert, tls_key=args.tls_key)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    ctx.out.note(f"embedded LINSTOR controller on {host}:{port}, state in {args.state_dir} (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        ctx.out.note("controller stopped")


_DESCRIPTION = """\
Serve the LINSTOR REST API v1 subset the bundle uses, with its state (SQLite, one transaction
per change) and every simulated node's storage under STATE_DIR. Runs in the foreground until
Ctrl-C or SIGTERM; on start it reconciles its records with the storage it finds.

It listens on loopback by default. Any other address needs --token (clients then send it as a
bearer token: linstor-core --token T ...) or TLS (--tls-cert/--tls-key;
clients use linstor+ssl://HOST or https://HOST:PORT)."""


def register(commands: Subparsers) -> None:
    parser = add_command(
        commands, "controller", summary="run the embedded LINSTOR-compatible controller",
        description=_DESCRIPTION,
        examples=("controller --state-dir /var/lib/linstor-core",
                  "controller --state-dir /srv/lc --listen 0.0.0.0:3370 --token s3cret",
                  "controller --state-dir /srv/lc --listen 10.0.0.5 --tls-cert c.pem --tls-key k.pem"),
        idempotent="yes: restarting on the same STATE_DIR continues with the same state.",
        handler=serve, client_options=False,
    )
    parser.add_argument("--state-dir", required=True, metavar="DIR", help="state and node storage directory")
    parser.add_argument("--listen", default="127.0.0.1", metavar="HOST[:PORT]",
                        help="address to serve on (default: 127.0.0.1:3370, or :3371 with TLS)")
    parser.add_argument("--token", dest="server_token", metavar="TOKEN",
                        help="require this bearer token from every client")
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
