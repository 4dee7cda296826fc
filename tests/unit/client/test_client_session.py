"""Session: failover only on connection failure, GET-only retries, timeouts, token, TLS."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
import responses
from client_helpers import BASE, OTHER, ok, refused, sent_to
from urllib3.exceptions import ProtocolError

from linstor_core.client import LinstorClient
from linstor_core.config import ClientConfig
from linstor_core.client.session import Session, system_trust
from linstor_core.config import warn_of_a_cleartext_token
from linstor_core.errors import ConfigError, ControllerUnreachable, LinstorError

VERSION = "/v1/controller/version"


def test_constructing_a_client_does_no_io(http: responses.RequestsMock) -> None:
    LinstorClient(ClientConfig(controllers=(BASE,), token="t", ca_file="/nonexistent"))
    assert len(http.calls) == 0


def test_refused_first_controller_fails_over_and_is_remembered(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    http.get(f"{BASE}{VERSION}", body=refused(BASE))
    http.get(f"{OTHER}{VERSION}", json={"version": "1"})
    http.post(f"{OTHER}/v1/resource-definitions", json=ok(), status=201)
    assert client.controller.version() == {"version": "1"}
    client.resource_definitions.create("d1")
    assert [sent_to(c) for c in http.calls] == [BASE, OTHER, OTHER]
    assert client.session.controller == OTHER


def test_a_post_fails_over_when_the_controller_is_refused(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    http.post(f"{BASE}/v1/resource-definitions", body=requests.ConnectTimeout("connect timed out"))
    http.post(f"{OTHER}/v1/resource-definitions", json=ok(), status=201)
    client.resource_definitions.create("d1")
    assert len(http.calls) == 2


def test_all_controllers_down_names_each(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{BASE}{VERSION}", body=refused(BASE))
    http.get(f"{OTHER}{VERSION}", body=requests.ConnectTimeout("timed out"))
    with pytest.raises(ControllerUnreachable) as info:
        client.controller.version()
    assert info.value.tried == [(BASE, "connection failed: [Errno 111] Connection refused"),
                                (OTHER, "connect timeout after 5 s")]
    assert BASE in str(info.value) and OTHER in str(info.value)
    assert len(http.calls) == 2


def test_a_post_read_timeout_is_not_retried_nor_failed_over(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    http.post(f"{BASE}/v1/resource-groups/gold/spawn", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(LinstorError, match="no answer from http://ctl-a.test:3370 .no answer within 60 s") as info:
        client.resource_groups.spawn("gold", "d1", [1024])
    assert not isinstance(info.value, ControllerUnreachable)
    assert "may have been carried out" in info.value.cause
    assert len(http.calls) == 1


def test_a_dropped_connection_on_delete_is_not_resent(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    dropped = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104)))
    http.delete(f"{BASE}/v1/resource-definitions/d1", body=dropped)
    with pytest.raises(LinstorError, match="DELETE /v1/resource-definitions/d1: no answer"):
        client.resource_definitions.delete("d1")
    assert len(http.calls) == 1


def test_a_get_read_timeout_is_retried(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{BASE}{VERSION}", body=requests.ReadTimeout("read timed out"))
    http.get(f"{BASE}{VERSION}", json={"version": "1"})
    assert client.controller.version() == {"version": "1"}
    assert len(http.calls) == 2


def test_a_get_that_keeps_timing_out_moves_on_then_gives_up(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    for url in (BASE, OTHER):
        http.get(f"{url}{VERSION}", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(ControllerUnreachable) as info:
        client.controller.version()
    assert info.value.tried == [(BASE, "no answer within 60 s"), (OTHER, "no answer within 60 s")]
    assert [sent_to(c) for c in http.calls] == [BASE, BASE, OTHER, OTHER]


def test_a_tls_failure_fails_over(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{BASE}{VERSION}", body=requests.exceptions.SSLError("certificate verify failed"))
    http.get(f"{OTHER}{VERSION}", json={})
    assert client.controller.version() == {}


def test_an_http_error_status_is_an_answer_not_a_failover(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    http.get(f"{BASE}{VERSION}", status=503, body="<html>down for maintenance</html>")
    with pytest.raises(LinstorError, match="HTTP 503"):
        client.controller.version()
    assert len(http.calls) == 1


def test_token_timeouts_and_tls_are_sent(http: responses.RequestsMock) -> None:
    config = ClientConfig(controllers=("https://ctl.test:3371",), token="s3cret", ca_file="/ca.pem",
                          client_cert="/me.crt", client_key="/me.key", connect_timeout=2,
                          read_timeout=30)
    http.get(f"https://ctl.test:3371{VERSION}", json={})
    LinstorClient(config).controller.version()
    request = http.calls[0].request
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.headers["Accept"] == "application/json"
    sent = request.req_kwargs  # type: ignore[attr-defined]
    assert sent["verify"] == "/ca.pem"
    assert sent["cert"] == ("/me.crt", "/me.key")
    assert sent["timeout"] == (2, 30)


def test_without_token_no_authorization_and_system_cas(
    http: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    http.get(f"{BASE}{VERSION}", json={})
    LinstorClient(ClientConfig(controllers=(BASE,), client_cert="/both.pem")).controller.version()
    request = http.calls[0].request
    assert "Authorization" not in request.headers
    assert request.req_kwargs["verify"] == system_trust()  # type: ignore[attr-defined]
    assert request.req_kwargs["cert"] == "/both.pem"  # type: ignore[attr-defined]


def test_the_system_cas_are_trusted_not_requests_own_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """A CA an admin adds to the system (or names in SSL_CERT_FILE) is trusted, as by curl."""
    bundle = tmp_path / "site-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    system_trust.cache_clear()
    try:
        assert system_trust() == str(bundle)
    finally:
        system_trust.cache_clear()


def test_a_redirect_is_reported_not_followed(http: responses.RequestsMock, client: LinstorClient) -> None:
    """An HTTPS-only LINSTOR redirects plain HTTP: followed, the POST would become a bodiless
    GET without the token. Nothing was done, and the fix is named."""
    http.post(f"{BASE}/v1/resource-definitions", status=302,
              headers={"Location": "https://ctl.test:3371/v1/resource-definitions"})
    with pytest.raises(ConfigError, match="redirects POST /v1/resource-definitions to https://ctl.test:3371") as info:
        client.resource_definitions.create("d1")
    assert "linstor+ssl://" in info.value.correction and "nothing was done" in str(info.value)
    assert len(http.calls) == 1


def test_an_untrusted_certificate_names_the_ca_setting(http: responses.RequestsMock, client: LinstorClient) -> None:
    failure = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    http.get(f"{BASE}{VERSION}", body=failure)
    http.get(f"{OTHER}{VERSION}", body=failure)
    with pytest.raises(ControllerUnreachable) as info:
        client.controller.version()
    assert "LS_ROOT_CA" in info.value.correction


def test_a_token_to_another_host_over_http_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        warn_of_a_cleartext_token(ClientConfig(controllers=("http://127.0.0.1:3370", "http://[::1]:3370"), token="t"))
        warn_of_a_cleartext_token(ClientConfig(controllers=("https://ctl.test:3371",), token="t"))
        warn_of_a_cleartext_token(ClientConfig(controllers=("http://ctl.test:3370",)))  # no token
        Session(ClientConfig(controllers=("http://ctl.test:3370",), token="t"))  # a hook's session says nothing
    assert not caplog.records
    with caplog.at_level("WARNING"):
        warn_of_a_cleartext_token(ClientConfig(controllers=("http://ctl.test:3370",), token="s3cret"))
    assert "unencrypted" in caplog.text and "s3cret" not in caplog.text


def test_verify_off_ignores_the_ca_file(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}{VERSION}", json={})
    LinstorClient(ClientConfig(controllers=(BASE,), ca_file="/ca.pem", verify=False)).controller.version()
    assert http.calls[0].request.req_kwargs["verify"] is False  # type: ignore[attr-defined]


def test_a_trailing_slash_on_a_controller_url_is_harmless(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}{VERSION}", json={})
    LinstorClient(ClientConfig(controllers=(f"{BASE}/",))).controller.version()
    assert http.calls[0].request.path_url == VERSION


def test_an_injected_requests_session_is_used(http: responses.RequestsMock) -> None:
    session = requests.Session()
    session.headers["X-Probe"] = "1"
    http.get(f"{BASE}{VERSION}", json={})
    LinstorClient(ClientConfig(controllers=(BASE,)), session=session).controller.version()
    assert http.calls[0].request.headers["X-Probe"] == "1"


def test_a_real_refused_port_is_controller_unreachable() -> None:
    """Real sockets, no mock: the exception chain requests produces is recognised as refused."""
    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    urls = tuple(f"http://127.0.0.1:{port}" for port in ports)
    client = LinstorClient(ClientConfig(controllers=urls, connect_timeout=1))
    with pytest.raises(ControllerUnreachable) as info:
        client.resource_definitions.delete("d1")
    assert [url for url, _ in info.value.tried] == list(urls)
    assert all("refused" in why.lower() for _, why in info.value.tried)


class SteppingClock:
    """A monotonic clock that each slow answer moves forward."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_cuts_each_timeout_to_what_is_left(http: responses.RequestsMock) -> None:
    clock = SteppingClock()
    session = Session(ClientConfig(controllers=(BASE,), read_timeout=30.0, budget=12.0), clock=clock)
    http.get(f"{BASE}{VERSION}", json={"version": "1"})
    http.get(f"{BASE}{VERSION}", json={"version": "1"})
    session.request("GET", VERSION)
    clock.now += 10.0
    session.request("GET", VERSION)
    assert [c.request.req_kwargs["timeout"] for c in http.calls] == [(5.0, 12.0), (2.0, 2.0)]


def test_a_spent_budget_sends_nothing_more_and_says_why(http: responses.RequestsMock) -> None:
    """A hung controller: the GET retry would pass PVE's 60 s lock; the budget stops it."""
    clock = SteppingClock()
    session = Session(ClientConfig(controllers=(BASE, OTHER), read_timeout=30.0, budget=45.0), clock=clock)

    def hangs(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        clock.now += 45.0
        raise requests.ReadTimeout("read timed out")

    http.add_callback(responses.GET, f"{BASE}{VERSION}", callback=hangs)
    with pytest.raises(LinstorError, match="not sent, the 45 s budget for controller requests is spent") as info:
        session.request("GET", VERSION)
    assert "no answer within 30 s" in info.value.cause
    assert len(http.calls) == 1


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="budget"):
        ClientConfig(controllers=(BASE,), budget=0)
