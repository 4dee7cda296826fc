"""The embedded controller's only state: one SQLite file, WAL, foreign keys on.

Every mutating request runs inside ``Store.write()``: one ``BEGIN IMMEDIATE`` transaction under a
process-wide lock, so concurrent requests serialise instead of failing with ``database is
locked``, and a crash (even SIGKILL) leaves either the whole request or nothing in the file.
Reads use ``Store.read()``, a deferred transaction that sees one consistent snapshot while a
writer works (WAL). ``synchronous=FULL``: a commit is on disk before the controller goes on to
remove storage, so even a power cut cannot leave a record whose storage is already gone. Names are ``COLLATE NOCASE`` because LINSTOR identifiers are
case-insensitive while keeping the spelling they were created with.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from linstor_core.controller.providers.modes import create_file, make_dirs
from linstor_core.errors import StorageError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    type TEXT NOT NULL,
    address TEXT NOT NULL,
    props TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS storage_pools (
    node TEXT NOT NULL COLLATE NOCASE REFERENCES nodes(name),
    name TEXT NOT NULL COLLATE NOCASE,
    kind TEXT NOT NULL,
    directory TEXT,
    props TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (node, name)
);
CREATE TABLE IF NOT EXISTS resource_groups (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    select_filter TEXT NOT NULL DEFAULT '{}',
    props TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS resource_definitions (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    resource_group TEXT NOT NULL COLLATE NOCASE REFERENCES resource_groups(name),
    layers TEXT NOT NULL,
    port INTEGER UNIQUE,
    props TEXT NOT NULL DEFAULT '{}',
    clone_source TEXT COLLATE NOCASE,
    clone_status TEXT
);
CREATE TABLE IF NOT EXISTS volume_definitions (
    rd TEXT NOT NULL COLLATE NOCASE REFERENCES resource_definitions(name),
    vlmnr INTEGER NOT NULL,
    size_kib INTEGER NOT NULL,
    minor INTEGER UNIQUE,
    props TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (rd, vlmnr)
);
CREATE TABLE IF NOT EXISTS resources (
    rd TEXT NOT NULL COLLATE NOCASE REFERENCES resource_definitions(name),
    node TEXT NOT NULL COLLATE NOCASE REFERENCES nodes(name),
    pool TEXT COLLATE NOCASE,
    flags TEXT NOT NULL DEFAULT '[]',
    node_id INTEGER,
    props TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (rd, node),
    UNIQUE (rd, node_id)
);
CREATE INDEX IF NOT EXISTS resources_by_node ON resources(node);
CREATE TABLE IF NOT EXISTS volumes (
    rd TEXT NOT NULL COLLATE NOCASE,
    node TEXT NOT NULL COLLATE NOCASE,
    vlmnr INTEGER NOT NULL,
    device_path TEXT NOT NULL,
    backing TEXT,
    PRIMARY KEY (rd, node, vlmnr),
    FOREIGN KEY (rd, node) REFERENCES resources(rd, node) ON DELETE CASCADE,
    FOREIGN KEY (rd, vlmnr) REFERENCES volume_definitions(rd, vlmnr)
);
CREATE TABLE IF NOT EXISTS snapshots (
    rd TEXT NOT NULL COLLATE NOCASE REFERENCES resource_definitions(name),
    name TEXT NOT NULL COLLATE NOCASE,
    sequence INTEGER NOT NULL,
    props TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (rd, name)
);
CREATE TABLE IF NOT EXISTS snapshot_nodes (
    rd TEXT NOT NULL COLLATE NOCASE,
    snapshot TEXT NOT NULL COLLATE NOCASE,
    node TEXT NOT NULL COLLATE NOCASE REFERENCES nodes(name),
    pool TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (rd, snapshot, node),
    FOREIGN KEY (rd, snapshot) REFERENCES snapshots(rd, name) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS snapshot_volumes (
    rd TEXT NOT NULL COLLATE NOCASE,
    snapshot TEXT NOT NULL COLLATE NOCASE,
    vlmnr INTEGER NOT NULL,
    size_kib INTEGER NOT NULL,
    PRIMARY KEY (rd, snapshot, vlmnr),
    FOREIGN KEY (rd, snapshot) REFERENCES snapshots(rd, name) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS rollbacks (
    rd TEXT PRIMARY KEY COLLATE NOCASE,
    snapshot TEXT NOT NULL COLLATE NOCASE,
    FOREIGN KEY (rd, snapshot) REFERENCES snapshots(rd, name) ON DELETE CASCADE
);
INSERT OR IGNORE INTO resource_groups (name, description) VALUES ('DfltRscGrp', '');
"""


class Store:
    """Owns the SQLite file; hands out per-thread connections inside transactions.

    The constructor opens nothing; ``open()`` creates the schema. One connection per thread
    (sqlite3 connections must not be shared across threads mid-transaction); all writers take
    the same lock, so at most one write transaction exists at any time.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._registry_lock = threading.Lock()
        self._versions: dict[str, int] = {}

    def version(self, table: str) -> int:
        """How many committed write transactions have changed ``table`` (see ``Tx.touch``):
        what an in-memory cache of the table checks before trusting itself."""
        return self._versions.get(table, 0)

    def open(self) -> None:
        """Create the file and schema if missing (idempotent), private to the controller.

        The directory is made 0700 and an empty database file 0600 before SQLite opens it
        (see ``providers.modes``): SQLite creates its ``-wal`` and ``-shm`` files with the
        database's mode, and takes an empty file as a new database.
        """
        make_dirs(self.path.parent)
        try:
            create_file(self.path).close()
        except FileExistsError:
            pass
        conn = self._connection()
        conn.execute("PRAGMA journal_mode=WAL")
        with self.write() as tx:
            tx.executescript_in_tx(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
            with self._registry_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator["Tx"]:
        """One write transaction: commit on success, roll back on any exception."""
        with self._write_lock:
            conn = self._connection()
            if getattr(self._local, "writing", False):
                yield Tx(conn, self._local.touched)
                return
            if conn.in_transaction:
                raise RuntimeError("write transaction requested inside a read transaction")
            conn.execute("BEGIN IMMEDIATE")
            touched: set[str] = set()
            self._local.writing, self._local.touched = True, touched
            try:
                yield Tx(conn, touched)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                self._local.writing = False
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as error:  # a full disk (SQLITE_FULL), an I/O error
                if conn.in_transaction:  # SQLite leaves some failed commits open: never reuse it
                    conn.execute("ROLLBACK")
                raise StorageError(["sqlite3", "COMMIT", str(self.path)], getattr(error, "sqlite_errorcode", 1),
                                   str(error), correction="free space where the state directory is, then "
                                   "repeat the request (nothing of it was kept)") from None
            for table in touched:
                self._versions[table] = self.version(table) + 1

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the write lock across one or more write transactions and the work after them.

        What a committed change does to storage (removing a deleted volume's file) must happen
        before the next writer can create a volume of the same name; otherwise that removal
        deletes the new volume. Reentrant: ``write()`` inside it takes the lock again.
        """
        with self._write_lock:
            yield

    @contextmanager
    def read(self) -> Iterator["Tx"]:
        """A read-only snapshot (deferred transaction); never blocks on the write lock."""
        conn = self._connection()
        if conn.in_transaction:
            yield Tx(conn)
            return
        conn.execute("BEGIN")
        try:
            yield Tx(conn)
        finally:
            conn.execute("ROLLBACK")

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``'s answer ("ok" when the file is sound)."""
        with self.read() as tx:
            return str(tx.one("PRAGMA integrity_check")[0])

    def close(self) -> None:
        """Close every connection any thread opened (server shutdown)."""
        with self._registry_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


class Tx:
    """A thin wrapper over a connection inside a transaction: the only way SQL is run."""

    def __init__(self, conn: sqlite3.Connection, touched: set[str] | None = None) -> None:
        self._conn = conn
        self._touched = touched

    @property
    def writable(self) -> bool:
        """Whether this is a write transaction (which holds the store's write lock)."""
        return self._touched is not None

    def touch(self, table: str) -> None:
        """Record that this transaction changes ``table``: its ``Store.version`` moves on commit."""
        if self._touched is None:
            raise RuntimeError(f"{table} changed outside a write transaction")
        self._touched.add(table)

    def touches(self, table: str) -> bool:
        """Whether this transaction has changed ``table`` (not committed yet)."""
        return self._touched is not None and table in self._touched

    def all(self, sql: str, *args: object) -> list[sqlite3.Row]:
        return self._conn.execute(sql, args).fetchall()

    def tuples(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Like :meth:`all` with plain tuples: for scans of thousands of rows (every pool of
        the cluster on each autoplace), where making and unpacking ``sqlite3.Row`` objects
        costs as much as the query."""
        cursor = self._conn.cursor()
        cursor.row_factory = None
        rows: list[tuple[Any, ...]] = cursor.execute(sql, args).fetchall()
        return rows

    def one(self, sql: str, *args: object) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(sql, args).fetchone()
        return row

    def run(self, sql: str, *args: object) -> int:
        """Execute a statement; returns the number of rows changed."""
        return self._conn.execute(sql, args).rowcount

    def executescript_in_tx(self, script: str) -> None:
        for statement in script.split(";"):
            if statement.strip():
                self._conn.execute(statement)
