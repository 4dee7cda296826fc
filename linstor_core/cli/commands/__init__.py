"""One module per command group, registered in the order ``linstor-core --help`` lists them.

Each module has ``register(subparsers)`` adding its group and commands; each command's handler
is ``handler(args, ctx)`` and raises ``LinstorError`` rather than returning a status.
"""

from __future__ import annotations

from linstor_core.cli.commands import (
    controller,
    demo,
    node,
    profiles,
    resource,
    resource_definition,
    resource_group,
    snapshot,
    storage_pool,
    volume,
    volume_definition,
)

COMMAND_MODULES = (
    node,
    storage_pool,
    resource_group,
    resource_definition,
    volume_definition,
    resource,
    volume,
    snapshot,
    profiles,
    controller,
    demo,
)
