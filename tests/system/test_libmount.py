"""libmount in-process against the real kernel: the same mounts, options and errors as mount(8).

Each test formats a file (sparse, or preallocated as a FILE pool's volume is) on a loop device
of its own; the fixture unmounts and detaches whatever is left, even when a test fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from linstor_core import filesystems
from linstor_core.errors import StorageError
from linstor_core.libmount import LibMount
from linstor_core.runner import Runner, run

pytestmark = pytest.mark.root


def release(loop: str, runner: Runner = run) -> None:
    """Unmount (lazily) everything on ``loop``, then detach it: each step is tried even when an
    earlier one failed; a failure is raised afterwards (earlier ones chained)."""
    with ExitStack() as steps:
        steps.callback(runner, ["losetup", "--detach", loop])
        for target in filesystems.mountpoints_of(loop):
            steps.callback(runner, ["umount", "--lazy", target])


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Makes loop devices over files in tmp_path (``size`` as truncate takes it): sparse, or
    with ``preallocated`` every block allocated (``fallocate``)."""
    with ExitStack() as made:
        count = itertools.count()

        def make(size: str, *, preallocated: bool = False) -> str:
            image = tmp_path / f"image{next(count)}"
            run(["fallocate", "-l", size, str(image)] if preallocated else ["truncate", "-s", size, str(image)])
            loop = run(["losetup", "--find", "--show", str(image)]).strip()
            made.callback(release, loop)
            return loop

        yield make


@pytest.fixture
def device(loop_device: Callable[..., str]) -> str:
    """A 64 MiB loop device over a sparse file in tmp_path."""
    return loop_device("64M")


def _loops_over(image: Path) -> list[str]:
    listing = run(["losetup", "--noheadings", "--output", "NAME", "--associated", str(image)])
    return listing.split()


def test_release_detaches_the_loop_even_when_an_umount_fails(tmp_path: Path) -> None:
    image, target = tmp_path / "image", tmp_path / "target"
    run(["truncate", "-s", "64M", str(image)])
    with ExitStack() as cleanup:
        loop = run(["losetup", "--find", "--show", str(image)]).strip()
        cleanup.callback(lambda: [run(["losetup", "--detach", d]) for d in _loops_over(image)])
        cleanup.callback(lambda: filesystems.is_mounted(str(target)) and run(["umount", str(target)]))
        filesystems.make_filesystem(loop, "ext4")
        filesystems.mount(loop, str(target), fstype="ext4")

        def refuse_umount(argv: Sequence[str], **kwargs: Any) -> str:
            if argv[0] == "umount":
                raise StorageError(list(argv), 32, "refused by the test")
            return run(argv, **kwargs)

        with pytest.raises(StorageError, match="refused by the test"):
            release(loop, refuse_umount)
        autoclear = Path(f"/sys/block/{Path(loop).name}/loop/autoclear").read_text().strip()
        assert autoclear == "1"  # detach asked for while mounted: the kernel frees it at the umount
    assert _loops_over(image) == [] and not filesystems.is_mounted(str(target))


def test_xfs_is_made_again_only_when_overwrite_is_asked(loop_device: Callable[..., str]) -> None:
    """What the Docker plugin relies on for a volume whose first Mount failed after mkfs."""
    device = loop_device("320M")
    filesystems.make_filesystem(device, "xfs")
    with pytest.raises(StorageError, match="existing filesystem"):
        filesystems.make_filesystem(device, "xfs")
    filesystems.make_filesystem(device, "xfs", overwrite=True)
    assert filesystems.has_filesystem(device)


def _allocated(device: str) -> int:
    """Bytes allocated to the file behind loop ``device``."""
    backing = Path(f"/sys/block/{Path(device).name}/loop/backing_file").read_text().strip()
    return Path(backing).stat().st_blocks * 512


@pytest.mark.parametrize(("fstype", "size", "options"), [("ext4", 64, []), ("ext4", 64, ["-E", "stride=4"]),
                                                          ("xfs", 320, [])])
def test_mkfs_keeps_a_thick_volume_allocated(loop_device: Callable[..., str], fstype: str, size: int,
                                             options: list[str]) -> None:
    """mkfs discards by default, which through a loop device punches holes in the file: a
    thick FILE volume would be thin after its first mkfs."""
    device = loop_device(f"{size}M", preallocated=True)
    filesystems.make_filesystem(device, fstype, options)
    run(["sync"])
    assert _allocated(device) >= size * 1024 * 1024
    assert filesystems.has_filesystem(device)


def test_a_discard_asked_for_in_the_options_is_done(loop_device: Callable[..., str]) -> None:
    device = loop_device("64M", preallocated=True)
    filesystems.make_filesystem(device, "ext4", ["-E", "discard"])
    run(["sync"])
    assert _allocated(device) < 32 * 1024 * 1024


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
