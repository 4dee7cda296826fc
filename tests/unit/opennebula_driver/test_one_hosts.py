"""Commands on hosts: this machine's ``disk.<i>`` symlinks in-process, other hosts over ssh."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from linstor_core.errors import LinstorError
from linstor_core.runner import FakeRunner
from opennebula_driver import hosts as hosts_module
from opennebula_driver.hosts import Hosts


@pytest.fixture
def runner() -> Iterator[FakeRunner]:
    fake = FakeRunner()
    yield fake
    fake.assert_done()


def test_local_links_are_made_and_removed_without_a_command(runner: FakeRunner, tmp_path: Path) -> None:
    hosts = Hosts(runner=runner, local=frozenset({"fe"}))
    link = tmp_path / "vms" / "22" / "disk.0"
    hosts.link("fe", "/dev/drbd1000", str(link))
    assert os.readlink(link) == "/dev/drbd1000"
    hosts.link("fe", "/dev/drbd1001", str(link))
    assert os.readlink(link) == "/dev/drbd1001"
    assert sorted(p.name for p in link.parent.iterdir()) == ["disk.0"]
    hosts.unlink("fe", str(link))
    hosts.unlink("fe", str(link))
    assert not link.is_symlink()


def test_a_local_link_that_cannot_be_made_is_a_clear_error(runner: FakeRunner, tmp_path: Path) -> None:
    hosts = Hosts(runner=runner, local=frozenset({"fe"}))
    (tmp_path / "disk.0").mkdir()
    with pytest.raises(LinstorError, match="cannot link .*disk.0 to /dev/drbd1000"):
        hosts.link("fe", "/dev/drbd1000", str(tmp_path / "disk.0"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk.0"]
    with pytest.raises(LinstorError, match="cannot remove"):
        hosts.unlink("fe", str(tmp_path / "disk.0"))


def test_remote_links_go_over_ssh(runner: FakeRunner) -> None:
    hosts = Hosts(runner=runner, local=frozenset({"fe"}))
    runner.expect(["ssh", "-o", "BatchMode=yes", "node1",
                   "sh -c 'mkdir -p -- \"$1\" && ln -sfn -- \"$2\" \"$3\"' link /d/22 /dev/drbd1000 /d/22/disk.0"])
    runner.expect(["ssh", "-o", "BatchMode=yes", "node1", "rm -f /d/22/disk.0"])
    hosts.link("node1", "/dev/drbd1000", "/d/22/disk.0")
    hosts.unlink("node1", "/d/22/disk.0")


def test_this_machines_names_are_found_on_first_use_only_and_dns_only_for_other_names(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding the FQDN is a DNS lookup: actions that touch no host, or touch this machine
    under its host name, never make it."""
    asked: list[str] = []

    def names() -> frozenset[str]:
        asked.append("names")
        return frozenset({"localhost", "fe"})

    def fqdn() -> str:
        asked.append("fqdn")
        return "fe.example.org"

    monkeypatch.setattr(hosts_module, "local_names", names)
    monkeypatch.setattr(hosts_module, "local_fqdn", fqdn)
    hosts = Hosts(this_node="fe-linstor")
    assert asked == []
    assert hosts.is_local("fe") and hosts.is_local("fe-linstor") and hosts.is_local("localhost")
    assert asked == ["names"]
    assert hosts.is_local("fe.example.org") and not hosts.is_local("node1")
    assert asked == ["names", "fqdn"]


def copy_here(tmp_path: Path, name: str, path: str | None = None) -> int:
    """The copy script run for real with bash, both ends this machine ("-"), PATH first
    looking in tmp_path/bin."""
    parent = tmp_path / "datastores"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", hosts_module._COPY_SCRIPT, "copy", "-", "-", path or str(parent), name],
                          env=env, capture_output=True, text=True, check=False)
    return done.returncode


def test_the_copy_fails_when_the_sending_tar_fails_though_its_archive_ended(tmp_path: Path) -> None:
    """A tar that could not read one file still ends its archive and the receiving tar succeeds:
    without pipefail the copy passed and mv removed the source with that file lost."""
    (tmp_path / "datastores" / "22").mkdir(parents=True)
    (tmp_path / "datastores" / "22" / "checkpoint").write_bytes(b"memory")
    fake = tmp_path / "bin" / "tar"
    fake.parent.mkdir()
    real = shutil.which("tar")
    fake.write_text(f'#!/bin/sh\n"{real}" "$@"; status=$?\ncase " $* " in *" -cf "*) exit 2 ;; esac\nexit $status\n')
    fake.chmod(0o755)
    assert copy_here(tmp_path, "22") == 2


def test_a_copy_repeated_after_the_source_went_is_done_and_one_with_no_directory_fails(tmp_path: Path) -> None:
    (tmp_path / "datastores" / "22").mkdir(parents=True)
    assert copy_here(tmp_path, "22") == 0  # source and destination the same here: "moved already"
    assert copy_here(tmp_path, "23") == 1
