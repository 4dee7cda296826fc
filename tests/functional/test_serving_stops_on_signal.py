"""SIGTERM stops a busy cheroot server every time (linstor_core.serving), over real TCP.

The rounds repeat what once hung the controller: a signal landing while the accept loop hands
connections to the workers. Each round must end with every worker thread gone.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest
import requests
from cheroot import wsgi

from linstor_core.serving import STOP_SIGNALS, serve_until_signalled

ROUNDS = 10
DEADLINE_S = 20


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def cheroot_workers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("CP Server")]


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail, rather than hang the suite, when serving does not end in time."""
    def expired(signum: int, frame: FrameType | None) -> None:
        raise AssertionError(f"the server did not stop within {seconds} s of the signal")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def hammer_then_signal(url: str, signals: list[signal.Signals], answered: list[int]) -> None:
    """New connections as fast as they go; the signals after the tenth answer, then more requests."""
    for attempt in range(200):
        if attempt == 10:
            for number in signals:
                os.kill(os.getpid(), number)
        try:
            answered.append(requests.get(url, timeout=5).status_code)
        except requests.RequestException:
            return  # stopped: the listening socket is gone, or the answer was cut off


@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT, signal.SIGTERM]], ids=["term", "int-then-term"])
def test_a_signal_stops_a_busy_server_every_time(signals: list[signal.Signals]) -> None:
    before = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    workers_before = cheroot_workers()
    for _ in range(ROUNDS):
        server = wsgi.Server(("127.0.0.1", 0), hello, numthreads=16)
        server.prepare()
        url = f"http://127.0.0.1:{server.bind_addr[1]}/"
        answered: list[int] = []
        client = threading.Thread(target=hammer_then_signal, args=(url, signals, answered))
        client.start()
        try:
            with deadline(DEADLINE_S):
                serve_until_signalled(server)
        finally:
            server.stop()
            client.join()
        assert answered[:10] == [200] * 10
        assert cheroot_workers() == workers_before
        assert {number: signal.getsignal(number) for number in STOP_SIGNALS} == before
