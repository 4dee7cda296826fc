"""The entry point: three ways to pass a datastore action, one error line, exit codes, --help."""

from __future__ import annotations

import base64
import io
import logging
import re
import socket
import tempfile
from pathlib import Path

import pytest

from linstor_core.errors import LinstorError
from opennebula_driver import cli, ds, tm

from one_fakes import Harness

MONITOR = base64.b64encode(
    b"<DS_DRIVER_ACTION_DATA><DATASTORE><ID>100</ID><TEMPLATE>"
    b"<LINSTOR_RESOURCE_GROUP>gold</LINSTOR_RESOURCE_GROUP></TEMPLATE></DATASTORE></DS_DRIVER_ACTION_DATA>"
)
ANSWER = "USED_MB=5120\nTOTAL_MB=8192\nFREE_MB=3072\n"


def call(harness: Harness, argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    harness.env.read_stdin = io.BytesIO(stdin).read
    code = cli.main(argv, env=harness.env, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv, stdin",
    [
        (["ds", "monitor", "100"], MONITOR),  # oned >= 6.8
        (["ds", "monitor", MONITOR.decode(), "100"], b""),  # oned <= 6.6
        (["ds", "monitor", "-", "100"], MONITOR),
        (["tm", "monitor", "100"], MONITOR),
    ],
)
def test_three_ways_to_pass_the_action(harness: Harness, argv: list[str], stdin: bytes) -> None:
    assert call(harness, argv, stdin) == (0, ANSWER, "")


@pytest.mark.parametrize(
    "argv, stdin, message",
    [
        (["ds", "monitor", "100"], MONITOR[:-9], "base64"),
        (["ds", "monitor", "100"], b"", "empty"),
        (["ds", "cp", "7"], MONITOR, "has no IMAGE element"),
        (["ds", "monitor", "1", "2", "3"], b"", "takes ID, or DRIVER_ACTION ID, got 3"),
        (["ds", "monitor", "x"], MONITOR, "invalid id"),
        (["tm", "resize", "n1:/d/22/disk.0", "2G", "22", "100"], b"", "MiB"),
    ],
)
def test_refusals_are_one_line_exit_1(harness: Harness, argv: list[str], stdin: bytes, message: str) -> None:
    code, out, err = call(harness, argv, stdin)
    assert (code, out) == (1, "")
    assert message in err and err.count("\n") == 1 and not err.startswith(("ERROR", "INFO"))
    assert "Traceback" not in err
    assert harness.disks.mutations() == []


def test_a_well_formed_call_builds_no_argument_parser(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parser() -> None:
        raise AssertionError("argparse parser built for a well-formed call")

    monkeypatch.setattr(cli, "_parser", no_parser)
    assert call(harness, ["ds", "monitor", "100"], MONITOR) == (0, ANSWER, "")
    assert call(harness, ["tm", "monitor", "-", "100"], MONITOR) == (0, ANSWER, "")
    code, _, err = call(harness, ["tm", "resize", "n1:/d/22/disk.0", "huge", "22", "100"])
    assert code == 1 and "MiB" in err


@pytest.mark.parametrize(
    "error, line",
    [
        (LinstorError("disk gone", cause="deleted by hand", correction="restore it"),
         "ds monitor: disk gone; cause: deleted by hand; correction: restore it\n"),
        (LinstorError("pool full: no space", cause="no space"), "ds monitor: pool full: no space\n"),
    ],
)
def test_errors_are_rendered_as_str_gives_them(harness: Harness, error: LinstorError, line: str) -> None:
    def refuse(profile: str) -> None:
        raise error

    harness.disks.capacity = refuse  # type: ignore[method-assign,assignment]
    assert call(harness, ["ds", "monitor", "100"], MONITOR) == (1, "", line)


def test_the_notes_on_an_error_reach_oned(harness: Harness) -> None:
    """oned shows only stderr: a clean-up that failed too (noted on the error) must be there."""
    error = LinstorError("disk gone")
    error.add_note("detaching it again failed too: controller unreachable")

    def refuse(profile: str) -> None:
        raise error

    harness.disks.capacity = refuse  # type: ignore[method-assign,assignment]
    assert call(harness, ["ds", "monitor", "100"], MONITOR) == (
        1, "", "ds monitor: disk gone; detaching it again failed too: controller unreachable\n")


def test_an_unexpected_exception_is_reported_without_traceback(harness: Harness) -> None:
    def boom(profile: str) -> None:
        raise KeyError("surprise")

    harness.disks.capacity = boom  # type: ignore[method-assign,assignment]
    code, _, err = call(harness, ["ds", "monitor", "100"], MONITOR)
    assert code == 1 and "internal error (KeyError" in err and "Traceback" not in err


def test_bad_command_lines_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["tm", "bogus"], ["ds"], [], ["ds", "snap_create"], ["tm", "cp"], ["one", "monitor"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 1


ACTION_LINE = re.compile(r"  ([a-z_]+(?:, [a-z_]+)*)(?: {2,}|$)")


def listed_actions(text: str, heading: str) -> set[str]:
    """The action names at the start of the lines of the help section ``heading`` (to its blank line)."""
    section = text.split(f"\n{heading}", 1)[1].split("\n\n", 1)[0]
    names: set[str] = set()
    for line in section.splitlines()[1:]:
        match = ACTION_LINE.match(line)
        if match:
            names.update(match.group(1).split(", "))
    return names


def help_of(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_help_lists_every_action(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys, ["--help"])
    assert listed_actions(text, "datastore actions") == set(ds.ACTIONS)
    assert listed_actions(text, "transfer manager actions") == {*tm.ACTIONS, "monitor"}
    assert listed_actions(help_of(capsys, ["ds", "--help"]), "datastore actions") == set(ds.ACTIONS)
    assert listed_actions(help_of(capsys, ["tm", "--help"]), "transfer manager actions") == {*tm.ACTIONS, "monitor"}
    for attribute in ("LINSTOR_CONTROLLERS", "LINSTOR_RESOURCE_GROUP", "ONE_XMLRPC", "exit status"):
        assert attribute in text


def test_an_actions_help_is_its_kinds_and_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """``ds cp --help`` used to run cp: it read stdin (and waited there) before refusing the ID."""
    for argv, heading, actions in ((["ds", "cp", "--help"], "datastore actions", set(ds.ACTIONS)),
                                   (["tm", "clone", "-h"], "transfer manager actions", {*tm.ACTIONS, "monitor"})):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv, stdin=_Unreadable())
        assert exit_info.value.code == 0
        assert listed_actions(capsys.readouterr().out, heading) == actions


def test_a_bad_id_is_refused_before_stdin_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    err = io.StringIO()
    assert cli.main(["ds", "cp", "seven"], stdin=_Unreadable(), stderr=err) == 1
    assert "invalid id 'seven'" in err.getvalue()


class _Unreadable(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("help must not read stdin")


def test_action_names_are_read_from_line_starts_only() -> None:
    text = "intro\ndatastore actions (x):\n  cpds          a\n  snap_a, snap_b\n    cp  indented\n\nother:\n  rm  b\n"
    assert listed_actions(text, "datastore actions") == {"cpds", "snap_a", "snap_b"}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_go_to_a_terminal_only() -> None:
    """oned takes a failed driver's whole stderr as the reason: progress must not bury it."""
    for stderr, shown in ((io.StringIO(), ""), (_Terminal(), "copied 1 MiB of 2 MiB (50%)\n")):
        env = cli.default_env(io.BytesIO(), stderr, environ={"LS_NODE_NAME": "fe"})
        env.progress("copied 1 MiB of 2 MiB (50%)")
        assert stderr.getvalue() == shown


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def unconfigured_logging(monkeypatch: pytest.MonkeyPatch) -> logging.Logger:
    """The root logger as a fresh linstor-one process has it: pytest's handlers, added as the
    test starts, set aside (and put back after it)."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    return root


def test_log_lines_go_to_syslog_not_to_oneds_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    root = unconfigured_logging(monkeypatch)
    with tempfile.TemporaryDirectory(prefix="one-log-") as directory:
        address = f"{directory}/log"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as syslog:
            syslog.bind(address)
            stderr = io.StringIO()
            cli.route_logs(stderr, syslog_socket=address)
            logging.getLogger("opennebula_driver.tm").warning("snapshot %s taken again", "snap-3")
            syslog.settimeout(5)
            line = syslog.recv(4096).decode()
        for handler in root.handlers:
            handler.close()
    assert line.startswith("<28>linstor-one: snapshot snap-3 taken again")  # daemon.warning
    assert stderr.getvalue() == ""


def test_without_syslog_log_lines_go_nowhere_and_to_a_terminal_they_are_shown(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = unconfigured_logging(monkeypatch)
    stderr = io.StringIO()
    cli.route_logs(stderr, syslog_socket=str(tmp_path / "no-syslog"))
    logging.getLogger("opennebula_driver.tm").warning("lost")
    assert stderr.getvalue() == ""
    root.handlers.clear()
    terminal = _Terminal()
    cli.route_logs(terminal)
    logging.getLogger("opennebula_driver.tm").warning("shown")
    assert terminal.getvalue() == "shown\n"
