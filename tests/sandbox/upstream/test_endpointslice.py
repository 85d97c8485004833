"""Upstream's pod-to-endpoint and endpoint-port tables, replayed against the sandbox's
EndpointSlice controller.

Source: kubernetes/kubernetes staging/src/k8s.io/endpointslice/utils_test.go (the shared
EndpointSlice library pkg/controller/endpointslice uses), TestPodToEndpoint and
TestGetEndpointPorts, read at commit b94367cabf3edea99cfd7ecf7e8bafdc908d83ca. Inputs and
expected outputs are transcribed; the code is ours. Targets: ``controllermanager.slicing``'s
``pod_address``, ``endpoint`` and ``resolve_ports``.

Upstream's ``newPod(1, ns, ready, 1, terminating)``: name ``pod1``, nodeName ``node-1``,
podIP and podIPs ``1.2.3.5``, a Ready condition, a deletionTimestamp when terminating, no
UID. Addresses need not be loopback here: only the proxy restricts what it routes to.

TestGetEndpointPorts: compared are each port's name, number and protocol; ``appProtocol``
is not modelled (the sandbox proxies plain TCP) and is left out. Native sidecars
(restartable init containers) are not modelled either, but both cases that carry one
resolve from a numeric targetPort or from the regular container, so they replay.

TestPodToEndpoint: compared are addresses, conditions (ready, serving, terminating),
nodeName and targetRef. Not modelled, so left out of the comparison and listed here:
``zone`` (from the node's topology labels; the sandbox runs one unlabelled node) and
``hostname`` (pod hostname/subdomain). Cases that set them still replay the rest of the endpoint.

Not replayed: the file's other tables (TestNewEndpointSlice, TestServiceControllerKey,
TestSupportedServiceAddressType, TestSetEndpointSliceLabels) are about slice metadata,
IPv6 families and headless Services; the sandbox is IPv4-only and serves no headless
Service.

Fix made for this table: the address now comes from ``status.podIPs`` as upstream reads
it (``Multi IP Ready pod + node labels`` lists 1.2.3.4 from podIPs while podIP says
1.2.3.5); before, the sandbox read ``status.podIP``. It still falls back to ``podIP`` for
a status without ``podIPs``.
"""

from __future__ import annotations

from typing import Any

import pytest

from slagate.sandbox.controllermanager.slicing import endpoint, pod_address, resolve_ports

NOT_MODELLED = ("zone", "hostname")


def new_pod(
    ready: bool, terminating: bool, pod_ips: tuple[str, ...] = ("1.2.3.5",)
) -> dict[str, Any]:
    """Upstream's ``newPod(1, "test", ready, 1, terminating)``."""
    meta: dict[str, Any] = {"namespace": "test", "name": "pod1", "labels": {"foo": "bar"}}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "container-1"}], "nodeName": "node-1"},
        "status": {
            "podIP": "1.2.3.5",
            "podIPs": [{"ip": ip} for ip in pod_ips],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def expected(
    ready: bool, serving: bool, terminating: bool, address: str = "1.2.3.5", **extra: str
) -> dict[str, Any]:
    return {
        "addresses": [address],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        "nodeName": "node-1",
        "targetRef": {"kind": "Pod", "namespace": "test", "name": "pod1", "uid": ""},
        **extra,
    }


ZONE = {"zone": "us-central1-a"}
MULTI_IP = ("1.2.3.4", "1234::5678:0000:0000:9abc:def0")

CASES = [
    pytest.param(new_pod(True, False), False, expected(True, True, False), id="Ready_pod"),
    pytest.param(
        new_pod(True, False),
        True,
        expected(True, True, False),
        id="Ready_pod_+_publishNotReadyAddresses",
    ),
    pytest.param(new_pod(False, False), False, expected(False, False, False), id="Unready_pod"),
    pytest.param(
        new_pod(False, False),
        True,
        expected(True, False, False),
        id="Unready_pod_+_publishNotReadyAddresses",
    ),
    pytest.param(
        new_pod(True, False),
        False,
        expected(True, True, False, **ZONE),
        id="Ready_pod_+_node_labels",
    ),
    pytest.param(
        new_pod(True, False, MULTI_IP),
        False,
        expected(True, True, False, "1.2.3.4", **ZONE),
        id="Multi_IP_Ready_pod_+_node_labels",
    ),
    pytest.param(
        new_pod(True, False),
        False,
        expected(True, True, False, hostname="example-hostname", **ZONE),
        id="Ready_pod_+_hostname",
    ),
    pytest.param(new_pod(True, False), False, expected(True, True, False), id="Ready_pod_(again)"),
    pytest.param(
        new_pod(True, True), False, expected(False, True, True), id="Ready_terminating_pod"
    ),
    pytest.param(
        new_pod(False, True), False, expected(False, False, True), id="Not_ready_terminating_pod"
    ),
]


@pytest.mark.parametrize(("pod", "publish_not_ready", "want"), CASES)
def test_pod_to_endpoint(
    pod: dict[str, Any], publish_not_ready: bool, want: dict[str, Any]
) -> None:
    address = pod_address(pod)
    assert address is not None

    got = endpoint(pod, address, publish_not_ready)

    assert not any(key in got for key in NOT_MODELLED)
    assert got == {k: v for k, v in want.items() if k not in NOT_MODELLED}


TCP = "TCP"


def service(*ports: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"ports": list(ports)}}


def pod_ports(
    containers: list[list[tuple[str, int]]], init: list[list[tuple[str, int]]] | None = None
) -> dict[str, Any]:
    """A pod whose containers (and restartable init containers) declare named ports."""

    def declared(ports: list[tuple[str, int]]) -> dict[str, Any]:
        return {"ports": [{"name": n, "containerPort": p, "protocol": TCP} for n, p in ports]}

    spec: dict[str, Any] = {"containers": [declared(c) for c in containers]}
    if init is not None:
        spec["initContainers"] = [{**declared(c), "restartPolicy": "Always"} for c in init]
    return {"spec": spec}


PORTS = [
    pytest.param(
        service(
            {
                "name": "http",
                "port": 80,
                "targetPort": 80,
                "protocol": TCP,
                "appProtocol": "example.com/custom-protocol",
            }
        ),
        pod_ports([[]]),
        (("http", 80, TCP),),
        id="service_with_AppProtocol_on_one_port",
    ),
    pytest.param(
        service(
            {"name": "http", "port": 80, "targetPort": 80, "protocol": TCP},
            {"name": "https", "targetPort": "https", "protocol": TCP, "appProtocol": "https"},
        ),
        pod_ports([[("https", 443)]]),
        (("http", 80, TCP), ("https", 443, TCP)),
        id="service_with_named_port_and_AppProtocol_on_one_port",
    ),
    pytest.param(
        service(
            {"name": "http-sidecar", "port": 8080, "targetPort": 8080, "protocol": TCP},
            {"name": "http", "port": 8090, "targetPort": "http", "protocol": TCP},
        ),
        pod_ports([[("http", 8090)]], init=[[("http-sidecar", 8080)]]),
        (("http-sidecar", 8080, TCP), ("http", 8090, TCP)),
        id="service_with_named_port_for_restartable_init_container",
    ),
    pytest.param(
        service({"name": "http", "port": 80, "targetPort": "http", "protocol": TCP}),
        pod_ports([[("http", 8090)]], init=[[("http", 8080)]]),
        (("http", 8090, TCP),),
        id="service_with_same_named_port_for_regular_and_restartable_init_container",
    ),
]


@pytest.mark.parametrize(("svc", "pod", "expected"), PORTS)
def test_get_endpoint_ports(
    svc: dict[str, Any], pod: dict[str, Any], expected: tuple[tuple[str, int, str], ...]
) -> None:
    assert resolve_ports(svc, pod) == expected
