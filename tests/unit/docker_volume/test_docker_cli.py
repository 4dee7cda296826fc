"""The command line: --help reads like a man page; errors are one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core import config as client_config

from docker_volume.cli import main


def test_help_reads_like_a_man_page(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for expected in ("--socket PATH", "--controllers URL,...", "--mount-root DIR", "--config FILE",
                     "volume options", "size=SIZE", "fs=ext4|xfs|ext3", "LS_CONTROLLERS", "exit status"):
        assert expected in text


def test_a_config_error_is_one_line_on_stderr_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.conf"
    path.write_text("[global]\nsize = 1G\n")
    assert main(["--config", str(path)]) == 1
    assert capsys.readouterr().err.startswith("linstor-docker-volume: unknown key(s) size")


def test_help_names_the_drop_ins_the_plugin_reads(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "/etc/linstor/docker-volume.d/*.conf  drop-ins, read after it in name order" in capsys.readouterr().out


def test_help_names_the_linstor_client_files_in_the_order_they_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    order = [str(path) for path in client_config.DEFAULT_PATHS]
    assert order == ["~/.config/linstor/linstor-client.conf", "/etc/linstor/linstor-client.conf"]
    assert f"connection settings only: {order[0]}, then {order[1]} with its drop-ins" in text


def test_a_config_file_given_but_missing_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in --config would otherwise start the plugin on the defaults without a word."""
    assert main(["--config", str(tmp_path / "docker-volum.conf"), "--check"]) == 1
    err = capsys.readouterr().err
    assert "docker-volum.conf: no such file" in err and "leave --config out" in err
