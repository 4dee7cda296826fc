"""Readable tables for terminal listings, drawn the way the ``linstor`` client draws them.

Why our own renderer: the listings of ``linstor-core`` should look like the ones LINSTOR users
already read (rounded frame, ``┊`` separators, a double rule under the header), and the bundle
must not pull a table library in for forty lines. ``ascii=True`` gives the same layout in plain
ASCII for logs, pipes and terminals without UTF-8.

Cells are strings or numbers; ``None`` prints as empty. Numbers are right-aligned, everything
else left-aligned. A cell may hold several lines (a row then grows downwards).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Cell = str | int | float | None


@dataclass(frozen=True)
class _Frame:
    top: tuple[str, str, str]
    rule: tuple[str, str, str]
    bottom: tuple[str, str, str]
    separator: str


_UTF8 = _Frame(top=("╭", "─", "╮"), rule=("╞", "═", "╡"), bottom=("╰", "─", "╯"), separator="┊")
_ASCII = _Frame(top=("+", "-", "+"), rule=("|", "=", "|"), bottom=("+", "-", "+"), separator="|")


def _lines(cell: Cell) -> list[str]:
    return [""] if cell is None else str(cell).splitlines() or [""]


def _aligned(text: str, width: int, numeric: bool) -> str:
    return text.rjust(width) if numeric else text.ljust(width)


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, ascii: bool = False) -> str:
    """Return ``rows`` under ``headers`` as one framed table (no trailing newline).

    Every row must have as many cells as there are headers; a mismatch is a programming error
    and raises ``ValueError`` rather than printing a misleading table.
    """
    frame = _ASCII if ascii else _UTF8
    body = [list(row) for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"row {row!r} has {len(row)} cells for {len(headers)} headers")
    widths = [
        max([len(header)] + [len(line) for row in body for line in _lines(row[column])])
        for column, header in enumerate(headers)
    ]
    inner = sum(widths) + 3 * len(widths) - 1

    def framed_row(cells: Sequence[Cell], numeric: Sequence[bool]) -> list[str]:
        split = [_lines(cell) for cell in cells]
        height = max(len(lines) for lines in split)
        out = []
        for index in range(height):
            parts = [
                _aligned(lines[index] if index < len(lines) else "", width, is_number)
                for lines, width, is_number in zip(split, widths, numeric)
            ]
            out.append(f"{frame.separator} " + f" {frame.separator} ".join(parts) + f" {frame.separator}")
        return out

    def line(ends: tuple[str, str, str]) -> str:
        return ends[0] + ends[1] * inner + ends[2]

    lines = [line(frame.top), *framed_row(headers, [False] * len(headers)), line(frame.rule)]
    for row in body:
        lines += framed_row(row, [isinstance(cell, (int, float)) for cell in row])
    lines.append(line(frame.bottom))
    return "\n".join(lines)
