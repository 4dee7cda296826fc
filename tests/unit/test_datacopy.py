"""linstor_core.datacopy on plain files standing in for devices (system tests use loop devices)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from linstor_core import datacopy
from linstor_core.errors import InvalidInput

MIB = 1024 * 1024


def sparse(path: Path, size: int, pieces: dict[int, bytes]) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
        for offset, data in pieces.items():
            handle.seek(offset)
            handle.write(data)
    return path


@pytest.mark.parametrize("zeroed", [True, False])
def test_every_byte_lands_at_its_offset(tmp_path: Path, zeroed: bool) -> None:
    pieces = {0: b"head", 5 * MIB + 3: b"middle", 9 * MIB - 4: b"tail"}
    source = sparse(tmp_path / "src", 9 * MIB, pieces)
    device = sparse(tmp_path / "dev", 16 * MIB, {} if zeroed else {6 * MIB: b"old data"})
    assert datacopy.copy_into_device(source, str(device), device_is_zeroed=zeroed) == 9 * MIB
    data = device.read_bytes()
    assert data[: 9 * MIB] == source.read_bytes()
    if not zeroed:
        assert data[6 * MIB: 6 * MIB + 8] == bytes(8)  # stale data under a hole is overwritten


def test_zeroed_device_stays_sparse(tmp_path: Path) -> None:
    source = sparse(tmp_path / "src", 64 * MIB, {32 * MIB: b"x"})
    device = sparse(tmp_path / "dev", 64 * MIB, {})
    datacopy.copy_into_device(source, str(device), device_is_zeroed=True)
    assert os.stat(device).st_blocks * 512 < 8 * MIB


def test_too_large_source_is_refused_before_writing(tmp_path: Path) -> None:
    source = sparse(tmp_path / "src", 2 * MIB, {0: b"x"})
    device = sparse(tmp_path / "dev", MIB, {})
    with pytest.raises(InvalidInput, match="do not fit"):
        datacopy.copy_into_device(source, str(device))
    assert device.read_bytes() == bytes(MIB)


def test_progress_lines(tmp_path: Path) -> None:
    source = sparse(tmp_path / "src", 12 * MIB, {0: b"x"})
    device = sparse(tmp_path / "dev", 12 * MIB, {})
    ticks = iter(range(0, 1000, 10))
    lines: list[str] = []
    datacopy.copy_into_device(source, str(device), progress=lines.append, clock=lambda: float(next(ticks)))
    assert lines[-1] == "copied 12 MiB of 12 MiB (100%)"
    assert len(lines) >= 3


def test_hexdigest_of_a_prefix(tmp_path: Path) -> None:
    path = sparse(tmp_path / "f", 2 * MIB, {0: b"abc"})
    assert datacopy.hexdigest_of(path, length=3) == hashlib.md5(b"abc").hexdigest()
    assert datacopy.hexdigest_of(path) == hashlib.md5(path.read_bytes()).hexdigest()
    assert datacopy.hexdigest_of(path, "sha1") == hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("zeroed", [True, False])
def test_a_source_that_shrinks_under_the_copy_fails_it(tmp_path: Path, zeroed: bool) -> None:
    """Not 'copied 12 MiB of 12 MiB (100%)' over a disk whose rest holds what the storage held."""
    chunk = datacopy.CHUNK_BYTES
    source = tmp_path / "src"
    source.write_bytes(b"\xaa" * (3 * chunk))
    device = sparse(tmp_path / "dev", 4 * chunk, {})
    ticks = iter(range(0, 1000, 10))
    lines: list[str] = []

    def shrink_after_the_first_chunk(line: str) -> None:
        lines.append(line)
        if len(lines) == 1:
            os.truncate(source, chunk)

    with pytest.raises(InvalidInput, match=f"ended at {chunk} of its {3 * chunk} bytes while it was copied"):
        datacopy.copy_into_device(source, str(device), device_is_zeroed=zeroed,
                                  progress=shrink_after_the_first_chunk, clock=lambda: float(next(ticks)))
    assert not any("(100%)" in line for line in lines)
