"""When a test may skip: only when neither root nor CI, which are the runs promised to be complete.

``make test`` (and ``.ci/run``, which is all CI runs) installs every tool the suite needs as
root (``make sysdeps``), so there a missing prerequisite is a broken set-up, never a reason to
skip.
"""

from __future__ import annotations

import os


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def must_run() -> bool:
    """True as root or in CI: every test runs, and a missing prerequisite fails it."""
    return os.geteuid() == 0 or in_ci()
