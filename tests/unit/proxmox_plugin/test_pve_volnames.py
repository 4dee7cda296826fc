"""PVE volume names in and out, and the snapshot names PVE keeps for itself."""

from __future__ import annotations

import pytest

from linstor_core.errors import InvalidInput
from proxmox_plugin.volnames import VolName, check_snapshot_name, new_volname, parse_volname


@pytest.mark.parametrize("text, vmid, disk, is_base", [
    ("vm-100-disk-0", 100, "disk-0", False),
    ("base-100-disk-3", 100, "disk-3", True),
    ("vm-7-cloudinit", 7, "cloudinit", False),
    ("vm-7-state-before_upgrade", 7, "state-before_upgrade", False),
    ("vm-7-fleece-0", 7, "fleece-0", False),
    ("vm-7-pvc-claim-1", 7, "pvc-claim-1", False),
])
def test_plain_names_round_trip(text: str, vmid: int, disk: str, is_base: bool) -> None:
    vol = parse_volname(text)
    assert (vol.vmid, vol.disk, vol.is_base, vol.base) == (vmid, disk, is_base, None)
    assert vol.volname == text


def test_linked_clone_names_its_base() -> None:
    vol = parse_volname("base-100-disk-0/vm-101-disk-2")
    assert vol == VolName(101, "disk-2", False, VolName(100, "disk-0", True))
    assert vol.name == "vm-101-disk-2"
    assert vol.volname == "base-100-disk-0/vm-101-disk-2"
    assert vol.as_base().volname == "base-100-disk-0/base-101-disk-2"
    assert parse_volname("base-100-disk-0/base-101-disk-2") == vol.as_base()  # read back


def test_any_name_pves_content_api_allocates_is_a_volume_name() -> None:
    """PVE only asks for the vm-<vmid>- start (pvesm alloc STORE 100 vm-100-data 4G)."""
    assert parse_volname("vm-100-data") == VolName(100, "data")
    assert parse_volname("base-100-data/vm-101-my_disk-2") == VolName(101, "my_disk-2", False, VolName(100, "data", True))
    assert parse_volname("vm-1-" + "x" * 64).disk == "x" * 64


@pytest.mark.parametrize("text", [
    "", "vm-100", "vm-0-disk-0", "vm-100-disk-0.raw", "100/vm-100-disk-0.raw", "vm-100--x", "vm-100-" + "x" * 65,
    "vm-100-disk-0/vm-101-disk-0", "base-100-disk-0/base-101-disk-0/vm-1-disk-0",
    "vm-100-disk-0/base-101-disk-0", "../etc/passwd", "vm-100-disk-0 ", "vm-100-state-a;b",
])
def test_malformed_names_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_volname(text)
    assert caught.value.field == "volname"


@pytest.mark.parametrize("value", [5, 5.5, True, [], ["vm-5-disk-1"], {}])
def test_names_that_are_not_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        new_volname(value, 5)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.value) == ("name", value)
    with pytest.raises(InvalidInput, match="must be a string"):
        parse_volname(value)  # type: ignore[arg-type]


def test_new_name_must_belong_to_the_guest() -> None:
    assert new_volname(None, 5) is None
    assert new_volname("vm-5-disk-1", 5) == VolName(5, "disk-1")
    with pytest.raises(InvalidInput, match="belongs to VM 6, not to VM 5"):
        new_volname("vm-6-disk-1", 5)
    with pytest.raises(InvalidInput, match="base- names come from create_base"):
        new_volname("base-5-disk-1", 5)


@pytest.mark.parametrize("name", ["current", "__base__", "__migration__",
                                  "__replicate_101-0_1700000000__"])
def test_reserved_snapshot_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="reserved by Proxmox VE"):
        check_snapshot_name(name)


def test_snapshot_names_follow_linstor_rules() -> None:
    assert check_snapshot_name("before_upgrade") == "before_upgrade"
    with pytest.raises(InvalidInput):
        check_snapshot_name("1st")


def test_errors_name_the_whole_volname() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_volname("100/vm-100-disk-0.raw")
    assert caught.value.value == "100/vm-100-disk-0.raw"
