"""Commands on hosts: this machine's ``disk.<i>`` symlinks in-process, other hosts over ssh."""

from __future__ import annotations

import os
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
