"""bench/rows.py: how a benchmark row judges its goal and what its JSON looks like.

No benchmark runs here (benchmarks are never part of ``make test``); these pin the logic that
``bench/run.py`` and ``bench/results.json`` rely on.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from linstor_core.errors import InvalidInput

ROWS_PY = Path(__file__).resolve().parents[2] / "bench" / "rows.py"


def _load() -> ModuleType:
    """bench/ is not a package (its files run as scripts): load rows.py by its path."""
    spec = importlib.util.spec_from_file_location("bench_rows_under_test", ROWS_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building the class
    spec.loader.exec_module(module)
    return module


rows = _load()
Goal, BenchRow = rows.Goal, rows.BenchRow

JSON_KEYS = {"name", "value", "unit", "baseline", "ratio", "goal", "meets_goal", "note"}


@pytest.mark.parametrize(("value", "baseline", "met"), [(29.0, 10.0, True), (30.0, 10.0, True), (31.0, 10.0, False)])
def test_a_ratio_goal_is_judged_on_the_ratio(value: float, baseline: float, met: bool) -> None:
    row = BenchRow("spawn vs primitive", value, "ms", baseline, Goal.ratio_at_most(3))
    assert row.ratio == pytest.approx(value / baseline)
    assert row.meets_goal is met


@pytest.mark.parametrize(("value", "met"), [(199.9, True), (200.0, False), (250.0, False)])
def test_an_absolute_goal_is_judged_on_the_value_whatever_the_ratio(value: float, met: bool) -> None:
    row = BenchRow("list 10,000 vs 10", value, "ms", 1.0, Goal("<", 200, "ms"))
    assert row.ratio == pytest.approx(value)  # far above any ratio goal: it is not what is judged
    assert row.meets_goal is met


def test_an_exact_goal_on_a_count() -> None:
    goal = Goal("=", 0, "calls")
    assert BenchRow("cached status", 0, "calls", 1, goal).meets_goal is True
    assert BenchRow("cached status", 1, "calls", 1, goal).meets_goal is False


def test_a_row_not_run_has_no_figures_and_no_verdict() -> None:
    row = BenchRow.not_run("docker round trip", "ms", Goal.ratio_at_most(1.5), "needs root")
    assert row.to_json() == {"name": "docker round trip", "value": None, "unit": "ms", "baseline": None,
                             "ratio": None, "goal": "<= 1.5x", "meets_goal": None, "note": "not run: needs root"}


def test_a_zero_baseline_gives_no_ratio_and_no_verdict_on_it() -> None:
    row = BenchRow("calls", 2, "calls", 0, Goal.ratio_at_most(1))
    assert row.ratio is None
    assert row.meets_goal is None


def test_the_json_row_has_the_issue_fields_and_rounded_figures() -> None:
    row = BenchRow("autoplace 1,000 vs 3 nodes", 13.52049, "ms", 11.37, Goal.ratio_at_most(2), "first 44.7 ms")
    written = json.loads(json.dumps(row.to_json()))
    assert set(written) == JSON_KEYS
    assert written == {"name": "autoplace 1,000 vs 3 nodes", "value": 13.52, "unit": "ms", "baseline": 11.37,
                       "ratio": 1.189, "goal": "<= 2x", "meets_goal": True, "note": "first 44.7 ms"}


@pytest.mark.parametrize("goal", [Goal.ratio_at_most(3), Goal.ratio_at_most(1.5), Goal("<", 200, "ms"),
                                  Goal("=", 0, "calls"), Goal("<=", 1, "calls")])
def test_a_goal_reads_back_from_its_text(goal: object) -> None:
    assert Goal.parse(str(goal)) == goal


@pytest.mark.parametrize("text", ["3x", "<= x", "<= 3", ">= 3x", "<= 3x extra", ""])
def test_a_goal_text_that_is_no_goal_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        Goal.parse(text)


def test_rows_written_by_a_benchmark_read_back_with_their_verdicts(tmp_path: Path) -> None:
    written = [BenchRow("spawn", 10.125, "ms", 4.0, Goal.ratio_at_most(3)),
               BenchRow("list", 104.0, "ms", 6.8, Goal("<", 200, "ms"), "first 233 ms"),
               BenchRow.not_run("docker", "ms", Goal.ratio_at_most(1.5), "needs root")]
    rows.write_rows(tmp_path / "rows.json", written)
    assert rows.read_rows(tmp_path / "rows.json") == written
    assert [row["meets_goal"] for row in json.loads((tmp_path / "rows.json").read_text())] == [True, True, None]


def test_a_figure_that_is_not_a_number_is_refused() -> None:
    row = BenchRow("spawn", 10.0, "ms", 4.0, Goal.ratio_at_most(3)).to_json()
    with pytest.raises(InvalidInput):
        BenchRow.from_json({**row, "value": "10 ms"})


def test_the_table_has_one_line_per_row_and_marks_misses_and_rows_not_run() -> None:
    table = rows.markdown_table([BenchRow("spawn", 10.0, "ms", 4.0, Goal.ratio_at_most(3)),
                                 BenchRow("docker", 64.5, "ms", 28.1, Goal.ratio_at_most(1.5)),
                                 BenchRow.not_run("root only", "ms", Goal.ratio_at_most(2), "needs root")])
    header, rule, *lines = table.splitlines()
    assert header.startswith("| benchmark | value | baseline | ratio | goal | meets goal |")
    assert lines == ["| spawn | 10 ms | 4 ms | 2.50x | <= 3x | yes |  |",
                     "| docker | 64.50 ms | 28.10 ms | 2.30x | <= 1.5x | **no** |  |",
                     "| root only |  |  |  | <= 2x | not run | not run: needs root |"]
