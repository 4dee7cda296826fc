"""A small tmpfs for a test's storage pool, so that it fills up (ENOSPC) where the test wants.

Root only. Unmounted afterwards even when the test failed, after every loop device over a file
on it is detached (a test that fails midway leaves its controller's volumes attached).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from controller_setup import detach_loops_under


@contextmanager
def small_tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """``mount`` (made if missing) as a tmpfs of ``size`` (``mount -o size=``, e.g. ``6m``)."""
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        detach_loops_under(mount)
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount)], check=False, capture_output=True)


def resize_tmpfs(mount: Path, size: str) -> None:
    """Give the tmpfs at ``mount`` a new ``size`` (the operator freeing space)."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)
