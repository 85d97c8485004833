"""PromQL presets: the server-side SLIs SRE teams already gate on, named instead of written.

Each preset is a query template with the reduction and comparison that make sense for it,
its unit and the metric that must exist for it to mean anything (checked in preflight).
Templates, presets' and users' own, use ``{name}`` placeholders, a name alone in braces
(a PromQL label matcher always holds an operator, so the two never mix up):

- ``{namespace}``: the target's namespace (``target.kubernetes.namespace``);
- ``{deployment}``: the SLA's ``deployment`` (the workload: pods ``<deployment>-...``);
- ``{service}``: the SLA's ``service`` (Istio's ``destination_service_name``);
- ``{consumer_group}``: the SLA's ``consumer_group`` (Kafka);
- ``{range}``: the range of ``rate()`` windows (``prometheus.range``: a few scrape
  intervals; ``window`` already names the SLA's judged span, so the range has its own name);
- ``{step}``: the range query's resolution (``prometheus.step``).

docs/prometheus.md lists every preset with the query it expands to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Reduce = Literal["max", "min", "avg", "last", "p50", "p90", "p95", "p99"]
Op = Literal["<", "<=", ">", ">=", "=="]

_HTTP = 'namespace="{namespace}",pod=~"{deployment}-.*"'
_ISTIO = (
    'reporter="source",destination_service_name="{service}",'
    'destination_service_namespace="{namespace}"'
)
"""By Service, not workload: a request that found no ready endpoint has no destination
workload (``unknown``), and those are the failures a client-side proxy alone sees."""
_DEPLOYMENT = 'namespace="{namespace}",deployment="{deployment}"'
_HPA = 'namespace="{namespace}",horizontalpodautoscaler="{deployment}"'


@dataclass(frozen=True)
class Preset:
    """A named PromQL SLI. ``metric`` must exist in Prometheus for the preset to apply."""

    query: str
    reduce: Reduce
    op: Op
    unit: str
    metric: str
    description: str
    counts: tuple[str, str] | None = None
    """For an error ratio: the raw request counters of errors and of all requests (every
    series, no aggregation), fetched beside it so that the ratio over any window can be
    computed exactly from their increases and set beside the client side's (Locust's)."""


def _counts(metric: str, selector: str, errors: str) -> tuple[str, str]:
    """The counters of errors and of all requests, series by series."""
    return f"{metric}{{{selector},{errors}}}", f"{metric}{{{selector}}}"


def _ratio(counts: tuple[str, str]) -> str:
    """Errors per request over the last ``{range}``. No error series at all (a service that
    never failed) is zero errors, not an empty result: ``or vector(0)``."""
    errors, requests = (f"sum(rate({c}[{{range}}]))" for c in counts)
    return f"({errors} or vector(0)) / {requests}"


_HTTP_COUNTS = _counts("http_request_duration_seconds_count", _HTTP, 'status=~"5.."')
_ISTIO_COUNTS = _counts("istio_requests_total", _ISTIO, 'response_code=~"5.."')


def _quantile(q: str, bucket: str, selector: str, scale: str = "") -> str:
    return f"{scale}histogram_quantile({q}, sum by (le) (rate({bucket}{{{selector}}}[{{range}}])))"


_HTTP_BUCKET = "http_request_duration_seconds_bucket"
_ISTIO_BUCKET = "istio_request_duration_milliseconds_bucket"

PRESETS: Mapping[str, Preset] = {
    "http_error_ratio": Preset(
        _ratio(_HTTP_COUNTS), "max", "<=", "ratio", "http_request_duration_seconds_count",
        "share of 5xx answers the deployment's pods served (their own view)",
        _HTTP_COUNTS,
    ),
    "http_latency_p95": Preset(
        _quantile("0.95", _HTTP_BUCKET, _HTTP, "1000 * "), "max", "<=", "ms", _HTTP_BUCKET,
        "95th percentile of the pods' own request durations",
    ),
    "http_latency_p99": Preset(
        _quantile("0.99", _HTTP_BUCKET, _HTTP, "1000 * "), "max", "<=", "ms", _HTTP_BUCKET,
        "99th percentile of the pods' own request durations",
    ),
    "istio_error_ratio": Preset(
        _ratio(_ISTIO_COUNTS), "max", "<=", "ratio", "istio_requests_total",
        "share of 5xx the data plane saw on the client side (reporter=source), requests "
        "that never reached a pod included",
        _ISTIO_COUNTS,
    ),
    "istio_latency_p95": Preset(
        _quantile("0.95", _ISTIO_BUCKET, _ISTIO), "max", "<=", "ms", _ISTIO_BUCKET,
        "95th percentile of request durations as the data plane saw them",
    ),
    "istio_latency_p99": Preset(
        _quantile("0.99", _ISTIO_BUCKET, _ISTIO), "max", "<=", "ms", _ISTIO_BUCKET,
        "99th percentile of request durations as the data plane saw them",
    ),
    "ready_replicas": Preset(
        f"sum(kube_deployment_status_replicas_ready{{{_DEPLOYMENT}}})",
        "min", ">=", "replicas", "kube_deployment_status_replicas_ready",
        "ready replicas of the deployment (kube-state-metrics)",
    ),
    "available_replicas": Preset(
        f"sum(kube_deployment_status_replicas_available{{{_DEPLOYMENT}}})",
        "min", ">=", "replicas", "kube_deployment_status_replicas_available",
        "available replicas of the deployment (kube-state-metrics)",
    ),
    "hpa_desired_minus_current": Preset(
        f"sum(kube_horizontalpodautoscaler_status_desired_replicas{{{_HPA}}})"
        f" - sum(kube_horizontalpodautoscaler_status_current_replicas{{{_HPA}}})",
        "max", "<=", "replicas", "kube_horizontalpodautoscaler_status_desired_replicas",
        "how far the HPA's current replicas lag what it decided (scale-out lag)",
    ),
    "kafka_consumer_lag": Preset(
        'sum(kafka_consumergroup_lag{consumergroup="{consumer_group}"})',
        "max", "<=", "messages", "kafka_consumergroup_lag",
        "messages the consumer group is behind (the common Kafka exporter's name)",
    ),
}  # fmt: skip

PresetName = Literal[
    "http_error_ratio",
    "http_latency_p95",
    "http_latency_p99",
    "istio_error_ratio",
    "istio_latency_p95",
    "istio_latency_p99",
    "ready_replicas",
    "available_replicas",
    "hpa_desired_minus_current",
    "kafka_consumer_lag",
]

ERRORS_SUFFIX, REQUESTS_SUFFIX = ":errors", ":requests"
"""An error-ratio SLA's counts are filed under ``<sla id>:errors`` and ``<sla id>:requests``."""

TEMPLATE_VARIABLES = ("namespace", "deployment", "service", "consumer_group", "range", "step")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
"""``{name}`` alone: a PromQL label matcher always holds an operator, so never matches."""


def variables_of(template: str) -> set[str]:
    """The ``{name}`` placeholders a template uses."""
    return set(_PLACEHOLDER.findall(template))


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with its placeholders filled; every one must have a value."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
