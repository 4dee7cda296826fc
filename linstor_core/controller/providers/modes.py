"""The controller's files are its own: volume data is readable by no other local user.

Every file it makes (images, snapshots, staged copies, the database, ``made-files.jsonl``) is
created 0600 and every directory it makes 0700. The mode is given at creation and then set
exactly (``fchmod``/``chmod``), so a umask never matters and is never changed: the controller
also runs inside other processes. A directory that already exists (an operator's pool
directory) keeps its mode.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700


def create_file(path: Path) -> BinaryIO:
    """Create ``path`` (it must not exist: ``FileExistsError``) 0600 and open it for writing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def open_append(path: Path) -> BinaryIO:
    """Open ``path`` to append, creating it 0600 if missing (an existing file keeps its mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


def make_dirs(path: Path) -> None:
    """Create ``path`` and any missing parents 0700; existing directories are left as they are."""
    missing: list[Path] = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    for directory in reversed(missing):
        try:
            directory.mkdir(DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue
        os.chmod(directory, DIR_MODE)


__all__ = ["FILE_MODE", "DIR_MODE", "create_file", "open_append", "make_dirs"]
