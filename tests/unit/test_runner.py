"""The runner runs argument lists without a shell and turns failures into StorageError."""

from __future__ import annotations

import pytest

from linstor_core.errors import StorageError
from linstor_core.runner import FakeRunner, run


def test_run_returns_stdout() -> None:
    assert run(["echo", "hello"]) == "hello\n"


def test_run_never_uses_a_shell() -> None:
    assert run(["echo", "$(id)", ";", "ls"]) == "$(id) ; ls\n"


def test_run_raises_storage_error_with_stderr() -> None:
    with pytest.raises(StorageError) as caught:
        run(["sh", "-c", "echo boom >&2; exit 3"])
    assert caught.value.returncode == 3 and "boom" in caught.value.stderr


def test_run_reports_missing_command() -> None:
    with pytest.raises(StorageError) as caught:
        run(["no-such-command-xyz"])
    assert caught.value.returncode == 127 and "install" in caught.value.correction


def test_run_times_out() -> None:
    with pytest.raises(StorageError, match="timed out"):
        run(["sleep", "5"], timeout=0.2)


def test_run_passes_stdin() -> None:
    assert run(["cat"], stdin=b"data") == "data"


def test_fake_runner_answers_expected_commands_in_order() -> None:
    fake = FakeRunner().expect(["losetup", "-f"], "/dev/loop3\n").expect(["true"])
    assert fake(["losetup", "-f"]) == "/dev/loop3\n"
    assert fake(["true"]) == ""
    fake.assert_done()


def test_fake_runner_fails_on_unexpected_command() -> None:
    fake = FakeRunner().expect(["true"])
    with pytest.raises(AssertionError, match="expected command"):
        fake(["rm", "-rf", "/"])
    with pytest.raises(AssertionError, match="unexpected command"):
        FakeRunner()(["true"])


def test_fake_runner_raises_queued_errors_and_reports_leftovers() -> None:
    fake = FakeRunner().expect(["false"], StorageError(["false"], 1, "")).expect(["never"])
    with pytest.raises(StorageError):
        fake(["false"])
    with pytest.raises(AssertionError, match="never run"):
        fake.assert_done()
