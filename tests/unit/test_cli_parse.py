"""The linstor-core grammar: seed command lines parse as the linstor client reads them, every
command documents itself, bad values exit 1 with the reason, bad grammar exits 2, and the
handlers turn arguments into the right client calls (a recording fake client; no HTTP)."""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from linstor_core.cli import main
from linstor_core.cli.commands import controller, node, resource, snapshot, storage_pool
from linstor_core.cli.context import Context
from linstor_core.cli.parser import build_parser
from linstor_core.errors import NotFound
from linstor_core.models import ResourceDefinition, SelectFilter, VolumeDefinition

MIB = 1024


def parse(line: str) -> argparse.Namespace:
    return build_parser().parse_args(line.split())


@pytest.mark.parametrize(
    ("line", "handler", "expected"),
    [
        ("node create vulcan 10.0.0.1", node.create, {"name": "vulcan", "address": "10.0.0.1"}),
        ("storage-pool create filethin vulcan thinpool /srv/tp", storage_pool.create,
         {"kind": "filethin", "node": "vulcan", "pool": "thinpool", "directory": "/srv/tp"}),
        ("storage-pool create diskless romulus dless", storage_pool.create,
         {"kind": "diskless", "directory": None}),
        ("resource create --storage-pool thinpool vulcan kronos LocalData", resource.create,
         {"nodes": ["vulcan", "kronos"], "resource": "LocalData", "storage_pool": "thinpool", "auto_place": None}),
        ("resource create --storage-pool thinpool --auto-place 3 SharedData", resource.create,
         {"nodes": [], "resource": "SharedData", "auto_place": 3}),
        ("resource create -s thinpool vulcan SharedData", resource.create,
         {"nodes": ["vulcan"], "storage_pool": "thinpool"}),
        ("resource delete kronos SharedData", resource.delete, {"nodes": ["kronos"], "resource": "SharedData"}),
        ("snapshot create romulus remus SharedData Snap1", snapshot.create,
         {"nodes": ["romulus", "remus"], "resource": "SharedData", "snapshot": "Snap1"}),
        ("snapshot resource restore --from-resource SharedData --from-snapshot Snap1 "
         "--to-resource SharedData_Restore romulus remus", snapshot.restore_resources,
         {"from_resource": "SharedData", "from_snapshot": "Snap1", "to_resource": "SharedData_Restore",
          "nodes": ["romulus", "remus"]}),
        ("snapshot rollback SharedData Snap1", snapshot.rollback, {"resource": "SharedData", "snapshot": "Snap1"}),
        ("controller --state-dir /tmp/x --listen 127.0.0.1:3370 --token t", controller.serve,
         {"state_dir": "/tmp/x", "server_token": "t", "client_token": None}),
    ],
)
def test_seed_lines_parse_as_the_linstor_client_reads_them(line: str, handler: Any, expected: dict[str, Any]) -> None:
    args = parse(line)
    assert args.handler is handler
    assert {key: getattr(args, key) for key in expected} == expected


def test_sizes_follow_the_linstor_client() -> None:
    assert parse("volume-definition create LocalData 150m").size == 150 * MIB
    assert parse("vd c LocalData 2").size == 2 * 1024 * MIB  # a plain number is GiB, as in the client
    assert parse("rg spawn gold web 1G 10MiB").sizes == [1024 * MIB, 10 * MIB]


def test_list_options_take_commas_and_repetition_without_eating_positionals() -> None:
    args = parse("rg c --layer-list drbd,storage --replicas-on-different Aux/site --replicas-on-different "
                 "Aux/rack -s aaa,bbb gold")
    assert args.name == "gold"
    assert args.layer_list == ["DRBD", "STORAGE"]
    assert args.replicas_on_different == ["Aux/site", "Aux/rack"]
    assert args.storage_pool == ["aaa", "bbb"]


@pytest.mark.parametrize(
    ("short", "long"),
    [("n l", "node list"), ("sp l", "storage-pool list"), ("rg l", "resource-group list"),
     ("rd c LocalData", "resource-definition create LocalData"), ("vd l", "volume-definition list"),
     ("r l", "resource list"), ("r lv", "volume list"), ("v l", "volume list"), ("s l", "snapshot list"),
     ("s rb SharedData Snap1", "snapshot rollback SharedData Snap1"), ("rg spawn gold r1 1G", "rg spawn-resources gold r1 1G")],
)
def test_short_aliases_reach_the_same_command(short: str, long: str) -> None:
    assert parse(short).handler is parse(long).handler


def test_global_options_work_before_and_after_the_command() -> None:
    before = parse("-m --controllers http://a:1 --token t node list")
    after = parse("node list -m --controllers http://a:1 --token t")
    for args in (before, after):
        assert (args.machine_readable, args.controllers, args.client_token) == (True, "http://a:1", "t")
    assert parse("-m node list").machine_readable is True  # the command's copy does not reset it


def _leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    found += _leaf_parsers(sub, (*path, name))
    return found or [(" ".join(path), parser)]


def test_every_command_documents_examples_idempotency_and_exit_status() -> None:
    leaves = _leaf_parsers(build_parser())
    assert len(leaves) >= 30
    for name, parser in leaves:
        text = parser.format_help()
        for section in ("examples:", "idempotent:", "exit status:", "linstor-core "):
            assert section in text, f"{name}: --help lacks {section!r}"
        assert parser.description, name


def _examples(help_text: str) -> list[str]:
    """The command lines of a ``--help`` text's ``examples:`` section, without ``linstor-core``."""
    section = help_text.split("examples:\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in section.splitlines()]
    return [line.removeprefix("linstor-core ").split(" | ")[0].removesuffix(" &") for line in lines]


def test_every_help_example_parses() -> None:
    """An example that the grammar refuses would teach the reader a command that fails."""
    parser = build_parser()
    helps = [parser.format_help()] + [leaf.format_help() for _, leaf in _leaf_parsers(parser)]
    examples = [example for text in helps for example in _examples(text)]
    assert len(examples) >= 60
    for example in examples:
        args = build_parser().parse_args(shlex.split(example))
        assert args.handler is not None, example


@pytest.mark.parametrize(
    ("line", "message"),
    [("node create x 10.0.0.1", "invalid node name 'x'"),
     ("resource-definition create 1abc", "invalid resource name '1abc'"),
     ("volume-definition create LocalData 150q", "unknown unit 'q'"),
     ("volume-definition create LocalData 0", "must be greater than zero"),
     ("storage-pool create filethin vulcan thinpool relative/dir", "must be an absolute path"),
     ("snapshot create SharedData snap/1", "invalid snapshot name")],
)
def test_bad_names_and_sizes_exit_1_with_reason_and_correction(line: str, message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(line.split(), stdout=out, stderr=err) == 1
    assert message in err.getvalue()
    assert err.getvalue().startswith("ERROR: ")
    assert "Traceback" not in err.getvalue() and out.getvalue() == ""


def test_machine_readable_errors_are_json_on_stderr() -> None:
    err = io.StringIO()
    assert main(["-m", "node", "create", "x", "10.0.0.1"], stdout=io.StringIO(), stderr=err) == 1
    error = json.loads(err.getvalue())["error"]
    assert error["type"] == "InvalidInput" and "node name" in error["message"] and error["correction"]


@pytest.mark.parametrize("flag", [[], ["-m"]])
def test_an_errors_notes_are_printed(tmp_path: Path, flag: list[str]) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.gold]\nplace_count = "three"\nstorage_pool = "t"\n')
    err = io.StringIO()
    assert main([*flag, "profiles", "check", str(profiles)], stdout=io.StringIO(), stderr=err) == 1
    if flag:
        assert json.loads(err.getvalue())["error"]["notes"] == ["1 more problem in the file"]
    else:
        assert err.getvalue().splitlines()[-1] == "  note:       1 more problem in the file"


@pytest.mark.parametrize(
    "line",
    ["", "node", "node frobnicate", "resource create", "rg c --place-count 0 gold", "resource delete SharedData",
     "snapshot resource restore --from-resource AA --to-resource BB", "--layer-list foo rd c x"],
)
def test_usage_errors_exit_2(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(line.split()) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resource", "create", "--help"]) == 0
    assert "--auto-place" in capsys.readouterr().out


class _Recorder:
    """A fake client area: records every call as (area.method, args, kwargs); answers by table."""

    def __init__(self, calls: list[tuple[Any, ...]], area: str, answers: dict[str, Any]) -> None:
        self._calls, self._area, self._answers = calls, area, answers

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            name = f"{self._area}.{method}"
            self._calls.append((name, args, kwargs))
            answer = self._answers.get(name)
            if isinstance(answer, Exception):
                raise answer
            return answer(*args) if callable(answer) else answer
        return call


class FakeClient:
    def __init__(self, **answers: Any) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._answers = {key.replace("__", "."): value for key, value in answers.items()}

    def __getattr__(self, area: str) -> _Recorder:
        return _Recorder(self.calls, area, self._answers)


def run(monkeypatch: pytest.MonkeyPatch, client: FakeClient, line: str) -> tuple[int, str, str]:
    monkeypatch.setattr(Context, "client", property(lambda self: client))
    out, err = io.StringIO(), io.StringIO()
    status = main(line.split(), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_resource_create_on_nodes_is_one_call_per_node_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()
    status, out, _ = run(monkeypatch, client, "resource create --storage-pool thinpool vulcan kronos LocalData")
    assert status == 0
    assert client.calls == [
        ("resources.create", ("LocalData", "vulcan"), {"storage_pool": "thinpool", "diskless": False}),
        ("resources.create", ("LocalData", "kronos"), {"storage_pool": "thinpool", "diskless": False}),
    ]
    assert out.count("SUCCESS:") == 2


def test_auto_place_sends_the_select_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(resources__list=[])
    status, _, _ = run(monkeypatch, client, "r c -s thinpool --auto-place 3 --replicas-on-different Aux/site SharedData")
    assert status == 0
    autoplace = [c for c in client.calls if c[0] == "resources.autoplace"]
    assert autoplace == [("resources.autoplace", ("SharedData", SelectFilter(
        place_count=3, storage_pool="thinpool", replicas_on_different=("Aux/site",))), {})]


@pytest.mark.parametrize("line", ["r c --auto-place 2 vulcan SharedData", "r c --replicas-on-same Aux/x vulcan SharedData"])
def test_resource_create_refuses_mixed_modes_before_any_call(monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    client = FakeClient()
    status, _, err = run(monkeypatch, client, line)
    assert (status, client.calls) == (2, [])
    assert "usage error" in err


def test_restore_creates_the_target_then_restores_definitions_then_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    source = ResourceDefinition(name="SharedData", resource_group_name="DfltRscGrp", layers=("drbd", "storage"),
                                volume_definitions=(VolumeDefinition(0, 150 * MIB),))

    def get(name: str) -> ResourceDefinition:
        if name == "SharedData":
            return source
        raise NotFound([])

    client = FakeClient(resource_definitions__get=get)
    status, _, err = run(monkeypatch, client, "snapshot resource restore --fr SharedData --fs Snap1 --tr Copy romulus remus")
    assert status == 0, err
    assert [c[0] for c in client.calls] == [
        "resource_definitions.get", "resource_definitions.get", "resource_definitions.create",
        "snapshots.restore_volume_definitions", "snapshots.restore_resources"]
    assert client.calls[2][2] == {"resource_group": "DfltRscGrp", "layers": ("drbd", "storage")}
    assert client.calls[4] == ("snapshots.restore_resources", ("SharedData", "Snap1", "Copy"),
                               {"nodes": ("romulus", "remus")})


def test_restore_into_a_target_with_volumes_restores_only_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    target = ResourceDefinition(name="Copy", volume_definitions=(VolumeDefinition(0, 150 * MIB),))
    client = FakeClient(resource_definitions__get=target)
    status, _, _ = run(monkeypatch, client, "s r rst --fr SharedData --fs Snap1 --tr Copy")
    assert status == 0
    assert [c[0] for c in client.calls] == ["resource_definitions.get", "snapshots.restore_resources"]


def test_storage_pool_create_sends_kind_and_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()
    assert run(monkeypatch, client, "sp c filethin vulcan thinpool /srv/tp")[0] == 0
    assert run(monkeypatch, client, "sp c diskless vulcan dless")[0] == 0
    assert client.calls == [
        ("storage_pools.create", ("vulcan", "thinpool", "FILE_THIN"), {"props": {"StorDriver/FileDir": "/srv/tp"}}),
        ("storage_pools.create", ("vulcan", "dless", "DISKLESS"), {"props": {}}),
    ]


def test_machine_readable_changes_are_one_json_array(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, _ = run(monkeypatch, FakeClient(resources__delete=True), "-m resource delete vulcan kronos LocalData")
    assert status == 0
    assert json.loads(out) == [
        {"message": "resource LocalData deleted from node vulcan", "obj_refs": {"resource": "LocalData", "node": "vulcan"}},
        {"message": "resource LocalData deleted from node kronos", "obj_refs": {"resource": "LocalData", "node": "kronos"}},
    ]


def test_deleting_what_is_not_there_warns_and_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """LINSTOR answers a delete of a missing definition, node or resource with a warning."""
    status, out, err = run(monkeypatch, FakeClient(resource_definitions__delete=False), "rd d Missing")
    assert (status, out, err) == (0, "WARNING: resource definition Missing not found: nothing deleted\n", "")
    status, out, err = run(monkeypatch, FakeClient(nodes__delete=False), "-m node delete nowhere")
    assert (status, out, err) == (0, "[]\n", "WARNING: node nowhere not found: nothing deleted\n")  # stdout stays JSON


def test_an_api_error_exits_1_with_its_message_and_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from linstor_core.errors import ApiReply

    refusal = NotFound([ApiReply(ret_code=-1, message="Node 'nowhere' not found.", correction="create it first")])
    status, _, err = run(monkeypatch, FakeClient(nodes__delete=refusal), "node delete nowhere")
    assert status == 1
    assert err == "ERROR: Node 'nowhere' not found.\n  correction: create it first\n"


def test_a_bug_is_reported_without_traceback_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    status, _, err = run(monkeypatch, FakeClient(nodes__list=RuntimeError("boom")), "node list")
    assert status == 1
    assert "internal error in linstor-core: RuntimeError: boom" in err and "Traceback" not in err
    monkeypatch.setattr(Context, "client", property(lambda self: FakeClient(nodes__list=RuntimeError("boom"))))
    with pytest.raises(RuntimeError):
        main(["--debug", "node", "list"], stdout=io.StringIO(), stderr=io.StringIO())


def test_a_reader_that_left_ends_the_command_quietly(tmp_path: Path) -> None:
    """``linstor-core ... | head``: once the pipe's reader is gone, no error and no traceback."""
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.gold]\nplace_count = 2\n')
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-c", "import sys; from linstor_core.cli import main; "
                               "sys.exit(main())", "profiles", "check", str(profiles)],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.parametrize(("line", "message"), [
    ("rg c --place-count 99 r6", "must be at most 32"),
    ("rg c -s thinpool,ThinPool r8", "names a pool twice"),
    ("rg c --replicas-on-same Aux/ r3", "none empty"),
    ("r c --auto-place 40 SharedData", "must be at most 32"),
])
def test_placement_is_checked_as_the_profiles_file_is(monkeypatch: pytest.MonkeyPatch, line: str, message: str) -> None:
    client = FakeClient()
    status, _, err = run(monkeypatch, client, line)
    assert status == 1 and message in err and client.calls == []


def test_list_filters_ignore_case_as_linstor_names_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from linstor_core.models import Node, ResourceGroup

    client = FakeClient(nodes__list=[Node("nodeC", "SATELLITE", "10.0.0.3", "ONLINE")],
                        resource_groups__list=[ResourceGroup("gold")])
    assert "nodeC" in run(monkeypatch, client, "n l -n NODEC")[1]
    assert "gold" in run(monkeypatch, client, "rg l -r GOLD")[1]


def test_an_empty_controller_in_the_list_is_named() -> None:
    err = io.StringIO()
    assert main(["--controllers", "linstor://a,,linstor://b", "n", "l"], stdout=io.StringIO(), stderr=err) == 1
    assert "--controllers" in err.getvalue() and "empty item" in err.getvalue()


def test_volume_list_by_pool_gives_the_same_volumes_with_and_without_m(monkeypatch: pytest.MonkeyPatch) -> None:
    from linstor_core.models import Resource, Volume

    resources = [Resource("ResA", "n1", volumes=(Volume(0, "/dev/loop1", storage_pool_name="poolaa"),)),
                 Resource("ResB", "n1", volumes=(Volume(0, "/dev/loop2", storage_pool_name="poolbb"),))]
    client = FakeClient(resources__view=resources)
    status, text, _ = run(monkeypatch, client, "v l -s POOLAA")
    assert status == 0 and "ResA" in text and "ResB" not in text
    status, out, _ = run(monkeypatch, client, "-m v l -s POOLAA")
    assert status == 0 and [r["name"] for r in json.loads(out)] == ["ResA"]


def test_m_prints_no_empty_list_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed listing must not read as 'nothing there' to a script."""
    status, out, err = run(monkeypatch, FakeClient(nodes__list=NotFound([])), "-m node list")
    assert status == 1 and out == "" and err


def test_replicas_on_takes_a_key_or_key_equals_value(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()
    status, _, err = run(monkeypatch, client, "rg c --replicas-on-same Aux/site=a --replicas-on-different Aux/rack r9")
    assert status == 0, err
    assert client.calls[0][2]["select_filter"].replicas_on_same == ("Aux/site=a",)
