"""``controller``: serve the embedded LINSTOR-compatible controller in the foreground."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command
from linstor_core.errors import ConfigError


def serve(args: argparse.Namespace, ctx: Context) -> None:
    # Imported here: the web stack is only needed by this command, not by every client call.
    from linstor_core.controller.server import ControllerServer, parse_listen

    host, port = parse_listen(args.listen, tls=bool(args.tls_cert))
    server = ControllerServer(
        Path(args.state_dir), host, port, token=args.server_token,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        server.serve_forever()
    except OSError as error:  # the port taken, the state directory or a TLS file missing
        raise ConfigError(
            f"the controller cannot start on {server.url} with state {args.state_dir}",
            cause=f"{error.strerror or error}" + (f": {error.filename}" if error.filename else ""),
            correction="free the port or pick another with --listen, and check --state-dir, "
                       "--tls-cert and --tls-key",
        ) from None
    ctx.out.note("controller stopped")


_DESCRIPTION = """\
Serve the LINSTOR REST API v1 subset the bundle uses, with its state (SQLite, one transaction
per change) and every simulated node's storage under STATE_DIR. Runs in the foreground until
Ctrl-C or SIGTERM; on start it reconciles its records with the storage it finds.

It listens on 127.0.0.1 by default, on LINSTOR's port: 3370, or 3371 with TLS, the ports
linstor://HOST and linstor+ssl://HOST dial. Any other address needs --token (clients then send
it as a bearer token: linstor-core --token T ...), with or without TLS; add --tls-cert/--tls-key
so the token is not sent in clear (clients use linstor+ssl://HOST[:PORT] and trust the
certificate with LS_ROOT_CA or cafile=)."""


def register(commands: Subparsers) -> None:
    parser = add_command(
        commands, "controller", summary="run the embedded LINSTOR-compatible controller",
        description=_DESCRIPTION,
        examples=("controller --state-dir /var/lib/linstor-core",
                  "controller --state-dir /srv/lc --listen 0.0.0.0:3370 --token s3cret",
                  "controller --state-dir /srv/lc --listen 10.0.0.5 --token s3cret --tls-cert c.pem "
                  "--tls-key k.pem"),
        idempotent="yes: restarting on the same STATE_DIR continues with the same state.",
        handler=serve, client_options=False,
    )
    parser.add_argument("--state-dir", required=True, metavar="DIR", help="state and node storage directory")
    parser.add_argument("--listen", metavar="HOST[:PORT]",
                        help="address to serve on, [IPV6]:PORT for IPv6 (default: 127.0.0.1; "
                             "port 3370, 3371 with TLS)")
    parser.add_argument("--token", dest="server_token", metavar="TOKEN",
                        help="require this bearer token from every client")
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
