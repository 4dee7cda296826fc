"""The SQLite store: schema, transactions, rollback, concurrent writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from linstor_core.controller.store import Store


@pytest.fixture
def store(tmp_path: Path):
    opened = Store(tmp_path / "db.sqlite3")
    opened.open()
    yield opened
    opened.close()


def test_schema_and_default_group(store: Store):
    with store.read() as tx:
        assert [r["name"] for r in tx.all("SELECT name FROM resource_groups")] == ["DfltRscGrp"]
        assert tx.one("PRAGMA journal_mode")[0] == "wal"
        assert tx.one("PRAGMA foreign_keys")[0] == 1
    assert store.integrity_check() == "ok"


def test_exception_rolls_back(store: Store):
    with pytest.raises(RuntimeError):
        with store.write() as tx:
            tx.run("INSERT INTO nodes (name, type, address) VALUES ('a', 'Satellite', '1.1.1.1')")
            raise RuntimeError("boom")
    with store.read() as tx:
        assert tx.all("SELECT * FROM nodes") == []


def test_names_are_case_insensitive(store: Store):
    with store.write() as tx:
        tx.run("INSERT INTO nodes (name, type, address) VALUES ('Alpha', 'Satellite', '1.1.1.1')")
    with store.read() as tx:
        assert tx.one("SELECT name FROM nodes WHERE name = 'alpha'")["name"] == "Alpha"


def test_foreign_keys_enforced(store: Store):
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError):
        with store.write() as tx:
            tx.run("INSERT INTO storage_pools (node, name, kind) VALUES ('ghost', 'p', 'FILE')")


def test_concurrent_writers_serialise(store: Store):
    def bump(n: int) -> None:
        for i in range(20):
            with store.write() as tx:
                tx.run("INSERT INTO nodes (name, type, address) VALUES (?, 'Satellite', ?)",
                       f"n{n}-{i}", "1.1.1.1")

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM nodes")[0] == 160


def test_write_inside_read_is_a_bug(store: Store):
    with store.read():
        with pytest.raises(RuntimeError):
            with store.write():
                pass
