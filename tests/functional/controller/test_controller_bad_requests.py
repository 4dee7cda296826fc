"""Requests that used to answer 500 "Internal error" get LINSTOR's refusals instead.

A volume number beyond LINSTOR's 0..31999 (and beyond SQLite's integers: OverflowError) is
not found (GET) or invalid (PUT, DELETE); a body nested deeper than Python's parser recurses
(RecursionError) is a JSON parse error, like any other body that cannot be read.
"""

from __future__ import annotations

import pytest

from linstor_core import retcodes as rc
from openapi_schema import validate

HUGE = "99999999999999999999"
VD = "/v1/resource-definitions/vm1/volume-definitions"


@pytest.fixture
def vm1(rest) -> None:
    rest.ok("POST", "/v1/resource-groups", {"name": "rg", "select_filter": {"place_count": 1}},
            status=201)
    rest.ok("POST", "/v1/resource-groups/rg/spawn", {
        "resource_definition_name": "vm1", "volume_sizes": [2048]}, status=201)


@pytest.mark.usefixtures("vm1")
@pytest.mark.parametrize("number", [HUGE, "32000"])
def test_a_volume_number_linstor_cannot_have_is_refused(rest, number: str):
    rest.error("GET", f"{VD}/{number}", status=404, code=rc.FAIL_NOT_FOUND_VLM_DFN)
    refused = rest.error("PUT", f"{VD}/{number}", {"size_kib": 8192}, status=400,
                         code=rc.FAIL_INVLD_VLM_NR)
    assert refused["message"] == f"Invalid volume number {number}."
    rest.error("DELETE", f"{VD}/{number}", status=400, code=rc.FAIL_INVLD_VLM_NR)
    rest.error("GET", f"/v1/resource-definitions/nothing/volume-definitions/{number}",
               status=404, code=rc.FAIL_NOT_FOUND_RSC_DFN)
    assert rest.call("GET", f"{VD}/0", status=200)["size_kib"] == 2048


@pytest.mark.parametrize(("path", "text"), [
    ("/v1/resource-groups", "[" * 100_000 + "]" * 100_000),
    ("/v1/resource-groups", '{"a":' * 100_000 + "1" + "}" * 100_000),
    ("/v1/resource-definitions/vm1/resources", "[" * 100_000 + "]" * 100_000),
])
def test_a_body_nested_too_deeply_is_a_parse_error(rest, path: str, text: str):
    answer = rest.session.post(rest.url + path, data=text, timeout=60,
                               headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    replies = answer.json()
    validate(replies, "ApiCallRcList")
    assert replies[0]["ret_code"] == rc.API_CALL_PARSE_ERROR
    assert replies[0]["message"] == "The request body is not valid JSON: it is nested too deeply."
    rest.call("GET", "/v1/resource-groups", status=200)


@pytest.mark.usefixtures("vm1")
def test_fields_linstor_honours_and_this_controller_would_drop_are_refused(rest):
    """Another layer list than the definition's, a StorPoolName that is no string, DRBD settings
    for a new definition: answering success without doing them would be a lie."""
    layers = [layer["type"] for layer in rest.call("GET", "/v1/resource-definitions/vm1", status=200)["layer_data"]]
    other = ["STORAGE"] if "DRBD" in layers else ["DRBD", "STORAGE"]
    before = sorted(r["node_name"] for r in rest.call("GET", "/v1/resource-definitions/vm1/resources", status=200))
    node = sorted({"alpha", "bravo", "charlie"} - set(before))[0]
    item = {"resource": {"node_name": node, "props": {"StorPoolName": "thinpool"}}}
    refused = rest.error("POST", "/v1/resource-definitions/vm1/resources", [{**item, "layer_list": other}],
                         status=400, code=rc.FAIL_INVLD_LAYER_STACK)
    assert "differs from resource definition 'vm1'" in refused["message"]
    rest.error("POST", f"/v1/resource-definitions/vm1/resources/{node}", {**item, "layer_list": other},
               status=400, code=rc.FAIL_INVLD_LAYER_STACK)
    rest.error("POST", "/v1/resource-definitions/vm1/resources",
               [{"resource": {"node_name": node, "props": {"StorPoolName": 5}}}], status=400,
               code=rc.FAIL_INVLD_REQUEST)
    refused = rest.error("POST", "/v1/resource-definitions", {"resource_definition": {"name": "rd7"}, "drbd_port": 7999},
                         status=400, code=rc.FAIL_INVLD_REQUEST)
    assert "drbd_port" in refused["message"]
    assert sorted(r["node_name"] for r in rest.call("GET", "/v1/resource-definitions/vm1/resources", status=200)) == before
    assert "rd7" not in [rd["name"] for rd in rest.call("GET", "/v1/resource-definitions", status=200)]
    rest.ok("POST", "/v1/resource-definitions/vm1/resources", [{**item, "layer_list": [x.lower() for x in layers]}],
            status=201)
