"""The whole DiskService against the real embedded controller over real HTTP.

Profiles are applied through ``apply_profiles`` first, as an operator would. Snapshots, rollback,
restore and clone need reflinks (the conftest's xfs pool, root only), so those tests are marked
``root``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig
from linstor_core.disks import DiskService
from linstor_core.errors import AlreadyExists, ApiError, InUse, InvalidInput, NotFound
from linstor_core.models import TWO_PRIMARIES, Attachment, SelectFilter
from linstor_core.naming import owner_filter, owner_props
from linstor_core.profiles import apply_profiles, parse_profiles

PROFILES = """
[profiles.gold]
description = "two replicas, DRBD clients elsewhere"
place_count = 2
storage_pool = "thinpool"
layers = ["drbd", "storage"]

[profiles.local]
place_count = 1
storage_pool = "thinpool"
layers = ["storage"]
"""
MIB = 1024


@pytest.fixture
def disks(client: Any) -> DiskService:
    assert apply_profiles(client, parse_profiles(PROFILES, "functional")) == ["created gold", "created local"]
    return DiskService(client)


def test_applying_profiles_again_changes_nothing(client: Any, disks: DiskService) -> None:
    assert apply_profiles(client, parse_profiles(PROFILES)) == ["unchanged gold", "unchanged local"]
    changed = PROFILES.replace("place_count = 2", "place_count = 3")
    assert apply_profiles(client, parse_profiles(changed)) == ["updated gold: place_count 2 -> 3", "unchanged local"]


def test_create_places_replicas_and_is_idempotent(disks: DiskService) -> None:
    props = owner_props("pve", 101, "web01", disk=0)
    created = disks.create("gold", "pve-101-web01-disk-0", 8 * MIB, props)
    assert created.size_kib == 8 * MIB
    disk = disks.get("pve-101-web01-disk-0")
    assert disk.profile == "gold"
    assert len(disk.nodes) == 2
    assert disk.props["Aux/bundle/owner-id"] == "101"
    assert disks.create("gold", "pve-101-web01-disk-0", 8 * MIB, props) == disk
    with pytest.raises(AlreadyExists):
        disks.create("gold", "pve-101-web01-disk-0", 16 * MIB, props)
    with pytest.raises(AlreadyExists):
        disks.create("local", "pve-101-web01-disk-0", 8 * MIB, props)
    assert disks.exists("pve-101-web01-disk-0")
    assert not disks.exists("pve-999-disk-0")


def counted(url: str) -> tuple[DiskService, list[str]]:
    """A DiskService on its own HTTP session, and the list of requests it sends."""
    sent: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda answer, **_: sent.append(f"{answer.request.method} {answer.request.path_url}"))
    return DiskService(LinstorClient(ClientConfig(controllers=(url,)), session=session)), sent


@pytest.mark.parametrize("node", ["alpha", "bravo", "charlie"])
def test_create_on_a_preferred_node_puts_one_of_the_profiles_replicas_there(
    controller_url: str, disks: DiskService, node: str
) -> None:
    service, sent = counted(controller_url)
    service.create("gold", "pve-101-disk-0", 4 * MIB, owner_props("pve", 101), prefer_node=node)
    assert len(sent) == 2, sent
    disk = disks.get("pve-101-disk-0")
    assert node in disk.nodes and len(disk.nodes) == 2
    assert disk.props["Aux/bundle/owner-id"] == "101"
    assert disks.create("gold", "pve-101-disk-0", 4 * MIB, owner_props("pve", 101), prefer_node=node) == disk
    service.create("local", "pve-101-disk-1", 4 * MIB, prefer_node=node)
    assert disks.get("pve-101-disk-1").nodes == (node,)


@pytest.mark.parametrize("node", ["delta", "nowhere"])
def test_a_preferred_node_without_the_profiles_pool_leaves_placement_to_the_profile(
    client: Any, disks: DiskService, node: str
) -> None:
    client.nodes.create("delta", "127.0.0.14")
    disks.create("gold", "pve-102-disk-0", 4 * MIB, prefer_node=node)
    disk = disks.get("pve-102-disk-0")
    assert len(disk.nodes) == 2 and node not in disk.nodes
    assert [d.name for d in disks.list()] == ["pve-102-disk-0"]


def test_a_preferred_node_does_not_add_a_replica_the_profile_cannot_place(client: Any, disks: DiskService) -> None:
    client.resource_groups.modify("gold", select_filter=SelectFilter(place_count=4))
    with pytest.raises(ApiError):
        disks.create("gold", "pve-103-disk-0", 4 * MIB, prefer_node="charlie")
    assert not disks.exists("pve-103-disk-0")


def test_list_filters_by_owner(disks: DiskService) -> None:
    disks.create("local", "pve-101-disk-0", 4 * MIB, owner_props("pve", 101))
    disks.create("local", "pve-102-disk-0", 4 * MIB, owner_props("pve", 102))
    disks.create("local", "one-7-disk-0", 4 * MIB, owner_props("one", 7))
    assert [d.name for d in disks.list(owner_filter("pve"))] == ["pve-101-disk-0", "pve-102-disk-0"]
    mine = disks.list(owner_filter("pve", 102))
    assert [d.name for d in mine] == ["pve-102-disk-0"]
    assert len(mine[0].nodes) == 1 and mine[0].snapshots == ()
    assert len(disks.list()) == 3
    assert disks.list(owner_filter("docker")) == []


def test_resize_grows_only(disks: DiskService) -> None:
    disks.create("local", "grow-me", 4 * MIB)
    disks.resize("grow-me", 6 * MIB)
    disks.resize("grow-me", 6 * MIB)
    assert disks.get("grow-me").size_kib == 6 * MIB
    with pytest.raises(InvalidInput, match="only grow"):
        disks.resize("grow-me", 5 * MIB)


def test_definition_reads_one_disk_without_its_placement(disks: DiskService) -> None:
    disks.create("local", "defined", 4 * MIB, owner_props("docker", None, "defined"))
    disk = disks.definition("defined")
    assert disk is not None and disk.size_kib == 4 * MIB and disk.profile == "local"
    assert disk.props["Aux/bundle/owner-name"] == "defined" and disk.nodes == ()
    assert disks.definition("undefined") is None


def test_attach_where_the_tiebreaker_is_turns_it_into_a_wanted_diskless_resource(disks: DiskService) -> None:
    """Two DRBD replicas on three nodes: the third holds LINSTOR's tiebreaker, which LINSTOR
    may remove later; a guest's device there must not be one."""
    disks.create("gold", "tb-disk", 4 * MIB)
    (third,) = {"alpha", "bravo", "charlie"} - set(disks.get("tb-disk").nodes)

    def flags_on(node: str) -> tuple[str, ...]:
        (resource,) = [r for r in disks.client.resources.list("tb-disk") if r.node_name == node]
        return resource.flags

    assert "TIE_BREAKER" in flags_on(third)
    assert disks.attach("tb-disk", third) == disks.path("tb-disk", third)
    assert "TIE_BREAKER" not in flags_on(third) and "DRBD_DISKLESS" in flags_on(third)


def test_attach_and_detach_on_a_node_without_replica(disks: DiskService) -> None:
    disk = disks.create("gold", "vm-disk", 4 * MIB)
    disk = disks.get(disk.name)
    (elsewhere,) = {"alpha", "bravo", "charlie"} - set(disk.nodes)
    replica = disk.nodes[0]
    zeroed = disks.starts_zeroed("vm-disk")  # the fixture's pools are files: new disks read as zeros
    assert zeroed
    assert disks.attachment("vm-disk", replica) == Attachment(disks.path("vm-disk", replica), diskless=False,
                                                              starts_zeroed=zeroed)
    device = disks.attach("vm-disk", elsewhere)
    assert device == disks.path("vm-disk", elsewhere)
    assert disks.attachment("vm-disk", elsewhere) == Attachment(device, diskless=True, starts_zeroed=zeroed)
    assert disks.get("vm-disk").diskless_nodes == (elsewhere,)
    disks.detach("vm-disk", replica)
    assert replica in disks.get("vm-disk").nodes
    disks.detach("vm-disk", elsewhere)
    disks.detach("vm-disk", elsewhere)
    after = disks.get("vm-disk")
    assert elsewhere not in after.nodes and len(after.nodes) == 2
    with pytest.raises(NotFound):
        disks.path("vm-disk", "nowhere")


def test_a_node_named_in_another_case_is_the_same_node(disks: DiskService) -> None:
    """LINSTOR names ignore case: a host whose configured name is spelled otherwise (uname -n
    BRAVO, LINSTOR's bravo) gets its device, and a detach leaves no diskless client behind."""
    disk = disks.get(disks.create("gold", "vm-case", 4 * MIB).name)
    (elsewhere,) = {"alpha", "bravo", "charlie"} - set(disk.nodes)
    shouted = elsewhere.upper()
    attachment = disks.attachment("vm-case", shouted)
    assert attachment.diskless and attachment.device == disks.path("vm-case", elsewhere)
    assert disks.path("vm-case", shouted) == attachment.device
    assert disks.attachment("vm-case", disk.nodes[0].upper()).diskless is False
    disks.detach("vm-case", shouted)
    left = [r for r in disks.client.resources.list("vm-case") if r.node_name == elsewhere]
    assert all(r.tiebreaker for r in left)  # gone, or kept by LINSTOR as its quorum tie-breaker


def test_a_storage_only_disk_is_not_attached_where_its_data_is_not(disks: DiskService) -> None:
    """Without DRBD another node cannot reach the data: refused, nothing made there."""
    disks.create("local", "local-disk", 4 * MIB)
    (holder,) = disks.get("local-disk").nodes
    assert disks.attach("local-disk", holder) == disks.path("local-disk", holder)
    other = sorted({"alpha", "bravo", "charlie"} - {holder})[0]
    with pytest.raises(InUse, match=f"its data is only on {holder}"):
        disks.attach("local-disk", other)
    after = disks.get("local-disk")
    assert after.nodes == (holder,) and after.diskless_nodes == ()


def test_live_migration_allows_two_primaries_until_it_ends(client: Any, disks: DiskService) -> None:
    disk = disks.get(disks.create("gold", "one-vm-9-disk-0", 4 * MIB).name)
    (destination,) = {"alpha", "bravo", "charlie"} - set(disk.nodes)
    source = disk.nodes[0]
    assert disks.attach("one-vm-9-disk-0", destination, migrating=True) == disks.path("one-vm-9-disk-0", destination)
    assert client.resource_definitions.get("one-vm-9-disk-0").props[TWO_PRIMARIES] == "yes"
    disks.end_migration("one-vm-9-disk-0", source)
    after = disks.get("one-vm-9-disk-0")
    assert after.nodes == disk.nodes and after.diskless_nodes == (destination,)
    assert TWO_PRIMARIES not in after.props
    disks.attach("one-vm-9-disk-0", source, migrating=True)
    disks.end_migration("one-vm-9-disk-0", destination)
    disks.end_migration("one-vm-9-disk-0", destination)
    back = disks.get("one-vm-9-disk-0")
    assert back.nodes == disk.nodes and back.diskless_nodes == () and TWO_PRIMARIES not in back.props
    disks.delete("one-vm-9-disk-0")
    disks.end_migration("one-vm-9-disk-0", source)


def test_delete_is_idempotent(disks: DiskService) -> None:
    disks.create("local", "short-lived", 4 * MIB)
    disks.delete("short-lived")
    disks.delete("short-lived")
    assert not disks.exists("short-lived")


def test_capacity(disks: DiskService) -> None:
    capacity = disks.capacity("local")
    assert 0 < capacity.max_volume_size_kib <= capacity.capacity_kib


@pytest.mark.root
def test_snapshots_rollback_restore_and_delete_refusal(disks: DiskService) -> None:
    disks.create("local", "snappy", 4 * MIB, owner_props("docker", None, "snappy"))
    disks.snapshot("snappy", "first")
    assert disks.get("snappy").snapshots == ("first",)
    disks.rollback("snappy", "first")
    restored = disks.restore("snappy", "first", "snappy-copy", owner_props("docker", None, "snappy-copy"))
    assert restored.size_kib == 4 * MIB and restored.profile == "local" and len(restored.nodes) == 1
    assert restored.props["Aux/bundle/owner-name"] == "snappy-copy"
    with pytest.raises(InUse, match="still has snapshots: first"):
        disks.delete("snappy")
    disks.delete_snapshot("snappy", "first")
    disks.delete_snapshot("snappy", "first")
    disks.snapshot("snappy", "second")
    disks.delete("snappy", with_snapshots=True)
    assert not disks.exists("snappy")
    assert disks.exists("snappy-copy")


@pytest.mark.root
def test_clone_reports_progress_and_replaces_the_owner(disks: DiskService) -> None:
    disks.create("local", "pve-5-disk-0", 4 * MIB, owner_props("pve", 5, "base", base="yes"))
    heard: list[str] = []
    clone = disks.clone("pve-5-disk-0", "pve-6-disk-0", owner_props("pve", 6, "copy"), progress=heard.append)
    assert clone.size_kib == 4 * MIB
    assert clone.props["Aux/bundle/owner-id"] == "6"
    assert "Aux/bundle/base" not in clone.props
    assert [d.name for d in disks.list(owner_filter("pve", 6))] == ["pve-6-disk-0"]
    with pytest.raises(AlreadyExists):
        disks.clone("pve-5-disk-0", "pve-6-disk-0")
    assert disks.exists("pve-6-disk-0")


def test_a_create_refused_for_its_placement_leaves_an_existing_disk_of_that_name(disks: DiskService) -> None:
    """The spawn refuses a taken name before it reads the select filter, so the clean-up after
    a refused create can never delete a disk this call did not make."""
    disks.create("gold", "kept-disk", 4 * MIB)
    with pytest.raises(AlreadyExists):
        disks.create("gold", "kept-disk", 4 * MIB, select_filter=SelectFilter(place_count=0),
                     exist_ok=False)
    assert disks.get("kept-disk").size_kib == 4 * MIB


def test_the_controller_is_reached_directly_whatever_proxy_the_environment_names(
    controller_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host-wide HTTP_PROXY (for apt, say) must not carry controller traffic: here it points
    at a port nothing listens on, so a call through it would fail."""
    for variable in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    assert DiskService(LinstorClient(ClientConfig(controllers=(controller_url,)))).list() == []
