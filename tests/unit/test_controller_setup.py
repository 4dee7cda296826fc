"""tests/controller_setup.reflink_filesystem undoes what it made, whichever step fails (fake commands)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import controller_setup

STEPS = ["truncate", "mkfs.xfs", "losetup", "mount"]


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> tuple[list[list[str]], list[str]]:
    """(every command run, the program to fail); clean-up steps are recorded as ``undo ...``."""
    calls: list[list[str]] = []
    failing: list[str] = []

    def cmd(*argv: str) -> str:
        calls.append(list(argv))
        if argv[0] in failing:
            raise subprocess.CalledProcessError(1, list(argv))
        if argv[0] == "truncate":
            Path(argv[-1]).write_bytes(b"")
        return "/dev/loop9\n" if argv[0] == "losetup" else ""

    monkeypatch.setattr(controller_setup, "_cmd", cmd)
    monkeypatch.setattr(controller_setup, "_quiet", lambda *argv: calls.append(["undo", *argv]))
    monkeypatch.setattr(controller_setup, "detach_loops_under",
                        lambda directory: calls.append(["undo", "detach-under", str(directory)]))
    return calls, failing


@pytest.mark.parametrize("failing_step", STEPS)
def test_a_failed_step_leaves_no_image_and_no_loop(tmp_path: Path, commands: tuple[list[list[str]], list[str]],
                                                  failing_step: str) -> None:
    calls, failing = commands
    failing.append(failing_step)
    with pytest.raises(subprocess.CalledProcessError):
        with controller_setup.reflink_filesystem(tmp_path):
            pytest.fail("yielded although a step failed")
    assert not (tmp_path / "fs.img").exists()
    undone = [c[1:] for c in calls if c[0] == "undo"]
    attached = STEPS.index(failing_step) > STEPS.index("losetup")
    assert undone == ([["losetup", "-d", "/dev/loop9"]] if attached else [])


def test_afterwards_loops_mount_and_image_are_removed_in_order(
        tmp_path: Path, commands: tuple[list[list[str]], list[str]]) -> None:
    calls, _ = commands
    with controller_setup.reflink_filesystem(tmp_path) as mount:
        assert mount == tmp_path / "mnt" and (tmp_path / "fs.img").exists()
    assert not (tmp_path / "fs.img").exists()
    assert [c[1:] for c in calls if c[0] == "undo"] == [
        ["detach-under", str(mount)], ["umount", str(mount)], ["losetup", "-d", "/dev/loop9"]]
