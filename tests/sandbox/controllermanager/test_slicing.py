"""The EndpointSlice loop: endpoints follow pod IPs, readiness and termination.

Bare pods (no ReplicaSet) keep each case to the pods it names; the test plays the kubelet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from slagate.sandbox.objects.bodies import RawObject, labels_of, metadata, name_of
from slagate.sandbox.objects.resources import ENDPOINT_SLICES, PODS, SERVICES
from slagate.sandbox.objects.selection import Selection
from tests.sandbox.controllermanager.fakes import NS, Sandbox, container, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as running:
        yield running


def service(target_port: Any = "http", **spec: Any) -> RawObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "labels": {"tier": "front"}},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": target_port}],
            **spec,
        },
    }


def pod(name: str, port: int = 8080, app: str = "web") -> RawObject:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [container(port=port)]},
    }


def slices(sandbox: Sandbox) -> list[RawObject]:
    return sandbox.store.list(Selection(ENDPOINT_SLICES, NS)).items


def only_slice(sandbox: Sandbox) -> RawObject:
    [endpoint_slice] = slices(sandbox)
    return endpoint_slice


def conditions_by_pod(sandbox: Sandbox) -> dict[str, dict[str, bool]]:
    return {e["targetRef"]["name"]: e["conditions"] for e in only_slice(sandbox)["endpoints"]}


READY = {"ready": True, "serving": True, "terminating": False}
STARTING = {"ready": False, "serving": False, "terminating": False}
DRAINING = {"ready": False, "serving": True, "terminating": True}
LEAVING = {"ready": False, "serving": False, "terminating": True}


def test_a_service_without_endpoints_keeps_one_labelled_empty_slice(sandbox: Sandbox) -> None:
    svc = sandbox.create(SERVICES, service())
    sandbox.create(PODS, pod("a"))  # no IP yet: not an endpoint

    endpoint_slice = only_slice(sandbox)

    assert name_of(endpoint_slice).startswith("web-")
    assert labels_of(endpoint_slice) == {
        "tier": "front",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    assert metadata(endpoint_slice)["ownerReferences"][0]["uid"] == metadata(svc)["uid"]
    assert (endpoint_slice["addressType"], endpoint_slice["endpoints"]) == ("IPv4", [])


def test_endpoints_follow_readiness_and_termination(sandbox: Sandbox) -> None:
    sandbox.create(SERVICES, service())
    created = sandbox.create(PODS, pod("a"))
    sandbox.kubelet.start("a")
    sandbox.settle()

    endpoint_slice = only_slice(sandbox)
    ip = sandbox.get(PODS, "a")["status"]["podIP"]
    assert endpoint_slice["endpoints"] == [
        {
            "addresses": [ip],
            "conditions": STARTING,
            "targetRef": {
                "kind": "Pod",
                "namespace": NS,
                "name": "a",
                "uid": metadata(created)["uid"],
            },
            "nodeName": "sandbox",
        }
    ]
    # targetPort "http" resolved through the container port of that name
    assert endpoint_slice["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]

    transitions = []
    for act in (
        lambda: sandbox.kubelet.set_ready("a"),
        lambda: sandbox.store.delete(PODS, NS, "a"),  # graceful: stays, terminating
        lambda: sandbox.kubelet.set_ready("a", ready=False),  # readiness fails in preStop
    ):
        act()
        sandbox.settle()
        transitions.append(conditions_by_pod(sandbox)["a"])

    assert transitions == [READY, DRAINING, LEAVING]
    sandbox.kubelet.finish("a")
    sandbox.settle()
    assert only_slice(sandbox)["endpoints"] == []


def test_a_slice_is_written_only_when_its_content_changes(sandbox: Sandbox) -> None:
    sandbox.create(SERVICES, service())
    sandbox.create(PODS, pod("a"))
    sandbox.kubelet.start("a", ready=True)
    sandbox.settle()
    version = metadata(only_slice(sandbox))["resourceVersion"]

    sandbox.modify(PODS, "a", lambda p: p["metadata"].update(annotations={"note": "x"}))

    assert metadata(only_slice(sandbox))["resourceVersion"] == version
    sandbox.modify(PODS, "a", lambda p: p["metadata"]["labels"].update(app="other"))
    assert only_slice(sandbox)["endpoints"] == []


def test_pods_whose_named_port_differs_go_to_separate_slices(sandbox: Sandbox) -> None:
    sandbox.create(SERVICES, service())
    for name, port in (("a", 8080), ("b", 9090)):
        sandbox.create(PODS, pod(name, port=port))
        sandbox.kubelet.start(name, ready=True)
    sandbox.settle()

    by_port = {
        s["ports"][0]["port"]: [e["targetRef"]["name"] for e in s["endpoints"]]
        for s in slices(sandbox)
    }

    assert by_port == {8080: ["a"], 9090: ["b"]}


def test_a_numeric_target_port_is_used_as_is(sandbox: Sandbox) -> None:
    sandbox.create(SERVICES, service(target_port=8081))
    sandbox.create(PODS, pod("a"))
    sandbox.kubelet.start("a", ready=True)
    sandbox.settle()

    assert only_slice(sandbox)["ports"] == [{"name": "http", "port": 8081, "protocol": "TCP"}]


def test_publish_not_ready_addresses_makes_every_endpoint_ready(sandbox: Sandbox) -> None:
    sandbox.create(SERVICES, service(publishNotReadyAddresses=True))
    sandbox.create(PODS, pod("a"))
    sandbox.kubelet.start("a")
    sandbox.settle()

    assert conditions_by_pod(sandbox)["a"] == {
        "ready": True,
        "serving": False,
        "terminating": False,
    }


def test_slices_go_with_their_service_and_selectorless_services_get_none(
    sandbox: Sandbox,
) -> None:
    sandbox.create(SERVICES, service())
    assert len(slices(sandbox)) == 1

    sandbox.store.delete(SERVICES, NS, "web")
    sandbox.create(SERVICES, service(selector=None))

    assert slices(sandbox) == []
