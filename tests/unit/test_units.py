"""Sizes parse as the linstor client parses them, round up to KiB, and refuse nonsense."""

import pytest
from hypothesis import given, strategies as st

from linstor_core.errors import InvalidInput
from linstor_core.units import (
    MAX_KIB, bytes_to_kib, format_kib, kib_to_bytes, mib_to_kib, parse_size_kib,
)


@pytest.mark.parametrize(
    ("text", "kib"),
    [
        ("150m", 150 * 1024),
        ("150M", 150 * 1024),
        ("150MiB", 150 * 1024),
        ("150mib", 150 * 1024),
        ("1g", 1024**2),
        ("2T", 2 * 1024**3),
        ("1P", 1024**4),
        ("1.5TiB", 1536 * 1024**2),
        ("4K", 4),
        ("4kib", 4),
        (" 10 GiB ", 10 * 1024**2),
        ("1GB", -(-10**9 // 1024)),
        ("1gb", -(-10**9 // 1024)),
        ("100MB", -(-10**8 // 1024)),
        ("1KB", 1),
        ("1B", 1),
        ("1025b", 2),
        ("100", 100 * 1024),
        (100, 100 * 1024),
    ],
)
def test_parse_follows_client_suffixes(text: str | int, kib: int) -> None:
    assert parse_size_kib(text) == kib


def test_plain_numbers_use_the_default_unit() -> None:
    assert parse_size_kib("2", default_unit="GiB") == 2 * 1024**2
    assert parse_size_kib(3, default_unit="K") == 3


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "greater than zero"),
        ("0.0G", "greater than zero"),
        (0, "greater than zero"),
        ("-1G", "greater than zero"),
        (-5, "greater than zero"),
        ("abc", "not a number"),
        ("", "not a number"),
        ("1.", "not a number"),
        ("1 2", "not a number"),
        ("1X", "unknown unit"),
        ("1EiB", "unknown unit"),
        ("9" * 30 + "P", "maximum"),
        ("9" * 5000, "more than 40 characters"),
        ("0" * 45 + "1G", "more than 40 characters"),
        (MAX_KIB + 1, "maximum"),
        (True, "must be a size"),
        (1.5, "must be a size"),
    ],
)
def test_parse_refuses(text: object, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_size_kib(text, field="disk size")  # type: ignore[arg-type]
    assert info.value.field == "disk size"
    assert reason in info.value.reason


def test_the_largest_size_is_accepted() -> None:
    assert parse_size_kib(f"{MAX_KIB}K") == MAX_KIB


def test_unknown_default_unit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="default_unit"):
        parse_size_kib("1", default_unit="parsec")


@pytest.mark.parametrize(
    ("kib", "text"),
    [(5, "5 KiB"), (150 * 1024, "150 MiB"), (1536 * 1024, "1.50 GiB"), (1024**3, "1 TiB"), (3 * 1024**5, "3072 PiB")],
)
def test_format(kib: int, text: str) -> None:
    assert format_kib(kib) == text


@given(st.integers(min_value=1, max_value=1024**4))
def test_formatted_exact_sizes_parse_back(kib: int) -> None:
    text = format_kib(kib)
    if "." not in text:
        assert parse_size_kib(text) == kib


def test_conversions() -> None:
    assert kib_to_bytes(3) == 3072
    assert bytes_to_kib(1) == 1
    assert bytes_to_kib(2048) == 2
    assert bytes_to_kib(2049) == 3
    assert mib_to_kib(2) == 2048
    with pytest.raises(InvalidInput, match="bytes"):
        bytes_to_kib(-1, field="bytes")
