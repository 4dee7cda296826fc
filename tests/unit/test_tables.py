"""Terminal tables: the linstor client's frame, aligned columns, multi-line cells, ASCII mode."""

from __future__ import annotations

import pytest

from linstor_core.tables import render_table


def test_frame_alignment_and_empty_cells() -> None:
    text = render_table(["ResourceName", "Node", "Port"], [["SharedData", "kronos", 7000], ["x", "remus", None]])
    assert text.splitlines() == [
        "╭──────────────────────────────╮",
        "┊ ResourceName ┊ Node   ┊ Port ┊",
        "╞══════════════════════════════╡",
        "┊ SharedData   ┊ kronos ┊ 7000 ┊",
        "┊ x            ┊ remus  ┊      ┊",
        "╰──────────────────────────────╯",
    ]


def test_multi_line_cells_grow_the_row_and_ascii_mode() -> None:
    text = render_table(["A", "Filter"], [["g", "PlaceCount: 3\nLayerStack: DRBD"]], ascii=True)
    assert text.splitlines() == [
        "+----------------------+",
        "| A | Filter           |",
        "|======================|",
        "| g | PlaceCount: 3    |",
        "|   | LayerStack: DRBD |",
        "+----------------------+",
    ]


def test_no_rows_prints_the_header_only() -> None:
    assert len(render_table(["Node"], []).splitlines()) == 4


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError):
        render_table(["A", "B"], [["only one"]])
