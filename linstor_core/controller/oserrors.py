"""An OSError of the controller's own file work, as the ``StorageError`` an operator can act on.

Pools, the state directory's logs and the DRBD configs all live on filesystems that fill up or
fail; a full one (ENOSPC, EDQUOT) is the operator's to fix, never an internal error, so the
reply names the directory, what it holds, and to free space there.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from linstor_core.errors import StorageError


@contextmanager
def os_errors(argv: Sequence[str], directory: Path, where: str) -> Iterator[None]:
    """An OSError of the work inside (``argv`` says what it was) leaves as a ``StorageError``
    naming ``where`` (what ``directory`` holds) and the fix. A ``StorageError`` of the work
    (a provider's own: a reflink refused) passes unchanged."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            correction = f"free space on the filesystem of {directory} ({where}) or grow it, then try again"
        else:
            correction = f"check the directory {directory} of {where}"
        raise StorageError(argv, error.errno or 1, f"{error.strerror or error} ({where})",
                           correction=correction) from None


__all__ = ["os_errors"]
