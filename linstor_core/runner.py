"""The one way the bundle runs a command: an argument list, a timeout, stderr kept in the error.

Nothing here ever goes through a shell. Callers receive a ``Runner`` (``run`` in production,
``FakeRunner`` in unit tests) instead of calling ``subprocess`` themselves, so every storage
command can be seen, faked and asserted.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from linstor_core.errors import StorageError

DEFAULT_TIMEOUT = 120.0
TIMED_OUT = -1
"""The exit code a ``StorageError`` carries when the command was killed at its timeout."""

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Where the storage tools are: mkfs, losetup and blkdiscard live in /sbin on Debian, which a
non-login root shell, and any user's ssh login, may not have on PATH."""


class Runner(Protocol):
    def __call__(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
    ) -> str: ...


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "") + ":" + SYSTEM_PATH
    env["LC_ALL"] = "C"
    return env


def run(argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None) -> str:
    """Run ``argv`` and return its stdout; raise ``StorageError`` on failure or timeout."""
    args = [str(a) for a in argv]
    try:
        done = subprocess.run(
            args, input=stdin, capture_output=True, timeout=timeout, env=_environment(), check=False
        )
    except FileNotFoundError:
        raise StorageError(args, 127, f"{args[0]}: command not found",
                           correction=f"install the package that provides {args[0]}") from None
    except subprocess.TimeoutExpired:
        raise StorageError(args, TIMED_OUT, f"timed out after {timeout:g} s") from None
    stdout = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise StorageError(args, done.returncode, done.stderr.decode(errors="replace"))
    return stdout


Reply = str | StorageError | Callable[[Sequence[str]], str]
Call = TypeVar("Call")
Answer = TypeVar("Answer")


def next_expected(expected: list[tuple[Call, Answer]], call: Call, what: str) -> Answer:
    """The reply scripted for ``call``, the next expected one; for the fakes of unit tests.

    A call that is not the next expected one fails the test (``what`` names the kind in the
    message) instead of silently succeeding; a ``StorageError`` reply is raised.
    """
    if not expected:
        raise AssertionError(f"unexpected {what} {call}")
    want, reply = expected.pop(0)
    if want != call:
        raise AssertionError(f"expected {what} {want}, got {call}")
    if isinstance(reply, StorageError):
        raise reply
    return reply


@dataclass
class FakeRunner:
    """A runner for unit tests: answers only the commands it was told to expect, in order.

    ``expect(["losetup", "-f"], "/dev/loop0\\n")`` queues one answer; a command that was not
    expected next fails the test instead of silently succeeding.
    """

    expected: list[tuple[list[str], Reply]] = field(default_factory=list)
    calls: list[list[str]] = field(default_factory=list)
    stdins: list[bytes | None] = field(default_factory=list)
    """What each call was given on stdin, in the order of ``calls``."""

    def expect(self, argv: Sequence[str], reply: Reply = "") -> "FakeRunner":
        self.expected.append(([str(a) for a in argv], reply))
        return self

    def __call__(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
    ) -> str:
        args = [str(a) for a in argv]
        self.calls.append(args)
        self.stdins.append(stdin)
        reply = next_expected(self.expected, args, "command")
        if callable(reply):
            return reply(args)
        return reply

    def assert_done(self) -> None:
        if self.expected:
            raise AssertionError(f"commands never run: {[argv for argv, _ in self.expected]}")
