"""Staged files: renamed into place complete, and durable before the record that names them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linstor_core.controller.providers import layout


def test_a_staged_file_and_its_rename_are_synced_before_it_counts_as_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record of a volume is committed durably right after: a power cut must not leave it
    without its file (the file's data, then the directory's entry, reach the disk first)."""
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(layout.os, "fsync", fsync)
    with layout.staged(tmp_path / "vol.img") as temp:
        temp.write_bytes(b"data")
    assert synced == [str(layout.temp_of(tmp_path / "vol.img")), str(tmp_path)]
