"""Providers: the registry, what each kind can do, and how their files are made and copied."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from linstor_core.controller.providers import (
    PROVIDERS,
    StorageProvider,
    SupportsBackingFile,
    SupportsReflinkClone,
    SupportsSnapshots,
    provider_for,
    reflink,
)
from linstor_core.controller.providers.file import FileProvider
from linstor_core.controller.providers.file_thin import FileThinProvider
from linstor_core.errors import InvalidInput, StorageError

MIB = 1024 * 1024


def test_registry_knows_the_three_kinds_by_their_linstor_names() -> None:
    assert set(PROVIDERS) == {"FILE_THIN", "FILE", "DISKLESS"}
    for kind, provider in PROVIDERS.items():
        assert isinstance(provider, StorageProvider) and provider.kind == kind


def test_unknown_kind_is_invalid_input_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        provider_for("LVM_THIN")
    assert caught.value.field == "provider kind" and "FILE_THIN" in caught.value.reason


@pytest.mark.parametrize(
    ("kind", "backing", "snapshots", "reflinks"),
    [("FILE_THIN", True, True, True), ("FILE", True, True, False), ("DISKLESS", False, False, False)],
)
def test_capabilities(kind: str, backing: bool, snapshots: bool, reflinks: bool) -> None:
    provider = provider_for(kind)
    assert isinstance(provider, SupportsBackingFile) is backing
    assert isinstance(provider, SupportsSnapshots) is snapshots
    assert isinstance(provider, SupportsReflinkClone) is reflinks


def test_file_thin_allocates_sparse_and_grows(tmp_path: Path) -> None:
    image = tmp_path / "v.img"
    FileThinProvider().allocate(image, 64 * MIB)
    assert image.stat().st_size == 64 * MIB and image.stat().st_blocks * 512 < MIB
    FileThinProvider().grow(image, 128 * MIB)
    assert image.stat().st_size == 128 * MIB


def test_file_thin_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "v.img").write_bytes(b"data")
    with pytest.raises(FileExistsError):
        FileThinProvider().allocate(tmp_path / "v.img", MIB)


def test_file_preallocates_and_copies_every_byte(tmp_path: Path) -> None:
    image = tmp_path / "v.img"
    FileProvider().allocate(image, 4 * MIB)
    assert image.stat().st_blocks * 512 >= 4 * MIB
    with open(image, "r+b") as handle:
        handle.write(b"before")
    FileProvider().copy_data(image, tmp_path / "copy.img")
    with open(image, "r+b") as handle:
        handle.write(b"after!")
    assert (tmp_path / "copy.img").read_bytes()[:6] == b"before"
    FileProvider().grow(image, 8 * MIB)
    assert image.stat().st_size == 8 * MIB


def test_filesystem_of_picks_the_longest_mount_point(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        f"23 22 7:0 / {tmp_path}/pool rw,relatime shared:2 - xfs /dev/loop0 rw\n"
    )
    assert reflink.filesystem_of(tmp_path / "pool" / "sub", mountinfo=mountinfo) == "xfs"
    assert reflink.filesystem_of(tmp_path / "poolx", mountinfo=mountinfo) == "ext4"


def test_reflink_failure_names_the_filesystem_and_leaves_no_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int, request: int, arg: int) -> None:
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    monkeypatch.setattr(reflink.fcntl, "ioctl", refuse)
    monkeypatch.setattr(reflink, "filesystem_of", lambda path: "ext4")
    (tmp_path / "src.img").write_bytes(b"x")
    with pytest.raises(StorageError) as caught:
        FileThinProvider().copy_data(tmp_path / "src.img", tmp_path / "dst.img")
    text = str(caught.value)
    assert "ext4" in text and "xfs" in text and "btrfs" in text
    assert not (tmp_path / "dst.img").exists()


def test_can_reflink_probe_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(fd: int, request: int, arg: int) -> None:
        raise OSError(errno.EOPNOTSUPP, "not supported")

    monkeypatch.setattr(reflink.fcntl, "ioctl", refuse)
    assert FileThinProvider().can_reflink(tmp_path) is False
    assert list(tmp_path.iterdir()) == []


def test_can_reflink_true_when_the_ioctl_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reflink.fcntl, "ioctl", lambda fd, request, arg: 0)
    assert reflink.can_reflink(tmp_path) is True
    assert list(tmp_path.iterdir()) == []
