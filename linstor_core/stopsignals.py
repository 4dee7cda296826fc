"""Handling the signals that stop a program for the length of a block, then the old handlers;
and blocks a stop must not cut in two.

Shared by the servers (``serving``) and ``linstor-one`` (whose stop signals raise where the
action is). The handlers put back are exactly the ones found, even when installing one of
them failed half-way; a handler Python did not install (``None``) comes back as the default.

A handler that raises may ask whether the main thread is ``uninterrupted()`` (the client wraps
each HTTP exchange in it) and ``defer()`` instead: the signal is raised again when the block
ends. A request cut off in flight would leave the caller not knowing what the controller did
(a spawn it then finishes after the caller's clean-up looked), where waiting for the answer
costs at most the request's timeout.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

Handler = Callable[[int, FrameType | None], None]


class _Deferral(threading.local):
    """Per thread: how deep in ``uninterrupted`` blocks, and the signal deferred meanwhile."""

    depth = 0
    pending: int | None = None


_deferral = _Deferral()


@contextmanager
def handled(signals: Sequence[signal.Signals], handler: Handler) -> Iterator[None]:
    """``handler`` for each of ``signals`` inside the block (main thread only, as Python requires)."""
    previous: dict[signal.Signals, object] = {}
    try:
        for number in signals:
            previous[number] = signal.signal(number, handler)
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, signal.SIG_DFL if old is None else old)  # type: ignore[arg-type]


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A block a deferring handler lets finish: a signal it defers is raised again at the end."""
    _deferral.depth += 1
    try:
        yield
    finally:
        _deferral.depth -= 1
        if _deferral.depth == 0 and _deferral.pending is not None:
            pending, _deferral.pending = _deferral.pending, None
            signal.raise_signal(pending)


def defer(signum: int) -> bool:
    """Called by a handler (so in the main thread): keep ``signum`` for the end of the
    ``uninterrupted`` block this thread is in, and say so; False when it is in none."""
    if _deferral.depth == 0:
        return False
    _deferral.pending = signum
    return True


__all__ = ["Handler", "defer", "handled", "uninterrupted"]
