"""The ``istio`` data plane against real HTTP servers on loopback (no cluster).

Its default retries (a refused connection and an upstream's 503 go to the other pod; a
500 is relayed), a DestinationRule's outlier detection (a pod answering 500 gets no
requests once ejected) and a VirtualService's fault, timeout and retries, fed to the
proxy as its informers would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from slagate.sandbox.proxy import ServiceProxy
from slagate.sandbox.settings import DataPlane
from tests.sandbox.proxy.harness import DELAY_S, SERVICE, Harness, LoopThread, Upstream, get


@pytest.fixture
def istio() -> Iterator[Harness]:
    loop = LoopThread()
    proxy = ServiceProxy(DELAY_S, data_plane=DataPlane.ISTIO)
    try:
        yield Harness(loop, proxy)
    finally:
        loop.run(proxy.close)
        loop.close()


def test_a_503_is_retried_on_the_other_pod_and_a_500_is_relayed(
    istio: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    bad, good = upstreams
    istio.route(bad, good)
    istio.wait_routed(bad, good)
    client = istio.client()

    bad.status = 503
    unavailable = {get(client) for _ in range(10)}
    bad.status = 500
    failed = {get(client) for _ in range(10)}
    client.close()

    assert unavailable == {(200, b"b")}  # each 503 retried on the other pod
    assert (500, b"a") in failed  # a 500 is not in Istio's default retryOn
    assert istio.proxy.stats.retries >= 5  # least-request sends about half to the bad pod


def test_a_refused_connection_is_retried_on_another_endpoint(
    istio: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    good = upstreams[0]
    closed_port = istio.route_to_a_closed_port()
    istio.route(good, closed_port)
    while istio.routed() != {good.port, closed_port}:
        pass
    client = istio.client()

    answers = {get(client) for _ in range(10)}
    client.close()

    assert answers == {(200, b"a")}


def destination_rule(detection: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": SERVICE.namespace, "creationTimestamp": "x"},
        "spec": {"host": SERVICE.name, "trafficPolicy": {"outlierDetection": detection}},
    }


def test_outlier_detection_ejects_the_failing_pod_until_the_rule_goes(
    istio: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    bad, good = upstreams
    bad.status = 500
    rule = destination_rule(
        {"consecutive5xxErrors": 2, "interval": "1s", "baseEjectionTime": "1h",
         "maxEjectionPercent": 100}
    )  # fmt: skip
    istio.loop.call(lambda: istio.proxy.rules_listed([rule]))
    istio.route(bad, good)
    istio.wait_routed(bad, good)
    client = istio.client()

    answers = [get(client)[0] for _ in range(20)]
    families = istio.loop.call(istio.proxy.telemetry.families)
    istio.loop.call(lambda: istio.proxy.rule_changed("DELETED", rule))
    after = {get(client)[0] for _ in range(10)}
    client.close()

    assert answers.count(500) == 2  # two in a row, then never again
    assert answers[-10:] == [200] * 10
    ejections = {f.name: f.samples[0].value for f in families if f.name.startswith("envoy")}
    assert ejections == {
        "envoy_cluster_outlier_detection_ejections_enforced": 1.0,
        "envoy_cluster_outlier_detection_ejections_active": 1.0,
    }
    assert 500 in after  # without the rule the pod gets requests again


def virtual_service(route: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": SERVICE.namespace, "creationTimestamp": "x"},
        "spec": {
            "hosts": [SERVICE.name],
            "http": [{"route": [{"destination": {"host": SERVICE.name}}], **route}],
        },
    }


def test_a_fault_abort_answers_without_reaching_a_pod(
    istio: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    fault = {"fault": {"abort": {"httpStatus": 503, "percentage": {"value": 100}}}}
    istio.loop.call(lambda: istio.proxy.routes_listed([virtual_service(fault)]))
    istio.route(*upstreams)
    istio.wait_routed(*upstreams)
    client = istio.client()

    answers = {get(client) for _ in range(5)}
    client.close()

    assert answers == {(503, b"fault filter abort")}
    assert upstreams[0].paths == upstreams[1].paths == []


def test_a_route_timeout_answers_504_and_is_not_retried(
    istio: Harness, upstreams: tuple[Upstream, Upstream]
) -> None:
    istio.loop.call(lambda: istio.proxy.routes_listed([virtual_service({"timeout": "0.2s"})]))
    istio.route(*upstreams)
    istio.wait_routed(*upstreams)
    client = istio.client()

    started = time.monotonic()
    status, body = get(client, "/slow")
    elapsed_s = time.monotonic() - started
    client.close()

    assert (status, body) == (504, b"upstream request timeout")
    assert elapsed_s < 0.9  # the pod answers after 1 s; the route gave up at 0.2 s
    assert len(upstreams[0].paths + upstreams[1].paths) == 1


@pytest.mark.parametrize(
    ("retries", "status", "expected"),
    [
        pytest.param({"attempts": 0}, 503, (503, b"a"), id="attempts-0-relays-the-503"),
        pytest.param({"attempts": 1, "retryOn": "5xx"}, 500, (200, b"b"), id="5xx-retries-500"),
    ],
)
def test_virtual_service_retries_replace_the_default(
    istio: Harness,
    upstreams: tuple[Upstream, Upstream],
    retries: dict[str, Any],
    status: int,
    expected: tuple[int, bytes],
) -> None:
    bad, good = upstreams
    bad.status = status
    service = virtual_service({"retries": retries})
    istio.loop.call(lambda: istio.proxy.routes_listed([service]))
    istio.route(bad, good)
    istio.wait_routed(bad, good)
    client = istio.client()

    answers = {get(client) for _ in range(6)}
    client.close()

    assert expected in answers
    assert answers <= {expected, (200, b"b")}
