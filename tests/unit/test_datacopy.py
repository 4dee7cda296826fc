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


def test_a_device_goes_into_a_stream_whole_and_in_order(tmp_path: Path) -> None:
    """A pipe is written in order and never seeked: every byte, holes as zeros."""
    device = sparse(tmp_path / "dev", 9 * MIB + 5, {0: b"head", 5 * MIB: b"middle", 9 * MIB: b"tail!"})
    lines: list[str] = []
    with open(tmp_path / "stream", "wb") as stream:
        assert datacopy.copy_device_to_stream(str(device), stream.fileno(), progress=lines.append) == 9 * MIB + 5
    assert (tmp_path / "stream").read_bytes() == device.read_bytes()
    assert lines == ["copied 9 MiB of 9 MiB (100%)"]


@pytest.mark.parametrize("zeroed", [True, False])
def test_a_stream_lands_on_the_device_and_the_rest_reads_as_zeros(tmp_path: Path, zeroed: bool) -> None:
    data = b"a" * 3 + bytes(5 * MIB) + b"b" * 7
    device = sparse(tmp_path / "dev", 8 * MIB, {} if zeroed else {7 * MIB: b"old data"})
    (tmp_path / "stream").write_bytes(data + b"trailing bytes are not read")
    with open(tmp_path / "stream", "rb", buffering=0) as stream:
        assert datacopy.copy_stream_into_device(stream.fileno(), len(data), str(device),
                                                device_is_zeroed=zeroed) == len(data)
        assert stream.read() == b"trailing bytes are not read"
    assert device.read_bytes() == data + bytes(8 * MIB - len(data))


def test_a_stream_that_ends_early_says_where(tmp_path: Path) -> None:
    device = sparse(tmp_path / "dev", 8 * MIB, {})
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"x" * 1000)
    os.close(write_fd)
    try:
        with pytest.raises(InvalidInput, match="ended before the 4096 bytes its header announced") as ended:
            datacopy.copy_stream_into_device(read_fd, 4096, str(device))
    finally:
        os.close(read_fd)
    assert ended.value.value == "1000 bytes"


def test_a_stream_larger_than_the_device_is_refused_before_writing(tmp_path: Path) -> None:
    device = sparse(tmp_path / "dev", MIB, {0: b"keep"})
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"x" * 100)
    os.close(write_fd)
    try:
        with pytest.raises(InvalidInput, match="do not fit"):
            datacopy.copy_stream_into_device(read_fd, 2 * MIB, str(device))
        assert os.read(read_fd, 100) == b"x" * 100  # nothing read either
    finally:
        os.close(read_fd)
    assert device.read_bytes()[:4] == b"keep"


def test_read_exactly_gathers_what_a_pipe_hands_out_in_pieces() -> None:
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, b"abc")
        os.write(write_fd, b"def")
        os.close(write_fd)
        assert datacopy.read_exactly(read_fd, 5) == b"abcde"
        assert datacopy.read_exactly(read_fd, 5) == b"f"
    finally:
        os.close(read_fd)
