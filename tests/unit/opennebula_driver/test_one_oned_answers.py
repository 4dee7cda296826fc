"""What ``Oned`` makes of answers a real oned does not give: each is one clear LinstorError."""

from __future__ import annotations

from pathlib import Path

import pytest

from linstor_core.errors import LinstorError
from opennebula_driver.oned import Oned, load_oned_config


class AnsweringServer:
    """pyone's request hook (``_cast_parms``, ``_do_request``) answering with ``answer``."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.requests: list[tuple[str, tuple[object, ...]]] = []

    def _cast_parms(self, params: tuple[object, ...]) -> tuple[object, ...]:
        return ("oneadmin:secret", *params)

    def _do_request(self, method: str, params: tuple[object, ...]) -> object:
        self.requests.append((method, params))
        return self.answer


def client(tmp_path: Path, server: AnsweringServer) -> Oned:
    auth = tmp_path / "auth"
    auth.write_text("oneadmin:secret\n")
    return Oned(load_oned_config({"ONE_AUTH": str(auth)}), server_factory=lambda endpoint, session: server)


@pytest.mark.parametrize("answer, message, cause", [
    ([False, "[one.vm.info] User not authorized", 0x0200], "User not authorized", "AUTHORIZATION"),
    ([False, "odd", 0x9999], "odd", "oned error code 39321"),
    ("<VM/>", "unexpected answer", "not oned's [success, body, code]"),
    ([True], "unexpected answer", "not oned's [success, body, code]"),
    ([True, 17, 0], "unexpected body 17", "oned answers info calls with XML"),
])
def test_an_unexpected_answer_is_one_linstor_error(tmp_path: Path, answer: object, message: str, cause: str) -> None:
    server = AnsweringServer(answer)
    with pytest.raises(LinstorError) as raised:
        client(tmp_path, server).vm(4)
    assert message in str(raised.value) and raised.value.cause == cause
    assert server.requests == [("one.vm.info", ("oneadmin:secret", 4))]


def test_a_sound_answer_is_read_by_the_document_readers(tmp_path: Path) -> None:
    server = AnsweringServer([True, "<IMAGE><ID>7</ID><NAME> ubuntu </NAME></IMAGE>", 0, 0])
    assert client(tmp_path, server).image_name(7) == "ubuntu"


@pytest.mark.parametrize("answer, message, cause", [
    ([{"faultCode": -501, "faultString": "bad params"}, [[True, "<DATASTORE><ID>1</ID></DATASTORE>", 0]]],
     "one.vm.info(4) failed: bad params", "XML-RPC fault -501"),
    ([[[True, "<VM><ID>4</ID><NAME>a</NAME></VM>", 0]]], "unexpected answer", "not one answer per call"),
    ([[True, "<VM/>", 0], [[True, "<DATASTORE/>", 0]]], "unexpected result", "not [value] or a fault"),
])
def test_an_unexpected_multicall_answer_is_one_linstor_error(tmp_path: Path, answer: object, message: str,
                                                             cause: str) -> None:
    server = AnsweringServer(answer)
    with pytest.raises(LinstorError) as raised:
        client(tmp_path, server).vm_and_datastore(4, 1)
    assert message in str(raised.value) and raised.value.cause == cause
    assert server.requests == [("system.multicall", ([
        {"methodName": "one.vm.info", "params": ["oneadmin:secret", 4]},
        {"methodName": "one.datastore.info", "params": ["oneadmin:secret", 1]}],))]


class UnreachableServer(AnsweringServer):
    def _do_request(self, method: str, params: tuple[object, ...]) -> object:
        self.requests.append((method, params))
        raise ConnectionRefusedError(111, "Connection refused")


def test_an_unreachable_oned_is_not_asked_again_one_by_one(tmp_path: Path) -> None:
    """Only a fault (the endpoint refusing the multicall) falls back to single lookups."""
    server = UnreachableServer(None)
    with pytest.raises(LinstorError, match="Connection refused"):
        client(tmp_path, server).vm_and_datastore(4, 1)
    assert [method for method, _ in server.requests] == ["system.multicall"]
