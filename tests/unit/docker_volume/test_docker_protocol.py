"""The /VolumeDriver.* endpoints in memory (Flask's test client): shapes, Err, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask.testing import FlaskClient

from linstor_core.errors import ApiReply, ControllerUnreachable, NotFound, StorageError

from docker_volume.driver import VolumeDriver
from docker_volume.protocol import MEDIA_TYPE, create_app

if TYPE_CHECKING:
    from conftest import FakeDisks, FakeHost


@pytest.fixture()
def client(driver: VolumeDriver) -> FlaskClient:
    return create_app(driver).test_client()


def post(client: FlaskClient, endpoint: str, body: Any = None, *, raw: bytes | None = None) -> dict[str, Any]:
    data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    response = client.post(endpoint, data=data, headers={"Content-Type": MEDIA_TYPE})
    assert response.status_code == 200, response.data
    assert response.mimetype == MEDIA_TYPE
    answer: dict[str, Any] = json.loads(response.data)
    return answer


def test_activate_and_capabilities(client: FlaskClient) -> None:
    assert post(client, "/Plugin.Activate", raw=b"") == {"Implements": ["VolumeDriver"]}
    assert post(client, "/VolumeDriver.Capabilities") == {"Capabilities": {"Scope": "global"}}


def test_lifecycle_shapes(client: FlaskClient, disks: FakeDisks, host: FakeHost, mount_root: Path) -> None:
    target = str(mount_root / "web")
    assert post(client, "/VolumeDriver.Create", {"Name": "web", "Opts": {"size": "200M"}}) == {"Err": ""}
    assert post(client, "/VolumeDriver.List") == {"Err": "", "Volumes": [{"Name": "web", "Mountpoint": ""}]}
    host.expect_first_mount(disks.device("docker-web"), target)
    assert post(client, "/VolumeDriver.Mount", {"Name": "web", "ID": "c1"}) == {"Err": "", "Mountpoint": target}
    assert post(client, "/VolumeDriver.Path", {"Name": "web"}) == {"Err": "", "Mountpoint": target}
    volume = post(client, "/VolumeDriver.Get", {"Name": "web"})["Volume"]
    assert (volume["Name"], volume["Mountpoint"], volume["CreatedAt"]) == ("web", target, "2023-11-14T22:13:20Z")
    assert volume["Status"]["size"] == "200 MiB" and volume["Status"]["holders"] == 1
    host.expect_unmount(target)
    assert post(client, "/VolumeDriver.Unmount", {"Name": "web", "ID": "c1"}) == {"Err": ""}
    assert post(client, "/VolumeDriver.Remove", {"Name": "web"}) == {"Err": ""}
    assert post(client, "/VolumeDriver.List") == {"Err": "", "Volumes": []}


def test_create_with_null_opts_uses_the_defaults(client: FlaskClient, disks: FakeDisks) -> None:
    assert post(client, "/VolumeDriver.Create", {"Name": "web", "Opts": None}) == {"Err": ""}
    assert disks.disks["docker-web"].size_kib == 97657  # 100MB, 1000-based as the linstor client reads it


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"Name": "web", ', "invalid request body"),
        (b'["web"]', "must be a JSON object"),
        (b"{}", "a volume name is required"),
        (b'{"Name": "../x"}', "not a Docker volume name"),
        (b'{"Name": "a/b"}', "not a Docker volume name"),
        (b'{"Name": "' + b"v" * 300 + b'"}', "longer than 64"),
        (b'{"Name": "web", "Opts": {"color": "red"}}', "valid options are size, profile"),
        (b'{"Name": "web", "Opts": {"size": "0"}}', "greater than zero"),
        (b'{"Name": "web", "Opts": {"size": "-1"}}', "greater than zero"),
        (b'{"Name": "web", "Opts": {"size": "abc"}}', "not a number"),
        (b'{"Name": "web", "Opts": {"size": 5}}', "map of option names to strings"),
    ],
)
def test_bad_create_requests_get_an_err_and_change_nothing(
    client: FlaskClient, disks: FakeDisks, raw: bytes, message: str
) -> None:
    answer = post(client, "/VolumeDriver.Create", raw=raw)
    assert message in answer["Err"]
    assert disks.disks == {} and disks.calls == []


def test_linstor_messages_reach_docker_intact(client: FlaskClient, disks: FakeDisks) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise NotFound([ApiReply(-1, "Resource group 'gold' not found.", correction="apply the profiles")])

    disks.create = refuse  # type: ignore[method-assign]
    answer = post(client, "/VolumeDriver.Create", {"Name": "web"})
    assert answer == {"Err": "Resource group 'gold' not found; correction: apply the profiles"}


def test_a_failed_clean_up_noted_on_the_error_reaches_docker(
    client: FlaskClient, disks: FakeDisks, host: FakeHost, mount_root: Path
) -> None:
    """A first Mount whose mkfs fails detaches again; when that fails too, Docker hears of both."""
    post(client, "/VolumeDriver.Create", {"Name": "web"})
    device = disks.device("docker-web")
    host.runner.expect(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", device], StorageError(["mkfs.ext4"], 1, "no space"))

    def detach(name: str, node: str) -> None:
        raise ControllerUnreachable([("http://ctl:3370", "connection refused")])

    disks.detach = detach  # type: ignore[method-assign]
    err = post(client, "/VolumeDriver.Mount", {"Name": "web", "ID": "c1"})["Err"]
    assert "no space" in err and "detaching docker-web again failed too" in err


def test_a_bug_answers_a_short_err_without_a_traceback(client: FlaskClient, disks: FakeDisks) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    disks.list = broken  # type: ignore[method-assign]
    answer = post(client, "/VolumeDriver.List")
    assert answer["Err"].startswith("internal error in the LINSTOR volume plugin (KeyError")
    assert "Traceback" not in answer["Err"]


def test_unknown_endpoints_are_404_with_an_err(client: FlaskClient) -> None:
    response = client.post("/VolumeDriver.Explode", data=b"{}")
    assert response.status_code == 404
    assert "Not Found" in json.loads(response.data)["Err"]


@pytest.mark.parametrize("content_type", [MEDIA_TYPE, "application/json", "text/plain", None])
def test_the_body_is_json_whatever_the_content_type(
    client: FlaskClient, disks: FakeDisks, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/VolumeDriver.Create", data=b'{"Name": "web", "Opts": {"size": "8M"}}', headers=headers)
    assert (response.status_code, json.loads(response.data)) == (200, {"Err": ""})
    assert disks.disks["docker-web"].size_kib == 8192
