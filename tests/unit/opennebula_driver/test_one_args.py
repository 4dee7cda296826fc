"""TM argument forms: host:path, disk.<i>, ids, sizes in MiB only."""

from __future__ import annotations

import pytest

from linstor_core.errors import InvalidInput
from opennebula_driver.args import check_count, host_path, object_id, size_mib_to_kib, snapshot_id, source_of


def test_host_path_and_disk_id() -> None:
    where = host_path("node1:/var/lib/one/datastores/0/22/disk.3")
    assert (where.host, where.disk_id, where.directory) == ("node1", 3, "/var/lib/one/datastores/0/22")
    assert host_path("node1:/var/lib/one/datastores/0/22/").disk_id is None


def test_repeated_slashes_are_one_as_opennebulas_drivers_take_them() -> None:
    """A DATASTORE_LOCATION ending in / makes oned pass /var/lib/one/datastores//0/22."""
    where = host_path("node1:/var/lib/one/datastores//0/22//disk.1")
    assert (where.path, where.disk_id) == ("/var/lib/one/datastores/0/22/disk.1", 1)


@pytest.mark.parametrize("text", ["node1", ":/x", "node1:relative", "node1:/a/../b", "node1:/a/./b",
                                  "-oProxyCommand=x:/a", "../n:/a", "n/1:/a", "node1:/a/$(touch x)/22",
                                  "node1:/a b/22", "node1:/a;rm/22", "node1:/a`id`/22", "node1:/a\0b"])
def test_bad_host_paths(text: str) -> None:
    with pytest.raises(InvalidInput):
        host_path(text)


def test_disk_id_required() -> None:
    with pytest.raises(InvalidInput, match="disk.<number>"):
        host_path("n1:/var/lib/one/0/22/checkpoint").require_disk_id()


def test_source_and_ids() -> None:
    assert source_of("frontend:one-img7-u") == "one-img7-u"  # ln, clone
    assert source_of("one-img7-u") == "one-img7-u"  # mvds, cpds: as oned writes them
    for bad in ("", "frontend:"):
        with pytest.raises(InvalidInput, match="SOURCE or frontend:SOURCE"):
            source_of(bad)
    assert object_id("22", "vmid") == 22
    assert snapshot_id("-1") == -1
    for bad in ("x", "-2", "1.5"):
        with pytest.raises(InvalidInput):
            snapshot_id(bad)
    with pytest.raises(InvalidInput, match="vmid"):
        object_id("-3", "vmid")


@pytest.mark.parametrize("text", ["10G", "1.5", "0", "-5", "", "1024MiB"])
def test_sizes_must_be_whole_mib(text: str) -> None:
    with pytest.raises(InvalidInput, match="MiB"):
        size_mib_to_kib(text)


def test_size_in_mib_becomes_kib() -> None:
    assert size_mib_to_kib("1024") == 1024 * 1024


def test_argument_count() -> None:
    check_count("ln", ["a", "b", "c", "d"], "usage", 4)
    with pytest.raises(InvalidInput, match="ln takes 4 arguments, got 3"):
        check_count("ln", ["a", "b", "c"], "usage", 4)
