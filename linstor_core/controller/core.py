"""The controller object: state directory, store, satellite, and the shape of one mutation.

Crash-safety rule, applied by ``Controller.change()`` to every mutating request:
- storage is *made* inside the open transaction, each step registering its undo; if anything
  fails before commit, the transaction rolls back and the undos run (newest first), so a
  committed record always has its storage and a refused request leaves nothing on disk (an
  undo that fails too is a note on the refusal, which the client gets as a warning entry, and
  start-up reconciliation removes what it left);
- storage is *removed* only after commit (``Change.after_commit``), so a crash between the
  two leaves an orphan file, never a record without storage; start-up reconciliation
  (``reconcile.py``) removes such orphans; the write lock stays held until these steps are
  done, so no other request can make storage of the same name in between;
- work that must follow the commit and whose failure the client must hear (a rollback's
  switch of the replicas, recorded before the commit so start-up can finish it) is
  ``Change.then``: it runs after the clean-up steps, and if it fails the request fails.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linstor_core import retcodes as rc
from linstor_core.controller import drbd
from linstor_core.controller.capacity import DiskfulPools, FreeSpace
from linstor_core.controller.providers.modes import make_dirs
from linstor_core.controller.model import PoolRec, Repo
from linstor_core.controller.replies import entry
from linstor_core.controller.satellite import PoolSpec, Satellite
from linstor_core.controller.store import Store
from linstor_core.controller.views import ResourceRenderer
from linstor_core.errors import ConfigError, LinstorError
from linstor_core.runner import Runner, run

log = logging.getLogger(__name__)

Step = Callable[[], Any]

# Test hook for the crash tests: name of a point ("spawn", "snapshot") at which a mutation
# pauses, after its storage exists and before commit, for PAUSE_SECONDS.
PAUSE_ENV = "LINSTOR_CORE_TEST_PAUSE_AT"
PAUSE_SECONDS_ENV = "LINSTOR_CORE_TEST_PAUSE_SECONDS"


@dataclass
class Change:
    """One mutating request in progress: its repo, undo log, post-commit steps and replies."""

    repo: Repo
    mask: int
    undo: list[tuple[str, Step]] = field(default_factory=list)
    after_commit: list[tuple[str, Step]] = field(default_factory=list)
    required: list[Step] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)

    def reply(self, code: int, message: str, *, obj_refs: dict[str, str] | None = None,
              details: str = "") -> None:
        self.replies.append(entry(code, message, mask=self.mask, obj_refs=obj_refs,
                                  details=details))

    def warn_leftover(self, what: str, why: str = "") -> None:
        """Warn that the clean-up ``what`` failed (because ``why``); start-up reconciliation
        removes what it left."""
        because = f" ({why})" if why else ""
        self.reply(rc.WARN_STORAGE_ERROR,
                   f"{what} failed{because}; the leftover is removed at the next controller start.")

    def on_undo(self, what: str, step: Step) -> None:
        self.undo.append((what, step))

    def later(self, what: str, step: Step) -> None:
        self.after_commit.append((what, step))

    def then(self, step: Step) -> None:
        """Run ``step`` after the commit; unlike ``later``, its failure fails the request."""
        self.required.append(step)


class Controller:
    """The embedded controller's state and collaborators; ``open()`` does the I/O."""

    def __init__(self, state_dir: Path, *, runner: Runner = run,
                 satellite: Satellite | None = None, node_name: str | None = None,
                 drbd_loaded: bool | None = None) -> None:
        """``node_name``: this host's node (default ``uname -n``, as LINSTOR names a satellite);
        ``drbd_loaded``: whether the drbd kernel module is there (default: looked up by
        ``open()``). Only that node's DRBD devices are real, and only with the module: one
        kernel cannot give ``/dev/drbd<minor>`` to two simulated nodes (see ``deploy.py``)."""
        self.state_dir = Path(state_dir)
        self.runner = runner
        self.store = Store(self.state_dir / "controller.sqlite3")
        self.satellite = satellite if satellite is not None else Satellite(self.state_dir)
        self.free_space = FreeSpace(self.satellite)
        self.diskful_pools = DiskfulPools(self.store)
        self.node_name = node_name if node_name is not None else os.uname().nodename
        self.renderer = ResourceRenderer(self.node_name,
                                         lambda: drbd.read_status(runner=self.runner))
        self._drbd_given = drbd_loaded
        self.drbd_loaded = bool(drbd_loaded)
        self._state_lock: int | None = None

    def open(self) -> list[str]:
        """Create/open the database and reconcile storage with it; returns what was repaired."""
        # reconcile works on a Controller, so it is imported here, not at module level.
        from linstor_core.controller.reconcile import reconcile

        self._state_lock = _lock_state_dir(self.state_dir)
        try:
            self.store.open()
            self.drbd_loaded = (drbd.drbd_module_loaded() if self._drbd_given is None
                                else self._drbd_given)
            return reconcile(self)
        except BaseException:  # a retry in this process must not find the lock still held
            self.close()
            raise

    def close(self) -> None:
        self.store.close()
        if self._state_lock is not None:
            os.close(self._state_lock)  # the lock goes with it
            self._state_lock = None

    def pool_spec(self, pool: PoolRec) -> PoolSpec:
        directory = Path(pool.directory) if pool.directory else None
        return PoolSpec(node=pool.node, name=pool.name, kind=pool.kind, directory=directory)

    @contextmanager
    def change(self, mask: int) -> Iterator[Change]:
        """One transaction with its storage undo log (see the module docstring).

        The store's write lock is held from the transaction's start until the last
        post-commit step has run: storage is named after its record (``AA_00000.img``), so a
        removal running after the lock were released could delete the volume the next
        request creates under the same name. Nothing long runs after the commit (clones copy
        inside the transaction; a rollback's copy holds the lock in ``finish_rollback``
        anyway), so this serialises no more than the writes already are.
        """
        with self.store.locked():
            undo: list[tuple[str, Step]] = []
            try:
                with self.store.write() as tx:
                    change = Change(Repo(tx), mask)
                    undo = change.undo
                    yield change
            except BaseException as error:  # the request failed, or its commit did (a full disk)
                for what, why in _run_steps(undo[::-1], "undo"):  # the client is told what is left
                    error.add_note(f"undoing it failed too: {what}: {why}; the next controller start "
                                   "repairs what is left")
                raise
            for what, why in _run_steps(change.after_commit, "clean-up"):
                change.warn_leftover(what, why)
            for step in change.required:
                step()

    @contextmanager
    def read(self) -> Iterator[Repo]:
        """A consistent read-only view of the state."""
        with self.store.read() as tx:
            yield Repo(tx)


STATE_LOCK = "controller.lock"


def _lock_state_dir(state_dir: Path) -> int:
    """Hold ``state_dir`` for this controller alone (an exclusive ``flock`` on its lock file,
    released by the kernel when the process ends, even by SIGKILL) and return the descriptor.

    Two controllers on one state directory would each reconcile and remove the storage the
    other just made (its write lock is only in-process), so a second one is refused before
    it touches anything, naming the first one's pid."""
    make_dirs(state_dir)
    path = state_dir / STATE_LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise ConfigError(f"another controller (pid {holder}) uses the state directory {state_dir}",
                          correction="stop it, or give this controller a --state-dir of its own") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _run_steps(steps: list[tuple[str, Step]], kind: str) -> list[tuple[str, str]]:
    """Run every step even when some fail (each failure logged); returns the failed ones,
    each with its reason on one line."""
    failed = []
    for what, step in steps:
        try:
            step()
        except (LinstorError, OSError) as exc:
            log.error("%s step %r failed: %s", kind, what, exc)
            failed.append((what, exc.one_line() if isinstance(exc, LinstorError) else str(exc)))
    return failed


def crash_test_pause(point: str) -> None:
    """Sleep at ``point`` when the crash-test environment asks for it (no-op otherwise)."""
    if os.environ.get(PAUSE_ENV) == point:
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "30")))


def now_ms() -> int:
    return int(time.time() * 1000)
