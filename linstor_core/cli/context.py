"""What a command handler gets besides its arguments: the output and, on first use, a client.

The client is built lazily so that commands that never talk to a controller (``controller``,
``demo``, ``profiles check``, ``--help``) neither read the client configuration nor fail on it.
"""

from __future__ import annotations

import argparse
import dataclasses
from functools import cached_property
from typing import TYPE_CHECKING

from linstor_core.cli.output import Output
from linstor_core.errors import InvalidInput

if TYPE_CHECKING:
    from linstor_core.client import LinstorClient


class Context:
    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out

    @cached_property
    def client(self) -> LinstorClient:
        """A client for ``--controllers`` (else LS_CONTROLLERS / config file), with ``--token``."""
        # Imported on first use: --help, 'controller' and 'demo' need neither requests nor config.
        from linstor_core.client import LinstorClient
        from linstor_core.config import checked_token, load_client_config, warn_of_a_cleartext_token

        explicit = self.args.controllers.split(",") if self.args.controllers else None
        if explicit is not None and not all(url.strip() for url in explicit):
            raise InvalidInput("--controllers", self.args.controllers, "has an empty item",
                               correction="give controller URLs separated by commas, e.g. linstor://ctrl1,linstor://ctrl2")
        config = load_client_config(explicit)
        if self.args.client_token:
            config = dataclasses.replace(config, token=checked_token(self.args.client_token, "--token"))
        warn_of_a_cleartext_token(config)
        return LinstorClient(config)
