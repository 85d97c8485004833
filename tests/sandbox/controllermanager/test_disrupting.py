"""PodDisruptionBudgets: the disruption controller's status arithmetic (pure), and the
eviction API honouring it, through the official client against a live API server with
the controller manager running (no kubelet: pods are objects whose Ready condition the
test sets)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from slagate.sandbox.apiserver import ApiServer
from slagate.sandbox.apiserver.deleting import GracefulDeletion
from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager import ControllerManager
from slagate.sandbox.controllermanager.disrupting import budget_status
from slagate.sandbox.metrics import StaticMetrics
from slagate.sandbox.objects.bodies import RawObject
from slagate.sandbox.objects.resources import POD_DISRUPTION_BUDGETS, PODS
from slagate.sandbox.settings import SandboxSettings

NS = "default"
NOW_S = 1_700_000_000.0


def pod(name: str, ready: bool = True, deleting: bool = False, app: str = "web") -> RawObject:
    meta: dict[str, Any] = {"name": name, "labels": {"app": app}}
    if deleting:
        meta["deletionTimestamp"] = "2023-11-14T22:13:20Z"
    status = "True" if ready else "False"
    return {"metadata": meta, "status": {"conditions": [{"type": "Ready", "status": status}]}}


def budget(**spec: Any) -> RawObject:
    return {"metadata": {"name": "web", "generation": 1}, "spec": spec, "status": {}}


@pytest.mark.parametrize(
    ("spec", "pods", "scale", "expected"),
    [
        pytest.param(
            {"minAvailable": 2}, [pod("a"), pod("b"), pod("c")], 3, (1, 3, 2, 3), id="min-int"
        ),
        pytest.param(
            {"minAvailable": "50%"}, [pod("a"), pod("b"), pod("c")], 4, (1, 3, 2, 4), id="min-pct"
        ),
        pytest.param(
            {"maxUnavailable": 1}, [pod("a"), pod("b", ready=False)], 2, (0, 1, 1, 2), id="max-int"
        ),
        pytest.param(
            {"maxUnavailable": "25%"},
            [pod("a"), pod("b"), pod("c")],
            3,
            (1, 3, 2, 3),
            id="max-pct-rounds-up",
        ),
        pytest.param(
            {"minAvailable": 1}, [pod("a", deleting=True), pod("b")], 2, (0, 1, 1, 2), id="deleting"
        ),
        pytest.param({"minAvailable": 0}, [], 0, (0, 0, 0, 0), id="no-pods"),
    ],
)
def test_budget_status(
    spec: dict[str, Any], pods: list[RawObject], scale: int, expected: tuple[int, ...]
) -> None:
    status = budget_status(budget(**spec), pods, scale, NOW_S)
    got = tuple(
        status[k]
        for k in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods")
    )
    assert got == expected
    assert status["observedGeneration"] == 1
    allowed = status["conditions"][0]
    assert (allowed["type"], allowed["status"]) == (
        "DisruptionAllowed",
        "True" if expected[0] else "False",
    )


def test_a_granted_eviction_counts_until_its_pod_terminates_or_two_minutes_pass() -> None:
    recorded = budget(minAvailable=1)
    recorded["status"] = {"disruptedPods": {"a": "2023-11-14T22:13:20Z"}}  # NOW_S
    pods = [pod("a"), pod("b")]
    assert budget_status(recorded, pods, 2, NOW_S + 60)["currentHealthy"] == 1
    assert budget_status(recorded, pods, 2, NOW_S + 121)["currentHealthy"] == 2


# -- the eviction API ----------------------------------------------------------------------


@pytest.fixture
def manager(sandbox_store: ObjectStore) -> Iterator[ControllerManager]:
    with ControllerManager(sandbox_store, SandboxSettings(), StaticMetrics()) as running:
        yield running


def _ready_pods(store: ObjectStore, *names: str, app: str = "web") -> None:
    for name in names:
        store.create(
            PODS, {**pod(name, app=app), "spec": {"containers": [{"name": "c", "image": "i"}]}}, NS
        )

        store.modify(PODS, NS, name, _set_ready, subresource="status")


def _set_ready(current: RawObject) -> RawObject:
    current["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    return current


def _allowed_once_settled(store: ObjectStore, manager: ControllerManager) -> int:
    assert manager.wait_until_idle(timeout_s=5.0)
    return int(store.get(POD_DISRUPTION_BUDGETS, NS, "web")["status"]["disruptionsAllowed"])


def _evict(core: client.CoreV1Api, name: str) -> None:
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=NS))
    core.create_namespaced_pod_eviction(name, NS, body)


def test_eviction_honours_the_budget(
    api_server: ApiServer,
    manager: ControllerManager,
    sandbox_store: ObjectStore,
    core_api: client.CoreV1Api,
) -> None:
    _ready_pods(sandbox_store, "web-a", "web-b", "web-c")
    _ready_pods(sandbox_store, "other", app="other")
    policy = client.PolicyV1Api(core_api.api_client)
    selector = client.V1LabelSelector(match_labels={"app": "web"})
    spec = client.V1PodDisruptionBudgetSpec(min_available=2, selector=selector)
    policy.create_namespaced_pod_disruption_budget(
        NS, client.V1PodDisruptionBudget(metadata=client.V1ObjectMeta(name="web"), spec=spec)
    )
    assert _allowed_once_settled(sandbox_store, manager) == 1

    sandbox_store.set_delete_hook(PODS, GracefulDeletion())  # what the kubelet installs
    _evict(core_api, "web-a")
    with pytest.raises(ApiException) as refused:
        _evict(core_api, "web-b")  # before the controller ran again: the API's own count
    _evict(core_api, "other")  # no budget selects it
    _evict(core_api, "web-a")  # already terminating: no disruption counted again

    pods = {p.metadata.name: p for p in core_api.list_namespaced_pod(NS).items}
    assert sorted(pods) == ["other", "web-a", "web-b", "web-c"]
    terminating = sorted(n for n, p in pods.items() if p.metadata.deletion_timestamp)
    assert terminating == ["other", "web-a"]  # deleted gracefully, the kubelet's turn
    assert refused.value.status == 429
    status = json.loads(refused.value.body)
    assert status["reason"] == "TooManyRequests"
    assert status["message"] == (
        "Cannot evict pod as it would violate the pod's disruption budget."
    )
    cause = status["details"]["causes"][0]
    assert cause["reason"] == "DisruptionBudget"
    # 3 while the API's own decrement is the latest status, 2 once the controller has
    # seen web-a go (the controller may run between the two evictions)
    assert cause["message"] in (
        "The disruption budget web needs 2 healthy pods and has 3 currently",
        "The disruption budget web needs 2 healthy pods and has 2 currently",
    )
    listed = policy.read_namespaced_pod_disruption_budget("web", NS).status
    assert _allowed_once_settled(sandbox_store, manager) == 0
    settled = policy.read_namespaced_pod_disruption_budget("web", NS).status
    assert (settled.current_healthy, settled.desired_healthy, settled.expected_pods) == (2, 2, 3)
    assert listed.disruptions_allowed == 0
