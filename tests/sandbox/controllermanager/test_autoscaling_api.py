"""A multi-metric HPA through the official client: the API server, the controllers and
hand-set pod samples (no kubelet: the test writes each pod's status through
``pods/status``, as a kubelet would). Seconds, no processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager import ControllerManager
from slagate.sandbox.metrics import PodCpu, StaticMetrics
from slagate.sandbox.settings import SandboxSettings
from tests.kube.polling import eventually

NS = "default"
MIB = 1024 * 1024
LONG_AGO = datetime.fromtimestamp(time.time() - 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def metrics(sandbox_store: ObjectStore) -> Iterator[StaticMetrics]:
    samples = StaticMetrics()
    settings = SandboxSettings(hpa_sync_period_s=0.2)
    with ControllerManager(sandbox_store, settings, samples):
        yield samples


def deployment() -> dict[str, Any]:
    requests = {"cpu": "500m", "memory": "256Mi"}
    container = {"name": "app", "image": "python:3.12", "resources": {"requests": requests}}
    return {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }


def hpa() -> dict[str, Any]:
    def resource(name: str, target: dict[str, Any]) -> dict[str, Any]:
        return {"type": "Resource", "resource": {"name": name, "target": target}}

    return {
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                resource("cpu", {"type": "Utilization", "averageUtilization": 50}),
                resource("memory", {"type": "AverageValue", "averageValue": "100Mi"}),
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "requests_per_second"},
                        "target": {"type": "AverageValue", "averageValue": "10"},
                    },
                },
            ],
        },
    }


def running(core: client.CoreV1Api, name: str) -> None:
    """What a kubelet writes for a pod that started an hour ago and is Ready."""
    ready = {"type": "Ready", "status": "True", "lastTransitionTime": LONG_AGO}
    status = {"phase": "Running", "startTime": LONG_AGO, "conditions": [ready]}
    core.patch_namespaced_pod_status(name, NS, {"status": status})


def test_cpu_and_memory_decide_and_a_pods_metric_is_named_not_dropped(
    metrics: StaticMetrics, api_client: client.ApiClient
) -> None:
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    scaling = client.AutoscalingV2Api(api_client)
    apps.create_namespaced_deployment(NS, deployment())
    pods = eventually(lambda: core.list_namespaced_pod(NS).items, lambda p: len(p) == 2)
    for pod in pods:  # CPU at 10% of its request, memory 3x the 100Mi average target
        running(core, pod.metadata.name)
        metrics.set(NS, pod.metadata.name, PodCpu(50, time.time(), 15.0), 300 * MIB)

    scaling.create_namespaced_horizontal_pod_autoscaler(NS, hpa())
    scaled = eventually(
        lambda: apps.read_namespaced_deployment("web", NS).spec.replicas, lambda n: n != 2, 10.0
    )

    status = scaling.read_namespaced_horizontal_pod_autoscaler("web", NS).status
    events = core.list_namespaced_event(NS).items
    assert scaled == 4  # memory proposes ceil(3.0 * 2) = 6; the legacy limit is max(2 * 2, 4)
    assert [(m.type, m.resource.name) for m in status.current_metrics] == [
        ("Resource", "cpu"),
        ("Resource", "memory"),
    ]
    assert status.current_metrics[1].resource.current.average_value == str(300 * MIB)
    active = {c.type: (c.status, c.reason) for c in status.conditions}["ScalingActive"]
    assert active == ("True", "ValidMetricFound")
    assert {e.reason for e in events} >= {"FailedGetPodsMetric", "SuccessfulRescale"}
    [rescale] = [e.message for e in events if e.reason == "SuccessfulRescale"]
    assert rescale == "New size: 4; reason: memory resource above target"
