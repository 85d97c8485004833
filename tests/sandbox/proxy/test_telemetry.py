"""The proxy's Istio metrics: workload names, the counts, and requests through a real proxy.

Pods are HTTP servers on their own loopback addresses (127.0.0.2, ...), as sandbox pods
are; the client connects from 127.0.0.1, which no pod holds, so its workload is unknown.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from slagate.sandbox.proxy import ServiceKey
from slagate.sandbox.proxy.exporting import serve_metrics
from slagate.sandbox.proxy.telemetry import (
    LABELS,
    IstioCollector,
    RequestTelemetry,
    SeriesKey,
)
from slagate.sandbox.proxy.workloads import UNKNOWN, Workload, Workloads, workload_of
from tests.sandbox.proxy.harness import SERVICE, Harness, LoopThread, Upstream, get

WEB = Workload("web", "default")


def pod(
    name: str, ip: str | None = "127.0.0.2", owner: dict[str, Any] | None = None, **labels: str
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    meta["labels"] = labels
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {"metadata": meta, "status": {"podIP": ip} if ip else {}}


def rs_owner(name: str, controller: bool = True) -> dict[str, Any]:
    return {"kind": "ReplicaSet", "name": name, "controller": controller}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            pod("web-7d4b9-x2x", owner=rs_owner("web-7d4b9"), **{"pod-template-hash": "7d4b9"}),
            WEB,
            id="deployment-pod-named-after-its-deployment",
        ),
        pytest.param(
            pod("web-x2x", owner=rs_owner("web")), WEB, id="bare-replicaset-named-after-itself"
        ),
        pytest.param(
            pod("db-0", owner={"kind": "StatefulSet", "name": "db", "controller": True}),
            Workload("db", "default"),
            id="other-controller",
        ),
        pytest.param(
            pod("web-1", owner=rs_owner("web-7d4b9", controller=False)),
            Workload("web-1", "default"),
            id="owner-that-is-no-controller",
        ),
        pytest.param(pod("debug"), Workload("debug", "default"), id="no-owner"),
    ],
)
def test_a_pod_is_named_by_its_workload_as_istio_does(
    obj: dict[str, Any], expected: Workload
) -> None:
    assert workload_of(obj) == expected


def test_workloads_name_addresses_until_another_pod_takes_them() -> None:
    workloads = Workloads()
    web = pod("web-a", "127.0.0.2", rs_owner("web-h"), **{"pod-template-hash": "h"})
    api = pod("api-a", "127.0.0.2", rs_owner("api-h"), **{"pod-template-hash": "h"})

    workloads.replace([web, pod("pending", ip=None)])
    listed = (workloads.get("127.0.0.2"), workloads.get("127.0.0.3"))
    workloads.apply("DELETED", web)
    deleted = workloads.get("127.0.0.2")  # still routed to for the propagation delay
    workloads.apply("ADDED", api)

    assert listed == (WEB, UNKNOWN)
    assert deleted == WEB
    assert workloads.get("127.0.0.2") == Workload("api", "default")


def test_counts_become_istio_families_with_cumulative_buckets() -> None:
    telemetry = RequestTelemetry()
    for duration_ms in (0.2, 3.0, 3.0, 70_000.0):
        telemetry.record(SERVICE, UNKNOWN, WEB, 200, "-", duration_ms)
    telemetry.record(SERVICE, UNKNOWN, UNKNOWN, 503, "UH", 0.1)

    telemetry.families()  # the first scrape shows new series at 0 (tested below)
    samples = {
        (s.name, s.labels.get("response_code"), s.labels.get("le")): s.value
        for family in telemetry.families()
        for s in family.samples
    }

    assert samples[("istio_requests_total", "200", None)] == 4
    assert samples[("istio_requests_total", "503", None)] == 1
    buckets = {le: samples[("istio_request_duration_milliseconds_bucket", "200", le)]
               for le in ("0.5", "1.0", "5.0", "60000.0", "300000.0", "+Inf")}  # fmt: skip
    assert buckets == {
        "0.5": 1, "1.0": 1, "5.0": 3, "60000.0": 3, "300000.0": 4, "+Inf": 4,
    }  # fmt: skip
    assert samples[("istio_request_duration_milliseconds_sum", "200", None)] == 70_006.2
    assert samples[("istio_request_duration_milliseconds_count", "503", None)] == 1


def test_a_new_series_is_shown_at_zero_once_so_rate_counts_its_first_requests() -> None:
    telemetry = RequestTelemetry()
    telemetry.record(SERVICE, UNKNOWN, WEB, 200, "-", 1.0)

    def scrape() -> dict[str, float]:
        return {
            s.labels["response_code"]: s.value
            for family in telemetry.families()
            for s in family.samples
            if s.name == "istio_requests_total"
        }

    first = scrape()
    telemetry.record(SERVICE, UNKNOWN, WEB, 500, "-", 1.0)
    second = scrape()
    third = scrape()

    assert first == {"200": 0}
    assert second == {"200": 1, "500": 0}
    assert third == {"200": 1, "500": 1}


def test_series_labels_are_istios() -> None:
    key = SeriesKey(ServiceKey("shop", "order"), UNKNOWN, Workload("order", "shop"), 503, "UF")

    assert dict(zip(LABELS, key.label_values(), strict=True)) == {
        "reporter": "source",
        "source_workload": "unknown",
        "source_workload_namespace": "unknown",
        "destination_workload": "order",
        "destination_workload_namespace": "shop",
        "destination_service": "order.shop.svc.cluster.local",
        "destination_service_name": "order",
        "destination_service_namespace": "shop",
        "request_protocol": "http",
        "response_code": "503",
        "response_flags": "UF",
    }


def counts(harness: Harness) -> dict[tuple[str, int, str], int]:
    """Requests by (destination workload, response code, response flags)."""
    by_outcome = harness.loop.call(harness.proxy.telemetry.counts)
    return {(k.destination.name, k.code, k.flags): n for k, n in by_outcome.items()}


def test_every_answer_is_counted_with_code_and_flags_including_the_proxys_own(
    harness: Harness,
) -> None:
    pod_a = Upstream("a", host="127.0.0.2")
    owner = rs_owner("web-h")
    web_pod = pod("web-h-a", "127.0.0.2", owner, **{"pod-template-hash": "h"})
    harness.loop.call(lambda: harness.proxy.pods_listed([web_pod]))
    client = harness.client()
    try:
        before_routing = get(client)  # no endpoint yet
        harness.route(pod_a)
        harness.wait_routed(pod_a)
        answers = [get(client), get(client), get(client, "/fail")]
        client.request("POST", "/drop", body=b"once")  # the pod closes without answering
        response = client.getresponse()
        dropped = (response.status, response.read())
    finally:
        client.close()
        pod_a.stop()

    assert before_routing == (503, b"no healthy upstream")
    assert [status for status, _ in answers] == [200, 200, 500]
    assert dropped[0] == 503
    assert counts(harness) == {
        ("unknown", 503, "UH"): 1,
        ("web", 200, "-"): 2,
        ("web", 500, "-"): 1,
        ("web", 503, "UC"): 1,
    }


def test_a_refused_connection_is_counted_as_uf(harness: Harness) -> None:
    harness.route_to_a_closed_port()
    client = harness.client()

    status, _ = get(client)
    client.close()

    assert status == 503
    assert counts(harness) == {("unknown", 503, "UF"): 1}


def test_metrics_are_served_on_their_own_port_in_the_text_format() -> None:
    telemetry = RequestTelemetry()
    telemetry.record(SERVICE, UNKNOWN, WEB, 200, "-", 2.0)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IstioCollector(telemetry))
    loop = LoopThread()
    try:
        server = loop.run(lambda: serve_metrics(registry, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            http.get("/metrics")  # new series show 0 on their first scrape
            scraped = http.get("/metrics")
            other = http.get("/")
        loop.call(server.close)
    finally:
        loop.close()

    families = {f.name: f for f in text_string_to_metric_families(scraped.text)}
    (requests,) = families["istio_requests"].samples
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    assert (requests.name, requests.value) == ("istio_requests_total", 1.0)
    assert requests.labels["destination_service"] == "web.default.svc.cluster.local"
    assert families["istio_request_duration_milliseconds"].type == "histogram"
    assert other.status_code == 404
