"""libmount in-process against the real kernel: the same mounts, options and errors as mount(8).

Each test formats a sparse file on a loop device of its own; the fixture unmounts and detaches
whatever is left, even when a test fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from linstor_core import filesystems
from linstor_core.errors import StorageError
from linstor_core.libmount import LibMount
from linstor_core.runner import run

pytestmark = pytest.mark.root


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Makes loop devices over sparse files in tmp_path (``size`` as truncate takes it)."""
    loops: list[str] = []

    def make(size: str) -> str:
        image = tmp_path / f"image{len(loops)}"
        run(["truncate", "-s", size, str(image)])
        loops.append(run(["losetup", "--find", "--show", str(image)]).strip())
        return loops[-1]

    try:
        yield make
    finally:
        for loop in loops:
            for target in filesystems.mountpoints_of(loop):
                run(["umount", "--lazy", target])
            run(["losetup", "--detach", loop])


@pytest.fixture
def device(loop_device: Callable[[str], str]) -> str:
    """A 64 MiB loop device over a sparse file in tmp_path."""
    return loop_device("64M")


def test_xfs_is_made_again_only_when_overwrite_is_asked(loop_device: Callable[[str], str]) -> None:
    """What the Docker plugin relies on for a volume whose first Mount failed after mkfs."""
    device = loop_device("320M")
    filesystems.make_filesystem(device, "xfs")
    with pytest.raises(StorageError, match="existing filesystem"):
        filesystems.make_filesystem(device, "xfs")
    filesystems.make_filesystem(device, "xfs", overwrite=True)
    assert filesystems.has_filesystem(device)


def test_mount_honours_options_then_unmount(tmp_path: Path, device: str) -> None:
    filesystems.make_filesystem(device, "ext4")
    target = tmp_path / "target"
    target.mkdir()
    LibMount().mount(device, str(target), "ext4", ["noatime", "nodev", "commit=30"])
    (entry,) = [e for e in filesystems.read_mounts() if e.mount_point == str(target)]
    assert (entry.fstype, entry.source) == ("ext4", device)
    assert {"noatime", "nodev"} <= set(entry.options)
    (target / "data").write_text("kept")
    LibMount().unmount(str(target))
    assert not filesystems.is_mounted(str(target)) and not (target / "data").exists()
    LibMount().mount(device, str(target), None, [])  # the type is probed, as mount(8) does
    assert (target / "data").read_text() == "kept"
    LibMount().unmount(str(target))


def test_failures_are_worded_as_mount_words_them(tmp_path: Path, device: str) -> None:
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(StorageError) as blank:
        LibMount().mount(device, str(target), "ext4", [])
    assert blank.value.returncode == 32 and "wrong fs type" in str(blank.value)
    assert blank.value.argv == ["mount", "-t", "ext4", device, str(target)]
    filesystems.make_filesystem(device, "ext4")
    with pytest.raises(StorageError, match="bogus"):
        LibMount().mount(device, str(target), "ext4", ["bogus=1"])
    with pytest.raises(StorageError, match="not mounted") as not_mounted:
        LibMount().unmount(str(target))
    assert not_mounted.value.argv == ["umount", str(target)]
    assert not filesystems.is_mounted(str(target))


def test_busy_target_is_refused_and_stays_mounted(tmp_path: Path, device: str) -> None:
    filesystems.make_filesystem(device, "ext4")
    target = tmp_path / "target"
    filesystems.mount(device, str(target), fstype="ext4")
    with open(target / "held", "w"):
        with pytest.raises(StorageError, match="busy"):
            LibMount().unmount(str(target))
        assert filesystems.is_mounted(str(target))
    filesystems.unmount(str(target))
    assert not filesystems.is_mounted(str(target))
