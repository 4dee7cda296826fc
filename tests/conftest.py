"""Suite-wide rules: tests marked ``root`` run as root (always in CI) and skip only elsewhere.

CI without root stops the run with exit status 1 before any test: counting root tests as skipped
(or xfailed) there would report a green run that never tried them.
"""

from __future__ import annotations

import os

import pytest

from prerequisites import in_ci


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: only the tests that will run count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    needing_root = [item for item in items if item.get_closest_marker("root")]
    if not needing_root:
        return
    if in_ci():
        pytest.exit(f"CI=true but not root: {len(needing_root)} tests marked root (loop devices, mkfs, "
                    "mount) must run in CI; run .ci/run (make test) as root, or unset CI to skip them "
                    "outside CI", returncode=1)
    skip = pytest.mark.skip(reason="needs root (loop devices, mkfs, mount); runs in CI")
    for item in needing_root:
        item.add_marker(skip)
