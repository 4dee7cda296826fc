"""A capacity answer shared by every ``linstor-pve status`` process for ``statuscache`` seconds.

pvestatd asks every 10 s on every node (every second while the GUI shows the storage), and
each ask is a fresh process: without a file cache a cluster of ten nodes keeps the controller
busy answering the same question. The file is written atomically (temp file + rename), so a
reader sees the old answer or the new one, never half of one; a broken file is just a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from linstor_core.models import Capacity


@dataclass(frozen=True)
class StatusCache:
    """Cache directory, lifetime and a wall clock (the cache is shared across processes)."""

    directory: Path
    seconds: int
    clock: Callable[[], float] = time.time

    def _file(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self.directory / f"status-{digest}.json"

    def _read(self, path: Path) -> Capacity | None:
        try:
            body = json.loads(path.read_text())
            if not 0 <= self.clock() - float(body["time"]) < self.seconds:
                return None
            return Capacity(**{k: int(v) for k, v in body["capacity"].items()})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, path: Path, capacity: Capacity) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".status-")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump({"time": self.clock(), "capacity": asdict(capacity)}, out)
            os.replace(temp, path)
        except OSError:
            Path(temp).unlink(missing_ok=True)
            raise

    def get(self, key: str, fetch: Callable[[], Capacity]) -> Capacity:
        """The cached answer for ``key`` if fresh, else ``fetch()`` stored for the next caller.

        ``key`` must name everything the answer depends on (controllers and resource group).
        """
        if self.seconds <= 0:
            return fetch()
        path = self._file(key)
        cached = self._read(path)
        if cached is not None:
            return cached
        capacity = fetch()
        self._write(path, capacity)
        return capacity
