"""The resource types the harness lists and watches, with the client call for each.

One table, so the watchers, the rollout wait and the RBAC preflight agree on what is
read: the plural and API group name the resource in a SelfSubjectAccessReview, the list
call is the official client's ``list_namespaced_*`` (which also watches, with
``watch=True``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client

ListCall = Callable[..., Any]
"""A bound ``list_namespaced_*`` method of the official client: ``(namespace, **query)``."""


@dataclass(frozen=True)
class Resource:
    """A namespaced resource: ``plural`` and ``group`` as RBAC names them, ``kind`` as
    objects name themselves, ``api`` the generated API class holding ``method``."""

    plural: str
    group: str
    kind: str
    api: type[Any]
    method: str

    def list_call(self, api_client: client.ApiClient) -> ListCall:
        call: ListCall = getattr(self.api(api_client), self.method)
        return call

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


HORIZONTAL_POD_AUTOSCALERS = Resource(
    "horizontalpodautoscalers",
    "autoscaling",
    "HorizontalPodAutoscaler",
    client.AutoscalingV2Api,
    "list_namespaced_horizontal_pod_autoscaler",
)
DEPLOYMENTS = Resource(
    "deployments", "apps", "Deployment", client.AppsV1Api, "list_namespaced_deployment"
)
REPLICASETS = Resource(
    "replicasets", "apps", "ReplicaSet", client.AppsV1Api, "list_namespaced_replica_set"
)
PODS = Resource("pods", "", "Pod", client.CoreV1Api, "list_namespaced_pod")
ENDPOINT_SLICES = Resource(
    "endpointslices",
    "discovery.k8s.io",
    "EndpointSlice",
    client.DiscoveryV1Api,
    "list_namespaced_endpoint_slice",
)
EVENTS = Resource("events", "", "Event", client.CoreV1Api, "list_namespaced_event")

WATCHED: tuple[Resource, ...] = (
    HORIZONTAL_POD_AUTOSCALERS,
    DEPLOYMENTS,
    REPLICASETS,
    PODS,
    ENDPOINT_SLICES,
    EVENTS,
)
"""What the ClusterRecorder watches, one thread each."""
