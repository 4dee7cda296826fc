"""The argument grammar: global options, helpers every command module uses, the full parser.

Commands follow the ``linstor`` client's grammar (``resource create [-s POOL] NODE... RESOURCE``,
short aliases ``r c``), so a line from LINSTOR's documentation runs unchanged after
``linstor-core``. Each command's ``--help`` is written like a man page: what it does, examples,
whether it is idempotent and the exit status.

Names and sizes are checked while parsing with :mod:`linstor_core.naming` and
:mod:`linstor_core.units`; their ``InvalidInput`` is a LINSTOR error (exit 1 with the reason and
the fix), not a usage error, because the grammar was right and the value was not.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from linstor_core import __version__
from linstor_core.errors import LinstorError
from linstor_core.units import parse_size_kib

PROG = "linstor-core"

EXIT_STATUS = """\
exit status:
  0    success
  1    refused or failed: the error, its cause and the correction are printed on stderr
       (also an invalid name or size, which is checked as LINSTOR checks it)
  2    usage error: unknown command or option, missing argument, an option's value not
       of its type (printed by the argument parser, as text also with -m)
  130  interrupted (Ctrl-C)"""

Handler = Callable[[argparse.Namespace, Any], None]
Subparsers = Any  # argparse's private _SubParsersAction


class UsageError(LinstorError):
    """Arguments that parse but do not make a command (e.g. nodes and ``--auto-place``): exit 2."""


def comma_list(text: str) -> list[str]:
    """``"drbd,storage"`` -> ``["drbd", "storage"]``; list options also accept repetition."""
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"empty item in {text!r}")
    return items


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def size_kib(text: str) -> int:
    """A size as the linstor client reads it: suffix optional, a plain number is GiB."""
    return parse_size_kib(text, default_unit="GiB")


def _global_options(parser: argparse.ArgumentParser, *, leaf: bool) -> None:
    """Options valid before the command and (for convenience) after it.

    The copy on every command (``leaf``) uses ``SUPPRESS`` defaults so it cannot reset what was
    given before the command, and is left out of the command's help to keep it readable.
    """
    def spec(value: object, text: str) -> dict[str, object]:
        return {"default": argparse.SUPPRESS, "help": argparse.SUPPRESS} if leaf else {"default": value, "help": text}

    group = parser.add_argument_group("global options (also accepted after the command)")
    group.add_argument(
        "--controllers", metavar="URL,...",
        **spec(None, "controllers to try in order (linstor://host, linstor+ssl://host, http(s)://host:port); "
               "default: $LS_CONTROLLERS, then controllers= in ~/.config/linstor/linstor-client.conf or "
               "/etc/linstor/linstor-client.conf (each with its linstor-client.d/*.conf drop-ins), then "
               "linstor://localhost"),
    )
    group.add_argument("-m", "--machine-readable", action="store_true",
                       **spec(False, "print JSON instead of tables and SUCCESS lines"))
    group.add_argument("--token", dest="client_token", metavar="TOKEN",
                       **spec(None, "bearer token for a controller that requires one (default: $LS_TOKEN, "
                               "then the file $LS_TOKEN_FILE names, then token-file= in the config file)"))
    group.add_argument("--no-utf8", action="store_true", **spec(False, "draw tables with ASCII characters only"))
    group.add_argument("--debug", action="store_true", **spec(False, "show the Python traceback of an internal error"))


_LEAF_GLOBALS = argparse.ArgumentParser(add_help=False)
_global_options(_LEAF_GLOBALS, leaf=True)


def add_group(subparsers: Subparsers, name: str, *, aliases: Sequence[str] = (), summary: str,
              description: str) -> Subparsers:
    """Add an object group (``node``, ``resource``...) and return its subcommand registry."""
    parser = subparsers.add_parser(
        name, aliases=list(aliases), help=summary, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_STATUS,
    )
    return parser.add_subparsers(title="commands", dest=f"{name}_command", metavar="COMMAND",
                                 required=True)


def add_command(subparsers: Subparsers, name: str, *, aliases: Sequence[str] = (), summary: str,
                description: str, examples: Sequence[str], idempotent: str,
                handler: Handler, client_options: bool = True) -> argparse.ArgumentParser:
    """Add one command whose help reads like a man page; ``handler(args, ctx)`` runs it.

    ``client_options=False`` for commands that talk to no controller (they then do not accept
    the global options after their name).
    """
    example_lines = "\n".join(f"  {PROG} {example}" for example in examples)
    idempotent_text = textwrap.fill(idempotent, width=92, initial_indent="  ", subsequent_indent="  ")
    globals_note = f"\n\nglobal options: see '{PROG} --help'" if client_options else ""
    epilog = f"examples:\n{example_lines}\n\nidempotent:\n{idempotent_text}{globals_note}\n\n{EXIT_STATUS}"
    parser = subparsers.add_parser(
        name, aliases=list(aliases), help=summary, description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_LEAF_GLOBALS] if client_options else [],
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole ``linstor-core`` grammar (one parser, built without any I/O)."""
    from linstor_core.cli.commands import COMMAND_MODULES

    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Manage LINSTOR storage with the linstor client's grammar, and run the bundle's\n"
            "embedded LINSTOR-compatible controller.\n\n"
            "Every command except 'controller', 'demo' and 'profiles check' talks to a LINSTOR\n"
            "controller over the REST API v1: the embedded one ('linstor-core controller') or a\n"
            "real LINSTOR cluster. Sizes take the linstor client's suffixes (K, M, G, T with\n"
            "1024 steps; KB, MB, GB with 1000 steps); a plain number means GiB."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} controller --state-dir /var/lib/linstor-core &\n"
            f"  {PROG} node create vulcan 127.0.0.1\n"
            f"  {PROG} storage-pool create filethin vulcan thinpool /srv/thinpool\n"
            f"  {PROG} resource-definition create --layer-list storage LocalData\n"
            f"  {PROG} volume-definition create LocalData 150m\n"
            f"  {PROG} resource create --storage-pool thinpool vulcan LocalData\n"
            f"  {PROG} -m volume list\n"
            f"  {PROG} demo\n\n"
            f"Run '{PROG} COMMAND --help' (e.g. '{PROG} resource create --help') for details.\n\n"
            f"{EXIT_STATUS}"
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, leaf=False)
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser
