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


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
"""SIGTERM: a service stopping (systemd signals every process of it) or an admin; SIGHUP: the
terminal or the tunnel gone; SIGINT: Ctrl-C."""


@contextmanager
def stops_raise(correction: str) -> Iterator[None]:
    """Inside the block, a stop signal raises ``Stopped`` where the main thread is, instead of
    ending the process there: the block's clean-up runs (a half-made disk is deleted) and the
    caller still hears why. While a controller request is in flight the signal waits for its
    answer (``defer``). Outside the main thread (a test's) nothing is installed."""
    from linstor_core.errors import Stopped  # errors imports nothing of this module's

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        if defer(signum):
            return
        raise Stopped(f"stopped by {signal.Signals(signum).name}", correction=correction)

    with handled(STOP_SIGNALS, stop):
        yield


__all__ = ["Handler", "STOP_SIGNALS", "defer", "handled", "stops_raise", "uninterrupted"]
