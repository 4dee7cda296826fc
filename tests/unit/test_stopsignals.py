"""linstor_core.stopsignals: handlers for a block, and blocks a deferring handler lets finish."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import pytest

from linstor_core.stopsignals import defer, handled, uninterrupted


class Stop(Exception):
    pass


def deferring_stop(signum: int, frame: FrameType | None) -> None:
    if not defer(signum):
        raise Stop(signal.Signals(signum).name)


def test_outside_a_block_the_handler_raises_at_once() -> None:
    with handled([signal.SIGTERM], deferring_stop), pytest.raises(Stop, match="SIGTERM"):
        signal.raise_signal(signal.SIGTERM)


def test_inside_nested_blocks_the_signal_waits_for_the_outermost_end() -> None:
    done = []
    with handled([signal.SIGTERM], deferring_stop), pytest.raises(Stop, match="SIGTERM"):
        with uninterrupted():
            with uninterrupted():
                signal.raise_signal(signal.SIGTERM)
                done.append("inner")
            done.append("outer")  # the inner end is not the outermost: still deferred
    assert done == ["inner", "outer"]


def test_a_block_in_another_thread_defers_nothing_of_the_main_threads() -> None:
    entered, release = threading.Event(), threading.Event()

    def worker() -> None:
        with uninterrupted():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert entered.wait(10)
        with handled([signal.SIGTERM], deferring_stop), pytest.raises(Stop):
            signal.raise_signal(signal.SIGTERM)
    finally:
        release.set()
        thread.join(10)


def test_the_handlers_found_are_put_back_even_after_a_failed_install() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(OSError), handled([signal.SIGTERM, signal.SIGKILL], deferring_stop):
        pass  # SIGKILL cannot be handled: installing it fails after SIGTERM's was installed
    assert signal.getsignal(signal.SIGTERM) == before
