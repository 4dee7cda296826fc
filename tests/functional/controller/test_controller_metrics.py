"""``GET /metrics`` over real HTTP, parsed as Prometheus text by prometheus_client's own parser."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from linstor_core import retcodes as rc
from linstor_core.controller.server import ControllerServer

KIB = 1024
# Pools of unprivileged runs share /tmp with everything else on the machine: free space moves.
FREE_DRIFT_BYTES = 64 * 1024 * 1024


def scrape(url: str, headers: dict[str, str] | None = None) -> dict[str, list[Sample]]:
    """Every sample of ``url``'s /metrics by family name (a counter's family drops ``_total``)."""
    answer = requests.get(url + "/metrics", timeout=30, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    types = {name: family.type for name, family in families.items()}
    assert types["linstor_http_requests"] == "counter"
    assert types["linstor_http_request_duration_seconds"] == "histogram"
    return {name: list(family.samples) for name, family in families.items()}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The one sample called ``name`` whose labels include ``labels``."""
    found = [s.value for s in samples
             if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, samples)
    return float(found[0])


def test_requests_counted_by_route_template_and_timed(rest, controller_url: str):
    rest.call("GET", "/v1/nodes/alpha", status=200)
    rest.call("GET", "/v1/nodes/bravo", status=200)
    rest.call("GET", "/v1/nodes/zulu", status=404)
    rest.call("GET", "/v1/no-such-area/x", status=404)
    rest.call("PUT", "/v1/controller/version", status=405)
    assert requests.request("BREW", controller_url + "/v1/nodes", timeout=30).status_code == 405

    metrics = scrape(controller_url)
    counts = metrics["linstor_http_requests"]
    assert value(counts, "linstor_http_requests_total", method="GET",
                 route="/v1/nodes/<node>", status="200") == 2
    assert value(counts, "linstor_http_requests_total", method="GET",
                 route="/v1/nodes/<node>", status="404") == 1
    assert value(counts, "linstor_http_requests_total", method="GET",
                 route="<unmatched>", status="404") == 1
    assert value(counts, "linstor_http_requests_total", method="PUT",
                 route="<unmatched>", status="405") == 1
    assert value(counts, "linstor_http_requests_total", method="POST", route="/v1/nodes",
                 status="201") == 3
    assert value(counts, "linstor_http_requests_total", method="OTHER", route="<unmatched>",
                 status="405") == 1
    routes = {s.labels["route"] for s in counts}
    assert not [r for r in routes if "alpha" in r or "zulu" in r or "no-such" in r], routes

    latency = metrics["linstor_http_request_duration_seconds"]
    node = {"method": "GET", "route": "/v1/nodes/<node>"}
    assert value(latency, "linstor_http_request_duration_seconds_count", **node) == 3
    assert value(latency, "linstor_http_request_duration_seconds_bucket", le="+Inf",
                 **node) == 3
    assert 0 < value(latency, "linstor_http_request_duration_seconds_sum", **node) < 30
    buckets = [s for s in latency if s.name.endswith("_bucket") and s.labels.items() >= node.items()]
    assert len(buckets) > 10 and all("status" not in s.labels for s in latency)
    assert [s.value for s in buckets] == sorted(s.value for s in buckets)

    again = scrape(controller_url)["linstor_http_requests"]
    assert value(again, "linstor_http_requests_total", method="GET", route="/metrics",
                 status="200") == 1


def _pool_bytes(pool: dict, key: str) -> float:
    return float(pool[key] * KIB)


def test_gauges_match_the_api_listings(rest, controller_url: str):
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {"name": "Counted"}},
            status=201)
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {"name": "Placed"}},
            status=201)
    rest.ok("POST", "/v1/resource-definitions/Placed/volume-definitions",
            {"volume_definition": {"size_kib": 8 * KIB}}, status=201)
    rest.ok("POST", "/v1/resource-definitions/Placed/resources",
            [{"resource": {"node_name": n, "props": {"StorPoolName": "thinpool"}}}
             for n in ("alpha", "bravo")], status=201)

    before = rest.call("GET", "/v1/view/storage-pools", status=200)
    metrics = scrape(controller_url)
    after = rest.call("GET", "/v1/view/storage-pools", status=200)

    rds = rest.call("GET", "/v1/resource-definitions", status=200)
    rscs = rest.call("GET", "/v1/view/resources", status=200)
    snaps = rest.call("GET", "/v1/view/snapshots", status=200)
    assert value(metrics["linstor_resource_definition_count"],
                 "linstor_resource_definition_count") == len(rds) == 2
    placed = value(metrics["linstor_resource_count"], "linstor_resource_count")
    assert placed == len(rscs) == 3, "two diskful and DRBD's tie-breaker"
    assert value(metrics["linstor_snapshot_count"], "linstor_snapshot_count") == len(snaps) == 0
    assert value(metrics["linstor_info"], "linstor_info") == 1

    free = metrics["linstor_storage_pool_capacity_free_bytes"]
    total = metrics["linstor_storage_pool_capacity_total_bytes"]
    assert len(free) == len(total) == len(before)
    later = {(p["node_name"], p["storage_pool_name"]): p for p in after}
    for pool in before:
        labels = {"node": pool["node_name"], "storage_pool": pool["storage_pool_name"],
                  "driver": pool["provider_kind"]}
        if pool["provider_kind"] == "DISKLESS":
            assert value(free, "linstor_storage_pool_capacity_free_bytes", **labels) == 0
            continue
        assert value(total, "linstor_storage_pool_capacity_total_bytes",
                     **labels) == _pool_bytes(pool, "total_capacity")
        seen = value(free, "linstor_storage_pool_capacity_free_bytes", **labels)
        bounds = sorted((_pool_bytes(pool, "free_capacity"),
                         _pool_bytes(later[(pool["node_name"], pool["storage_pool_name"])],
                                     "free_capacity")))
        assert bounds[0] - FREE_DRIFT_BYTES <= seen <= bounds[1] + FREE_DRIFT_BYTES


def test_a_pool_without_its_directory_reports_nan(rest, controller_url: str, tmp_path: Path):
    directory = tmp_path / "vanishing"
    rest.ok("POST", "/v1/nodes/alpha/storage-pools", {
        "storage_pool_name": "vanishing", "provider_kind": "FILE",
        "props": {"StorDriver/FileDir": str(directory)}}, status=201)
    directory.rmdir()
    free = scrape(controller_url)["linstor_storage_pool_capacity_free_bytes"]
    assert math.isnan(value(free, "linstor_storage_pool_capacity_free_bytes", node="alpha",
                            storage_pool="vanishing"))
    assert not math.isnan(value(free, "linstor_storage_pool_capacity_free_bytes", node="alpha",
                                storage_pool="thinpool"))


@pytest.mark.root
def test_snapshot_gauge_counts_snapshots(rest, controller_url: str):
    rest.ok("POST", "/v1/resource-definitions", {"resource_definition": {"name": "Snapped"}},
            status=201)
    rest.ok("POST", "/v1/resource-definitions/Snapped/volume-definitions",
            {"volume_definition": {"size_kib": 4 * KIB}}, status=201)
    rest.ok("POST", "/v1/resource-definitions/Snapped/resources",
            [{"resource": {"node_name": "alpha", "props": {"StorPoolName": "thinpool"}}}],
            status=201)
    for name in ("first", "second"):
        rest.ok("POST", "/v1/resource-definitions/Snapped/snapshots", {"name": name},
                status=201)
    listed = rest.call("GET", "/v1/view/snapshots", status=200)
    counted = scrape(controller_url)["linstor_snapshot_count"]
    assert value(counted, "linstor_snapshot_count") == len(listed) == 2


def test_metrics_need_the_token(tmp_path: Path):
    with ControllerServer(tmp_path / "state", "127.0.0.1", 0, token="s3cret") as server:
        refused = requests.get(server.url + "/metrics", timeout=10)
        assert refused.status_code == 401
        assert rc.code_of(refused.json()[0]["ret_code"]) == rc.code_of(rc.API_CALL_AUTH_REQ)
        wrong = requests.get(server.url + "/metrics", timeout=10,
                             headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        counts = scrape(server.url, {"Authorization": "Bearer s3cret"})["linstor_http_requests"]
        assert value(counts, "linstor_http_requests_total", method="GET", route="/metrics",
                     status="401") == 2


def test_each_app_counts_only_its_own_requests(controller_url: str, tmp_path: Path):
    with ControllerServer(tmp_path / "other", "127.0.0.1", 0) as other:
        requests.get(other.url + "/v1/controller/version", timeout=10)
        mine = scrape(controller_url)["linstor_http_requests"]
        theirs = scrape(other.url)["linstor_http_requests"]
    assert not [s for s in mine if s.labels.get("route") == "/v1/controller/version"]
    assert value(theirs, "linstor_http_requests_total", route="/v1/controller/version") == 1
