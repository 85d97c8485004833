"""The monitoring endpoints over HTTP: http_sd, kube-state-metrics and cAdvisor, from a store."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.metrics import ContainerCpuTime
from slagate.sandbox.monitoring import MonitoringServer
from slagate.sandbox.monitoring.cadvisor import cpu_families
from slagate.sandbox.objects.resources import DEPLOYMENTS, PODS
from tests.sandbox.manifests import deployment, pod


class FixedContainers:
    """A ``ContainerCpuSource`` with CPU times set by hand."""

    def __init__(self, *times: ContainerCpuTime) -> None:
        self.times = list(times)

    def container_cpu(self) -> list[ContainerCpuTime]:
        return self.times


ORDER_CPU = ContainerCpuTime("default", "order-5f6-a", "order", 1.25)


@pytest.fixture
def store() -> ObjectStore:
    store = ObjectStore()
    store.create(DEPLOYMENTS, deployment("order", replicas=2), "default")
    store.create(PODS, pod("order-a", {"app": "order"}), "default")
    store.modify(PODS, "default", "order-a", with_ip, subresource="status")
    store.create(PODS, pod("order-b", {"app": "order"}), "default")  # no IP yet: no target
    return store


def with_ip(obj: dict[str, object]) -> dict[str, object]:
    obj["status"] = {"phase": "Running", "podIP": "127.180.7.3"}
    return obj


@pytest.fixture
def http(store: ObjectStore) -> Iterator[httpx.Client]:
    server = MonitoringServer(store, FixedContainers(ORDER_CPU)).start()
    try:
        with httpx.Client(base_url=f"http://{server.address}", trust_env=False) as client:
            yield client
    finally:
        server.stop()


def families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    return {
        f.name: [(s.name, s.labels, s.value) for s in f.samples]
        for f in text_string_to_metric_families(text)
    }


def test_pods_are_served_as_http_sd_targets(http: httpx.Client) -> None:
    answer = http.get("/sd/pods")

    assert answer.headers["content-type"] == "application/json"
    (group,) = answer.json()
    assert group["targets"] == ["127.180.7.3"]  # the test pod declares no port
    assert group["labels"]["__meta_kubernetes_pod_name"] == "order-a"


def test_kube_state_metrics_are_served_from_the_store(http: httpx.Client) -> None:
    found = families(http.get("/metrics").text)

    ((name, labels, value),) = found["kube_deployment_spec_replicas"]
    assert (name, labels, value) == (
        "kube_deployment_spec_replicas",
        {"namespace": "default", "deployment": "order"},
        2.0,
    )
    assert {labels["pod"] for _, labels, _ in found["kube_pod_owner"]} == {"order-a", "order-b"}


def test_cadvisor_cpu_is_served_on_its_own_path(http: httpx.Client) -> None:
    found = families(http.get("/metrics/cadvisor").text)
    other = http.get("/stats")

    assert found["container_cpu_usage_seconds"] == [
        (
            "container_cpu_usage_seconds_total",
            {"namespace": "default", "pod": "order-5f6-a", "container": "order"},
            1.25,
        )
    ]
    assert other.status_code == 404
    assert "/metrics/cadvisor" in other.text


def test_cpu_families_are_counters() -> None:
    (family,) = cpu_families([ORDER_CPU])

    assert family.type == "counter"
    assert [s.name for s in family.samples] == ["container_cpu_usage_seconds_total"]
