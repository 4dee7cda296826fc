"""The stop signal handler of linstor_core.serving asks and never raises (deterministic).

A handler that raised would land in whatever the serving thread was doing; in cheroot that
once was the request queue's notify(), and the server then ignored SIGTERM forever.
"""

from __future__ import annotations

import signal
import threading

import pytest

from linstor_core.serving import STOP_SIGNALS, serve_until_signalled


class ServerThatSignalsItself:
    """Serves until stop(), as cheroot does; the signal arrives in the middle of serving."""

    def __init__(self, number: signal.Signals) -> None:
        self.number = number
        self.stopped = threading.Event()
        self.went_on_after_the_signal = False
        self.stop_calls = 0

    def serve(self) -> None:
        signal.raise_signal(self.number)  # the handler runs here, in this thread
        self.went_on_after_the_signal = True
        assert self.stopped.wait(10), "nothing called stop() after the signal"

    def stop(self) -> None:
        self.stop_calls += 1
        self.stopped.set()


@pytest.mark.parametrize("number", STOP_SIGNALS, ids=lambda number: number.name)
def test_the_signal_interrupts_nothing_and_stop_ends_the_serving(number: signal.Signals) -> None:
    before = {each: signal.getsignal(each) for each in STOP_SIGNALS}
    server = ServerThatSignalsItself(number)
    serve_until_signalled(server)  # type: ignore[arg-type]
    assert server.went_on_after_the_signal
    assert server.stop_calls == 1
    assert {each: signal.getsignal(each) for each in STOP_SIGNALS} == before


def test_a_second_signal_while_stopping_changes_nothing() -> None:
    """One during the shutdown (here from inside stop()) neither stops twice nor hangs."""
    class SignalsTwice(ServerThatSignalsItself):
        def stop(self) -> None:
            signal.raise_signal(signal.SIGTERM)  # the second one, during the shutdown
            super().stop()

    server = SignalsTwice(signal.SIGINT)
    serve_until_signalled(server)  # type: ignore[arg-type]
    assert server.stop_calls == 1


def test_serving_that_ends_without_a_signal_still_stops_the_server() -> None:
    class FailingServer(ServerThatSignalsItself):
        def serve(self) -> None:
            raise OSError("accept failed")

    server = FailingServer(signal.SIGTERM)
    with pytest.raises(OSError, match="accept failed"):
        serve_until_signalled(server)  # type: ignore[arg-type]
    assert server.stop_calls == 1
