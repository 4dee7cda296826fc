"""DiskService over a LinstorClient against recorded REST answers: what it sends and how often."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from linstor_core import retcodes
from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig
from linstor_core.disks import VIEW_FILTER_MAX, DiskService
from linstor_core.errors import AlreadyExists, ApiError, InUse, InvalidInput, LinstorError, NotFound
from linstor_core.models import Attachment, Capacity, Disk

BASE = "http://ctl.test:3370"
RD = f"{BASE}/v1/resource-definitions"


def ok(code: int = retcodes.CREATED) -> list[dict[str, Any]]:
    return [{"ret_code": code, "message": "done"}]


def failure(code: int, message: str = "refused") -> list[dict[str, Any]]:
    return [{"ret_code": code, "message": message}]


def rd_json(name: str, size_kib: int = 1024, group: str = "gold", props: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "resource_group_name": group,
        "props": props or {},
        "volume_definitions": [{"volume_number": 0, "size_kib": size_kib}],
    }


def rsc_json(name: str, node: str, *, diskless: bool = False, device: str = "/dev/drbd1000",
             drbd: bool = True) -> dict[str, Any]:
    layer = ({"type": "DRBD", "drbd": {"drbd_resource_definition": {"port": 7000}}} if drbd
             else {"type": "STORAGE"})
    return {
        "name": name,
        "node_name": node,
        "flags": ["DRBD_DISKLESS"] if diskless else [],
        "volumes": [{"volume_number": 0, "device_path": device}],
        "layer_object": layer,
    }


def snap_json(resource: str, name: str) -> dict[str, Any]:
    return {"name": name, "resource_name": resource, "nodes": ["n1"], "volume_definitions": [{"volume_number": 0, "size_kib": 1024}]}


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class Clock:
    """A clock that advances only when the service sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> DiskService:
    return DiskService(LinstorClient(ClientConfig(controllers=(BASE,))), sleep=clock.sleep, clock=clock)


def calls(http: responses.RequestsMock, method: str, path: str) -> list[Any]:
    return [c for c in http.calls if c.request.method == method and urlsplit(c.request.url).path == path]


def body(call: Any) -> Any:
    return json.loads(call.request.body)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def given_disk(http: responses.RequestsMock, name: str = "pve-101-disk-0", *, resources: list[Any] | None = None,
               snapshots: list[Any] | None = None, size_kib: int = 1024) -> None:
    http.get(RD, json=[rd_json(name, size_kib)])
    http.get(f"{BASE}/v1/view/resources", json=resources if resources is not None else [rsc_json(name, "n1")])
    http.get(f"{RD}/{name}/snapshots", json=snapshots or [])


def test_from_config_does_no_io(http: responses.RequestsMock) -> None:
    assert isinstance(DiskService.from_config(ClientConfig(controllers=(BASE,))), DiskService)
    assert len(http.calls) == 0


def test_create_is_one_spawn(http: responses.RequestsMock, service: DiskService) -> None:
    http.post(f"{BASE}/v1/resource-groups/gold/spawn", json=ok(), status=201)
    disk = service.create("gold", "pve-101-disk-0", 1024, {"Aux/bundle/platform": "pve"})
    assert disk == Disk(name="pve-101-disk-0", size_kib=1024, profile="gold", props={"Aux/bundle/platform": "pve"})
    assert len(http.calls) == 1
    sent = body(http.calls[0])
    assert sent["resource_definition_name"] == "pve-101-disk-0"
    assert sent["volume_sizes"] == [1024]
    assert sent["resource_definition_props"] == {"Aux/bundle/platform": "pve"}


def test_create_again_returns_the_existing_disk(http: responses.RequestsMock, service: DiskService) -> None:
    http.post(f"{BASE}/v1/resource-groups/gold/spawn", json=failure(retcodes.FAIL_EXISTS_RSC_DFN), status=500)
    given_disk(http)
    disk = service.create("gold", "pve-101-disk-0", 1024)
    assert disk.nodes == ("n1",)
    assert calls(http, "DELETE", "/v1/resource-definitions/pve-101-disk-0") == []


def test_create_again_with_the_profile_in_another_case_returns_the_existing_disk(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """LINSTOR names ignore case, and it reports the group as it was spelled when made."""
    http.post(f"{BASE}/v1/resource-groups/GOLD/spawn", json=failure(retcodes.FAIL_EXISTS_RSC_DFN), status=500)
    given_disk(http)
    assert service.create("GOLD", "pve-101-disk-0", 1024).profile == "gold"


@pytest.mark.parametrize(("profile", "size"), [("gold", 2048), ("silver", 1024)])
def test_create_with_another_size_or_profile_is_refused(
    http: responses.RequestsMock, service: DiskService, profile: str, size: int
) -> None:
    http.post(f"{BASE}/v1/resource-groups/{profile}/spawn", json=failure(retcodes.FAIL_EXISTS_RSC_DFN), status=500)
    given_disk(http)
    with pytest.raises(AlreadyExists, match="already exists with profile gold and 1024 KiB"):
        service.create(profile, "pve-101-disk-0", size)
    assert calls(http, "DELETE", "/v1/resource-definitions/pve-101-disk-0") == []


def test_a_failed_spawn_leaves_nothing(http: responses.RequestsMock, service: DiskService) -> None:
    http.post(f"{BASE}/v1/resource-groups/gold/spawn", json=failure(retcodes.FAIL_NOT_ENOUGH_NODES), status=500)
    http.delete(f"{RD}/pve-101-disk-0", json=ok(retcodes.DELETED))
    with pytest.raises(ApiError):
        service.create("gold", "pve-101-disk-0", 1024)
    assert len(calls(http, "DELETE", "/v1/resource-definitions/pve-101-disk-0")) == 1


SPAWN = f"{BASE}/v1/resource-groups/gold/spawn"
AUTOPLACE = f"{RD}/pve-101-disk-0/autoplace"


def test_create_on_a_preferred_node_pins_one_replica_then_autoplaces(
    http: responses.RequestsMock, service: DiskService
) -> None:
    http.post(SPAWN, json=ok(), status=201)
    http.post(AUTOPLACE, json=ok(), status=201)
    disk = service.create("gold", "pve-101-disk-0", 1024, {"Aux/bundle/platform": "pve"}, prefer_node="n2")
    assert disk.name == "pve-101-disk-0" and disk.props == {"Aux/bundle/platform": "pve"}
    assert [(c.request.method, urlsplit(c.request.url).path) for c in http.calls] == [
        ("POST", "/v1/resource-groups/gold/spawn"), ("POST", "/v1/resource-definitions/pve-101-disk-0/autoplace"),
    ]
    sent = body(http.calls[0])
    assert sent["select_filter"] == {"place_count": 1, "node_name_list": ["n2"], "diskless_on_remaining": False}
    assert sent["resource_definition_props"] == {"Aux/bundle/platform": "pve"}
    assert sent["definitions_only"] is False
    assert body(http.calls[1])["select_filter"] == {}


@pytest.mark.parametrize("code", [retcodes.FAIL_NOT_ENOUGH_NODES, retcodes.FAIL_NOT_FOUND_NODE])
def test_a_preferred_node_that_cannot_hold_a_replica_leaves_placement_to_the_profile(
    http: responses.RequestsMock, service: DiskService, code: int
) -> None:
    http.post(SPAWN, json=failure(code), status=500)
    http.post(SPAWN, json=ok(), status=201)
    http.delete(f"{RD}/pve-101-disk-0", status=404, json=failure(retcodes.FAIL_NOT_FOUND_RSC_DFN))
    service.create("gold", "pve-101-disk-0", 1024, prefer_node="frontend")
    spawns = calls(http, "POST", "/v1/resource-groups/gold/spawn")
    assert len(spawns) == 2 and "select_filter" not in body(spawns[1])
    assert len(calls(http, "DELETE", "/v1/resource-definitions/pve-101-disk-0")) == 1
    assert calls(http, "POST", "/v1/resource-definitions/pve-101-disk-0/autoplace") == []


def test_a_failed_autoplace_after_the_pinned_spawn_leaves_nothing(
    http: responses.RequestsMock, service: DiskService
) -> None:
    http.post(SPAWN, json=ok(), status=201)
    http.post(AUTOPLACE, json=failure(retcodes.FAIL_NOT_ENOUGH_NODES, "not enough nodes"), status=500)
    http.delete(f"{RD}/pve-101-disk-0", json=ok(retcodes.DELETED))
    with pytest.raises(ApiError, match="not enough nodes"):
        service.create("gold", "pve-101-disk-0", 1024, prefer_node="n1")
    assert len(calls(http, "DELETE", "/v1/resource-definitions/pve-101-disk-0")) == 1
    assert len(calls(http, "POST", "/v1/resource-groups/gold/spawn")) == 1


def test_create_on_a_preferred_node_again_returns_the_existing_disk(
    http: responses.RequestsMock, service: DiskService
) -> None:
    http.post(SPAWN, json=failure(retcodes.FAIL_EXISTS_RSC_DFN), status=500)
    given_disk(http)
    assert service.create("gold", "pve-101-disk-0", 1024, prefer_node="n1").nodes == ("n1",)
    assert calls(http, "DELETE", "/v1/resource-definitions/pve-101-disk-0") == []
    assert calls(http, "POST", "/v1/resource-definitions/pve-101-disk-0/autoplace") == []


def test_create_validates_the_preferred_node_before_sending(http: responses.RequestsMock, service: DiskService) -> None:
    with pytest.raises(InvalidInput) as info:
        service.create("gold", "pve-101-disk-0", 1024, prefer_node="no such node")
    assert info.value.field == "node name"
    assert len(http.calls) == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [(("gold", "x", 1), "resource name"), (("g", "disk", 1), "resource group name"), (("gold", "disk", 0), "size")],
)
def test_create_validates_before_sending(http: responses.RequestsMock, service: DiskService, args: tuple, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        service.create(*args)
    assert info.value.field == field
    assert len(http.calls) == 0


def test_get_and_exists(http: responses.RequestsMock, service: DiskService) -> None:
    name = "pve-101-disk-0"
    given_disk(http, resources=[rsc_json(name, "n2"), rsc_json(name, "n1"), rsc_json(name, "n3", diskless=True)],
               snapshots=[snap_json(name, "s2"), snap_json(name, "s1")])
    assert service.get(name) == Disk(
        name=name, size_kib=1024, profile="gold", props={}, nodes=("n1", "n2"), diskless_nodes=("n3",),
        snapshots=("s1", "s2"),
    )
    assert service.exists(name)
    http.get(RD, json=[])
    assert not service.exists("gone")
    with pytest.raises(NotFound):
        service.get("gone")


def test_list_is_three_calls_for_any_number_of_disks(http: responses.RequestsMock, service: DiskService) -> None:
    names = [f"pve-{i}-disk-0" for i in range(5)]
    http.get(RD, json=[rd_json(n) for n in reversed(names)])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json(n, "n1") for n in names])
    http.get(f"{BASE}/v1/view/snapshots", json=[snap_json(names[0], "s1")])
    disks = service.list({"Aux/bundle/platform": "pve"})
    assert [d.name for d in disks] == names
    assert disks[0].snapshots == ("s1",) and disks[1].snapshots == ()
    assert all(d.nodes == ("n1",) for d in disks)
    assert len(http.calls) == 3
    assert "Aux/bundle/platform=pve" in query(http.calls[0])["props"]


def test_list_of_many_disks_views_everything_once(http: responses.RequestsMock, service: DiskService) -> None:
    names = [f"one-{i}-disk-0" for i in range(VIEW_FILTER_MAX + 1)]
    http.get(RD, json=[rd_json(n) for n in names])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json(n, "n1") for n in names] + [rsc_json("other", "n1")])
    http.get(f"{BASE}/v1/view/snapshots", json=[snap_json("other", "s1")])
    disks = service.list({"Aux/bundle/platform": "one"})
    assert len(disks) == len(names) and all(d.nodes == ("n1",) and d.snapshots == () for d in disks)
    assert len(http.calls) == 3
    assert "resources" not in query(http.calls[1]) and "resources" not in query(http.calls[2])


def test_list_without_placement_is_one_call(http: responses.RequestsMock, service: DiskService) -> None:
    names = [f"pve-{i}-disk-0" for i in range(3)]
    http.get(RD, json=[rd_json(n, props={"Aux/bundle/platform": "pve"}) for n in reversed(names)])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json(n, "n1") for n in names])
    http.get(f"{BASE}/v1/view/snapshots", json=[snap_json(names[0], "s1")])
    disks = service.list({"Aux/bundle/platform": "pve"}, placement=False)
    assert len(http.calls) == 1
    assert urlsplit(http.calls[0].request.url).path == "/v1/resource-definitions"
    assert query(http.calls[0])["props"] == ["Aux/bundle/platform=pve"]
    assert [d.name for d in disks] == names
    assert all(d.size_kib == 1024 and d.props == {"Aux/bundle/platform": "pve"} for d in disks)
    assert all(d.nodes == () and d.diskless_nodes == () and d.snapshots == () for d in disks)


def test_list_of_nothing_is_one_call(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[])
    assert service.list({"Aux/bundle/platform": "pve"}) == []
    assert len(http.calls) == 1


def test_clone_polls_until_complete(http: responses.RequestsMock, service: DiskService, clock: Clock) -> None:
    http.get(RD, json=[rd_json("src", props={"Aux/bundle/owner-id": "1", "Aux/bundle/base": "x", "Aux/other": "y"})])
    http.post(f"{RD}/src/clone", json=ok(), status=201)
    status_url = f"{RD}/src/clone/dst"
    for status in ("CLONING", "CLONING", "COMPLETE"):
        http.get(status_url, json={"status": status})
    given_disk(http, "dst")
    heard: list[str] = []
    disk = service.clone("src", "dst", {"Aux/bundle/owner-id": "7"}, progress=heard.append)
    assert disk.name == "dst"
    assert heard == ["cloning src to dst: cloning"] * 2
    assert clock.sleeps == [0.2, 0.4]
    sent = body(calls(http, "POST", "/v1/resource-definitions/src/clone")[0])
    assert sent["override_props"] == {"Aux/bundle/owner-id": "7"}, "the owner is replaced in the clone request"
    assert sent["delete_props"] == ["Aux/bundle/base"]
    assert calls(http, "PUT", "/v1/resource-definitions/dst") == []


def test_a_failed_clone_removes_the_target(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[rd_json("src")])
    http.post(f"{RD}/src/clone", json=ok(), status=201)
    http.get(f"{RD}/src/clone/dst", json={"status": "FAILED"})
    http.delete(f"{RD}/dst", json=ok(retcodes.DELETED))
    with pytest.raises(ApiError, match="cloning src to dst failed"):
        service.clone("src", "dst")
    assert len(calls(http, "DELETE", "/v1/resource-definitions/dst")) == 1


def test_a_slow_clone_times_out_and_removes_the_target(
    http: responses.RequestsMock, service: DiskService, clock: Clock
) -> None:
    http.get(RD, json=[rd_json("src")])
    http.post(f"{RD}/src/clone", json=ok(), status=201)
    http.get(f"{RD}/src/clone/dst", json={"status": "CLONING"})
    http.delete(f"{RD}/dst", status=404, json=failure(retcodes.FAIL_NOT_FOUND_RSC_DFN))
    with pytest.raises(LinstorError, match="did not finish within 10 s"):
        service.clone("src", "dst", timeout=10)
    assert 10 <= clock.now <= 12
    assert max(clock.sleeps) == 2.0
    assert len(calls(http, "DELETE", "/v1/resource-definitions/dst")) == 1


def test_a_refused_clone_touches_nothing(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[rd_json("src")])
    http.post(f"{RD}/src/clone", json=failure(retcodes.FAIL_EXISTS_RSC_DFN), status=500)
    with pytest.raises(AlreadyExists):
        service.clone("src", "dst")
    assert [call.request.method for call in http.calls] == ["GET", "POST"]


def test_the_default_clone_wait_grows_with_the_source(
    http: responses.RequestsMock, service: DiskService, clock: Clock
) -> None:
    """300 s plus the size at 50 MiB/s: a full copy of a 100 GiB image on thick storage is
    not cut off at 300 s (and every retry of the deploy with it)."""
    http.get(RD, json=[rd_json("src", size_kib=100 << 20)])
    http.post(f"{RD}/src/clone", json=ok(), status=201)
    http.get(f"{RD}/src/clone/dst", json={"status": "CLONING"})
    http.delete(f"{RD}/dst", json=ok(retcodes.DELETED))
    with pytest.raises(LinstorError, match="did not finish within 2348 s"):
        service.clone("src", "dst")
    assert 2348 <= clock.now <= 2350


def test_a_failing_cleanup_is_noted_on_the_original_error(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[rd_json("src")])
    http.post(f"{RD}/src/clone", json=ok(), status=201)
    http.get(f"{RD}/src/clone/dst", json={"status": "FAILED"})
    http.delete(f"{RD}/dst", status=500, json=failure(retcodes.FAIL_IN_USE, "busy"))
    with pytest.raises(ApiError, match="cloning src to dst failed") as info:
        service.clone("src", "dst")
    assert "removing the partial dst failed too: busy" in info.value.__notes__[0]


def test_newer_snapshots_follow_the_time_they_were_taken(http: responses.RequestsMock, service: DiskService) -> None:
    def snap(name: str, taken: list[int]) -> dict[str, Any]:
        return {"name": name, "resource_name": "d1", "nodes": ["n1", "n2"],
                "snapshots": [{"snapshot_name": name, "node_name": f"n{i}", "create_timestamp": t}
                              for i, t in enumerate(taken, 1)]}

    listing = [snap("bb", [2000, 1999]), snap("aa", [3000, 3001]), snap("cc", [1000, 0])]
    http.get(f"{RD}/d1/snapshots", json=listing)
    assert service.newer_snapshots("d1", "cc") == ["bb", "aa"]
    assert service.newer_snapshots("d1", "aa") == []
    assert service.newer_snapshots("d1", "zz") is None
    # Sequence numbers, where the controller gives them, are the rollback's own order: they win
    # over clocks (same millisecond, skewed satellites).
    for sequence, entry in zip((2, 3, 1), listing):
        entry["props"] = {"SequenceNumber": str(sequence)}
    listing[1]["snapshots"][0]["create_timestamp"] = 1500
    http.replace(responses.GET, f"{RD}/d1/snapshots", json=listing)
    assert service.newer_snapshots("d1", "bb") == ["aa"]
    # LINSTOR keeps it in snapshot_definition_props; its deprecated props may carry another one
    for sequence, entry in zip((3, 1, 2), listing):
        entry["snapshot_definition_props"] = {"SequenceNumber": str(sequence)}
    http.replace(responses.GET, f"{RD}/d1/snapshots", json=listing)
    assert service.newer_snapshots("d1", "aa") == ["cc", "bb"]
    # Neither: nothing can be told here, the rollback itself refuses if it must.
    http.replace(responses.GET, f"{RD}/d1/snapshots", json=[{"name": n, "resource_name": "d1"} for n in ("xx", "yy")])
    assert service.newer_snapshots("d1", "xx") == []


def test_snapshot_calls(http: responses.RequestsMock, service: DiskService) -> None:
    http.post(f"{RD}/d1/snapshots", json=ok(), status=201)
    http.post(f"{RD}/d1/snapshot-rollback/s1", json=ok())
    service.snapshot("d1", "s1", nodes=["n1"])
    service.rollback("d1", "s1")
    sent = body(http.calls[0])
    assert sent["name"] == "s1" and sent["nodes"] == ["n1"]
    assert len(http.calls) == 2
    with pytest.raises(InvalidInput):
        service.snapshot("d1", "s")


def test_delete_snapshot_is_idempotent(http: responses.RequestsMock, service: DiskService) -> None:
    http.delete(f"{RD}/d1/snapshots/s1", status=404, json=failure(retcodes.FAIL_NOT_FOUND_SNAPSHOT))
    service.delete_snapshot("d1", "s1")
    assert len(http.calls) == 1


def test_restore_makes_a_new_disk_in_the_source_profile(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[rd_json("src", group="silver")])
    http.post(RD, json=ok(), status=201)
    http.post(f"{RD}/src/snapshot-restore-volume-definition/s1", json=ok())
    http.post(f"{RD}/src/snapshot-restore-resource/s1", json=ok())
    copied = {"Aux/bundle/owner-id": "9"}
    http.get(RD, json=[rd_json("dst", props=copied)])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("dst", "n1")])
    http.get(f"{RD}/dst/snapshots", json=[])
    disk = service.restore("src", "s1", "dst", {"Aux/bundle/owner-id": "9"}, nodes=["n1"])
    assert disk.name == "dst"
    assert calls(http, "PUT", "/v1/resource-definitions/dst") == []  # nothing copied over ours
    created = body(calls(http, "POST", "/v1/resource-definitions")[0])
    assert created["resource_definition"]["name"] == "dst"
    assert created["resource_definition"]["resource_group_name"] == "silver"
    assert created["resource_definition"]["props"] == {"Aux/bundle/owner-id": "9"}
    assert body(calls(http, "POST", "/v1/resource-definitions/src/snapshot-restore-volume-definition/s1")[0])[
        "to_resource"] == "dst"
    restored = body(calls(http, "POST", "/v1/resource-definitions/src/snapshot-restore-resource/s1")[0])
    assert restored["to_resource"] == "dst" and restored["nodes"] == ["n1"]


def test_a_restore_puts_back_the_props_linstor_copied_over(http: responses.RequestsMock, service: DiskService) -> None:
    """LINSTOR's restore copies the snapshot's definition props over the target's: the owner
    props asked for are set again, the source's other owner props removed, the rest kept."""
    http.get(RD, json=[rd_json("src")])
    http.post(RD, json=ok(), status=201)
    http.post(f"{RD}/src/snapshot-restore-volume-definition/s1", json=ok())
    http.post(f"{RD}/src/snapshot-restore-resource/s1", json=ok())
    copied = {"Aux/bundle/owner-id": "1", "Aux/bundle/pve-volname": "vm-1-disk-0", "DrbdOptions/Net/protocol": "C"}
    http.get(RD, json=[rd_json("dst", props=copied)])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("dst", "n1")])
    http.get(f"{RD}/dst/snapshots", json=[])
    http.put(f"{RD}/dst", json=ok(retcodes.MODIFIED))
    disk = service.restore("src", "s1", "dst", {"Aux/bundle/owner-id": "9"})
    assert body(calls(http, "PUT", "/v1/resource-definitions/dst")[0]) == {
        "override_props": {"Aux/bundle/owner-id": "9"}, "delete_props": ["Aux/bundle/pve-volname"]}
    assert disk.props == {"Aux/bundle/owner-id": "9", "DrbdOptions/Net/protocol": "C"}


def test_a_restore_of_a_disk_mid_migration_starts_with_one_primary(http: responses.RequestsMock,
                                                                   service: DiskService) -> None:
    """The source's hand-over props come over with the rest: its two primaries do not."""
    http.get(RD, json=[rd_json("src")])
    http.post(RD, json=ok(), status=201)
    http.post(f"{RD}/src/snapshot-restore-volume-definition/s1", json=ok())
    http.post(f"{RD}/src/snapshot-restore-resource/s1", json=ok())
    copied = {"DrbdOptions/Net/allow-two-primaries": "yes", "Aux/bundle/hand-over": "n1 n2"}
    http.get(RD, json=[rd_json("dst", props=copied)])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("dst", "n1")])
    http.get(f"{RD}/dst/snapshots", json=[])
    http.put(f"{RD}/dst", json=ok(retcodes.MODIFIED))
    disk = service.restore("src", "s1", "dst", {})
    assert sorted(body(calls(http, "PUT", "/v1/resource-definitions/dst")[0])["delete_props"]) == [
        "Aux/bundle/hand-over", "DrbdOptions/Net/allow-two-primaries"]
    assert disk.props == {} and not disk.two_primaries


def test_a_failed_restore_removes_the_target(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[rd_json("src")])
    http.post(RD, json=ok(), status=201)
    http.post(f"{RD}/src/snapshot-restore-volume-definition/s1", status=404,
              json=failure(retcodes.FAIL_NOT_FOUND_SNAPSHOT))
    http.delete(f"{RD}/dst", json=ok(retcodes.DELETED))
    with pytest.raises(NotFound):
        service.restore("src", "s1", "dst")
    assert len(calls(http, "DELETE", "/v1/resource-definitions/dst")) == 1


def test_resize_grows_only(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[rd_json("d1", 2048)])
    http.put(f"{RD}/d1/volume-definitions/0", json=ok(retcodes.MODIFIED))
    service.resize("d1", 4096)
    assert body(calls(http, "PUT", "/v1/resource-definitions/d1/volume-definitions/0")[0])["size_kib"] == 4096
    service.resize("d1", 2048)
    with pytest.raises(InvalidInput, match="disks only grow"):
        service.resize("d1", 1024)
    assert len(calls(http, "PUT", "/v1/resource-definitions/d1/volume-definitions/0")) == 1


def test_definition_is_one_get_and_none_when_missing(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[rd_json("d1", 2048, props={"Aux/bundle/platform": "docker"})])
    http.get(RD, json=[])
    disk = service.definition("d1")
    assert disk is not None and (disk.size_kib, disk.profile, disk.nodes) == (2048, "gold", ())
    assert disk.props == {"Aux/bundle/platform": "docker"}
    assert service.definition("d2") is None
    assert len(http.calls) == 2


def test_attach_where_a_replica_is_reads_the_path(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1", device="/dev/drbd1001")])
    assert service.attach("d1", "n1") == "/dev/drbd1001"
    assert len(http.calls) == 1


def test_attach_elsewhere_makes_it_available_diskless(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1")])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002")])
    http.post(f"{RD}/d1/resources/n9/make-available", json=ok())
    assert service.attach("d1", "n9") == "/dev/drbd1002"
    made = calls(http, "POST", "/v1/resource-definitions/d1/resources/n9/make-available")
    assert len(made) == 1 and body(made[0])["diskful"] is False


def test_attachment_says_whether_the_resource_there_is_diskless(
    http: responses.RequestsMock, service: DiskService
) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1", device="/dev/drbd1001")])
    assert service.attachment("d1", "n1") == Attachment("/dev/drbd1001", diskless=False)
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1")])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002")])
    http.post(f"{RD}/d1/resources/n9/make-available", json=ok())
    assert service.attachment("d1", "n9") == Attachment("/dev/drbd1002", diskless=True)


def test_attachment_reads_the_definition_for_accept_alongside_the_resources(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """Both GETs are in flight at once: each answer waits until the other request has arrived
    (sent one after the other, the first would wait in vain)."""
    arrived = {"definition": threading.Event(), "resources": threading.Event()}

    def answer(mine: str, other: str, payload: Any) -> Any:
        def reply(request: Any) -> tuple[int, dict[str, str], str]:
            arrived[mine].set()
            assert arrived[other].wait(5), f"the {other} GET was not sent while the {mine} one was out"
            return 200, {}, json.dumps(payload)
        return reply

    http.add_callback("GET", RD, callback=answer("definition", "resources", [rd_json("d1", props={"Aux/x": "y"})]))
    http.add_callback("GET", f"{BASE}/v1/view/resources",
                      callback=answer("resources", "definition", [rsc_json("d1", "n1", device="/dev/drbd1001")]))
    seen: list[Disk | None] = []
    assert service.attachment("d1", "n1", accept=seen.append) == Attachment("/dev/drbd1001", diskless=False)
    assert [d.props for d in seen if d is not None] == [{"Aux/x": "y"}]
    assert len(http.calls) == 2


def test_attachment_refused_by_accept_makes_nothing_available(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(RD, json=[])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1")])
    seen: list[Disk | None] = []

    def refuse(disk: Disk | None) -> None:
        seen.append(disk)
        raise NotFound([])

    with pytest.raises(NotFound):
        service.attachment("d1", "n9", accept=refuse)
    assert seen == [None]  # no definition: accept is told so
    assert calls(http, "POST", "/v1/resource-definitions/d1/resources/n9/make-available") == []


def test_attach_where_a_tiebreaker_is_makes_it_a_wanted_diskless_resource(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """LINSTOR may remove or move a tiebreaker; make-available clears the flag (as it documents)."""
    tiebreaker = {**rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002"), "flags": ["DRBD_DISKLESS", "TIE_BREAKER"]}
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), tiebreaker])
    http.post(f"{RD}/d1/resources/n9/make-available", json=ok())
    assert service.attach("d1", "n9") == "/dev/drbd1002"
    assert len(calls(http, "POST", "/v1/resource-definitions/d1/resources/n9/make-available")) == 1


def test_attach_of_a_storage_only_disk_elsewhere_is_refused(http: responses.RequestsMock, service: DiskService) -> None:
    """Without DRBD, make-available elsewhere would hand the guest a new, empty volume."""
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1", device="/dev/loop3", drbd=False)])
    with pytest.raises(InUse, match="no DRBD layer and its data is only on n1") as refused:
        service.attach("d1", "n9")
    assert "drbd,storage" in refused.value.correction
    assert [c.request.method for c in http.calls] == ["GET"]


def test_attach_of_a_storage_only_disk_without_resources_places_it(http: responses.RequestsMock, service: DiskService) -> None:
    """A disk spawned as definitions only holds no data yet: making it available is safe."""
    http.get(f"{BASE}/v1/view/resources", json=[])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n9", device="/dev/loop4", drbd=False)])
    http.post(f"{RD}/d1/resources/n9/make-available", json=ok())
    assert service.attach("d1", "n9") == "/dev/loop4"


@pytest.mark.parametrize("resources, device", [
    ([rsc_json("d1", "n1", device="/dev/drbd1001"), rsc_json("d1", "n9", diskless=True, device="/dev/drbd1001")],
     "/dev/drbd1001"),  # here
    ([rsc_json("d1", "n1", device="/dev/drbd1003")], "/dev/drbd1003"),  # DRBD elsewhere: one minor everywhere
    ([rsc_json("d1", "n1", device="/dev/loop3", drbd=False)], "/dev/loop3"),  # storage-only elsewhere: a name
    ([rsc_json("d1", "n9", device="/dev/loop4", drbd=False), rsc_json("d1", "n1", device="/dev/drbd1003")],
     "/dev/loop4"),  # this node's own before another's
    ([{**rsc_json("d1", "n9"), "volumes": []}, rsc_json("d1", "n1", device="/dev/drbd1003")], "/dev/drbd1003"),
    ([], None),  # no such disk, or deployed nowhere
], ids=["here", "drbd-elsewhere", "storage-only-elsewhere", "own-first", "no-volume-here", "nowhere"])
def test_device_path_is_one_listing_that_makes_nothing(http: responses.RequestsMock, service: DiskService,
                                                       resources: list[Any], device: str | None) -> None:
    http.get(f"{BASE}/v1/view/resources", json=resources)
    assert service.device_path("d1", "n9") == device
    assert [c.request.method for c in http.calls] == ["GET"]


def test_device_path_checks_names_before_any_request(http: responses.RequestsMock, service: DiskService) -> None:
    for name, node in (("../d1", "n9"), ("d1", "n9/x")):
        with pytest.raises(InvalidInput):
            service.device_path(name, node)
    assert len(http.calls) == 0


def test_attach_for_a_migration_allows_two_primaries_first(http: responses.RequestsMock, service: DiskService) -> None:
    http.put(f"{RD}/d1", json=ok(retcodes.MODIFIED))
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1")])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002")])
    http.post(f"{RD}/d1/resources/n9/make-available", json=ok())
    assert service.attach("d1", "n9", migrating=True) == "/dev/drbd1002"
    assert [(c.request.method, urlsplit(c.request.url).path) for c in http.calls][:2] == [
        ("PUT", "/v1/resource-definitions/d1"), ("GET", "/v1/view/resources"),
    ]
    assert body(http.calls[0])["override_props"] == {"DrbdOptions/Net/allow-two-primaries": "yes"}
    assert len(http.calls) == 4


def test_a_failed_migration_attach_withdraws_two_primaries(http: responses.RequestsMock, service: DiskService) -> None:
    http.put(f"{RD}/d1", json=ok(retcodes.MODIFIED))
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1")])
    http.post(f"{RD}/d1/resources/n9/make-available", status=404, json=failure(retcodes.FAIL_NOT_FOUND_NODE, "no n9"))
    with pytest.raises(NotFound, match="no n9"):
        service.attach("d1", "n9", migrating=True)
    puts = calls(http, "PUT", "/v1/resource-definitions/d1")
    assert len(puts) == 2
    assert body(puts[1])["delete_props"] == ["DrbdOptions/Net/allow-two-primaries", "Aux/bundle/hand-over"]


def in_use(resource: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "state": {"in_use": True}}


def test_attach_handing_over_a_disk_a_guest_uses_elsewhere_allows_two_primaries(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """PVE's live migration: the destination activates while the source's QEMU holds the disk."""
    http.get(f"{BASE}/v1/view/resources", json=[in_use(rsc_json("d1", "n1"))])
    http.put(f"{RD}/d1", json=ok(retcodes.MODIFIED))
    http.post(f"{RD}/d1/resources/n9/make-available", json=ok())
    http.get(f"{BASE}/v1/view/resources", json=[in_use(rsc_json("d1", "n1")),
                                                rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002")])
    assert service.attach_handing_over("d1", "n9") == "/dev/drbd1002"
    assert [(c.request.method, urlsplit(c.request.url).path) for c in http.calls] == [
        ("GET", "/v1/view/resources"), ("PUT", "/v1/resource-definitions/d1"),
        ("POST", "/v1/resource-definitions/d1/resources/n9/make-available"), ("GET", "/v1/view/resources"),
    ]
    assert body(http.calls[1])["override_props"] == {"DrbdOptions/Net/allow-two-primaries": "yes",
                                                     "Aux/bundle/hand-over": "n1 n9"}


def test_attach_handing_over_where_the_client_already_is_still_allows_two_primaries(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """A client an earlier activation left (its deactivation failed) is no reason to keep one primary."""
    http.get(f"{BASE}/v1/view/resources", json=[in_use(rsc_json("d1", "n1")),
                                                rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002")])
    http.put(f"{RD}/d1", json=ok(retcodes.MODIFIED))
    assert service.attach_handing_over("d1", "n9") == "/dev/drbd1002"
    assert [c.request.method for c in http.calls] == ["GET", "PUT"]


@pytest.mark.parametrize("resources", [
    [rsc_json("d1", "n1"), rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002")],  # in use nowhere
    [rsc_json("d1", "n1"), in_use(rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002"))],  # in use here
    [{**rsc_json("d1", "n1"), "state": {"in_use": False}}, rsc_json("d1", "n9", diskless=True, device="/dev/drbd1002")],
], ids=["nowhere", "here", "said-not"])
def test_attach_handing_over_a_disk_no_other_node_uses_is_a_plain_attach(
    http: responses.RequestsMock, service: DiskService, resources: list[dict[str, Any]]
) -> None:
    http.get(f"{BASE}/v1/view/resources", json=resources)
    assert service.attach_handing_over("d1", "n9") == "/dev/drbd1002"
    assert [c.request.method for c in http.calls] == ["GET"]


def test_attach_handing_over_a_storage_only_disk_in_use_elsewhere_is_refused_unchanged(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """No DRBD, no second primary to allow: refused as attach refuses it, nothing set."""
    http.get(f"{BASE}/v1/view/resources", json=[in_use(rsc_json("d1", "n1", device="/dev/loop3", drbd=False))])
    with pytest.raises(InUse, match="no DRBD layer"):
        service.attach_handing_over("d1", "n9")
    assert [c.request.method for c in http.calls] == ["GET"]


def test_a_failed_hand_over_attach_withdraws_two_primaries(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[in_use(rsc_json("d1", "n1"))])
    http.put(f"{RD}/d1", json=ok(retcodes.MODIFIED))
    http.post(f"{RD}/d1/resources/n9/make-available", status=404, json=failure(retcodes.FAIL_NOT_FOUND_NODE, "no n9"))
    with pytest.raises(NotFound, match="no n9"):
        service.attach_handing_over("d1", "n9")
    puts = calls(http, "PUT", "/v1/resource-definitions/d1")
    assert [body(put).get("delete_props") for put in puts] == [None, ["DrbdOptions/Net/allow-two-primaries", "Aux/bundle/hand-over"]]


def test_end_migration_detaches_the_left_node_then_ends_two_primaries(
    http: responses.RequestsMock, service: DiskService
) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), rsc_json("d1", "n9", diskless=True)])
    http.delete(f"{RD}/d1/resources/n9", json=ok(retcodes.DELETED))
    http.put(f"{RD}/d1", json=ok(retcodes.MODIFIED))
    service.end_migration("d1", "n9")
    assert [(c.request.method, urlsplit(c.request.url).path) for c in http.calls] == [
        ("GET", "/v1/view/resources"), ("DELETE", "/v1/resource-definitions/d1/resources/n9"),
        ("PUT", "/v1/resource-definitions/d1"),
    ]
    assert query(http.calls[1]) == {"keep_tiebreaker": ["true"]}
    assert body(http.calls[2]) == {"override_props": {}, "delete_props": ["DrbdOptions/Net/allow-two-primaries", "Aux/bundle/hand-over"]}
    http.calls.reset()
    service.end_migration("d1", "n1")
    assert calls(http, "DELETE", "/v1/resource-definitions/d1/resources/n1") == []
    assert len(calls(http, "PUT", "/v1/resource-definitions/d1")) == 1


def test_end_migration_ends_two_primaries_also_when_the_detach_is_refused_in_use(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """A shared image another guest on the left node still uses: two primaries end anyway."""
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("iso", "n1"), rsc_json("iso", "n9", diskless=True)])
    http.delete(f"{RD}/iso/resources/n9", status=500, json=failure(retcodes.FAIL_IN_USE, "in use"))
    http.put(f"{RD}/iso", json=ok(retcodes.MODIFIED))
    with pytest.raises(InUse):
        service.end_migration("iso", "n9")
    assert body(calls(http, "PUT", "/v1/resource-definitions/iso")[0])["delete_props"] == ["DrbdOptions/Net/allow-two-primaries", "Aux/bundle/hand-over"]


def test_end_migration_ends_two_primaries_after_any_failed_detach(
    http: responses.RequestsMock, service: DiskService
) -> None:
    """The premigrate undo meets an offline destination: two primaries end all the same."""
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), rsc_json("d1", "n9", diskless=True)])
    http.delete(f"{RD}/d1/resources/n9", status=500, json=failure(retcodes.FAIL_UNKNOWN_ERROR, "n9 is offline"))
    http.put(f"{RD}/d1", status=500, json=failure(retcodes.FAIL_UNKNOWN_ERROR, "busy"))
    with pytest.raises(ApiError, match="n9 is offline") as raised:
        service.end_migration("d1", "n9")
    assert len(calls(http, "PUT", "/v1/resource-definitions/d1")) == 1
    assert "withdrawing two primaries from d1 failed too: busy" in raised.value.__notes__[0]


@pytest.mark.parametrize("replicas, zeroed", [
    ([("LVM_THIN", ["DRBD", "STORAGE"]), ("ZFS", ["DRBD", "STORAGE"])], True),
    ([("FILE_THIN", ["STORAGE"])], True),
    ([("LVM", ["DRBD", "STORAGE"])], False),  # thick LVM: what the disk held before
    ([("LVM_THIN", ["DRBD", "STORAGE"]), ("LVM", ["DRBD", "STORAGE"])], False),
    ([("LVM_THIN", ["DRBD", "LUKS", "STORAGE"])], False),  # decrypted noise, not zeros
    ([("LVM_THIN", ["DRBD", "WRITECACHE", "STORAGE"])], False),
    ([], False),
])
def test_starts_zeroed_needs_zeroed_storage_and_no_layer_in_between(
    http: responses.RequestsMock, service: DiskService, replicas: list[tuple[str, list[str]]], zeroed: bool
) -> None:
    def chain(types: list[str]) -> dict[str, Any]:
        return {"type": types[0], "children": [chain(types[1:])] if types[1:] else []}

    body = [{"name": "d1", "node_name": f"n{i}", "layer_object": chain(types),
             "volumes": [{"volume_number": 0, "provider_kind": kind}]} for i, (kind, types) in enumerate(replicas)]
    body.append({"name": "d1", "node_name": "client", "flags": ["DRBD_DISKLESS"], "layer_object": chain(["DRBD"]),
                 "volumes": [{"volume_number": 0, "provider_kind": "DISKLESS"}]})
    http.get(f"{BASE}/v1/view/resources", json=body)
    assert service.starts_zeroed("d1") is zeroed
    for resource in body:
        resource["volumes"][0]["device_path"] = "/dev/drbd1000"
    http.get(f"{BASE}/v1/view/resources", json=body)
    assert service.attachment("d1", "client").starts_zeroed is zeroed  # the same listing, no extra call


def test_end_migration_of_a_gone_disk_is_done(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[])
    http.put(f"{RD}/gone", status=404, json=failure(retcodes.FAIL_NOT_FOUND_RSC_DFN))
    service.end_migration("gone", "n1")
    assert len(http.calls) == 2


def test_path_is_not_found_where_nothing_is(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), rsc_json("d1", "n2", device="")])
    assert service.path("d1", "n1") == "/dev/drbd1000"
    with pytest.raises(NotFound, match="no device on node n2"):
        service.path("d1", "n2")
    with pytest.raises(NotFound, match="no device on node n3"):
        service.path("d1", "n3")


def test_detach_removes_only_a_diskless_resource(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), rsc_json("d1", "n2", diskless=True)])
    http.delete(f"{RD}/d1/resources/n2", json=ok(retcodes.DELETED))
    service.detach("d1", "n1")
    service.detach("d1", "n3")
    service.detach("d1", "n2")
    deleted = [c for c in http.calls if c.request.method == "DELETE"]
    assert len(deleted) == 1
    assert urlsplit(deleted[0].request.url).path == "/v1/resource-definitions/d1/resources/n2"
    assert query(deleted[0])["keep_tiebreaker"] == ["true"]


def test_detach_of_a_gone_disk_is_done(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{BASE}/v1/view/resources", json=[])
    service.detach("d1", "n1")


def test_delete_refuses_while_snapshots_exist(http: responses.RequestsMock, service: DiskService) -> None:
    """LINSTOR refuses the DELETE; only then are the snapshots listed, to name them."""
    http.delete(f"{RD}/d1", status=500, json=failure(retcodes.FAIL_EXISTS_SNAPSHOT_DFN | retcodes.MASK_DEL, "it has snapshots"))
    http.get(f"{RD}/d1/snapshots", json=[snap_json("d1", "s2"), snap_json("d1", "s1")])
    with pytest.raises(InUse, match="still has snapshots: s1, s2"):
        service.delete("d1")
    assert [c.request.method for c in http.calls] == ["DELETE", "GET"]


def test_delete_in_use_for_another_reason_keeps_linstors_refusal(http: responses.RequestsMock, service: DiskService) -> None:
    http.delete(f"{RD}/d1", status=500, json=failure(retcodes.FAIL_IN_USE | retcodes.MASK_DEL, "Resource 'd1' is still in use."))
    http.get(f"{RD}/d1/snapshots", json=[])
    with pytest.raises(InUse, match="still in use"):
        service.delete("d1")


def test_delete_with_snapshots_removes_them_first(http: responses.RequestsMock, service: DiskService) -> None:
    http.get(f"{RD}/d1/snapshots", json=[snap_json("d1", "s1")])
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1")])
    http.delete(f"{RD}/d1/snapshots/s1", json=ok(retcodes.DELETED))
    http.delete(f"{RD}/d1", json=ok(retcodes.DELETED))
    service.delete("d1", with_snapshots=True)
    assert [urlsplit(c.request.url).path for c in http.calls if c.request.method == "DELETE"] == [
        "/v1/resource-definitions/d1/snapshots/s1", "/v1/resource-definitions/d1"]


def test_delete_with_snapshots_of_a_disk_in_use_deletes_nothing(http: responses.RequestsMock,
                                                                 service: DiskService) -> None:
    """LINSTOR refuses a definition with snapshots before it looks at use: asked only after
    the snapshots were gone, the in-use refusal would leave the disk without them."""
    http.get(f"{RD}/d1/snapshots", json=[snap_json("d1", "s1")])
    in_use = {**rsc_json("d1", "n2"), "state": {"in_use": True}}
    http.get(f"{BASE}/v1/view/resources", json=[rsc_json("d1", "n1"), in_use])
    with pytest.raises(InUse, match="disk d1 is in use on n2") as raised:
        service.delete("d1", with_snapshots=True)
    assert "its snapshots are kept" in str(raised.value)
    assert [c.request.method for c in http.calls] == ["GET", "GET"]


def test_delete_is_one_call_and_idempotent(http: responses.RequestsMock, service: DiskService) -> None:
    http.delete(f"{RD}/d1", json=ok(retcodes.DELETED))
    service.delete("d1")
    assert len(http.calls) == 1
    http.delete(f"{RD}/gone", status=404, json=failure(retcodes.FAIL_NOT_FOUND_RSC_DFN))
    service.delete("gone")
    assert len(http.calls) == 2


def test_set_props_and_capacity(http: responses.RequestsMock, service: DiskService) -> None:
    http.put(f"{RD}/d1", json=ok(retcodes.MODIFIED))
    http.post(f"{BASE}/v1/resource-groups/gold/query-size-info",
              json={"space_info": {"max_vlm_size_in_kib": 10, "available_size_in_kib": 20, "capacity_in_kib": 30}})
    service.set_props("d1", {"Aux/x": "1"}, ["Aux/y"])
    sent = body(http.calls[0])
    assert sent["override_props"] == {"Aux/x": "1"} and sent["delete_props"] == ["Aux/y"]
    assert service.capacity("gold") == Capacity(max_volume_size_kib=10, available_size_kib=20, capacity_kib=30)
