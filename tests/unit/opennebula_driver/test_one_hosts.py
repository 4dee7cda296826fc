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

from one_fakes import ssh


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
    runner.expect(ssh("node1", "sh -c 'mkdir -p -- \"$1\" && ln -sfn -- \"$2\" \"$3\"' link /d/22 /dev/drbd1000 "
                               "/d/22/disk.0"))
    runner.expect(ssh("node1", "rm -f /d/22/disk.0"))
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


def copy_between(tmp_path: Path, src: str, dst: str, name: str) -> subprocess.CompletedProcess[str]:
    """The copy script run for real with bash, under an ssh stand-in on PATH that runs the
    command here with ``/ds`` standing for ``tmp_path/<host>`` (host "down" is unreachable:
    255, as ssh exits)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    ssh = bin_dir / "ssh"
    ssh.write_text('#!/bin/sh\nshift 2; host=$1; shift\n[ "$host" = down ] && exit 255\n'
                   f'exec sh -c "$(printf \'%s \' "$@" | sed "s|/ds|{tmp_path}/$host|g")"\n')
    ssh.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", hosts_module._COPY_SCRIPT, "copy", src, dst, "/ds", name],
                          env=env, capture_output=True, text=True, check=False)


def test_the_copy_fails_when_the_sending_tar_fails_though_its_archive_ended(tmp_path: Path) -> None:
    """A tar that could not read one file still ends its archive and the receiving tar succeeds:
    without pipefail the copy passed and mv removed the source with that file lost."""
    (tmp_path / "a" / "22").mkdir(parents=True)
    (tmp_path / "a" / "22" / "checkpoint").write_bytes(b"memory")
    fake = tmp_path / "bin" / "tar"
    fake.parent.mkdir()
    real = shutil.which("tar")
    fake.write_text(f'#!/bin/sh\n"{real}" "$@"; status=$?\ncase " $* " in *" -cf "*) exit 2 ;; esac\nexit $status\n')
    fake.chmod(0o755)
    assert copy_between(tmp_path, "a", "b", "22").returncode == 2


def test_a_copy_moves_the_directory_and_a_repeated_one_is_done(tmp_path: Path) -> None:
    (tmp_path / "a" / "22").mkdir(parents=True)
    (tmp_path / "a" / "22" / "checkpoint").write_bytes(b"memory")
    assert copy_between(tmp_path, "a", "b", "22").returncode == 0
    assert (tmp_path / "b" / "22" / "checkpoint").read_bytes() == b"memory"
    shutil.rmtree(tmp_path / "a" / "22")  # what mv does next; then oned repeats the MV
    assert copy_between(tmp_path, "a", "b", "22").returncode == 0


def test_a_copy_with_no_directory_anywhere_or_an_unreachable_source_fails(tmp_path: Path) -> None:
    """ssh failing exits 255, which must not read as "the source is gone": mv would then remove
    the source after an earlier, partial copy."""
    (tmp_path / "b" / "22").mkdir(parents=True)  # a partial copy from an earlier attempt
    unreachable = copy_between(tmp_path, "down", "b", "22")
    assert unreachable.returncode == 255 and "cannot look for /ds/22 on down" in unreachable.stderr
    nowhere = copy_between(tmp_path, "a", "c", "23")
    assert nowhere.returncode == 1 and "/ds/23 is on neither a nor c" in nowhere.stderr
    destination_down = copy_between(tmp_path, "a", "down", "23")
    assert destination_down.returncode == 255 and "cannot look for /ds/23 on down" in destination_down.stderr
