"""drbd.backing_size_kib against drbdmeta itself: the DRBD device over a backing volume of that
size offers the whole volume definition, no more than 4 KiB beyond it.

drbdmeta writes and reads metadata in a plain file, so no DRBD kernel module is needed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from linstor_core.controller import drbd
from linstor_core.runner import run

pytestmark = pytest.mark.root


@pytest.mark.parametrize("net_kib", [4096, 65536, 100001, 1048576, 10 * 1048576, 1024 * 1048576 + 12])
def test_the_backing_size_leaves_the_definitions_size_after_the_metadata(tmp_path: Path, net_kib: int) -> None:
    if shutil.which("drbdmeta", path="/usr/sbin:/sbin:/usr/bin") is None:
        pytest.fail("drbdmeta is missing: make sysdeps installs drbd-utils")
    image = tmp_path / "backing.img"
    gross = drbd.backing_size_kib(net_kib)
    run(["truncate", "-s", f"{gross}K", str(image)])
    meta = ["drbdmeta", "--force", "0", "v09", str(image), "internal"]
    run([*meta, "create-md", str(drbd.MAX_PEERS)])
    dump = run([*meta, "dump-md"])
    usable_kib = int(re.search(r"# bm_offset (\d+)", dump).group(1)) // 1024
    assert net_kib <= usable_kib < net_kib + 4
    assert gross - usable_kib == drbd.internal_metadata_kib(gross)
