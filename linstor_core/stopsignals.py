"""Handling the signals that stop a program for the length of a block, then the old handlers.

Shared by the servers (``serving``) and ``linstor-one`` (whose stop signals raise where the
action is). The handlers put back are exactly the ones found, even when installing one of
them failed half-way; a handler Python did not install (``None``) comes back as the default.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

Handler = Callable[[int, FrameType | None], None]


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


__all__ = ["Handler", "handled"]
