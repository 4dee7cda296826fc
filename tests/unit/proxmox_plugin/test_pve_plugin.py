"""Every plugin method against the in-memory disk service: PVE's answers and the calls made."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from linstor_core.errors import AlreadyExists, InUse, InvalidInput, LinstorError, NotFound
from linstor_core.models import HAND_OVER, TWO_PRIMARIES, Disk
from proxmox_plugin.catalog import key
from proxmox_plugin.plugin import LinstorStorage, pve_parse_volname, volume_has_feature
from proxmox_plugin.statuscache import StatusCache
from pve_fake_disks import FakeDisks


def test_alloc_names_disks_after_the_vm_and_records_the_volname(storage: LinstorStorage,
                                                                disks: FakeDisks) -> None:
    assert storage.alloc_image(101, "raw", None, 8192) == "vm-101-disk-0"
    assert storage.alloc_image("101", None, None, 8192) == "vm-101-disk-1"
    disk = disks.disks["pve-101-web01-disk-0"]
    assert disk.size_kib == 8192 and disk.profile == "gold"
    assert disk.props[key("pve-volname")] == "vm-101-disk-0"
    assert disk.props[key("pve-storage")] == "ls"
    assert disk.props["Aux/bundle/owner-id"] == "101"
    assert disk.props["Aux/bundle/owner-name"] == "web01"


def test_alloc_costs_one_listing_and_one_create(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 8192)
    assert disks.calls == {"list": 1, "create": 1}


def test_an_allocation_that_loses_a_race_takes_the_next_number_after_one_more_listing(
    storage: LinstorStorage, disks: FakeDisks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another node's worker creates disk-0 between this one's listing and its create."""
    create = disks.create
    raced: list[str] = []

    def racing_create(profile: str, name: str, *args: object, **kwargs: object) -> object:
        if not raced:
            raced.append(name)
            storage.alloc_image(101, "raw", "vm-101-disk-0", 4096)  # the racer, same name
            disks.calls.clear()
            disks.calls["list"] = 1  # the listing this allocation made before the race
        return create(profile, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(disks, "create", racing_create)
    assert storage.alloc_image(101, "raw", None, 8192) == "vm-101-disk-1"
    assert dict(disks.calls) == {"list": 2, "create": 2}


def test_alloc_with_preferlocal_asks_for_a_replica_on_this_node(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 8192)
    assert disks.preferred == {"pve-101-web01-disk-0": None}
    local = dataclasses.replace(storage, options=dataclasses.replace(storage.options, prefer_local=True))
    local.alloc_image(101, "raw", None, 8192)
    assert disks.preferred["pve-101-web01-disk-1"] == "n3"
    assert disks.calls == {"list": 2, "create": 2}


def test_alloc_floor_special_names_and_no_name(storage: LinstorStorage, disks: FakeDisks) -> None:
    assert storage.alloc_image(101, "raw", "vm-101-disk-7", 540) == "vm-101-disk-7"
    assert disks.disks["pve-101-web01-disk-7"].size_kib == 3072
    for name in ("vm-101-state-snap1", "vm-101-fleece-0", "vm-101-pvc-claim"):
        assert storage.alloc_image(101, "raw", name, 4096) == name
    assert storage.alloc_image(555, "raw", None, 4096) == "vm-555-disk-0"
    assert "pve-555-disk-0" in disks.disks


def test_alloc_rounds_a_fractional_size_up(storage: LinstorStorage, disks: FakeDisks) -> None:
    """qemu-server asks for an imported image's bytes / 1024: 10 MiB + 512 bytes is 10240.5."""
    assert storage.alloc_image(101, "raw", None, 10240.5) == "vm-101-disk-0"
    assert disks.disks["pve-101-web01-disk-0"].size_kib == 10241


@pytest.mark.parametrize("size", [-1, -0.5, "4096", True, float("nan"), float("inf"), None])
def test_alloc_refuses_a_size_that_is_not_a_number_of_kib(storage: LinstorStorage, disks: FakeDisks,
                                                          size: object) -> None:
    with pytest.raises(InvalidInput, match="must be a number of KiB"):
        storage.alloc_image(101, "raw", None, size)  # type: ignore[arg-type]
    assert disks.disks == {}


def test_cloudinit_reallocation_is_idempotent(storage: LinstorStorage, disks: FakeDisks) -> None:
    assert storage.alloc_image(101, "raw", "vm-101-cloudinit", 4096) == "vm-101-cloudinit"
    before = dict(disks.disks)
    assert storage.alloc_image(101, "raw", "vm-101-cloudinit", 4096) == "vm-101-cloudinit"
    assert disks.disks == before
    storage.alloc_image(101, "raw", "vm-101-disk-0", 4096)
    with pytest.raises(AlreadyExists, match="ls:vm-101-disk-0 already exists"):
        storage.alloc_image(101, "raw", "vm-101-disk-0", 4096)


@pytest.mark.parametrize("vmid, fmt, name, size, field", [
    (101, "qcow2", None, 4096, "format"),
    (101, "raw", "vm-102-disk-0", 4096, "name"),
    (101, "raw", "base-101-disk-0", 4096, "name"),
    (101, "raw", "vm-101-disk-0.raw", 4096, "name"),
    ("abc", "raw", None, 4096, "vmid"),
    (101, "raw", None, -1, "size"),
])
def test_bad_alloc_changes_nothing(storage: LinstorStorage, disks: FakeDisks, vmid: object,
                                   fmt: str, name: str | None, size: int, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        storage.alloc_image(vmid, fmt, name, size)
    assert caught.value.field == field
    assert disks.disks == {}


def test_a_taken_resource_name_gets_a_suffix(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    assert storage.rename_volume("vm-101-disk-0", 300) == "ls:vm-300-disk-0"
    assert storage.alloc_image(101, "raw", None, 4096) == "vm-101-disk-0"
    assert sorted(disks.disks) == ["pve-101-web01-disk-0", "pve-101-web01-disk-0-1"]


def test_list_is_one_listing_with_volids(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.alloc_image(102, "raw", None, 8192)
    disks.calls.clear()
    images = storage.list_images()
    assert disks.calls == {"list": 1}
    assert [(i["volid"], i["size"], i["vmid"], i["format"]) for i in images] == [
        ("ls:vm-101-disk-0", 4096 * 1024, 101, "raw"), ("ls:vm-102-disk-0", 8192 * 1024, 102, "raw")]
    assert [i["volid"] for i in storage.list_images(102)] == ["ls:vm-102-disk-0"]
    assert [i["volid"] for i in storage.list_images(None, ["ls:vm-101-disk-0"])] == ["ls:vm-101-disk-0"]


def test_other_storage_ids_do_not_see_each_other(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    other = LinstorStorage(disks, storage.options.__class__(storeid="other", profile="gold"), "n3",  # type: ignore[arg-type]
                           storage.vm_names, storage.status_cache, storage.progress)
    assert other.list_images() == []
    assert other.path("vm-101-disk-0")[0] == "/dev/linstor-pve/absent/other/vm-101-disk-0"
    with pytest.raises(NotFound, match="other:vm-101-disk-0 does not exist"):
        other.activate_volume("vm-101-disk-0")


def test_activate_path_deactivate(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    assert storage.activate_volume("vm-101-disk-0") == 1
    assert storage.path("vm-101-disk-0") == ["/dev/fake/pve-101-web01-disk-0", 101, "images"]
    assert disks.disks["pve-101-web01-disk-0"].diskless_nodes == ("n3",)
    storage.deactivate_volume("vm-101-disk-0")
    storage.deactivate_volume("vm-101-disk-0")
    assert disks.disks["pve-101-web01-disk-0"].diskless_nodes == ()
    storage.deactivate_volume("vm-101-disk-9")


class FakeGuests:
    """The VMs locked for a live migration, by the node they leave."""

    def __init__(self) -> None:
        self.migrating: dict[int, str] = {}

    def migrating_from(self, vmid: int) -> str | None:
        return self.migrating.get(vmid)


def _migration(storage: LinstorStorage, disks: FakeDisks) -> tuple[LinstorStorage, FakeGuests, str]:
    """VM 101 runs on n1 and is being live-migrated to n3 (this storage's node)."""
    guests = FakeGuests()
    storage = dataclasses.replace(storage, guests=guests)
    storage.alloc_image(101, "raw", None, 4096)
    rd = "pve-101-web01-disk-0"
    disks.in_use_on[rd] = "n1"
    guests.migrating[101] = "n1"
    return storage, guests, rd


def test_a_live_migration_hands_over_with_two_primaries_until_the_source_lets_go(
    storage: LinstorStorage, disks: FakeDisks
) -> None:
    """qm migrate --online: the destination (n3) activates while the source's QEMU (n1) holds
    the disk and the VM is locked for the move; another node's deactivation leaves the two
    primaries, the source's (its QEMU gone) ends them."""
    storage, _, rd = _migration(storage, disks)
    storage.activate_volume("vm-101-disk-0")
    assert disks.disks[rd].hand_over_nodes == ("n1", "n3") and disks.disks[rd].diskless_nodes == ("n3",)
    dataclasses.replace(storage, node="n2").deactivate_volume("vm-101-disk-0")
    assert disks.disks[rd].two_primaries and disks.calls["end_migration"] == 0
    dataclasses.replace(storage, node="n1").deactivate_volume("vm-101-disk-0")
    assert not disks.disks[rd].two_primaries and disks.disks[rd].diskless_nodes == ("n3",)
    assert HAND_OVER not in disks.disks[rd].props and disks.calls["end_migration"] == 1


def test_a_failed_live_migration_ends_two_primaries_on_the_destination(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage, _, rd = _migration(storage, disks)
    storage.activate_volume("vm-101-disk-0")
    assert disks.disks[rd].two_primaries
    storage.deactivate_volume("vm-101-disk-0")  # qm stop --migratedfrom n1 on the destination
    assert not disks.disks[rd].two_primaries and disks.disks[rd].diskless_nodes == ()


def test_a_disk_in_use_elsewhere_without_a_migration_keeps_one_primary(storage: LinstorStorage, disks: FakeDisks) -> None:
    """A second VM given the same disk, a container, a guest started after a crash elsewhere:
    DRBD's refusal of a second primary stands."""
    storage, guests, rd = _migration(storage, disks)
    del guests.migrating[101]
    storage.activate_volume("vm-101-disk-0")
    assert not disks.disks[rd].two_primaries and disks.calls["attach_handing_over"] == 0
    guests.migrating[101] = "n3"  # locked for a move away from this node: nothing arrives here
    storage.activate_volume("vm-101-disk-0")
    assert not disks.disks[rd].two_primaries and disks.calls["attach_handing_over"] == 0


def test_two_primaries_a_hand_over_left_end_at_the_next_activation(storage: LinstorStorage, disks: FakeDisks) -> None:
    """The source's deactivation failed (PVE only logs it): the guest's next start ends them."""
    storage, guests, rd = _migration(storage, disks)
    storage.activate_volume("vm-101-disk-0")
    del guests.migrating[101]
    storage.activate_volume("vm-101-disk-0")
    assert not disks.disks[rd].two_primaries and HAND_OVER not in disks.disks[rd].props


def test_an_admins_two_primaries_are_left_alone(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    rd = "pve-101-web01-disk-0"
    disks.set_props(rd, override={TWO_PRIMARIES: "yes"})
    storage.activate_volume("vm-101-disk-0")
    storage.deactivate_volume("vm-101-disk-0")
    assert disks.disks[rd].two_primaries and disks.calls["end_migration"] == 0


def test_activating_a_disk_no_other_node_uses_allows_one_primary(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.activate_volume("vm-101-disk-0")
    storage.deactivate_volume("vm-101-disk-0")
    assert not disks.disks["pve-101-web01-disk-0"].two_primaries
    assert disks.calls["set_props"] == 0 and disks.calls["end_migration"] == 0


def test_a_snapshots_path_is_its_view_restored_on_first_use(storage: LinstorStorage, disks: FakeDisks) -> None:
    """vzdump's snapshot mode: snapshot 'vzdump', activate it, path (twice: map_volume, path),
    mount it, then delete the snapshot (vzdump never deactivates it): the view goes first."""
    storage.alloc_image(101, "raw", None, 4096)
    rd = "pve-101-web01-disk-0"
    disks.data[rd] = "at backup"
    storage.volume_snapshot("vm-101-disk-0", "vzdump")
    disks.data[rd] = "after"
    disks.calls.clear()
    assert storage.activate_volume("vm-101-disk-0", "vzdump") == 1
    assert disks.calls == {}
    view = "pvesnap-pve-101-web01-disk-0-vzdump"
    assert storage.path("vm-101-disk-0", "vzdump") == [f"/dev/fake/{view}", 101, "images"]
    assert storage.path("vm-101-disk-0", "vzdump")[0] == f"/dev/fake/{view}"
    assert disks.calls["restore"] == 2 and disks.data[view] == "at backup"
    assert [image["volid"] for image in storage.list_images()] == ["ls:vm-101-disk-0"]  # no view
    storage.volume_snapshot_delete("vm-101-disk-0", "vzdump")
    assert view not in disks.disks and disks.disks[rd].snapshots == ()


def test_deactivating_a_snapshot_removes_its_view(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.volume_snapshot("vm-101-disk-0", "snap1")
    storage.volume_snapshot("vm-101-disk-0", "snap2")
    storage.path("vm-101-disk-0", "snap1")
    storage.path("vm-101-disk-0", "snap2")
    storage.deactivate_volume("vm-101-disk-0", "snap1")
    assert sorted(n for n in disks.disks if n.startswith("pvesnap-")) == ["pvesnap-pve-101-web01-disk-0-snap2"]
    storage.deactivate_volume("vm-101-disk-0", "snap1")  # again: nothing left to do
    storage.free_image("vm-101-disk-0")
    assert disks.disks == {}


def test_a_name_taken_by_something_else_is_not_shown_as_the_snapshot(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.volume_snapshot("vm-101-disk-0", "snap1")
    disks.create("other", "pvesnap-pve-101-web01-disk-0-snap1", 4096, {"Aux/x": "y"})
    with pytest.raises(LinstorError, match="exists and is not its view"):
        storage.path("vm-101-disk-0", "snap1")
    assert disks.disks["pvesnap-pve-101-web01-disk-0-snap1"].props == {"Aux/x": "y"}


def test_a_half_made_view_is_made_again_not_attached_empty(storage: LinstorStorage, disks: FakeDisks) -> None:
    """A call killed between the view's definition and its restore left a definition without
    replicas: the next path restores it again instead of handing out an empty volume."""
    storage.alloc_image(101, "raw", None, 4096)
    rd, view = "pve-101-web01-disk-0", "pvesnap-pve-101-web01-disk-0-vzdump"
    disks.data[rd] = "at backup"
    storage.volume_snapshot("vm-101-disk-0", "vzdump")
    disks._put(Disk(view, 4096, "gold", {"Aux/bundle/platform": "pve", "Aux/bundle/pve-view-of": rd,
                                         "Aux/bundle/pve-view-snapshot": "vzdump"}))
    disks.data[view] = ""
    assert storage.path("vm-101-disk-0", "vzdump")[0] == f"/dev/fake/{view}"
    assert disks.data[view] == "at backup" and disks.disks[view].nodes == disks.disks[rd].nodes


def test_a_view_made_before_a_rename_is_still_the_snapshots(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.volume_snapshot("vm-101-disk-0", "snap1")
    first = storage.path("vm-101-disk-0", "snap1")[0]
    assert storage.rename_volume("vm-101-disk-0", 102) == "ls:vm-102-disk-0"
    assert storage.path("vm-102-disk-0", "snap1")[0] == first


def test_a_missing_snapshot_has_no_path_and_leaves_nothing(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    with pytest.raises(NotFound, match="snapshot nosuch not found"):
        storage.path("vm-101-disk-0", "nosuch")
    assert list(disks.disks) == ["pve-101-web01-disk-0"]


def test_path_is_a_lookup_that_attaches_nothing(storage: LinstorStorage, disks: FakeDisks) -> None:
    """A rescan, the content API and qm showcmd ask for paths and never deactivate: no client
    is made, and the answer is the device activation gives this node (qemu-server asks first)."""
    storage.alloc_image(101, "raw", None, 4096)
    disks.calls.clear()
    device = storage.path("vm-101-disk-0")[0]
    assert disks.calls == {"list": 1, "device_path": 1}
    assert disks.disks["pve-101-web01-disk-0"].diskless_nodes == ()
    assert storage.activate_volume("vm-101-disk-0") == 1
    assert storage.path("vm-101-disk-0")[0] == device == "/dev/fake/pve-101-web01-disk-0"
    storage.deactivate_volume("vm-101-disk-0")
    assert disks.disks["pve-101-web01-disk-0"].diskless_nodes == ()


def test_a_volume_whose_disk_is_gone_has_a_path_and_can_be_freed(storage: LinstorStorage, disks: FakeDisks) -> None:
    """The content API's DELETE asks for the path before vdisk_free: a dangling volume is
    named under a directory that exists nowhere, so it can still be removed."""
    storage.alloc_image(101, "raw", None, 4096)
    assert storage.path("vm-101-disk-7") == ["/dev/linstor-pve/absent/ls/vm-101-disk-7", 101, "images"]
    assert storage.path("base-100-disk-0/vm-101-disk-1")[0] == "/dev/linstor-pve/absent/ls/base-100-disk-0/vm-101-disk-1"
    disks._put(dataclasses.replace(disks.disks["pve-101-web01-disk-0"], nodes=()))  # deployed nowhere
    assert storage.path("vm-101-disk-0")[0] == "/dev/linstor-pve/absent/ls/vm-101-disk-0"
    storage.free_image("vm-101-disk-7")
    assert list(disks.disks) == ["pve-101-web01-disk-0"]


def test_snapshot_rollback_delete(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    rd = "pve-101-web01-disk-0"
    disks.data[rd] = "first"
    storage.volume_snapshot("vm-101-disk-0", "snap1")
    disks.data[rd] = "second"
    assert storage.volume_rollback_is_possible("vm-101-disk-0", "snap1") == []
    storage.volume_snapshot_rollback("vm-101-disk-0", "snap1")
    assert disks.data[rd] == "first"
    storage.volume_snapshot_delete("vm-101-disk-0", "snap1")
    storage.volume_snapshot_delete("vm-101-disk-0", "snap1")
    assert disks.disks[rd].snapshots == ()
    with pytest.raises(InvalidInput, match="no such snapshot"):
        storage.volume_rollback_is_possible("vm-101-disk-0", "snap1")


@pytest.mark.parametrize("zeroed, answer", [(True, 1), (False, None)])
def test_sparseinit_only_where_new_volumes_read_as_zeros(storage: LinstorStorage, disks: FakeDisks,
                                                         zeroed: bool, answer: int | None) -> None:
    """qemu-img skips writing zeros with sparseinit: on thick LVM old data would show through."""
    storage.alloc_image(101, "raw", None, 4096)
    disks.zeroed = zeroed
    assert volume_has_feature("sparseinit", "vm-101-disk-0") == 1  # by name; the shim then asks:
    assert storage.volume_starts_zeroed("vm-101-disk-0") == answer


def test_rollback_is_blocked_by_newer_snapshots(storage: LinstorStorage, disks: FakeDisks) -> None:
    """LINSTOR rolls back only to the most recent snapshot: PVE must hear that before it stops
    the guest, with the snapshots in the way (its $blockers)."""
    storage.alloc_image(101, "raw", None, 4096)
    for snap in ("b-first", "a-second", "c-third"):  # names out of order: the order is the taking
        storage.volume_snapshot("vm-101-disk-0", snap)
    assert storage.volume_rollback_is_possible("vm-101-disk-0", "b-first") == ["a-second", "c-third"]
    assert storage.volume_rollback_is_possible("vm-101-disk-0", "c-third") == []


@pytest.mark.parametrize("snap", ["current", "__base__", "__migration__", "__replicate_1_2__"])
def test_reserved_snapshot_names_change_nothing(storage: LinstorStorage, disks: FakeDisks, snap: str) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    disks.calls.clear()
    for method in (storage.volume_snapshot, storage.volume_snapshot_rollback, storage.volume_snapshot_delete):
        with pytest.raises(InvalidInput, match="reserved"):
            method("vm-101-disk-0", snap)
    assert disks.calls == {}


def test_resize_is_bytes_and_size_info_answers_bytes(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.volume_resize("vm-101-disk-0", 10 * 1024 * 1024 + 1)
    assert disks.disks["pve-101-web01-disk-0"].size_kib == 10 * 1024 + 1
    info = storage.volume_size_info("vm-101-disk-0")
    assert info == {"size": (10 * 1024 + 1) * 1024, "format": "raw", "used": (10 * 1024 + 1) * 1024,
                    "parent": None}
    with pytest.raises(InvalidInput, match="disks only grow"):
        storage.volume_resize("vm-101-disk-0", 1024 * 1024)


def test_status_is_cached_across_instances(storage: LinstorStorage, disks: FakeDisks) -> None:
    """Each ``linstor-pve status`` is a new process: only the cache directory is shared."""
    assert storage.status() == [4 << 30, 1 << 30, 3 << 30, 1]
    directory = storage.status_cache.directory
    other = dataclasses.replace(storage, node="n1", status_cache=StatusCache(directory, 60))
    assert other.status() == [4 << 30, 1 << 30, 3 << 30, 1]
    assert other.check_connection() == 1
    assert disks.calls["capacity"] == 1
    assert [p.name[:7] for p in directory.iterdir()] == ["status-"]  # shared as one file


def test_rename_changes_owner_props_only(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    assert storage.rename_volume("vm-101-disk-0", 102, "vm-102-disk-5") == "ls:vm-102-disk-5"
    (rd,) = disks.disks
    assert rd == "pve-101-web01-disk-0"
    props = disks.disks[rd].props
    assert (props["Aux/bundle/owner-id"], props["Aux/bundle/owner-name"], props[key("pve-volname")]) == (
        "102", "web02", "vm-102-disk-5")
    assert storage.rename_volume("vm-102-disk-5", 400) == "ls:vm-400-disk-0"
    assert "Aux/bundle/owner-name" not in disks.disks[rd].props
    storage.alloc_image(102, "raw", None, 4096)
    with pytest.raises(AlreadyExists):
        storage.rename_volume("vm-400-disk-0", 102, "vm-102-disk-0")


def test_template_linked_clones_and_free(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    disks.data["pve-101-web01-disk-0"] = "golden"
    assert storage.create_base("vm-101-disk-0") == "base-101-disk-0"
    assert disks.disks["pve-101-web01-disk-0"].snapshots == ("__base__",)
    with pytest.raises(InvalidInput, match="not possible with base image"):
        storage.create_base("base-101-disk-0")
    first = storage.clone_image("base-101-disk-0", 102)
    second = storage.clone_image("base-101-disk-0", 102)
    assert (first, second) == ("base-101-disk-0/vm-102-disk-0", "base-101-disk-0/vm-102-disk-1")
    assert disks.data["pve-102-web02-disk-1"] == "golden"
    assert storage.volume_size_info(first)["parent"] == "base-101-disk-0@__base__"
    assert {i["volid"]: i.get("parent") for i in storage.list_images()} == {
        "ls:base-101-disk-0": None, "ls:base-101-disk-0/vm-102-disk-0": "base-101-disk-0@__base__",
        "ls:base-101-disk-0/vm-102-disk-1": "base-101-disk-0@__base__"}
    with pytest.raises(InUse, match="has linked clones: ls:base-101-disk-0/vm-102-disk-0, "):
        storage.free_image("base-101-disk-0")
    with pytest.raises(InvalidInput, match="recorded as 'base-101-disk-0/vm-102-disk-0'"):
        storage.path("vm-102-disk-0")
    storage.free_image(first)
    storage.free_image(second)
    storage.free_image("base-101-disk-0")
    storage.free_image("base-101-disk-0")
    assert disks.disks == {}


def test_create_base_again_after_one_that_died_after_its_snapshot(storage: LinstorStorage, disks: FakeDisks) -> None:
    """A create_base that timed out (a full-copy snapshot of a large disk) left __base__, which
    PVE cannot remove: the retry takes it again, so the template has the disk as it is now."""
    storage.alloc_image(101, "raw", None, 4096)
    disks.data["pve-101-web01-disk-0"] = "old"
    disks.snapshot("pve-101-web01-disk-0", "__base__")
    disks.data["pve-101-web01-disk-0"] = "golden"
    assert storage.create_base("vm-101-disk-0") == "base-101-disk-0"
    assert disks.disks["pve-101-web01-disk-0"].snapshots == ("__base__",)
    assert disks.snapshot_data[("pve-101-web01-disk-0", "__base__")] == "golden"
    assert storage.clone_image("base-101-disk-0", 102) == "base-101-disk-0/vm-102-disk-0"
    assert disks.data["pve-102-web02-disk-0"] == "golden"


def test_a_linked_clone_made_a_template_keeps_the_storage_usable(storage: LinstorStorage, disks: FakeDisks) -> None:
    """PVE offers 'template' for a linked clone; its name then is base-X/base-Y, as RBD and ZFS
    name it. One name the plugin could not read back broke every listing of the storage."""
    storage.alloc_image(101, "raw", None, 4096)
    storage.create_base("vm-101-disk-0")
    linked = storage.clone_image("base-101-disk-0", 102)
    assert volume_has_feature("template", linked) == 1
    assert storage.create_base(linked) == "base-101-disk-0/base-102-disk-0"
    assert sorted(i["volid"] for i in storage.list_images()) == [
        "ls:base-101-disk-0", "ls:base-101-disk-0/base-102-disk-0"]
    assert pve_parse_volname("base-101-disk-0/base-102-disk-0")[5] == 1  # isBase
    assert storage.clone_image("base-101-disk-0/base-102-disk-0", 103) == "base-102-disk-0/vm-103-disk-0"
    with pytest.raises(InUse, match="has linked clones"):
        storage.free_image("base-101-disk-0")


def test_clone_from_snapshot_and_full_clone(storage: LinstorStorage, disks: FakeDisks,
                                            progress: list[str]) -> None:
    storage.alloc_image(102, "raw", None, 4096)
    rd = "pve-102-web02-disk-0"
    disks.data[rd] = "v1"
    storage.volume_snapshot("vm-102-disk-0", "snap1")
    disks.data[rd] = "v2"
    assert storage.clone_image("vm-102-disk-0", 101, "snap1") == "vm-101-disk-0"
    assert disks.data["pve-101-web01-disk-0"] == "v1"
    assert storage.clone_image("vm-102-disk-0", 101) == "vm-101-disk-1"
    assert disks.data["pve-101-web01-disk-1"] == "v2"
    copied = disks.disks["pve-101-web01-disk-1"].props
    assert (copied["Aux/bundle/owner-id"], copied[key("pve-volname")]) == ("101", "vm-101-disk-1")
    assert any("cloning" in line for line in progress)
    with pytest.raises(InvalidInput, match="no such snapshot"):
        storage.clone_image("vm-102-disk-0", 101, "nope")


def test_full_clone_of_a_linked_clone_drops_the_base(storage: LinstorStorage, disks: FakeDisks) -> None:
    storage.alloc_image(101, "raw", None, 4096)
    storage.create_base("vm-101-disk-0")
    linked = storage.clone_image("base-101-disk-0", 102)
    assert storage.clone_image(linked, 555) == "vm-555-disk-0"
    assert key("pve-base") not in disks.disks["pve-555-disk-0"].props
    assert "Aux/bundle/owner-name" not in disks.disks["pve-555-disk-0"].props


@pytest.mark.parametrize("vollist", [5, "ls:vm-101-disk-0", [5], {"ls:vm-101-disk-0": 1}])
def test_a_vollist_that_is_not_a_list_of_volids_is_refused(storage: LinstorStorage, disks: FakeDisks,
                                                           vollist: object) -> None:
    with pytest.raises(InvalidInput, match="must be a list of volume ids"):
        storage.list_images(None, vollist)  # type: ignore[arg-type]
    assert disks.calls == {}


def test_parse_volname_and_features() -> None:
    assert pve_parse_volname("base-100-disk-0/vm-101-disk-1") == [
        "images", "vm-101-disk-1", 101, "base-100-disk-0", 100, 0, "raw"]
    assert pve_parse_volname("base-100-disk-0") == ["images", "base-100-disk-0", 100, None, None, 1, "raw"]
    assert volume_has_feature("snapshot", "vm-1-disk-0") == 1
    assert volume_has_feature("clone", "base-1-disk-0") == 1
    assert volume_has_feature("clone", "vm-1-disk-0") is None
    assert volume_has_feature("clone", "vm-1-disk-0", "snap1") == 1
    assert volume_has_feature("template", "base-1-disk-0") is None
    assert volume_has_feature("copy", "vm-1-disk-0", "snap1") is None
    assert volume_has_feature("rename", "vm-1-disk-0") == 1
    assert volume_has_feature("teleport", "vm-1-disk-0") is None
    with pytest.raises(InvalidInput, match="feature"):
        volume_has_feature(["clone"], "vm-1-disk-0")  # type: ignore[arg-type]


def test_an_export_from_a_node_without_a_replica_detaches_its_client(
        storage: LinstorStorage, disks: FakeDisks, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """pvesm export on a node that holds no replica reads through a diskless client made for it:
    it goes again afterwards, as deactivate_volume would remove it."""
    from proxmox_plugin import transfer

    sent: list[str] = []
    monkeypatch.setattr(transfer, "send", lambda device, fd, progress: sent.append(device))
    storage.alloc_image(101, "raw", None, 4096)
    with open(tmp_path / "stream", "wb") as stream:
        storage.volume_export("vm-101-disk-0", "raw+size", data_fd=stream.fileno())
    assert sent == ["/dev/fake/pve-101-web01-disk-0"]
    assert disks.disks["pve-101-web01-disk-0"].diskless_nodes == ()
    replica = dataclasses.replace(storage, node="n1")  # a node holding a replica keeps it
    with open(tmp_path / "stream", "wb") as stream:
        replica.volume_export("vm-101-disk-0", "raw+size", data_fd=stream.fileno())
    assert disks.calls["detach"] == 1
