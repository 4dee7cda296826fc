"""``GET /metrics``: the controller's Prometheus text exposition, at LINSTOR's own path.

The format follows the scraper's ``Accept`` header as prometheus_client negotiates it (the
classic text format 0.0.4 unless OpenMetrics is asked for).

Two kinds of figures, in one registry per app (never prometheus_client's global one, so several
controllers in one process keep their counts apart):

- per request, counted as answers leave: ``linstor_http_requests_total`` by method, route
  template and status, and ``linstor_http_request_duration_seconds`` (a histogram) by method and
  route template. The route is Flask's URL rule (``/v1/resource-definitions/<rd>``), never the
  raw path, and an unknown method is ``OTHER``, so no client can grow the number of series;
  requests that match no route share the route ``<unmatched>``.
- read at scrape time, in one read transaction of the store: the counts of resource
  definitions, resources and snapshots, and every storage pool's free and total capacity.
  Names follow real LINSTOR's exporter where it has one (``linstor_info``,
  ``linstor_resource_definition_count``, ``linstor_storage_pool_capacity_{free,total}_bytes``
  with labels ``node``, ``storage_pool``, ``driver``); capacities are therefore bytes, the
  storage-pools API's KiB times 1024. A pool whose capacity cannot be read (its directory is
  gone) reports NaN, as LINSTOR does, instead of failing the whole scrape.

The route sits behind the bearer token like every other one (``api._check_token``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from linstor_core.controller.core import Controller
from linstor_core.controller.routes.nodes import VERSION
from linstor_core.errors import LinstorError

PATH = "/metrics"
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Reads answer in milliseconds; writes that make loop devices or file systems take seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
           float("inf"))
KIB = 1024
_POOL_LABELS = ("node", "storage_pool", "driver")


class StateCollector(Collector):
    """The gauges a scrape reads from the store (and the pools' file systems)."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller

    def describe(self) -> Iterable[Metric]:
        """The families without samples: reserves their names without touching the store."""
        return self._families()

    def collect(self) -> Iterator[Metric]:
        ctl = self._controller
        info, rds, rscs, snaps, free, total = self._families()
        info.add_metric([VERSION["version"], VERSION["git_hash"]], 1)
        with ctl.read() as repo:
            rd_count, rsc_count, snap_count = repo.counts()
            rds.add_metric([], rd_count)
            rscs.add_metric([], rsc_count)
            snaps.add_metric([], snap_count)
            pools = repo.pools()
        for pool in pools:
            try:
                free_kib, total_kib = ctl.satellite.capacity(ctl.pool_spec(pool))
                free_bytes, total_bytes = float(free_kib * KIB), float(total_kib * KIB)
            except LinstorError:
                free_bytes = total_bytes = float("nan")
            labels = [pool.node, pool.name, pool.kind]
            free.add_metric(labels, free_bytes)
            total.add_metric(labels, total_bytes)
        yield from (info, rds, rscs, snaps, free, total)

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily("linstor_info", "Version of this LINSTOR-compatible controller.",
                              labels=("version", "gitid")),
            GaugeMetricFamily("linstor_resource_definition_count",
                              "Number of resource definitions."),
            GaugeMetricFamily("linstor_resource_count", "Number of resources (placements)."),
            GaugeMetricFamily("linstor_snapshot_count", "Number of snapshot definitions."),
            GaugeMetricFamily("linstor_storage_pool_capacity_free_bytes",
                              "Free space of a storage pool in bytes.", labels=_POOL_LABELS),
            GaugeMetricFamily("linstor_storage_pool_capacity_total_bytes",
                              "Total space of a storage pool in bytes.", labels=_POOL_LABELS),
        ]


def install(app: Flask, controller: Controller) -> None:
    """Serve ``GET /metrics`` on ``app`` and count its requests.

    Call before the token check is registered, so refused requests are timed from the start.
    """
    registry = CollectorRegistry()
    requests = Counter("linstor_http_requests", "HTTP requests answered.",
                       ("method", "route", "status"), registry=registry)
    latency = Histogram("linstor_http_request_duration_seconds",
                        "Time from routing a request to its answer.", ("method", "route"),
                        buckets=BUCKETS, registry=registry)
    registry.register(StateCollector(controller))

    def started() -> None:
        g.metrics_started = time.perf_counter()

    def answered(response: Response) -> Response:
        method = request.method if request.method in METHODS else "OTHER"
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        requests.labels(method, route, str(response.status_code)).inc()
        latency.labels(method, route).observe(
            time.perf_counter() - g.get("metrics_started", time.perf_counter()))
        return response

    def metrics() -> Response:
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(registry), content_type=content_type)

    app.before_request(started)
    app.after_request(answered)
    app.add_url_rule(PATH, "metrics", metrics, methods=["GET"])
