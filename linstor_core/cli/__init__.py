"""``linstor-core``: the linstor client's grammar on the bundle's REST client, plus the embedded
controller and the demo.

``main(argv)`` is the console entry point and is also called in-process (the demo, tests): it
returns the exit status instead of exiting, and never lets a traceback out for a LINSTOR error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from linstor_core.cli.context import Context
from linstor_core.cli.output import Output
from linstor_core.cli.parser import PROG, UsageError, build_parser
from linstor_core.errors import LinstorError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
_EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run one command; return 0 (done), 1 (LINSTOR error, printed) or 2 (usage error)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    # A name or size is refused while parsing, before args exist: honour -m for that error too.
    out = Output(stdout, stderr, machine_readable="-m" in arguments or "--machine-readable" in arguments)
    try:
        args = build_parser().parse_args(arguments)
    except SystemExit as done:  # argparse printed help (0) or a usage error (2)
        return int(done.code or 0)
    except LinstorError as error:  # a name or size refused while parsing
        out.error(error)
        return EXIT_ERROR
    out = Output(stdout, stderr, machine_readable=args.machine_readable, ascii=args.no_utf8)
    try:
        return _run(args, out, stderr)
    except BrokenPipeError:  # the reader left (``| head``): stop quietly, as other tools do
        _discard_output(stdout)
        return EXIT_ERROR


def _run(args: argparse.Namespace, out: Output, stderr: TextIO) -> int:
    """The command's handler, with every LINSTOR error and bug turned into an exit status."""
    try:
        args.handler(args, Context(args, out))
    except UsageError as error:
        print(f"{PROG}: usage error: {error.message}", file=stderr)
        return EXIT_USAGE
    except LinstorError as error:
        out.error(error)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return _EXIT_INTERRUPTED
    except BrokenPipeError:
        raise  # not a bug: main stops quietly
    except Exception as bug:  # the edge of the program: a bug must still not print a traceback
        if args.debug:
            raise
        print(f"ERROR: internal error in linstor-core: {type(bug).__name__}: {bug}\n"
              "  correction: this is a bug; rerun with --debug and report the traceback", file=stderr)
        return EXIT_ERROR
    finally:
        out.finish()
    return EXIT_OK


def _discard_output(stdout: TextIO) -> None:
    """Point the process's stdout at /dev/null, so flushing it at exit raises nothing more."""
    if stdout is not sys.stdout:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


__all__ = ["main", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE"]
