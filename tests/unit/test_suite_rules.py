"""The suite's skip rules: tests/conftest.py for root-marked tests (on a small suite run in-process
by pytester) and prerequisites.require for tools."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prerequisites import require

pytest_plugins = ["pytester"]

SUITE = """
import pytest

@pytest.mark.root
def test_needs_root():
    pass

def test_plain():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest((Path(__file__).parents[1] / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    root: needs root\n")
    pytester.makepyfile(SUITE)
    return pytester


@pytest.mark.parametrize(("euid", "ci", "outcomes"), [
    (0, "true", {"passed": 2}),
    (0, "", {"passed": 2}),
    (1000, "", {"passed": 1, "skipped": 1}),
])
def test_root_tests_skip_only_without_root_outside_ci(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                      euid: int, ci: str, outcomes: dict[str, int]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    monkeypatch.setenv("CI", ci)
    result = suite.runpytest_inprocess()
    result.assert_outcomes(**outcomes)
    assert result.ret == 0


def test_ci_without_root_fails_the_run_before_any_test(suite: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest_inprocess()
    assert result.ret == 1
    result.assert_outcomes()
    result.stdout.fnmatch_lines(["*CI=true but not root: 1 tests marked root*run .ci/run (make test) as root*"])


def test_ci_without_root_runs_a_selection_without_root_tests(suite: pytest.Pytester,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest_inprocess("-k", "plain")
    result.assert_outcomes(passed=1, deselected=1)
    assert result.ret == 0


@pytest.mark.parametrize(("euid", "ci", "outcome"), [
    (0, "", pytest.fail.Exception),
    (1000, "true", pytest.fail.Exception),
    (1000, "", pytest.skip.Exception),
])
def test_a_missing_tool_fails_as_root_or_in_ci_and_skips_elsewhere(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, euid: int, ci: str, outcome: type[BaseException]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(outcome, match="needs nosuch-tool or other-tool: apt-get install nosuch-pkg"):
        require("nosuch-tool", "other-tool", package="nosuch-pkg")


def test_a_present_tool_is_returned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tool = tmp_path / "other-tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert require("nosuch-tool", "other-tool", package="nosuch-pkg") == str(tool)
