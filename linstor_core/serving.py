"""Serving a cheroot server in the main thread until SIGTERM or SIGINT, then stopping it cleanly.

Both long-running servers (the embedded controller and the Docker plugin) stop on a signal.
The usual way, a handler that raises KeyboardInterrupt as Ctrl-C does, is unsafe here: the
exception lands wherever the main thread happens to be, and in cheroot's accept loop that is
often inside the request queue's ``notify()``. Interrupted between waking a worker and taking
it off the waiters list, the queue loses a later wake-up, so one worker never sees its shutdown
request and ``stop()`` joins it forever (seen as a controller that ignored SIGTERM). So the
handler here only asks: a thread of its own, waiting for the signal, runs ``server.stop()``
(which waits for the accept loop the main thread runs) and ``serve()`` returns once the loop has
ended.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from cheroot.server import HTTPServer

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def serve_until_signalled(server: HTTPServer) -> None:
    """``server.serve()`` (after ``prepare()``) until SIGTERM/SIGINT; returns with it stopped.

    Must run in the main thread (only it receives signals). The previous handlers are put back
    on return, whatever ended the serving.
    """
    received: list[int] = []
    requested = threading.Event()

    def stop_when_asked() -> None:
        requested.wait()
        if received:
            log.info("%s: stopping", signal.Signals(received[0]).name)
        server.stop()

    def ask_to_stop(signum: int, frame: FrameType | None) -> None:
        # Only sets an event no other code of this thread touches: a handler that took a lock
        # (starting a thread, logging) could find this thread already holding it.
        received.append(signum)
        requested.set()

    stopper = threading.Thread(target=stop_when_asked, name="stop-on-signal", daemon=True)
    stopper.start()
    previous = {number: signal.signal(number, ask_to_stop) for number in STOP_SIGNALS}
    try:
        server.serve()
    finally:
        requested.set()
        stopper.join()
        for number, handler in previous.items():
            signal.signal(number, handler)


__all__ = ["STOP_SIGNALS", "serve_until_signalled"]
