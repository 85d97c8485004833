"""Every request the proxy answered, as an Istio sidecar reports it to Prometheus.

Istio's sidecars count each request twice: ``reporter="source"`` on the client's side and
``reporter="destination"`` on the server's. Only the source side sees the requests the
data plane fails itself (no healthy upstream, connection refused, timeout) before any
pod does, which is why SLIs on a mesh are written against it. The sandbox's proxy is
the client side of every Service call, so it reports ``reporter="source"``::

    istio_requests_total{reporter, source_workload, source_workload_namespace,
        destination_workload, destination_workload_namespace, destination_service,
        destination_service_name, destination_service_namespace, request_protocol,
        response_code, response_flags}
    istio_request_duration_milliseconds_bucket/_sum/_count{same labels, le}

``response_flags`` are Envoy's (``-`` for none; see ``UpstreamFailed``). A request that
found no endpoint has ``destination_workload="unknown"``, as in Istio: only
``destination_service*`` name its target then. Durations run from the parsed request head
to the last response byte, in Istio's default buckets.

The hot path (``record``) is plain arithmetic on the loop thread: a dict lookup and three
increments, no lock. ``IstioCollector`` turns the counts into metric families when
Prometheus scrapes, on the same thread (the proxy serves ``/metrics`` from its loop).

A new label combination (a status code seen for the first time, a new workload) is
exported at 0 on the first scrape after it appears, and with its counts from the next one
on. Prometheus' ``rate()`` cannot count what happened before a series' first sample, so a
series born with its first requests already counted would lose them: the first 500 of a
run, say, in an error ratio over a short window. Client libraries avoid that by creating
known label values at 0 in advance; the proxy cannot know which codes will come, so it
shows each new series at 0 once: its first requests are reported one scrape late, never
lost.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from time import monotonic
from typing import NamedTuple, Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from slagate.sandbox.proxy.topology import ServiceKey
from slagate.sandbox.proxy.upstreams import Endpoint
from slagate.sandbox.proxy.workloads import UNKNOWN, Workload, Workloads

DURATION_BUCKETS_MS = (
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
    600000, 1800000, 3600000,
)  # fmt: skip
"""Istio's default buckets for ``istio_request_duration_milliseconds`` (upper bounds)."""

NO_FLAGS = "-"
CLUSTER_DOMAIN = "svc.cluster.local"
LABELS = (
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "destination_workload",
    "destination_workload_namespace",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "request_protocol",
    "response_code",
    "response_flags",
)


class OutlierCounts(Protocol):
    """What the outlier statistics are read from (a ``Sidecar``)."""

    @property
    def ejections_total(self) -> int: ...

    @property
    def ejections_active(self) -> int: ...


class SeriesKey(NamedTuple):
    service: ServiceKey
    source: Workload
    destination: Workload
    code: int
    flags: str

    def label_values(self) -> list[str]:
        service = self.service
        return [
            "source",
            self.source.name,
            self.source.namespace,
            self.destination.name,
            self.destination.namespace,
            f"{service.name}.{service.namespace}.{CLUSTER_DOMAIN}",
            service.name,
            service.namespace,
            "http",
            str(self.code),
            self.flags,
        ]


class _Series:
    """Count, sum and per-bucket (not cumulative) counts of one label combination."""

    __slots__ = ("buckets", "count", "exported", "sum_ms")

    def __init__(self) -> None:
        self.count = 0
        self.sum_ms = 0.0
        self.buckets = [0] * (len(DURATION_BUCKETS_MS) + 1)
        self.exported = False
        """Whether a scrape has seen this series yet (the first one is shown 0)."""


class RequestTelemetry:
    """The proxy's request counts since it started (loop thread only)."""

    def __init__(self) -> None:
        self._series: dict[SeriesKey, _Series] = {}
        self.outliers: dict[str, OutlierCounts] = {}
        """Per Envoy cluster name (``istio`` data plane): its outlier detection's counts,
        read at each scrape."""

    def record(
        self,
        service: ServiceKey,
        source: Workload,
        destination: Workload,
        code: int,
        flags: str,
        duration_ms: float,
    ) -> None:
        key = SeriesKey(service, source, destination, code, flags)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        series.count += 1
        series.sum_ms += duration_ms
        series.buckets[bisect_left(DURATION_BUCKETS_MS, duration_ms)] += 1

    def counts(self) -> dict[SeriesKey, int]:
        """Requests per label combination (for tests and tools)."""
        return {key: series.count for key, series in self._series.items()}

    def families(self) -> list[Metric]:
        """The metric families of one scrape (see the module on new series)."""
        requests = CounterMetricFamily(
            "istio_requests",
            "Requests the sandbox's service proxy answered (Istio's source-side metric).",
            labels=LABELS,
        )
        durations = HistogramMetricFamily(
            "istio_request_duration_milliseconds",
            "Request durations through the sandbox's service proxy, in milliseconds.",
            labels=LABELS,
        )
        for key, series in sorted(self._series.items()):
            shown = series if series.exported else _Series()
            series.exported = True
            labels = key.label_values()
            requests.add_metric(labels, shown.count)
            durations.add_metric(labels, _cumulative(shown), shown.sum_ms)
        return [requests, durations, *self._outlier_families()]

    def _outlier_families(self) -> list[Metric]:
        if not self.outliers:
            return []
        enforced = CounterMetricFamily(
            "envoy_cluster_outlier_detection_ejections_enforced",
            "Endpoints ejected by outlier detection (Envoy's cluster statistic).",
            labels=("cluster_name",),
        )
        active = GaugeMetricFamily(
            "envoy_cluster_outlier_detection_ejections_active",
            "Endpoints ejected right now by outlier detection (Envoy's cluster statistic).",
            labels=("cluster_name",),
        )
        for name, counts in sorted(self.outliers.items()):
            enforced.add_metric([name], counts.ejections_total)
            active.add_metric([name], counts.ejections_active)
        return [enforced, active]


def _cumulative(series: _Series) -> list[tuple[str, float]]:
    total = 0
    buckets = []
    for bound, count in zip(DURATION_BUCKETS_MS, series.buckets, strict=False):
        total += count
        buckets.append((str(float(bound)), float(total)))
    buckets.append(("+Inf", float(series.count)))
    return buckets


class IstioCollector(Collector):
    """A prometheus_client collector over a ``RequestTelemetry``."""

    def __init__(self, telemetry: RequestTelemetry) -> None:
        self._telemetry = telemetry

    def collect(self) -> Iterator[Metric]:
        yield from self._telemetry.families()


class ServiceMeter:
    """What one Service listener records its requests with: the Service, the pod
    workloads (to name both ends by address) and the proxy's telemetry."""

    __slots__ = ("service", "telemetry", "workloads")

    def __init__(
        self, telemetry: RequestTelemetry, service: ServiceKey, workloads: Workloads
    ) -> None:
        self.telemetry = telemetry
        self.service = service
        self.workloads = workloads

    def source(self, peer: object) -> Workload:
        """The workload of a client connection's peer address (``UNKNOWN`` if not a pod)."""
        address = peer[0] if isinstance(peer, tuple) and peer else None
        return self.workloads.get(address) if isinstance(address, str) else UNKNOWN

    def record(
        self, source: Workload, endpoint: Endpoint | None, code: int, flags: str, started: float
    ) -> None:
        """One answered request; ``started``: ``time.monotonic()`` when its head was read;
        ``endpoint`` None when none was picked."""
        destination = self.workloads.get(endpoint.address) if endpoint is not None else UNKNOWN
        elapsed_ms = (monotonic() - started) * 1000.0
        self.telemetry.record(self.service, source, destination, code, flags, elapsed_ms)
