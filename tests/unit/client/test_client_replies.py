"""Replies: ApiCallRc lists and HTTP statuses become results or the matching ApiError."""

from __future__ import annotations

import pytest
import responses
from client_helpers import BASE, failure, ok

from linstor_core import retcodes
from linstor_core.client import LinstorClient
from linstor_core.errors import AlreadyExists, ApiError, InUse, NotFound

RD = f"{BASE}/v1/resource-definitions"


def test_an_error_reply_carries_code_message_cause_correction(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    code = retcodes.FAIL_NOT_ENOUGH_NODES | retcodes.MASK_RSC_DFN | retcodes.MASK_CRT
    http.post(f"{BASE}/v1/resource-groups/gold/spawn", status=500, json=[
        {"ret_code": retcodes.CREATED, "message": "definition made"},
        {"ret_code": code, "message": "Not enough nodes", "cause": "1 of 3 online",
         "correction": "add nodes", "details": "placement", "obj_refs": {"RscDfn": "d1"}},
    ])
    with pytest.raises(ApiError) as info:
        client.resource_groups.spawn("gold", "d1", [1024])
    error = info.value
    assert type(error) is ApiError and error.status == 500
    assert (error.message, error.cause, error.correction) == ("Not enough nodes", "1 of 3 online", "add nodes")
    assert [r.ret_code for r in error.replies] == [retcodes.CREATED, code]
    assert error.replies[1].obj_refs == {"RscDfn": "d1"} and error.replies[1].details == "placement"


def test_the_warnings_of_an_error_answer_are_notes_on_the_error(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    """What a failed request left behind (a clean-up that failed too) reaches the one-line
    messages that Docker, OpenNebula and the PVE shim show; an info entry does not."""
    http.post(f"{BASE}/v1/resource-groups/gold/spawn", status=500, json=[
        {"ret_code": retcodes.CREATED, "message": "definition made"},
        failure(retcodes.FAIL_UNKNOWN_ERROR, "allocate failed")[0],
        {"ret_code": retcodes.WARN_STORAGE_ERROR, "message": "undoing it failed too: remove volume d1_00000"},
    ])
    with pytest.raises(ApiError) as info:
        client.resource_groups.spawn("gold", "d1", [1024])
    assert info.value.__notes__ == ["undoing it failed too: remove volume d1_00000"]
    assert info.value.one_line().startswith("allocate failed")
    assert "undoing it failed too: remove volume d1_00000" in info.value.one_line()
    assert "definition made" not in info.value.one_line()


@pytest.mark.parametrize(("code", "kind"), [
    (retcodes.FAIL_NOT_FOUND_RSC_DFN, NotFound),
    (retcodes.FAIL_NOT_FOUND_SNAPSHOT | retcodes.MASK_SNAPSHOT | retcodes.MASK_DEL, NotFound),
    (retcodes.FAIL_EXISTS_RSC_DFN | retcodes.MASK_RSC_DFN | retcodes.MASK_CRT, AlreadyExists),
    (retcodes.FAIL_EXISTS_SNAPSHOT, AlreadyExists),
    (retcodes.FAIL_IN_USE | retcodes.MASK_RSC_DFN | retcodes.MASK_DEL, InUse),
    (retcodes.FAIL_RSC_BUSY, InUse),
    (retcodes.FAIL_EXISTS_SNAPSHOT_DFN | retcodes.MASK_RSC_DFN | retcodes.MASK_DEL, InUse),
])
def test_codes_pick_the_error_class(
    http: responses.RequestsMock, client: LinstorClient, code: int, kind: type[ApiError]
) -> None:
    http.delete(f"{RD}/d1", status=500, json=failure(code, "no"))
    with pytest.raises(kind):
        client.resource_definitions.delete("d1")


def test_a_bare_404_is_not_found(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{RD}/d1/clone/d2", status=404, body="")
    with pytest.raises(NotFound) as info:
        client.resource_definitions.clone_status("d1", "d2")
    assert info.value.status == 404
    assert "HTTP 404" in info.value.message and "/v1/resource-definitions/d1/clone/d2" in info.value.message


def test_a_definition_missing_from_the_filtered_listing_is_not_found(http: responses.RequestsMock,
                                                                      client: LinstorClient) -> None:
    http.get(RD, json=[{"name": "D1x", "props": {}}])  # a filter the controller did not apply exactly
    with pytest.raises(NotFound, match="'d1' not found") as info:
        client.resource_definitions.get("d1")
    assert info.value.status == 404
    http.get(RD, json=[{"name": "D1", "props": {}, "volume_definitions": [{"volume_number": 0, "size_kib": 8}]}])
    assert client.resource_definitions.get("d1").name == "D1"  # names ignore case


def test_a_404_with_another_code_is_still_not_found(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{RD}/d1/clone/d2", status=404, json=failure(retcodes.UNKNOWN_API_CALL, "unknown call"))
    with pytest.raises(NotFound, match="unknown call"):
        client.resource_definitions.clone_status("d1", "d2")


def test_an_html_error_page_is_an_api_error_with_the_status(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 500 + "</body></html>"
    http.post(f"{RD}", status=502, body=page, content_type="text/html")
    with pytest.raises(ApiError) as info:
        client.resource_definitions.create("d1")
    error = info.value
    assert type(error) is ApiError and error.status == 502
    assert error.message.startswith("HTTP 502 Bad Gateway from POST")
    assert error.cause.startswith("<html><body><h1>502 Bad Gateway") and len(error.cause) <= 203


def test_a_success_that_is_not_json_is_an_api_error(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.get(f"{BASE}/v1/nodes", body="hello", content_type="text/plain")
    with pytest.raises(ApiError, match="the answer is not JSON") as info:
        client.nodes.list()
    assert info.value.status == 200


def test_a_mutation_answered_by_an_object_is_an_api_error(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    http.delete(f"{RD}/d1", json={"unexpected": True})
    with pytest.raises(ApiError, match="not an ApiCallRc list"):
        client.resource_definitions.delete("d1")


def test_an_error_reply_with_a_success_status_still_raises(
    http: responses.RequestsMock, client: LinstorClient
) -> None:
    http.delete(f"{RD}/d1/snapshots/s1", status=200, json=ok() + failure(retcodes.FAIL_IN_USE, "busy"))
    with pytest.raises(InUse, match="busy"):
        client.snapshots.delete("d1", "s1")


def test_an_empty_success_body_is_fine_for_a_mutation(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.put(f"{RD}/d1", status=200, body="")
    client.resource_definitions.set_props("d1", {"Aux/a": "1"})


def test_warnings_and_infos_do_not_raise(http: responses.RequestsMock, client: LinstorClient) -> None:
    http.post(f"{RD}/d1/resources/n1/make-available", json=[
        {"ret_code": retcodes.WARN_NOT_CONNECTED, "message": "n2 offline"},
        {"ret_code": retcodes.INFO_RSC_ALREADY_EXISTS, "message": "already there"},
    ])
    client.resources.make_available("d1", "n1")
