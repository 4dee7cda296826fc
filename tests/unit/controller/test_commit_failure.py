"""A commit that fails (a full state disk: SQLITE_FULL) undoes the storage its request made."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from linstor_core.controller.core import Controller
from linstor_core.controller.ops import definitions, nodes, resources
from linstor_core.controller.satellite import Satellite
from linstor_core.errors import StorageError


class FailingCommit:
    """The thread's SQLite connection, whose next COMMIT fails as on a full disk."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.fail = True

    def execute(self, sql: str, *args: Any) -> Any:
        if self.fail and sql == "COMMIT":
            self.fail = False
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_a_failed_commit_leaves_neither_record_nor_storage(tmp_path: Path) -> None:
    ctl = Controller(tmp_path / "state", satellite=Satellite(tmp_path / "state", use_loop=False), drbd_loaded=False)
    ctl.open()
    try:
        with ctl.change(0) as change:
            nodes.create_node(ctl, change, "alpha", "SATELLITE", "10.0.0.1", {})
            nodes.create_pool(ctl, change, "alpha", "pool", "FILE", {"StorDriver/FileDir": str(tmp_path / "alpha")})
            definitions.create_rd(ctl, change, "vm1", layers=["STORAGE"])
            definitions.create_vds(ctl, change, "vm1", [1024])
        conn = ctl.store._local.conn
        ctl.store._local.conn = FailingCommit(conn)
        with pytest.raises(StorageError, match="database or disk is full") as failed:
            with ctl.change(0) as change:
                resources.create_many(ctl, change, "vm1", [("alpha", "pool", False)])
        assert "free space where the state directory is" in failed.value.correction
        assert not conn.in_transaction
        assert list((tmp_path / "alpha").glob("*.img")) == []  # the volume file went with its undo
        with ctl.read() as repo:
            assert repo.rscs() == []
        with ctl.change(0) as change:  # the connection serves the next request
            resources.create_many(ctl, change, "vm1", [("alpha", "pool", False)])
        assert len(list((tmp_path / "alpha").glob("*.img"))) == 1
    finally:
        ctl.close()
