"""Readiness gates: a real kubelet, a real process, the EndpointSlice controller, and the
official client patching ``pods/status`` as a load balancer controller would.

One pod, about two seconds: Ready waits for the gate's condition, the endpoint stays not
ready meanwhile, and the patch makes both flip; the kubelet keeps the patched condition.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.controllermanager import ControllerManager
from slagate.sandbox.kubelet import Kubelet, PodNetwork
from slagate.sandbox.objects.bodies import RawObject, pod_condition
from slagate.sandbox.objects.resources import ENDPOINT_SLICES, PODS, SERVICES
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings
from tests.kube.polling import eventually
from tests.sandbox.kubelet.test_processes import NS, make_pod, sleeper, wait_for

pytestmark = pytest.mark.e2e
GATE = "target-health.elbv2.k8s.aws/web"


@pytest.fixture
def node(sandbox_store: ObjectStore, tmp_path: Path) -> Iterator[ObjectStore]:
    """A kubelet and the controllers over the store the API server serves."""
    settings = SandboxSettings()
    kubelet = Kubelet(sandbox_store, settings, tmp_path / "state", PodNetwork.random())
    with kubelet, ControllerManager(sandbox_store, settings, kubelet):
        yield sandbox_store


def ready(pod: RawObject | None) -> tuple[str, str] | None:
    condition = pod_condition(pod, "Ready") if pod is not None else None
    if condition is None:
        return None
    return str(condition.get("status")), str(condition.get("reason", ""))


def endpoint_ready(store: ObjectStore) -> bool | None:
    for slice_ in store.list(Selection(ENDPOINT_SLICES, NS)).items:
        for endpoint in slice_.get("endpoints") or []:
            return bool((endpoint.get("conditions") or {}).get("ready"))
    return None


def test_a_pod_is_ready_once_its_gate_condition_is_patched_true(
    node: ObjectStore, api_client: client.ApiClient
) -> None:
    service = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [
        {"port": 80, "targetPort": 8000}]}}  # fmt: skip
    node.create(SERVICES, service, NS)
    pod = make_pod("web-0", sleeper(), readinessGates=[{"conditionType": GATE}])
    pod["metadata"]["labels"] = {"app": "web"}
    node.create(PODS, pod, NS)

    gated = wait_for(node, "web-0", lambda p: ready(p) == ("False", "ReadinessGatesNotReady"))
    assert eventually(lambda: endpoint_ready(node), lambda r: r is not None, 10.0) is False
    assert gated is not None
    assert (pod_condition(gated, "ContainersReady") or {}).get("status") == "True"

    patch = {"status": {"conditions": [{"type": GATE, "status": "True"}]}}
    client.CoreV1Api(api_client).patch_namespaced_pod_status("web-0", NS, patch)

    joined = wait_for(node, "web-0", lambda p: ready(p) == ("True", ""))
    assert eventually(lambda: endpoint_ready(node), lambda r: r is True, 10.0) is True
    assert joined is not None
    assert (pod_condition(joined, GATE) or {}).get("status") == "True"
