"""Sizes: human text such as ``"150m"``, ``"1G"``, ``"1.5TiB"`` to and from KiB, the API's unit.

The suffix rules are python-linstor's ``SizeCalc.UNITS_MAP`` (used by the ``linstor`` client for
``volume-definition create`` and ``resource-group spawn``), matched case-insensitively:

* ``K``, ``KiB``, ``M``, ``MiB``, ``G``, ``GiB``, ``T``, ``TiB``, ``P``, ``PiB``: powers of 1024;
  a single letter is binary (``1G`` is 1 GiB);
* ``KB``, ``MB``, ``GB``, ``TB``, ``PB``: powers of 1000 (``1GB`` is 10^9 bytes) - because the
  lookup is case-insensitive, ``kb`` and ``KB`` are the same 1000-based unit;
* ``B``: bytes;
* no suffix: ``default_unit``. The linstor client assumes GiB for ``volume-definition create``;
  the platforms this bundle serves speak MiB (OpenNebula SIZE, Docker ``size``), hence our default.

Where we go beyond the client, on purpose: a decimal number is accepted (``"1.5TiB"``; the client
takes integers only), and whitespace between number and suffix is allowed. Results are rounded
*up* to whole KiB, as ``SizeCalc.convert_round_up`` does, so a volume is never smaller than asked.
Refused with :class:`~linstor_core.errors.InvalidInput` naming the field: zero, negative,
non-numeric text, unknown suffixes, and sizes above LINSTOR's limit of a signed 64-bit count of
KiB (the server keeps ``size_kib`` in a Java ``long``).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from linstor_core.errors import InvalidInput

MAX_KIB = (1 << 63) - 1
_MAX_DIGITS = 40  # any longer number is far beyond MAX_KIB; keeps huge strings cheap to refuse

_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
UNIT_BYTES: dict[str, int] = {
    "b": 1,
    **{letter: 1024**power for letter, power in _POWERS.items()},
    **{f"{letter}ib": 1024**power for letter, power in _POWERS.items()},
    **{f"{letter}b": 1000**power for letter, power in _POWERS.items()},
}

_SIZE = re.compile(r"\s*(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]*)\s*")
_VALID_UNITS = "B, K/KiB, M/MiB, G/GiB, T/TiB, P/PiB (1024-based), KB, MB, GB, TB, PB (1000-based)"


def _unit_bytes(unit: str, field: str, value: object) -> int:
    try:
        return UNIT_BYTES[unit.lower()]
    except KeyError:
        raise InvalidInput(
            field, value, f"unknown unit {unit!r}", correction=f"use one of {_VALID_UNITS}"
        ) from None


def _checked_kib(size_bytes: Fraction, field: str, value: object) -> int:
    if size_bytes <= 0:
        raise InvalidInput(field, value, "must be greater than zero")
    kib = math.ceil(size_bytes / 1024)
    if kib > MAX_KIB:
        raise InvalidInput(field, value, f"larger than LINSTOR's maximum of {MAX_KIB} KiB")
    return kib


def parse_size_kib(text: str | int, *, field: str = "size", default_unit: str = "MiB") -> int:
    """Return ``text`` as a positive whole number of KiB, rounded up.

    ``text`` is a size with an optional suffix (rules in the module docstring) or an ``int`` in
    ``default_unit``. Raises InvalidInput mentioning ``field`` when it is not a usable size.
    """
    if isinstance(text, bool) or not isinstance(text, (int, str)):
        raise InvalidInput(field, text, "must be a size such as 150M, 10GiB or 1.5T")
    unit_size = _unit_bytes(default_unit, "default_unit", default_unit)
    if isinstance(text, int):
        return _checked_kib(Fraction(text) * unit_size, field, text)
    if text.strip().startswith("-"):
        raise InvalidInput(field, text, "must be greater than zero")
    match = _SIZE.fullmatch(text)
    if match is None:
        raise InvalidInput(
            field, text, "not a number with an optional unit", correction="write e.g. 150M, 10GiB or 1.5T"
        )
    if match["unit"]:
        unit_size = _unit_bytes(match["unit"], field, text)
    if len(match["number"]) > _MAX_DIGITS:  # bounds Fraction's work; no size needs this many digits
        raise InvalidInput(field, text, f"more than {_MAX_DIGITS} characters in the number",
                           correction="write it shorter, e.g. 150M, 10GiB or 1.5T")
    return _checked_kib(Fraction(match["number"]) * unit_size, field, text)


def format_kib(kib: int) -> str:
    """Render a KiB count for people: the largest binary unit it reaches, e.g. ``"150 MiB"``.

    Exact multiples print as integers; others with two decimals (``"1.50 GiB"``), as the linstor
    client's ``approximate_size_string`` does. For display only: not guaranteed to parse back
    to the same KiB.
    """
    names = ("KiB", "MiB", "GiB", "TiB", "PiB")
    index = 0
    while index + 1 < len(names) and kib >= 1024 ** (index + 1):
        index += 1
    magnitude = 1024**index
    if kib % magnitude == 0:
        return f"{kib // magnitude} {names[index]}"
    return f"{kib / magnitude:.2f} {names[index]}"


def _non_negative(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(field, value, "must be a whole number, zero or more")
    return value


def kib_to_bytes(kib: int, *, field: str = "size") -> int:
    """KiB to bytes (platforms such as PVE's ``volume_size_info`` answer in bytes)."""
    return _non_negative(kib, field) * 1024


def bytes_to_kib(size_bytes: int, *, field: str = "size") -> int:
    """Bytes to KiB, rounded up so that the volume holds at least ``size_bytes``."""
    return -(-_non_negative(size_bytes, field) // 1024)


def mib_to_kib(mib: int, *, field: str = "size") -> int:
    """MiB (OpenNebula's SIZE) to KiB."""
    return _non_negative(mib, field) * 1024


__all__ = ["MAX_KIB", "UNIT_BYTES", "parse_size_kib", "format_kib", "kib_to_bytes", "bytes_to_kib", "mib_to_kib"]
