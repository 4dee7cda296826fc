"""When a test may skip: only when neither root nor CI, which are the runs promised to be complete.

``make test`` (and ``.ci/run``, which is all CI runs) installs every tool the suite needs as
root (``make sysdeps``), so there a missing prerequisite is a broken set-up, never a reason to
skip.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def must_run() -> bool:
    """True as root or in CI: every test runs, and a missing prerequisite fails it."""
    return os.geteuid() == 0 or in_ci()


def require(*tools: str, package: str) -> str:
    """The first of ``tools`` found (on PATH, then /usr/sbin and /sbin).

    Without any, the test fails where it must run (``must_run``), saying what to install, and
    skips elsewhere.
    """
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    for tool in tools:
        found = shutil.which(tool, path=search)
        if found:
            return found
    message = f"needs {' or '.join(tools)}: apt-get install {package} (make sysdeps does, as root)"
    if must_run():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
