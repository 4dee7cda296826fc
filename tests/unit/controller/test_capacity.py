"""The placer's free-space cache: asked once per time-to-live, asked again after ``forget``."""

from __future__ import annotations

from pathlib import Path

from linstor_core.controller.capacity import FreeSpace
from linstor_core.controller.satellite import PoolSpec


class CountingSatellite:
    def __init__(self) -> None:
        self.asked = 0

    def capacity(self, pool: PoolSpec) -> tuple[int, int]:
        self.asked += 1
        return (100 * self.asked, 1000)


def test_cached_until_ttl_then_asked_again():
    now = [0.0]
    sat = CountingSatellite()
    cache = FreeSpace(sat, ttl=5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    spec = PoolSpec("a", "thin", "FILE_THIN", Path("/x"))
    assert cache.get("a", "thin", lambda: spec) == (100, 1000)
    assert cache.get("A", "THIN", lambda: spec) == (100, 1000)
    now[0] = 4.9
    assert cache.get("a", "thin", lambda: spec) == (100, 1000)
    now[0] = 5.0
    assert cache.get("a", "thin", lambda: spec) == (200, 1000)
    cache.forget(spec)
    assert cache.get("a", "thin", lambda: spec) == (300, 1000)
    assert sat.asked == 3
