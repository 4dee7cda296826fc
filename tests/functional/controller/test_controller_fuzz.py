"""Arbitrary JSON bodies never make the controller fail internally: always a LINSTOR answer.

A DRBD resource ``fz`` with one volume on alpha exists (made on first use), so requests on it
reach past the lookups.
"""

from __future__ import annotations

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linstor_core import retcodes as rc

ROUTES = [
    ("POST", "/v1/nodes"), ("PUT", "/v1/nodes/alpha"),
    ("POST", "/v1/nodes/alpha/storage-pools"),
    ("POST", "/v1/resource-groups"), ("PUT", "/v1/resource-groups/DfltRscGrp"),
    ("POST", "/v1/resource-groups/DfltRscGrp/spawn"),
    ("POST", "/v1/resource-groups/DfltRscGrp/query-size-info"),
    ("POST", "/v1/resource-definitions"), ("PUT", "/v1/resource-definitions/fz"),
    ("POST", "/v1/resource-definitions/fz/volume-definitions"),
    ("PUT", "/v1/resource-definitions/fz/volume-definitions/0"),
    ("POST", "/v1/resource-definitions/fz/resources"),
    ("POST", "/v1/resource-definitions/fz/resources/alpha/make-available"),
    ("POST", "/v1/resource-definitions/fz/autoplace"),
    ("POST", "/v1/resource-definitions/fz/snapshots"),
    ("POST", "/v1/resource-definitions/fz/clone"),
    ("POST", "/v1/resource-definitions/fz/snapshot-restore-resource/s1"),
]
KEYS = ["name", "type", "net_interfaces", "storage_pool_name", "provider_kind", "props",
        "select_filter", "place_count", "resource_definition", "resource_definition_name",
        "volume_sizes", "volume_definition", "size_kib", "override_props", "delete_props",
        "layer_data", "layer_stack", "nodes", "to_resource", "resource", "diskful",
        "definitions_only", "storage_pool", "replicas_on_same", "description"]

values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2**40) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=8)
bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=5) | st.lists(values,
                                                                                max_size=3)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_no_internal_errors(controller, route, body):
    url = controller.url
    if requests.get(f"{url}/v1/resource-definitions/fz", timeout=10).status_code == 404:
        requests.post(f"{url}/v1/resource-definitions", json={"resource_definition": {
            "name": "fz", "layer_data": [{"type": "DRBD"}, {"type": "STORAGE"}]}}, timeout=10)
        requests.post(f"{url}/v1/resource-definitions/fz/volume-definitions",
                      json={"volume_definition": {"size_kib": 1024}}, timeout=10)
        requests.post(f"{url}/v1/resource-definitions/fz/resources", json=[
            {"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}],
            timeout=10)
    method, path = route
    answer = requests.request(method, controller.url + path, json=body, timeout=30)
    data = answer.json()
    if answer.status_code >= 400:
        assert isinstance(data, list) and data
        assert all(rc.code_of(r["ret_code"]) != rc.FAIL_IMPL_ERROR for r in data), data
