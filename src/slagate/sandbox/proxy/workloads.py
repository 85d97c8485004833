"""Which workload a pod address belongs to: the names Istio puts on its request metrics.

Istio labels each request with the *workload* of both ends: a pod's Deployment (or other
controller), found from the pod's controller reference. A ReplicaSet made by a Deployment
is named ``<deployment>-<pod-template-hash>`` and its pods carry that hash as the
``pod-template-hash`` label; Istio strips it to name the Deployment, and so does
``workload_of``. Anything else is named after its controller, and a pod without one
after itself.

``Workloads`` keeps pod IP -> workload from the proxy's pod watch: pure state, fed by
list and watch events on the proxy's loop; an address nobody claims is ``UNKNOWN`` (a
client outside the mesh, or a pod the watch has not delivered yet). A deleted pod's
address keeps its name until another pod gets it: the proxy routes to a gone pod for the
propagation delay, and Istio still names it then (its endpoint metadata comes with the
endpoint, not from the live pod).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from slagate.sandbox.objects.bodies import (
    RawObject,
    controller_reference,
    labels_of,
    mapping_at,
    name_of,
    namespace_of,
)

TEMPLATE_HASH_LABEL = "pod-template-hash"


class Workload(NamedTuple):
    name: str
    namespace: str


UNKNOWN = Workload("unknown", "unknown")
"""Istio's value for an end it cannot name."""


def workload_of(pod: RawObject) -> Workload:
    """The workload a pod belongs to, named as Istio names it."""
    namespace = namespace_of(pod)
    owner = controller_reference(pod)
    if owner is None:
        return Workload(name_of(pod), namespace)
    owner_name = str(owner.get("name", ""))
    template_hash = labels_of(pod).get(TEMPLATE_HASH_LABEL)
    suffix = f"-{template_hash}"
    if owner.get("kind") == "ReplicaSet" and template_hash and owner_name.endswith(suffix):
        return Workload(owner_name[: -len(suffix)], namespace)
    return Workload(owner_name, namespace)


def pod_ip(pod: RawObject) -> str | None:
    ip = mapping_at(pod, "status").get("podIP")
    return str(ip) if ip else None


class Workloads:
    """Pod IP -> workload, as last listed or watched."""

    def __init__(self) -> None:
        self._by_ip: dict[str, Workload] = {}

    def get(self, address: str) -> Workload:
        return self._by_ip.get(address, UNKNOWN)

    def replace(self, pods: Iterable[RawObject]) -> None:
        self._by_ip.clear()
        for pod in pods:
            self.apply("ADDED", pod)

    def apply(self, event_type: str, pod: RawObject) -> None:
        ip = pod_ip(pod)
        if event_type != "DELETED" and ip is not None:
            self._by_ip[ip] = workload_of(pod)
