"""Small inputs that used to answer 500 or be stored wrongly: an Authorization header with
non-ASCII bytes, a pool directory that is relative or holds NUL, props that are not strings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from linstor_core import retcodes as rc
from linstor_core.controller.server import ControllerServer

NODE = {"name": "delta", "type": "SATELLITE", "net_interfaces": [{"name": "d", "address": "10.0.0.1"}]}


@pytest.mark.parametrize("header", [b"Bearer s3cr\xe9t", b"Bearer \xff\xfe", "Bearer café".encode()])
def test_a_non_ascii_authorization_header_is_401(tmp_path: Path, header: bytes):
    with ControllerServer(tmp_path / "state", "127.0.0.1", 0, token="s3cret") as server:
        answer = requests.get(server.url + "/v1/nodes", timeout=10,
                              headers={"Authorization": header})
        assert answer.status_code == 401, answer.text
        assert rc.code_of(answer.json()[0]["ret_code"]) == rc.code_of(rc.API_CALL_AUTH_REQ)


@pytest.mark.parametrize("prop", ["StorDriver/FileDir", "StorDriver/StorPoolName"])
@pytest.mark.parametrize("directory", ["relative/pool", "pool", "/tmp/a\0b", "./x"])
def test_a_pool_directory_must_be_absolute_without_nul(rest, tmp_path: Path, prop: str,
                                                        directory: str, monkeypatch: pytest.MonkeyPatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    rest.ok("POST", "/v1/nodes", NODE, status=201)
    refused = rest.error("POST", "/v1/nodes/delta/storage-pools", {
        "storage_pool_name": "files", "provider_kind": "FILE", "props": {prop: directory}},
        status=400, code=rc.FAIL_INVLD_PROP)
    assert prop in refused["message"]
    assert os.listdir(cwd) == []
    assert [p["storage_pool_name"] for p in rest.call("GET", "/v1/nodes/delta/storage-pools")] \
        == ["DfltDisklessStorPool"]


def test_an_absolute_pool_directory_is_accepted(rest, tmp_path: Path):
    rest.ok("POST", "/v1/nodes", NODE, status=201)
    rest.ok("POST", "/v1/nodes/delta/storage-pools", {
        "storage_pool_name": "files", "provider_kind": "FILE",
        "props": {"StorDriver/FileDir": str(tmp_path / "pool")}}, status=201)
    assert (tmp_path / "pool").is_dir()


@pytest.mark.parametrize("value", [True, 1, None])
def test_a_prop_value_that_is_not_a_string_is_refused(rest, value: object):
    refused = rest.error("POST", "/v1/nodes", {**NODE, "props": {"Aux/site": value}},
                         status=400, code=rc.FAIL_INVLD_PROP)
    assert "'Aux/site'" in refused["message"]
    assert "delta" not in [n["name"] for n in rest.call("GET", "/v1/nodes")]
    rest.ok("POST", "/v1/nodes", NODE, status=201)
    refused = rest.error("PUT", "/v1/nodes/delta", {"override_props": {"Aux/site": value}},
                         status=400, code=rc.FAIL_INVLD_PROP)
    assert "'Aux/site'" in refused["message"]
    refused = rest.error("POST", "/v1/nodes/delta/storage-pools", {
        "storage_pool_name": "nodisk", "provider_kind": "DISKLESS", "props": {"Aux/x": value}},
        status=400, code=rc.FAIL_INVLD_PROP)
    assert "'Aux/x'" in refused["message"]
    assert "Aux/site" not in rest.call("GET", "/v1/nodes/delta")["props"]
