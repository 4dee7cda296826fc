"""-o options: canonical forms, what is stored, what differs, names."""

from __future__ import annotations

import pytest

from linstor_core.errors import InvalidInput
from linstor_core.models import SelectFilter

from docker_volume.names import resource_name
from docker_volume.options import VolumeOptions, parse_options


def test_defaults() -> None:
    assert parse_options(None, default_profile="gold") == VolumeOptions(size_kib=97657, profile="gold")


def test_options_survive_the_trip_through_props() -> None:
    options = parse_options(
        {"size": "1.5G", "fs": "xfs", "fsopts": "-L 'my data'", "mountopts": "noatime, nodev",
         "replicas": "2", "storagepool": "thin1", "nodes": "a1,b1"},
        default_profile="gold",
    )
    assert options.fsopts == ("-L", "my data") and options.mountopts == ("noatime", "nodev")
    assert VolumeOptions.from_props(options.to_props()) == options
    assert options.select_filter() == SelectFilter(place_count=2, storage_pool="thin1", node_name_list=("a1", "b1"))


def test_differences_name_each_option() -> None:
    old = parse_options({"size": "1G"}, default_profile="gold")
    new = parse_options({"size": "1G", "mountopts": "ro", "profile": "silver"}, default_profile="gold")
    assert old.differences(new) == ["profile: gold, asked silver", "mountopts: unset, asked ro"]


def test_linstor_names_differing_only_in_case_are_the_same_options() -> None:
    """LINSTOR names ignore case: asking again with profile=DockerTest is the same volume."""
    old = parse_options({"storagepool": "thin1", "nodes": "a1"}, default_profile="dockertest")
    again = parse_options({"profile": "DockerTest", "storagepool": "THIN1", "nodes": "A1"}, default_profile="x")
    assert old.differences(again) == []
    label = parse_options({"fsopts": "-L data"}, default_profile="dockertest")
    assert label.differences(parse_options({"fsopts": "-L Data"}, default_profile="dockertest")) == [
        "fsopts: -L data, asked -L Data"]  # a label is no LINSTOR name


def test_nodes_in_another_order_are_the_same_volume_and_a_node_twice_is_refused() -> None:
    assert parse_options({"nodes": "b1, A1"}, default_profile="gold") == parse_options({"nodes": "A1,b1"}, default_profile="gold")
    with pytest.raises(InvalidInput, match="names node a1 twice"):
        parse_options({"nodes": "A1,b1,a1"}, default_profile="gold")


@pytest.mark.parametrize("replicas", ["\u00b2", "\u0663", "1\u0660", " 2"])
def test_replicas_other_than_ascii_digits_are_refused_by_name(replicas: str) -> None:
    """str.isdigit() says yes to superscripts and other scripts' digits; int() then fails."""
    with pytest.raises(InvalidInput, match="replicas.*from 1 to 16"):
        parse_options({"replicas": replicas}, default_profile="gold")


def test_a_missing_profile_says_where_to_set_one() -> None:
    with pytest.raises(InvalidInput, match="docker-volume.conf"):
        parse_options({}, default_profile="")


@pytest.mark.parametrize(
    ("name", "expected"), [("web", "docker-web"), ("pg_data", "docker-pg_data"), ("0a", "docker-0a")]
)
def test_plain_names_map_verbatim(name: str, expected: str) -> None:
    assert resource_name(name) == expected


def test_names_linstor_cannot_hold_get_a_hash_so_they_never_collide() -> None:
    assert resource_name("my.vol") != resource_name("my_vol")
    assert resource_name("my.vol").startswith("docker-my_vol-")


def test_mkfs_options_are_checked_when_asked_not_when_read_back() -> None:
    """A volume made before a check refused its fsopts keeps mounting: its filesystem was made."""
    with pytest.raises(InvalidInput, match="-d copies a host directory"):
        parse_options({"fsopts": "-d /srv/seed"}, default_profile="gold")
    stored = {"Aux/bundle/docker/fsopts": "-d /srv/seed", "Aux/bundle/docker/profile": "gold"}
    assert VolumeOptions.from_props(stored).fsopts == ("-d", "/srv/seed")
