"""The JSON protocol of ``linstor-pve``: one result or one rendered error, never a traceback."""

from __future__ import annotations

import io
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from linstor_core.errors import ApiError, ApiReply, LinstorError

from proxmox_plugin import cli
from pve_fake_disks import FakeDisks


def _run(method: str, request: Any, environ: dict[str, str] | None = None) -> tuple[int, dict, str]:
    """``request`` goes as the shim sends it, UTF-8 JSON (bytes as they are)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    text = request if isinstance(request, (str, bytes)) else json.dumps(request, ensure_ascii=False)
    stdin = io.BytesIO(text if isinstance(text, bytes) else text.encode())
    status = cli.main([method], stdin=stdin, stdout=stdout, stderr=stderr, environ=environ or {})
    assert stdout.getvalue().isascii()  # UTF-8 whatever the locale
    return status, json.loads(stdout.getvalue()), stderr.getvalue()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDisks:
    disks = FakeDisks()
    disks.budgets = []  # type: ignore[attr-defined]

    def connect(options: Any, *, budget: float | None) -> FakeDisks:
        disks.budgets.append(budget)  # type: ignore[attr-defined]
        return disks

    monkeypatch.setattr(cli, "connect", connect)
    monkeypatch.setattr(cli, "_vm_names", lambda: type("NoNames", (), {"name_of": lambda s, v: None})())
    return disks


def _request(**args: Any) -> dict[str, Any]:
    return {"storeid": "ls", "node": "n1", "scfg": {"type": "linstor", "resourcegroup": "gold"},
            "args": args}


def test_pure_methods_need_no_storage() -> None:
    assert _run("parse_volname", {"args": {"volname": "vm-5-disk-0"}})[:2] == (
        0, {"result": ["images", "vm-5-disk-0", 5, None, None, 0, "raw"]})
    assert _run("volume_has_feature", {"args": {"feature": "clone", "volname": "base-5-disk-0",
                                                "snapname": None}})[1] == {"result": 1}


@pytest.mark.parametrize("method, request_text, message", [
    ("parse_volname", '{"args": {"volname": "vm-x"}}', "invalid volname 'vm-x'"),
    ("parse_volname", "not json", "not JSON"),
    ("parse_volname", '{"args": {"volname": "vm-1-disk-0", "extra": 1}}', "do not fit parse_volname"),
    ("format_disk", "{}", "not a storage plugin method"),
    ("status", '{"storeid": "ls", "node": "n1", "scfg": {"resourcegroup": "g", "bogus": 1}}',
     "unknown to storage 'ls'"),
    ("status", '{"storeid": "ls", "scfg": {"resourcegroup": "g"}}', "local node name is required"),
])
def test_errors_are_one_json_object(method: str, request_text: str, message: str) -> None:
    status, body, stderr = _run(method, request_text)
    assert status == 1
    assert message in body["error"]["message"]
    assert body["error"]["type"] == "InvalidInput"
    assert "Traceback" not in stderr


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_methods_and_every_storage_option(flag: str) -> None:
    stdout = io.StringIO()
    assert cli.main([flag], stdin=io.BytesIO(b""), stdout=stdout, stderr=io.StringIO(), environ={}) == 0
    text = stdout.getvalue()
    assert text.startswith("usage: linstor-pve <method>")
    assert "clone_image" in text and "create_base" in text
    for option in ("controller", "resourcegroup", "profile", "preferlocal", "statuscache", "apica",
                   "apicrt", "apikey", "apitoken"):
        assert f"\n  {option} " in text
    assert "(default 60)" in text


def test_storage_methods_round_trip(fake: FakeDisks, tmp_path: Path) -> None:
    environ = {cli.CACHE_DIR_ENV: str(tmp_path)}
    status, body, _ = _run("alloc_image", _request(vmid=7, fmt="raw", name=None, size=4096), environ)
    assert (status, body) == (0, {"result": "vm-7-disk-0"})
    status, body, _ = _run("status", _request(), environ)
    assert body["result"][3] == 1
    assert list(tmp_path.glob("status-*.json"))
    status, body, _ = _run("free_image", _request(volname="vm-7-disk-0"), environ)
    assert (status, body) == (0, {"result": None})
    assert fake.disks == {}


def test_linstor_errors_keep_their_message(fake: FakeDisks, tmp_path: Path) -> None:
    status, body, _ = _run("volume_size_info", _request(volname="vm-7-disk-0"))
    assert status == 1
    assert body["error"] == {"type": "NotFound", "message": "volume ls:vm-7-disk-0 does not exist"}


def test_the_request_is_utf8_both_ways(tmp_path: Path) -> None:
    """The shim sends UTF-8 (JSON::PP->utf8): é and ☺ arrive as themselves and come back so,
    in a file name as in a message; before, é came as one Latin-1 byte and left as \udce9."""
    folder = tmp_path / "é☺"
    folder.mkdir()
    (folder / "token").write_text("s3cret")
    scfg = {"resourcegroup": "gold", "apitoken": str(folder / "token"), "controller": "http://127.0.0.1:9"}
    status, body, _ = _run("path", {"storeid": "ls", "node": "n1", "scfg": scfg, "args": {"volname": "vm-1-é☺"}})
    assert status == 1 and "invalid volname 'vm-1-é☺'" in body["error"]["message"]  # the token file was read
    missing = {**scfg, "apitoken": str(tmp_path / "☺é" / "token")}
    status, body, _ = _run("status", {"storeid": "ls", "node": "n1", "scfg": missing})
    assert body["error"]["message"].startswith(f"cannot read the API token file {tmp_path}/☺é/token")


def test_a_request_that_is_not_utf8_is_refused() -> None:
    status, body, _ = _run("parse_volname", '{"args": {"volname": "vm-1-é"}}'.encode("latin-1"))
    assert status == 1 and body["error"]["type"] == "InvalidInput" and "not UTF-8" in body["error"]["message"]


def test_unexpected_failures_are_rendered_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(volname: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(cli._PURE, "parse_volname", broken)  # type: ignore[index]
    status, body, stderr = _run("parse_volname", {"args": {"volname": "vm-1-disk-0"}})
    assert status == 1 and body["error"]["type"] == "InternalError" and "boom" in body["error"]["message"]
    assert "Traceback" not in stderr


def test_token_file_shapes(tmp_path: Path) -> None:
    (tmp_path / "auth.json").write_text('{"token": "abc"}')
    (tmp_path / "plain").write_text("xyz\n")
    assert cli._token(str(tmp_path / "auth.json")) == "abc"
    assert cli._token(str(tmp_path / "plain")) == "xyz"
    assert cli._token(None) is None
    with pytest.raises(cli.ConfigError, match="cannot read the API token file"):
        cli._token(str(tmp_path / "missing"))


@pytest.mark.parametrize("option", ["apica", "apicrt", "apikey"])
def test_a_missing_tls_file_names_its_option(option: str, tmp_path: Path) -> None:
    scfg = {"type": "linstor", "resourcegroup": "gold", "controller": "https://127.0.0.1:9",
            option: str(tmp_path / "missing.pem")}
    status, body, _ = _run("status", {"storeid": "ls", "node": "n1", "scfg": scfg})
    assert status == 1 and body["error"]["type"] == "ConfigError"
    assert body["error"]["message"] == (f"cannot read the {option} file {tmp_path / 'missing.pem'}; "
                                        f"correction: fix the storage's {option} option or create the file")


def test_storage_tls_files_and_token_reach_the_client(tmp_path: Path) -> None:
    for name in ("ca.pem", "c.pem", "k.pem"):
        (tmp_path / name).write_text("PEM")
    (tmp_path / "auth.json").write_text('{"token": "abc"}')
    options = cli.parse_options("ls", {"resourcegroup": "gold", "controller": "linstor+ssl://10.0.0.1",
                                       "apica": str(tmp_path / "ca.pem"), "apicrt": str(tmp_path / "c.pem"),
                                       "apikey": str(tmp_path / "k.pem"), "apitoken": str(tmp_path / "auth.json")})
    config = cli.connect(options).client.session.config
    assert config.controllers == ("https://10.0.0.1:3371",)
    assert (config.ca_file, config.client_cert, config.client_key, config.token) == (
        str(tmp_path / "ca.pem"), str(tmp_path / "c.pem"), str(tmp_path / "k.pem"), "abc")
    assert (config.connect_timeout, config.read_timeout, config.budget) == (
        cli.CONNECT_TIMEOUT, cli.READ_TIMEOUT, cli.REQUEST_BUDGET)
    assert cli.REQUEST_BUDGET < 60, "PVE kills a storage command holding its lock for 60 s"


def test_a_hung_controller_ends_the_call_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A controller that takes the connection and never answers: GETs are retried, but all of
    them together stay inside the budget, and PVE gets a LINSTOR error, not a killed worker."""
    monkeypatch.setattr(cli, "READ_TIMEOUT", 0.4)
    monkeypatch.setattr(cli, "REQUEST_BUDGET", 0.6)
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        scfg = {"type": "linstor", "resourcegroup": "gold", "controller": url}
        began = time.monotonic()
        status, body, _ = _run("list_images", {"storeid": "ls", "node": "n1", "scfg": scfg,
                                               "args": {"vmid": None, "vollist": None}})
        elapsed = time.monotonic() - began
    assert status == 1 and body["error"]["type"] == "ControllerUnreachable"
    assert "no answer within" in body["error"]["message"]
    assert elapsed < 1.5


def test_cause_and_correction_are_rendered_once() -> None:
    _, body, _ = _run("parse_volname", {"args": {"volname": "vm-x"}})
    message = body["error"]["message"]
    assert message.count("not a volume name this storage uses") == 1
    assert "correction: expected vm-<vmid>-<name> (disk-<n>" in message


def test_a_linstor_error_is_rendered_as_str_gives_it() -> None:
    refused = ApiError([ApiReply(ret_code=-1, message="Resource 'x' is in use.", cause="open on n1",
                                 correction="stop the VM")])
    assert cli._render(refused) == {
        "type": "ApiError", "message": "Resource 'x' is in use; cause: open on n1; correction: stop the VM"}
    assert cli._render(LinstorError("pool full: no space", cause="no space"))["message"] == "pool full: no space"
    noted = LinstorError("clone failed")
    noted.add_note("removing the partial pve-102-disk-0 failed too: no answer")
    assert cli._render(noted)["message"] == "clone failed; removing the partial pve-102-disk-0 failed too: no answer"


def test_only_the_streaming_methods_have_no_request_budget(fake: FakeDisks, tmp_path: Any) -> None:
    """PVE holds its 60 s storage lock around most calls, not around a disk's stream, whose
    clean-up after a long copy must still reach the controller."""
    _run("alloc_image", _request(vmid=7, fmt="raw", name=None, size=4096))
    (tmp_path / "empty").write_bytes(b"")
    with open(tmp_path / "empty", "rb") as stream:
        status, body, _ = _run("volume_import", _request(volname="vm-8-disk-0", format="raw+size",
                                                         data_fd=stream.fileno()))
    assert status == 1 and "too short for the raw+size header" in body["error"]["message"]
    assert fake.budgets == [cli.REQUEST_BUDGET, None]  # type: ignore[attr-defined]
