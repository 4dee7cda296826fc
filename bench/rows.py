"""One benchmark figure as a typed row, its goal, and the forms a row is written in.

Why a shared module: every benchmark under ``bench/`` reports its figures the same way, so
``bench/run.py`` can gather them into one table and ``bench/results.json`` without knowing any
benchmark's insides. A benchmark ``bench/<name>.py`` takes ``--json PATH`` and writes its rows
there (``write_rows``); ``run.py`` reads them back (``read_rows``).

A row compares ``value`` with a ``baseline`` measured in the same run, in the same ``unit``;
``ratio`` is value / baseline. The goal is judged on the figure the issue states it for: the
ratio (``<= 3x``) or the value itself (``< 200 ms``). A row that could not be measured (not
root, the benchmark failed) has no value, baseline, ratio or verdict (``null`` in JSON) and says
why in its note.

JSON row: ``{name, value, unit, baseline, ratio, goal, meets_goal, note}``; ``goal`` is the
goal's text, ``meets_goal`` true, false or null (not run).
"""

from __future__ import annotations

import argparse
import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from linstor_core.errors import InvalidInput

Bound = Literal["<", "<=", "="]
_CHECKS = {"<": operator.lt, "<=": operator.le, "=": operator.eq}
_GOAL = re.compile(r"(?P<op><=|<|=) (?P<bound>\d+(?:\.\d+)?)(?:x| (?P<unit>\S.*))")


@dataclass(frozen=True)
class Goal:
    """A bound on the ratio (``unit`` empty: ``<= 3x``) or on the value (``< 200 ms``)."""

    op: Bound
    bound: float
    unit: str = ""

    @classmethod
    def ratio_at_most(cls, bound: float) -> Goal:
        return cls("<=", bound)

    @classmethod
    def parse(cls, text: str) -> Goal:
        """The inverse of ``str``: ``"<= 3x"``, ``"< 200 ms"``, ``"= 0 calls"``."""
        match = _GOAL.fullmatch(text)
        if match is None:
            raise InvalidInput("benchmark goal", text, "expected '<op> <number>x' or '<op> <number> <unit>'",
                               correction="op is <, <= or =, e.g. '<= 3x' or '< 200 ms'")
        op: Bound = match["op"]  # type: ignore[assignment]  # the pattern admits only the three
        return cls(op, float(match["bound"]), match["unit"] or "")

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        """Whether the figure this goal bounds is within it; None when that figure is unknown."""
        figure = value if self.unit else ratio
        return None if figure is None else bool(_CHECKS[self.op](figure, self.bound))

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}" + (f" {self.unit}" if self.unit else "x")


@dataclass(frozen=True)
class BenchRow:
    """One figure against its same-run baseline; ``value`` None means not run (see ``note``)."""

    name: str
    value: float | None
    unit: str
    baseline: float | None
    goal: Goal
    note: str = ""

    @classmethod
    def not_run(cls, name: str, unit: str, goal: Goal, why: str) -> BenchRow:
        return cls(name, None, unit, None, goal, f"not run: {why}")

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def meets_goal(self) -> bool | None:
        return None if self.value is None else self.goal.met(self.value, self.ratio)

    def to_json(self) -> dict[str, object]:
        ratio = self.ratio
        return {"name": self.name, "value": _rounded(self.value), "unit": self.unit,
                "baseline": _rounded(self.baseline), "ratio": _rounded(ratio), "goal": str(self.goal),
                "meets_goal": self.meets_goal, "note": self.note}

    @classmethod
    def from_json(cls, row: dict[str, object]) -> BenchRow:
        """A row as ``to_json`` wrote it; ratio and verdict are recomputed, not trusted."""
        return cls(str(row["name"]), _number(row["value"]), str(row["unit"]), _number(row["baseline"]),
                   Goal.parse(str(row["goal"])), str(row.get("note", "")))


def _rounded(figure: float | None) -> float | None:
    return None if figure is None else round(figure, 3)


def _number(figure: object) -> float | None:
    if figure is None:
        return None
    if isinstance(figure, bool) or not isinstance(figure, (int, float)):
        raise InvalidInput("benchmark figure", figure, "expected a number or null")
    return float(figure)


def write_rows(path: Path, rows: list[BenchRow]) -> None:
    path.write_text(json.dumps([row.to_json() for row in rows], indent=2) + "\n")


F = TypeVar("F")


def publish(figures: F, report: Callable[[F], None], rows: Callable[[F], list[BenchRow]],
            json_path: Path | None) -> int:
    """The end of every benchmark's ``main``: print its own report, and with ``--json`` write
    its rows for ``bench/run.py``; the exit status."""
    report(figures)
    if json_path:
        write_rows(json_path, rows(figures))
    return 0


def read_rows(path: Path) -> list[BenchRow]:
    return [BenchRow.from_json(row) for row in json.loads(path.read_text())]


def _figure(figure: float | None, unit: str = "") -> str:
    if figure is None:
        return ""
    digits = 0 if figure == int(figure) else 1 if abs(figure) >= 100 else 2
    return f"{figure:.{digits}f}" + (f" {unit}" if unit else "")


def markdown_table(rows: list[BenchRow]) -> str:
    """The rows as one markdown table: readable in a terminal, pasted as is into the README."""
    lines = ["| benchmark | value | baseline | ratio | goal | meets goal | note |",
             "|---|---:|---:|---:|---|---|---|"]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        verdict = {True: "yes", False: "**no**", None: "not run" if row.value is None else "n/a"}[row.meets_goal]
        cells = (row.name, _figure(row.value, row.unit), _figure(row.baseline, row.unit), ratio,
                 str(row.goal), verdict, row.note)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json PATH``, the one option every benchmark takes for ``bench/run.py``."""
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write this benchmark's rows to PATH as JSON (bench/run.py reads them)")
