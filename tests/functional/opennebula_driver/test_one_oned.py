"""pyone over real XML-RPC to the oned stand-in: the lookups TM actions depend on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from linstor_core.errors import ConfigError, LinstorError, Stopped
from opennebula_driver.oned import VMS_PER_ROUND_TRIP, Oned, load_oned_config

from one_docs import datastore_xml, image_xml, vm_xml
from oned_standin import OnedStandIn


@pytest.fixture
def oned(tmp_path: Path) -> Iterator[tuple[OnedStandIn, Oned]]:
    standin = OnedStandIn().start()
    auth = tmp_path / "one_auth"
    auth.write_text(standin.session + "\n")
    try:
        yield standin, Oned(load_oned_config({"ONE_XMLRPC": standin.endpoint, "ONE_AUTH": str(auth)}))
    finally:
        standin.stop()


def test_vm_with_one_disk_and_context(oned: tuple[OnedStandIn, Oned]) -> None:
    standin, client = oned
    standin.vms[22] = vm_xml(22, "web 01", [{"DISK_ID": 0, "SOURCE": "one-img7-u", "CLONE": "YES",
                                             "IMAGE_ID": 7, "TM_MAD": "linstor", "SIZE": 512}],
                             context={"DISK_ID": 1, "NETWORK": "YES"})
    vm = client.vm(22)
    assert (vm.id, vm.name, vm.context_disk_id) == (22, "web 01", 1)
    disk = vm.disk(0)
    assert disk is not None and (disk.source, disk.clone, disk.image_id, disk.size_mib) == ("one-img7-u", True, 7, 512)


def test_vm_with_several_disks(oned: tuple[OnedStandIn, Oned]) -> None:
    standin, client = oned
    standin.vms[5] = vm_xml(5, "db", [{"DISK_ID": 0, "SOURCE": "one-img1-a", "CLONE": "NO"},
                                      {"DISK_ID": 2, "TYPE": "fs", "FS": "ext4", "SIZE": 100}])
    vm = client.vm(5)
    assert [d.disk_id for d in vm.disks] == [0, 2]
    assert vm.disk(0).clone is False and vm.disk(2).fs == "ext4"  # type: ignore[union-attr]


def test_datastore_template_and_image_name(oned: tuple[OnedStandIn, Oned]) -> None:
    standin, client = oned
    standin.datastores[100] = datastore_xml(100, {"LINSTOR_RESOURCE_GROUP": "gold",
                                                  "LINSTOR_CONTROLLERS": "http://127.0.0.1:3370"})
    standin.images[7] = image_xml(7, "ubuntu", SIZE=40, SOURCE="one-img7-ubuntu")
    datastore = client.datastore(100)
    assert datastore.template["LINSTOR_RESOURCE_GROUP"] == "gold" and datastore.tm_mad == "linstor"
    assert client.image_name(7) == "ubuntu"
    assert standin.calls == ["one.datastore.info 100", "one.image.info 7"]


def test_vm_and_datastore_take_one_round_trip(oned: tuple[OnedStandIn, Oned]) -> None:
    """The actions that make a VM's disk need both: one ``system.multicall``, as oned serves it."""
    standin, client = oned
    standin.vms[3] = vm_xml(3, "web", [])
    standin.datastores[100] = datastore_xml(100, {"LINSTOR_RESOURCE_GROUP": "gold"})
    vm, datastore = client.vm_and_datastore(3, 100)
    assert (vm.name, datastore.template["LINSTOR_RESOURCE_GROUP"]) == ("web", "gold")
    assert standin.calls == ["one.vm.info 3", "one.datastore.info 100"] and standin.requests == 1


def test_image_users_and_their_hosts_and_states(oned: tuple[OnedStandIn, Oned]) -> None:
    """A shared image's users come from one.image.info, their states and hosts from one.vm.info
    in multicalls of at most VMS_PER_ROUND_TRIP; a VM gone meanwhile is skipped."""
    standin, client = oned
    users = list(range(100, 100 + VMS_PER_ROUND_TRIP + 5))
    standin.images[9] = image_xml(9, "debian-iso", users=[*users, 999], SOURCE="one-img9-debian-iso")
    for vm_id in users:
        standin.vms[vm_id] = vm_xml(vm_id, f"vm{vm_id}", [{"DISK_ID": 1, "IMAGE_ID": 9, "CLONE": "NO"}],
                                    state=8, lcm_state=0, hosts=("node-a", f"node-{vm_id}"))
    assert client.image_users(9) == (*users, 999)
    standin.requests = 0
    found = list(client.vms([*users, 999]))
    assert [vm.id for vm in found] == users and standin.requests == 2
    assert (found[0].state, found[0].lcm_state, found[0].hosts) == (8, 0, ("node-a", "node-100"))


def test_an_image_oned_no_longer_knows_has_no_users(oned: tuple[OnedStandIn, Oned]) -> None:
    _, client = oned
    assert client.image_users(404) == ()
    assert list(client.vms([])) == []


def test_an_endpoint_refusing_multicall_gets_the_lookups_one_by_one(tmp_path: Path) -> None:
    standin = OnedStandIn(multicall=False).start()
    try:
        standin.vms[3] = vm_xml(3, "web", [])
        standin.datastores[100] = datastore_xml(100, {"LINSTOR_RESOURCE_GROUP": "gold"})
        auth = tmp_path / "one_auth"
        auth.write_text(standin.session)
        client = Oned(load_oned_config({"ONE_XMLRPC": standin.endpoint, "ONE_AUTH": str(auth)}))
        vm, datastore = client.vm_and_datastore(3, 100)
        assert (vm.name, datastore.id) == ("web", 100)
        assert standin.calls == ["one.vm.info 3", "one.datastore.info 100"] and standin.requests == 3
        assert [vm.id for vm in client.vms([3, 404])] == [3]  # one by one too, a VM gone skipped
    finally:
        standin.stop()


def test_a_missing_object_in_a_multicall_is_named(oned: tuple[OnedStandIn, Oned]) -> None:
    standin, client = oned
    standin.datastores[100] = datastore_xml(100, {})
    with pytest.raises(LinstorError) as raised:
        client.vm_and_datastore(99, 100)
    assert "one.vm.info(99) failed" in str(raised.value) and raised.value.cause == "NO_EXISTS"
    assert raised.value.correction == "check that vm 99 still exists (onevm show 99)"
    assert standin.requests == 1


def without_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in [name for name in os.environ if name.lower().endswith("_proxy")]:
        monkeypatch.delenv(variable)


def test_plain_http_lookups_skip_pyones_per_call_requests_session(oned: tuple[OnedStandIn, Oned],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """pyone's own transport opens a requests session per call (about 1 ms of a 2 ms lookup)."""
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # for https only: not oned's
    standin, client = oned
    standin.datastores[0] = datastore_xml(0, {"LINSTOR_RESOURCE_GROUP": "gold"})
    standin.vms[3] = vm_xml(3, "web", [])
    assert client.datastore(0).template["LINSTOR_RESOURCE_GROUP"] == "gold" and client.vm(3).name == "web"
    assert [agent.split("/")[0] for agent in standin.user_agents] == ["Python-xmlrpc", "Python-xmlrpc"]
    assert "gzip" not in " ".join(standin.encodings)  # a few KiB from next door: not worth compressing


def test_a_document_full_of_escaped_markup_reads_whole(oned: tuple[OnedStandIn, Oned],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """oned's documents arrive as XML inside an XML-RPC string, every < an entity; expat's text
    is buffered, so the pieces between entities come back as one text."""
    without_proxy_variables(monkeypatch)
    standin, client = oned
    name = "<&>" * 300 + "end"
    standin.vms[3] = vm_xml(3, name, [])
    assert client.vm(3).name == name


def test_a_proxy_the_environment_names_for_oned_is_still_used(oned: tuple[OnedStandIn, Oned], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    without_proxy_variables(monkeypatch)
    standin, _ = oned
    standin.datastores[0] = datastore_xml(0, {})
    auth = tmp_path / "one_auth"
    config = load_oned_config({"ONE_XMLRPC": standin.endpoint, "ONE_AUTH": str(auth)})
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(LinstorError, match="ProxyError"):
        Oned(config).datastore(0)
    assert standin.calls == []
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert Oned(config).datastore(0).id == 0
    assert standin.user_agents == [standin.user_agents[0]] and standin.user_agents[0].startswith("Python-xmlrpc/")


def test_a_stop_signal_during_a_lookup_stays_a_stop(tmp_path: Path) -> None:
    """Not wrapped into "oned call failed": the action reports that it was stopped."""
    auth = tmp_path / "auth"
    auth.write_text("a:b")

    class StoppedServer:  # pyone's request hook, as the driver calls it
        @staticmethod
        def _cast_parms(params: tuple[object, ...]) -> tuple[object, ...]:
            return ("a:b", *params)

        @staticmethod
        def _do_request(method: str, params: tuple[object, ...]) -> None:
            raise Stopped("stopped by SIGTERM")

    client = Oned(load_oned_config({"ONE_AUTH": str(auth)}), server_factory=lambda endpoint, session: StoppedServer)
    with pytest.raises(Stopped) as raised:
        client.vm(3)
    assert str(raised.value) == "stopped by SIGTERM"


def test_unknown_object_and_bad_session(oned: tuple[OnedStandIn, Oned], tmp_path: Path) -> None:
    standin, client = oned
    with pytest.raises(LinstorError, match=r"one.vm.info\(99\) failed: .*Error getting object \[99\]"):
        client.vm(99)
    wrong = tmp_path / "wrong_auth"
    wrong.write_text("oneadmin:nope\n")
    stranger = Oned(load_oned_config({"ONE_XMLRPC": standin.endpoint, "ONE_AUTH": str(wrong)}))
    with pytest.raises(LinstorError, match="authenticated"):
        stranger.vm(1)


def test_a_failed_call_names_oneds_error_code(oned: tuple[OnedStandIn, Oned]) -> None:
    _, client = oned
    with pytest.raises(LinstorError) as raised:
        client.datastore(42)
    assert raised.value.cause == "NO_EXISTS" and "Error getting object [42]" in str(raised.value)
    assert raised.value.correction == "check that datastore 42 still exists (onedatastore show 42)"


@pytest.mark.parametrize("body, problem", [
    ("<!DOCTYPE VM [<!ENTITY e 'x'>]><VM><ID>1</ID></VM>", "DOCTYPE"),
    ("<VM><ID>1</ID>", "not well-formed"),
    ("<VM><NAME>no id</NAME></VM>", "VM/ID"),
    ("<IMAGE><ID>1</ID></IMAGE>", "the answer is a IMAGE document"),
])
def test_an_answer_that_is_not_a_sound_document_is_refused(oned: tuple[OnedStandIn, Oned], body: str,
                                                           problem: str) -> None:
    """oned's answers go through the same checks as the XML oned hands the driver."""
    standin, client = oned
    standin.vms[1] = body
    with pytest.raises(LinstorError, match=problem):
        client.vm(1)


@pytest.mark.parametrize("environ, problem", [
    ({"ONE_XMLRPC": "localhost:2634"}, "not an http:// or https:// URL"),
    ({"ONEAPI_PROTOCOL": "grpc"}, "ONEAPI_PROTOCOL"),
])
def test_an_endpoint_pyone_would_reach_over_grpc_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   environ: dict[str, str], problem: str) -> None:
    """pyone 7 speaks gRPC to such endpoints; the driver reads XML-RPC answers, so it says so first."""
    auth = tmp_path / "auth"
    auth.write_text("a:b")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    client = Oned(load_oned_config({"ONE_AUTH": str(auth), "ONE_XMLRPC": "http://127.0.0.1:9/RPC2", **environ}))
    with pytest.raises(ConfigError, match=problem):
        client.vm(1)


def test_an_empty_oneapi_protocol_is_xmlrpc_as_for_pyone(oned: tuple[OnedStandIn, Oned],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    standin, client = oned
    standin.datastores[0] = datastore_xml(0, {})
    monkeypatch.setenv("ONEAPI_PROTOCOL", "")
    assert client.datastore(0).id == 0


def test_missing_auth_file_is_a_config_error(tmp_path: Path) -> None:
    client = Oned(load_oned_config({"ONE_AUTH": str(tmp_path / "none"), "ONE_XMLRPC": "http://127.0.0.1:9/RPC2"}))
    with pytest.raises(ConfigError, match="ONE_AUTH"):
        client.vm(1)


def test_unreachable_oned(tmp_path: Path) -> None:
    auth = tmp_path / "auth"
    auth.write_text("a:b")
    client = Oned(load_oned_config({"ONE_AUTH": str(auth), "ONE_XMLRPC": "http://127.0.0.1:9/RPC2"}))
    with pytest.raises(LinstorError, match="check that oned answers at http://127.0.0.1:9/RPC2"):
        client.datastore(0)
