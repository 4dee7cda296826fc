"""LINSTOR's identifier rules, and disk names that always validate and keep their owner id."""

import pytest
from hypothesis import given, strategies as st

from linstor_core.errors import InvalidInput
from linstor_core.naming import (
    PROP_OWNER_ID, PROP_PLATFORM, disk_resource_name, owner_filter, owner_id_from_name, owner_props,
    validate_node_name, validate_resource_group_name, validate_resource_name, validate_snapshot_name,
    validate_storage_pool_name,
)

NAME_VALIDATORS = [validate_resource_name, validate_resource_group_name, validate_snapshot_name]


@pytest.mark.parametrize("validate", NAME_VALIDATORS)
@pytest.mark.parametrize("name", ["ab", "_a", "a-b_c", "LocalData", "a" * 48, "vm-101-disk-0", "a1"])
def test_valid_names(validate, name: str) -> None:
    assert validate(name) == name


@pytest.mark.parametrize("validate", NAME_VALIDATORS + [validate_storage_pool_name])
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a" * 49, "length"),
        ("1abc", "cannot begin"),
        ("-abc", "cannot begin"),
        ("___", "letter"),
        ("12345", "letter"),
        ("ab.c", "cannot contain"),
        ("ab c", "cannot contain"),
        ("äbc", "cannot begin"),
            ("ää", "letter"),
        ("abä", "cannot contain"),
    ],
)
def test_invalid_names(validate, name: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate(name)
    assert reason in info.value.reason
    assert "letters" in info.value.correction


def test_lengths_differ_per_identifier() -> None:
    assert validate_resource_name("ab") == "ab"
    with pytest.raises(InvalidInput, match="length 1"):
        validate_resource_name("a")
    with pytest.raises(InvalidInput, match="length 2 is outside 3..48"):
        validate_storage_pool_name("ab")
    assert validate_storage_pool_name("abc") == "abc"


@pytest.mark.parametrize("name", ["all", "ALL", "proxy", "Proxy"])
def test_reserved_resource_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        validate_resource_name(name)
    assert validate_resource_group_name(name) == name


@pytest.mark.parametrize("name", ["node-1", "n1.example.com", "10.0.0.1", "ab", "a" * 63 + ".b"])
def test_valid_node_names(name: str) -> None:
    assert validate_node_name(name) == name


@pytest.mark.parametrize("name", ["a", "-node", ".node", "node-", "no_de", "nöde", "a" * 64 + ".b", "a." * 128])
def test_invalid_node_names(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_node_name(name)
    assert info.value.field == "node name"


def test_non_strings_are_refused() -> None:
    with pytest.raises(InvalidInput, match="string"):
        validate_resource_name(5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="string"):
        validate_node_name(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("pve", 101, "web01", 0), "pve-101-web01-disk-0"),
        (("one", 22, "vm", 1), "one-22-vm-disk-1"),
        (("docker", None, "myvol"), "docker-myvol"),
        (("docker", None, "my-vol"), "docker-my-vol"),
        (("pve", 101, "", "cloudinit"), "pve-101-cloudinit"),
        (("pve", "101", "web", None), "pve-101-web"),
    ],
)
def test_readable_disk_names(args: tuple, name: str) -> None:
    assert disk_resource_name(*args) == name


def test_sanitising_adds_a_stable_hash() -> None:
    dotted = disk_resource_name("docker", None, "my.vol")
    assert dotted.startswith("docker-my_vol-")
    assert dotted == disk_resource_name("docker", None, "my.vol")
    assert dotted != disk_resource_name("docker", None, "my_vol")
    assert dotted != disk_resource_name("docker", None, "my:vol")


def test_the_same_disk_gets_the_same_name_whatever_the_id_type() -> None:
    assert disk_resource_name("pve", 101, "web.01", 0) == disk_resource_name("pve", "101", "web.01", "disk-0")


def test_long_owner_names_are_shortened_but_keep_id_and_disk() -> None:
    name = disk_resource_name("pve", 123456789, "x" * 100, 3)
    assert len(name) <= 48
    assert name.startswith("pve-123456789-xxx")
    assert "-disk-3-" in name
    assert owner_id_from_name("pve", name) == "123456789"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("PVE", 1, "a"), "platform"),
        (("p-v", 1, "a"), "platform"),
        (("platformtoolong", 1, "a"), "platform"),
        (("pve", "1-2", "a"), "owner id"),
        (("pve", "x" * 21, "a"), "owner id"),
        (("pve", True, "a"), "owner id"),
        (("pve", 1, "a", -1), "disk"),
        (("docker", None, ""), "owner"),
    ],
)
def test_bad_disk_name_inputs(args: tuple, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        disk_resource_name(*args)
    assert info.value.field == field


platforms = st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True)
owner_ids = st.one_of(st.integers(min_value=0, max_value=10**20 - 1), st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True))
disks = st.one_of(st.none(), st.integers(min_value=0, max_value=10**12), st.text(max_size=60))


@given(platforms, owner_ids, st.text(max_size=80), disks)
def test_every_disk_name_validates_and_keeps_its_owner_id(platform, owner_id, owner_name, disk) -> None:
    name = disk_resource_name(platform, owner_id, owner_name, disk)
    assert validate_resource_name(name) == name
    assert owner_id_from_name(platform, name) == str(owner_id)
    assert disk_resource_name(platform, owner_id, owner_name, disk) == name


@given(platforms, st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_distinct_owner_names_give_distinct_names(platform, first, second) -> None:
    if first != second:
        assert disk_resource_name(platform, None, first) != disk_resource_name(platform, None, second)


def test_owner_id_from_a_foreign_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a pve disk name"):
        owner_id_from_name("pve", "one-22-vm-disk-1")
    with pytest.raises(InvalidInput):
        owner_id_from_name("pve", "pve-")


def test_owner_props_are_strings_under_aux() -> None:
    assert owner_props("pve", 101, "web01", disk=0, node="pve1") == {
        "Aux/bundle/platform": "pve",
        "Aux/bundle/owner-id": "101",
        "Aux/bundle/owner-name": "web01",
        "Aux/bundle/disk": "0",
        "Aux/bundle/node": "pve1",
    }
    assert owner_props("docker", None, "v") == {PROP_PLATFORM: "docker", "Aux/bundle/owner-name": "v"}
    assert owner_filter("pve") == {PROP_PLATFORM: "pve"}
    assert owner_filter("pve", 7) == {PROP_PLATFORM: "pve", PROP_OWNER_ID: "7"}
