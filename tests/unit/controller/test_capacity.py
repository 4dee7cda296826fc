"""The placer's free-space cache: asked once per time-to-live, asked again after ``forget``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from linstor_core.controller.capacity import DiskfulPools, FreeSpace
from linstor_core.controller.model import NodeRec, PoolRec, Repo
from linstor_core.controller.satellite import PoolSpec
from linstor_core.controller.store import Store


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

    def get(node: str, pool: str) -> tuple[int, int]:
        return cache.get_all([(node, pool)], lambda index: spec)[0]

    assert get("a", "thin") == (100, 1000)
    now[0] = 4.9
    assert get("a", "thin") == (100, 1000)
    now[0] = 5.0
    assert get("a", "thin") == (200, 1000)
    cache.forget(spec)
    assert get("a", "thin") == (300, 1000)
    assert sat.asked == 3


def test_all_pools_at_once_ask_only_the_unknown_or_stale_ones_in_order():
    now = [0.0]
    sat = CountingSatellite()
    cache = FreeSpace(sat, ttl=5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    specs = [PoolSpec(node, "thin", "FILE_THIN", Path(f"/{node}")) for node in ("a", "b", "c")]
    asked: list[int] = []

    def spec_of(index: int) -> PoolSpec:
        asked.append(index)
        return specs[index]

    pools = [(spec.node, spec.name) for spec in specs]
    assert cache.get_all(pools[:2], spec_of) == [(100, 1000), (200, 1000)]
    assert cache.get_all(pools, spec_of) == [(100, 1000), (200, 1000), (300, 1000)]
    cache.forget(specs[0])
    assert cache.get_all(pools, spec_of) == [(400, 1000), (200, 1000), (300, 1000)]
    assert asked == [0, 1, 2, 0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "db.sqlite3")
    opened.open()
    with opened.write() as tx:
        Repo(tx).insert_node(NodeRec("a", "Satellite", "10.0.0.1", {}))
        Repo(tx).insert_pool(PoolRec("a", "thin", "FILE_THIN", "/a"))
    yield opened
    opened.close()


def test_the_pool_list_is_kept_until_a_committed_pool_change(store: Store) -> None:
    pools = DiskfulPools(store)
    with store.write() as tx:
        first = pools.rows(tx)
        assert first == (("a", "thin", "FILE_THIN", "/a"),)
    with store.write() as tx:
        assert pools.rows(tx) is first  # no query: nothing changed
        Repo(tx).insert_node(NodeRec("b", "Satellite", "10.0.0.2", {}))  # other tables keep it
    with store.write() as tx:
        assert pools.rows(tx) is first
    with store.write() as tx:
        Repo(tx).insert_pool(PoolRec("b", "thin", "FILE_THIN", "/b"))
        Repo(tx).insert_pool(PoolRec("b", "none", "DISKLESS", None))
        assert [row[0] for row in pools.rows(tx)] == ["a", "b"]  # this transaction's own change
    with store.write() as tx:
        assert [row[0] for row in pools.rows(tx)] == ["a", "b"]
        Repo(tx).delete_node("a")
    with store.read() as tx:
        assert [row[0] for row in pools.rows(tx)] == ["b"]


def test_a_rolled_back_pool_change_keeps_the_list_and_a_read_snapshot_never_fills_it(store: Store) -> None:
    pools = DiskfulPools(store)
    with store.read() as tx:
        read = pools.rows(tx)
    with store.read() as tx:
        assert pools.rows(tx) is not read  # read transactions query and keep nothing
    with store.write() as tx:
        kept = pools.rows(tx)
    version = store.version("storage_pools")
    with pytest.raises(RuntimeError, match="no"):
        with store.write() as tx:
            Repo(tx).delete_pool("a", "thin")
            raise RuntimeError("no")
    assert store.version("storage_pools") == version
    with store.write() as tx:
        assert pools.rows(tx) is kept
