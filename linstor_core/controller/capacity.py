"""Free space of storage pools as the placer sees it: asked from the satellite, kept briefly.

LINSTOR's controller places replicas by the free space its satellites last reported, not by
asking every pool on every request; this does the same with a short time-to-live, so
autoplacing on 1,000 nodes does not cost 1,000 ``statvfs`` calls each time. A pool in which the
controller itself just made a volume is asked again on its next use. The storage-pool views
always ask the satellite. The list of pools the placer scans is kept too (``DiskfulPools``),
until the pools table changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from linstor_core.controller.satellite import PoolSpec, Satellite
from linstor_core.controller.store import Store, Tx
from linstor_core.errors import LinstorError

TTL_SECONDS = 5.0


class FreeSpace:
    """``(free_kib, total_kib)`` per pool, cached for ``ttl`` seconds."""

    def __init__(self, satellite: Satellite, *, ttl: float = TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._satellite = satellite
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[float, tuple[int, int]]] = {}  # -> (expires, value)
        self._lock = threading.Lock()

    def get_all(self, pools: Sequence[tuple[str, str]],
                spec_of: Callable[[int], PoolSpec]) -> list[tuple[int, int] | LinstorError]:
        """``(free_kib, total_kib)`` of every ``(node, pool)``, in order, or the error the
        satellite raised for a pool it cannot read (its directory is gone, say), so one broken
        pool does not hide the others; ``spec_of(i)`` is called only to ask the satellite about
        ``pools[i]``. One clock reading and one lock for all: the autoplacer asks for every pool
        of the cluster on each placement. An error is not kept: the next call asks again.

        Pools are named as the controller records them (names are unique ignoring case, and
        every caller passes a record's names), so the keys need no case folding.
        """
        now = self._clock()
        with self._lock:
            cached = [self._known.get(pool) for pool in pools]
        values: list[tuple[int, int] | LinstorError] = []
        for index, known in enumerate(cached):
            if known is not None and known[0] > now:
                values.append(known[1])
                continue
            try:
                value = self._satellite.capacity(spec_of(index))
            except LinstorError as error:
                values.append(error)
                continue
            with self._lock:
                self._known[pools[index]] = (now + self._ttl, value)
            values.append(value)
        return values

    def forget(self, pool: PoolSpec) -> None:
        """Ask the satellite again next time (the controller changed what the pool holds)."""
        with self._lock:
            self._known.pop((pool.node, pool.name), None)


PoolRow = tuple[str, str, str, "str | None"]
"""``(node, name, kind, directory)`` of one storage pool."""


class DiskfulPools:
    """Every diskful pool, kept in memory between changes of the pools table.

    The autoplacer scans all of them on each placement; on 1,000 nodes the query and its rows
    cost as much as the placing. The list is read again when the store says the table changed
    (``Store.version``), and kept only when read inside a write transaction: that one holds
    the write lock, so its snapshot is the newest, while a read snapshot may be older than the
    version it would be kept under. A transaction that changed the pools itself reads them.
    """

    _SQL = ("SELECT node, name, kind, directory FROM storage_pools WHERE kind != 'DISKLESS' "
            "ORDER BY node, name")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._kept: tuple[int, tuple[PoolRow, ...]] | None = None

    def rows(self, tx: Tx) -> tuple[PoolRow, ...]:
        if tx.touches("storage_pools"):
            return tuple(tx.tuples(self._SQL))
        version = self._store.version("storage_pools")
        kept = self._kept
        if kept is not None and kept[0] == version:
            return kept[1]
        rows = tuple(tx.tuples(self._SQL))
        if tx.writable:
            self._kept = (version, rows)
        return rows
