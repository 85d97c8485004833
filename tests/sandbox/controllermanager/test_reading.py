"""Reading stored objects (quantities, times, HPA targets) and the informer's re-list."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.apiserver.watching import EventType
from slagate.sandbox.controllermanager import ControllerManager
from slagate.sandbox.controllermanager.informing import Informer
from slagate.sandbox.controllermanager.reading import (
    cpu_request_m,
    hpa_metrics,
    milli_value,
    parse_time,
    request_m,
)
from slagate.sandbox.decisions.hpa import MetricTarget, UnservedMetric
from slagate.sandbox.decisions.hpa_replicas import Resource, ResourceTarget
from slagate.sandbox.metrics import StaticMetrics
from slagate.sandbox.objects.bodies import RawObject, name_of
from slagate.sandbox.objects.resources import PODS
from slagate.sandbox.settings import SandboxSettings
from tests.sandbox.controllermanager.fakes import NS


@pytest.mark.parametrize(
    ("raw", "millis"),
    [
        pytest.param("250m", 250, id="milli"),
        pytest.param("0.5", 500, id="fraction"),
        pytest.param("2", 2000, id="cores"),
        pytest.param(1.5, 1500, id="json-number"),
        pytest.param(0.1, 100, id="json-number-not-binary"),
        pytest.param("NaN", None, id="not-a-number"),
        pytest.param("100u", 1, id="rounds-up"),
        pytest.param("1k", 1_000_000, id="kilo"),
        pytest.param("1Ki", 1_024_000, id="binary"),
        pytest.param("1e3", 1_000_000, id="exponent"),
        pytest.param("lots", None, id="not-a-quantity"),
        pytest.param("5x", None, id="unknown-suffix"),
        pytest.param(True, None, id="bool"),
    ],
)
def test_milli_value(raw: Any, millis: int | None) -> None:
    assert milli_value(raw) == millis


def test_parse_time() -> None:
    assert parse_time("2024-05-01T12:00:00Z") == 1_714_564_800.0
    assert parse_time("2024-05-01T12:00:00.250000Z") == 1_714_564_800.25
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


def cpu(request: str | None) -> dict[str, Any]:
    requests = {"cpu": request} if request is not None else {"memory": "64Mi"}
    return {"name": "c", "image": "x", "resources": {"requests": requests}}


def test_cpu_requests_add_up_and_one_missing_request_means_none() -> None:
    assert cpu_request_m({"spec": {"containers": [cpu("250m"), cpu("0.5")]}}) == 750
    assert cpu_request_m({"spec": {"containers": [cpu("250m"), cpu(None)]}}) is None


def test_native_sidecars_requests_count_and_plain_init_containers_do_not() -> None:
    """Upstream's ``calculateRequests`` (replica_calculator.go) sums the app containers
    and the init containers with ``restartPolicy: Always``: a sidecar's usage is in the
    pod's metrics, so its request must be in the denominator."""
    sidecar = {**cpu("100m"), "name": "proxy", "restartPolicy": "Always"}
    setup = {**cpu("900m"), "name": "migrate"}
    pod = {"spec": {"containers": [cpu("250m")], "initContainers": [setup, sidecar]}}
    assert cpu_request_m(pod) == 350
    without_request = {**cpu(None), "name": "proxy", "restartPolicy": "Always"}
    assert (
        cpu_request_m({"spec": {"containers": [cpu("250m")], "initContainers": [without_request]}})
        is None
    )


def resource_metric(name: str, target: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


MEMORY = Resource.MEMORY
NO_API = "(modelled: Resource metrics on cpu and memory)"


@pytest.mark.parametrize(
    ("metrics", "targets"),
    [
        pytest.param(
            [resource_metric("cpu", {"type": "Utilization", "averageUtilization": 60})],
            (ResourceTarget(60, None),),
            id="utilization",
        ),
        pytest.param(
            [resource_metric("cpu", {"type": "AverageValue", "averageValue": "1500m"})],
            (ResourceTarget(None, 1500),),
            id="average-value",
        ),
        pytest.param(
            [
                resource_metric("cpu", {"type": "Utilization", "averageUtilization": 50}),
                resource_metric("memory", {"type": "AverageValue", "averageValue": "1Mi"}),
            ],
            (ResourceTarget(50, None), ResourceTarget(None, 1048576000, MEMORY)),
            id="cpu-and-memory-in-order",
        ),
        pytest.param([], (ResourceTarget(80, None),), id="none-is-the-api-default"),
        pytest.param(
            [resource_metric("memory", {"type": "Value", "value": "1Mi"})],
            (ResourceTarget(None, None, MEMORY),),
            id="no-target-value-is-invalid-later",
        ),
        pytest.param(
            [{"type": "Pods", "pods": {"metric": {"name": "rps"}}}],
            (
                UnservedMetric(
                    "FailedGetPodsMetric",
                    "failed to get pods metric value: the sandbox serves no "
                    f"custom.metrics.k8s.io API {NO_API}",
                ),
            ),
            id="pods",
        ),
        pytest.param(
            [{"type": "External", "external": {"metric": {"name": "queue"}}}],
            (
                UnservedMetric(
                    "FailedGetExternalMetric",
                    "failed to get external metric value: the sandbox serves no "
                    f"external.metrics.k8s.io API {NO_API}",
                ),
            ),
            id="external",
        ),
        pytest.param(
            [{"type": "ContainerResource", "containerResource": {"name": "cpu"}}],
            (
                UnservedMetric(
                    "FailedGetContainerResourceMetric",
                    "failed to get cpu container metric: the sandbox measures whole pods, "
                    f"not containers {NO_API}",
                ),
            ),
            id="container-resource",
        ),
        pytest.param(
            [resource_metric("ephemeral-storage", {"type": "Utilization"})],
            (
                UnservedMetric(
                    "FailedGetResourceMetric",
                    "failed to get ephemeral-storage utilization: unable to get metrics for "
                    "resource ephemeral-storage: the sandbox measures cpu and memory only",
                ),
            ),
            id="other-resource",
        ),
    ],
)
def test_hpa_metrics(metrics: list[dict[str, Any]], targets: tuple[MetricTarget, ...]) -> None:
    assert hpa_metrics(metrics) == targets


def test_memory_requests_are_milli_bytes() -> None:
    def memory(request: str) -> dict[str, Any]:
        return {"resources": {"requests": {"memory": request}}}

    pod = {"spec": {"containers": [memory("64Mi"), memory("1M")]}}

    assert request_m(pod, MEMORY.value) == (64 * 1024 * 1024 + 1_000_000) * 1000
    assert request_m({"spec": {"containers": [memory("1Mi"), {}]}}, MEMORY.value) is None


def bare_pod(name: str) -> RawObject:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}]}}


def test_an_informer_that_fell_out_of_the_window_lists_again_and_reports_the_gap() -> None:
    store = ObjectStore(event_window=2)
    store.create(PODS, bare_pod("a"), NS)
    store.create(PODS, bare_pod("b"), NS)
    seen: list[tuple[EventType, str]] = []
    changed = threading.Condition()
    holding, release = threading.Event(), threading.Event()

    def handler(kind: EventType, obj: RawObject, old: RawObject | None) -> None:
        with changed:
            seen.append((kind, name_of(obj)))
            changed.notify_all()
        if kind is EventType.MODIFIED and name_of(obj) == "a":
            holding.set()
            release.wait(5.0)  # the informer falls behind while a handler is slow

    informer = Informer(store, PODS)
    informer.add_handler(handler)
    thread = threading.Thread(target=informer.run)
    thread.start()
    try:
        with changed:
            assert changed.wait_for(lambda: len(seen) == 2, timeout=5.0)
        store.modify(
            PODS, NS, "a", lambda p: {**p, "metadata": {**p["metadata"], "labels": {"x": "1"}}}
        )
        assert holding.wait(5.0)
        store.delete(PODS, NS, "b")
        store.create(PODS, bare_pod("c"), NS)
        store.modify(
            PODS, NS, "c", lambda p: {**p, "metadata": {**p["metadata"], "labels": {"x": "2"}}}
        )
        release.set()
        with changed:
            assert changed.wait_for(lambda: len(seen) == 5, timeout=5.0)
    finally:
        informer.stop()
        thread.join(5.0)

    assert seen == [
        (EventType.ADDED, "a"),
        (EventType.ADDED, "b"),
        (EventType.MODIFIED, "a"),
        (EventType.ADDED, "c"),  # from the new list: its first version was never seen
        (EventType.DELETED, "b"),  # gone from the new list
    ]
    assert [name_of(o) for o in informer.objects()] == ["a", "c"]
    assert not thread.is_alive()


def test_stop_joins_every_thread() -> None:
    before = set(threading.enumerate())
    manager = ControllerManager(ObjectStore(), SandboxSettings(), StaticMetrics())
    manager.start()
    assert manager.wait_until_idle(timeout_s=5.0)
    ours = set(threading.enumerate()) - before
    assert sorted(t.name for t in ours) == [
        "deployment-controller",
        "disruption-controller",
        "endpointslice-controller",
        "horizontal-pod-autoscaler",
        "informer-deployments",
        "informer-endpointslices",
        "informer-horizontalpodautoscalers",
        "informer-poddisruptionbudgets",
        "informer-pods",
        "informer-replicasets",
        "informer-services",
        "replicaset-controller",
    ]

    manager.stop(timeout_s=5.0)

    assert not any(t.is_alive() for t in ours)
