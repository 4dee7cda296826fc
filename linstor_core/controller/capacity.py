"""Free space of storage pools as the placer sees it: asked from the satellite, kept briefly.

LINSTOR's controller places replicas by the free space its satellites last reported, not by
asking every pool on every request; this does the same with a short time-to-live, so
autoplacing on 1,000 nodes does not cost 1,000 ``statvfs`` calls each time. A pool in which the
controller itself just made a volume is asked again on its next use. The storage-pool views
always ask the satellite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from linstor_core.controller.satellite import PoolSpec, Satellite

TTL_SECONDS = 5.0


class FreeSpace:
    """``(free_kib, total_kib)`` per pool, cached for ``ttl`` seconds."""

    def __init__(self, satellite: Satellite, *, ttl: float = TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._satellite = satellite
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[float, tuple[int, int]]] = {}
        self._lock = threading.Lock()

    def get(self, node: str, pool: str, spec_of: Callable[[], PoolSpec]) -> tuple[int, int]:
        """``node``'s ``pool`` numbers; ``spec_of()`` is called only to ask the satellite."""
        key = (node.lower(), pool.lower())
        now = self._clock()
        with self._lock:
            cached = self._known.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        value = self._satellite.capacity(spec_of())
        with self._lock:
            self._known[key] = (now, value)
        return value

    def forget(self, pool: PoolSpec) -> None:
        """Ask the satellite again next time (the controller changed what the pool holds)."""
        with self._lock:
            self._known.pop((pool.node.lower(), pool.name.lower()), None)
