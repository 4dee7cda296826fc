"""``linstor-core demo`` (what ``make demo`` runs): the seed walkthrough end to end, and nothing
left behind - no loop device, no mount, no temporary directory, no controller.

As root it shows everything (xfs with reflink, loop devices, snapshots). The unprivileged run is
tested for real too: as root by dropping to ``nobody`` with setpriv (or, for a checkout nobody
cannot read, in a user namespace), otherwise directly.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linstor_core.cli import main

SEED_COMMANDS = [
    "$ linstor-core resource-definition create --layer-list storage LocalData",
    "$ linstor-core volume-definition create LocalData 150m",
    "$ linstor-core resource create --storage-pool thinpool vulcan kronos LocalData",
    "$ linstor-core volume list",
    "$ linstor-core resource-definition delete LocalData",
    "$ linstor-core resource-definition create SharedData",
    "$ linstor-core volume-definition create SharedData 150m",
    "$ linstor-core resource create --storage-pool thinpool --auto-place 3 SharedData",
    "$ linstor-core resource list",
]
SNAPSHOT_COMMANDS = [
    "$ linstor-core snapshot create romulus remus SharedData Snap1",
    "$ linstor-core snapshot resource restore --from-resource SharedData --from-snapshot Snap1 "
    "--to-resource SharedData_Restore romulus remus",
    "$ linstor-core snapshot rollback SharedData Snap1",
]


def _workdir(output: str) -> Path:
    match = re.search(r"state and pools under (\S+)", output)
    assert match, output[:500]
    return Path(match.group(1))


def _in_order(output: str, commands: list[str]) -> None:
    position = 0
    for command in commands:
        found = output.find(command, position)
        assert found >= 0, f"{command!r} missing or out of order"
        position = found


def _assert_nothing_left(workdir: Path) -> None:
    assert not workdir.exists()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(workdir) not in mounts
    if os.geteuid() == 0:
        loops = json.loads(subprocess.run(["losetup", "--json", "--list"], capture_output=True, text=True,
                                          check=True).stdout or '{"loopdevices": []}')["loopdevices"]
        assert not [d for d in loops if str(workdir) in (d.get("back-file") or "")]


def _shared_data_facts(output: str) -> None:
    assert "LocalData" in output and "LocalData_00000.img" in output
    assert re.search(r"┊ SharedData +┊ \w+ +┊ 7000 ┊", output)
    assert re.search(r"┊ +1000 ┊ +7000 ┊ /dev/drbd1000 ", output)
    assert "== Replica migration: from " in output
    assert "demo finished; everything it made is removed" in output


@pytest.mark.root
def test_demo_as_root_shows_every_step_and_cleans_up() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main(["demo"], stdout=out, stderr=err)
    output = out.getvalue()
    workdir = _workdir(output)
    assert status == 0, output[-3000:] + err.getvalue()
    assert "mkfs.xfs -m reflink=1" in output
    _in_order(output, SEED_COMMANDS + SNAPSHOT_COMMANDS)
    _shared_data_facts(output)
    assert "SharedData_Restore" in output
    assert "not found" in output  # the refused rollback, with LINSTOR's message
    _assert_nothing_left(workdir)


def _unprivileged(env: dict[str, str]) -> list[str]:
    """How root runs this checkout's demo as another user: as ``nobody`` where that user can
    import it, else (a checkout under /root, mode 0700) in a user namespace with no uid mapped,
    where geteuid() is 65534 and loop devices and mounts are refused but root's files stay
    readable. Fails, never skips, when neither can."""
    import linstor_core.cli

    wanted = linstor_core.cli.__file__
    setpriv, unshare = shutil.which("setpriv"), shutil.which("unshare")
    if setpriv is None or unshare is None:
        pytest.fail("setpriv and unshare (util-linux) are needed to run the demo unprivileged as root")
    answers = []
    for prefix in ([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"], [unshare, "--user", "--"]):
        probe = subprocess.run([*prefix, sys.executable, "-c", "import os, linstor_core.cli as c; "
                                "print(os.geteuid(), c.__file__)"], capture_output=True, text=True, env=env,
                               timeout=60)
        if probe.returncode == 0 and probe.stdout.split() == ["65534", wanted]:
            return prefix
        answers.append(f"{prefix[0]}: {(probe.stdout + probe.stderr)[-300:]}")
    pytest.fail(f"cannot run {wanted} unprivileged, as nobody or in a user namespace:\n" + "\n".join(answers))


def test_demo_without_root_says_what_it_cannot_show_and_cleans_up() -> None:
    prefix: list[str] = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
    if os.geteuid() == 0:
        env["HOME"] = "/nonexistent"  # nobody's home, as a login would set it
        prefix = _unprivileged(env)
    command = [*prefix, sys.executable, "-c", "import sys; from linstor_core.cli import main; sys.exit(main())", "demo"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    output = result.stdout
    assert result.returncode == 0, output[-3000:] + result.stderr
    assert "not root" in output and "plain directories" in output
    _in_order(output, SEED_COMMANDS)
    _shared_data_facts(output)
    if "Snapshot, restore, rollback: skipped" in output:
        assert "cannot reflink" in output
    else:
        _in_order(output, SNAPSHOT_COMMANDS)
    _assert_nothing_left(_workdir(output))
