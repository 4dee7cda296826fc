"""``demo``: the seed article's walkthrough on a throw-away embedded controller."""

from __future__ import annotations

import argparse

from linstor_core.cli.context import Context
from linstor_core.cli.parser import Subparsers, add_command


def demo(args: argparse.Namespace, ctx: Context) -> None:
    # Imported here: the demo pulls in the controller and its web stack.
    from linstor_core.demo import run_demo

    run_demo(ctx.out.stdout)


_DESCRIPTION = """\
Run the seed article end to end on a temporary state directory: start the embedded controller
on a free loopback port, create the nodes vulcan, kronos, remus and romulus with a FILE_THIN
pool 'thinpool' each, then run the article's commands in order, printing each command and its
output: LocalData_00000 on vulcan and kronos, the replicated SharedData on DRBD port 7000 /
minor 1000, a replica migration, a snapshot, a restore to SharedData_Restore and a rollback.

As root each node's pool is an xfs filesystem (mkfs.xfs -m reflink=1) on a loop device; as
another user pools are plain directories and the demo says which steps it cannot show.
Everything is cleaned up at the end, also after a failure (exit status 1)."""


def register(commands: Subparsers) -> None:
    add_command(
        commands, "demo", summary="run the seed walkthrough on a throw-away controller",
        description=_DESCRIPTION, examples=("demo", "demo | less -R"),
        idempotent="yes: every run starts from an empty temporary directory and removes it.",
        handler=demo, client_options=False,
    )
