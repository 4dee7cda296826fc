"""Serving rules: loopback by default, token auth, TLS, the ``python -m`` entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from linstor_core import retcodes as rc
from linstor_core.controller.server import ControllerServer, parse_listen
from linstor_core.errors import InvalidInput
from linstor_core.serving import STOP_CHECK_INTERVAL
from prerequisites import require


def test_non_loopback_refused_without_token(tmp_path: Path):
    with pytest.raises(InvalidInput, match="needs a token"):
        ControllerServer(tmp_path, "0.0.0.0", 0)
    ControllerServer(tmp_path, "0.0.0.0", 0, token="secret")
    ControllerServer(tmp_path, "127.0.0.1", 0, tls_cert=tmp_path / "c.pem",
                     tls_key=tmp_path / "k.pem")
    with pytest.raises(InvalidInput):
        ControllerServer(tmp_path, "127.0.0.1", 0, tls_cert=tmp_path / "c.pem")


def test_parse_listen():
    assert parse_listen("127.0.0.1:3370") == ("127.0.0.1", 3370)
    assert parse_listen("[::1]:4000") == ("::1", 4000)
    assert parse_listen("localhost") == ("localhost", 3370)
    assert parse_listen(None) == ("127.0.0.1", 3370)
    assert parse_listen(None, tls=True) == ("127.0.0.1", 3371)
    assert parse_listen("10.0.0.5", tls=True) == ("10.0.0.5", 3371)
    assert parse_listen("[::1]", tls=True) == ("::1", 3371)
    assert parse_listen("10.0.0.5:3370", tls=True) == ("10.0.0.5", 3370)
    with pytest.raises(InvalidInput):
        parse_listen("host:port")


def test_token_required_on_every_route(tmp_path: Path):
    with ControllerServer(tmp_path / "state", "127.0.0.1", 0, token="s3cret") as server:
        for path in ("/v1/controller/version", "/v1/nodes", "/v1/unknown"):
            answer = requests.get(server.url + path, timeout=10)
            assert answer.status_code == 401
            assert rc.code_of(answer.json()[0]["ret_code"]) == rc.code_of(rc.API_CALL_AUTH_REQ)
        wrong = requests.get(server.url + "/v1/nodes", timeout=10,
                             headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = requests.get(server.url + "/v1/nodes", timeout=10,
                             headers={"Authorization": "Bearer s3cret"})
        assert right.status_code == 200 and right.json() == []


def test_tls(tmp_path: Path):
    require("openssl", package="openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with ControllerServer(tmp_path / "state", "127.0.0.1", 0, tls_cert=cert,
                          tls_key=key) as server:
        assert server.url.startswith("https://")
        answer = requests.get(server.url + "/v1/controller/version", timeout=10,
                              verify=str(cert))
        assert answer.status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(server.url.replace("https", "http") + "/v1/controller/version",
                         timeout=5)


def test_module_entry_point_serves(tmp_path: Path, unused_port: int):
    process = subprocess.Popen([sys.executable, "-m", "linstor_core.controller.server",
                                "--state-dir", str(tmp_path / "state"), "--listen",
                                f"127.0.0.1:{unused_port}"], stderr=subprocess.PIPE)
    try:
        from controller_process import wait_until_up

        wait_until_up(f"http://127.0.0.1:{unused_port}", process)
        answer = requests.get(f"http://127.0.0.1:{unused_port}/v1/controller/version", timeout=5)
        assert answer.status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None
        process.stderr.close()


def test_refuses_public_bind_from_command_line(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "linstor_core.controller.server",
                           "--state-dir", str(tmp_path), "--listen", "0.0.0.0:0"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "needs a token" in done.stderr and "--token" in done.stderr


def test_tls_alone_does_not_open_a_public_address(tmp_path: Path):
    """TLS encrypts but authenticates nobody: without a token anyone could POST /v1/nodes."""
    with pytest.raises(InvalidInput, match="needs a token") as refused:
        ControllerServer(tmp_path / "state", "0.0.0.0", 0, tls_cert=tmp_path / "c.pem",
                         tls_key=tmp_path / "k.pem")
    assert "--token" in refused.value.correction
    assert not (tmp_path / "state").exists()
    ControllerServer(tmp_path / "state", "0.0.0.0", 0, token="secret",
                     tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")


def test_tls_alone_refused_from_command_line(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "linstor_core.controller.server",
                           "--state-dir", str(tmp_path), "--listen", "0.0.0.0:0",
                           "--tls-cert", str(tmp_path / "c.pem"), "--tls-key",
                           str(tmp_path / "k.pem")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "needs a token" in done.stderr and "--token" in done.stderr


def test_the_server_looks_at_its_stop_flag_every_stop_check_interval(tmp_path: Path) -> None:
    """cheroot's stop() waits until its loop next looks at the stop flag, every
    ``expiration_interval`` (0.5 s by default): each stop of a controller waited for it."""
    server = ControllerServer(tmp_path / "state", port=0).start()
    try:
        assert server._server is not None and server._server.expiration_interval == STOP_CHECK_INTERVAL
    finally:
        server.stop()
