"""The packaged scripts: one-line wrappers for every action, installed where oned looks."""

from __future__ import annotations

import subprocess
from pathlib import Path

from opennebula_driver import ds, tm

PACKAGING = Path(__file__).resolve().parents[3] / "packaging" / "opennebula"


def test_one_wrapper_per_action() -> None:
    for kind, directory, actions in (("ds", "datastore", ds.ACTIONS), ("tm", "tm", [*tm.ACTIONS, "monitor"])):
        scripts = sorted(p.name for p in (PACKAGING / directory).iterdir())
        assert scripts == sorted(actions)
        for name in scripts:
            path = PACKAGING / directory / name
            assert path.stat().st_mode & 0o111
            assert path.read_text() == f'#!/bin/sh\nexec linstor-one {kind} {name} "$@"\n'


def test_install_writes_the_scripts_and_prints_the_registration(tmp_path: Path) -> None:
    exe = tmp_path / "venv" / "bin" / "linstor-one"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    done = subprocess.run(["sh", str(PACKAGING / "install.sh"), "--remotes", str(tmp_path / "remotes"),
                           "--linstor-one", str(exe)], capture_output=True, text=True, check=True)
    installed = (tmp_path / "remotes" / "tm" / "linstor" / "clone").read_text()
    assert installed == f'#!/bin/sh\nexec {exe} tm clone "$@"\n'
    assert (tmp_path / "remotes" / "datastore" / "linstor" / "cp").stat().st_mode & 0o111
    for snippet in ("TM_MAD_CONF", 'NAME = "linstor"', 'DISK_TYPE = "BLOCK"', "DS_MAD_CONF", "onehost sync",
                    "kvm-linstor", "LIVE_DISK_SNAPSHOTS", 'CONTEXT_DISK_TYPE = "BLOCK"'):
        assert snippet in done.stdout


def test_install_refuses_without_linstor_one(tmp_path: Path) -> None:
    done = subprocess.run(["sh", str(PACKAGING / "install.sh"), "--remotes", str(tmp_path),
                           "--linstor-one", str(tmp_path / "missing")], capture_output=True, text=True)
    assert done.returncode == 1 and "linstor-one not found" in done.stderr


def test_install_writes_a_relative_linstor_one_as_an_absolute_path(tmp_path: Path) -> None:
    """oned runs the scripts from its own directory: a path relative to the installer's is wrong there."""
    exe = tmp_path / "venv" / "bin" / "linstor-one"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    subprocess.run(["sh", str(PACKAGING / "install.sh"), "--remotes", str(tmp_path / "remotes"),
                    "--linstor-one", "venv/bin/linstor-one"], cwd=tmp_path, capture_output=True, check=True)
    installed = (tmp_path / "remotes" / "datastore" / "linstor" / "cp").read_text()
    assert installed == f'#!/bin/sh\nexec {exe} ds cp "$@"\n'


def test_install_refuses_a_linstor_one_that_is_not_an_executable_file(tmp_path: Path) -> None:
    plain = tmp_path / "linstor-one"
    plain.write_text("#!/bin/sh\n")
    for path in (plain, tmp_path):
        done = subprocess.run(["sh", str(PACKAGING / "install.sh"), "--remotes", str(tmp_path / "remotes"),
                               "--linstor-one", str(path)], capture_output=True, text=True)
        assert done.returncode == 1 and f"{path} is not an executable file" in done.stderr
    assert not (tmp_path / "remotes").exists()
