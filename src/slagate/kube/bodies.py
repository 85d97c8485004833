"""The raw JSON bodies the API server sends, typed at the boundary.

Lists and watches ask for raw JSON (``_preload_content=False``) instead of the client's
generated models: it is several times cheaper per event, and the fields the harness reads
are few. These ``TypedDict`` s name exactly those fields; everything is optional
(``total=False``) because the API server omits zero values and empty lists.
"""

from __future__ import annotations

import enum
from typing import Any, TypedDict, cast

RawObject = dict[str, Any]
"""One object as decoded JSON, before it is viewed through one of the bodies below."""


class WatchEventType(enum.StrEnum):
    """The ``type`` of one line of a watch stream."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    BOOKMARK = "BOOKMARK"
    """No change: only a newer resourceVersion to resume from."""
    ERROR = "ERROR"
    """The object is a Status: the watch failed (410: list again)."""


class OwnerReference(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool


class ObjectMeta(TypedDict, total=False):
    name: str
    namespace: str
    uid: str
    resourceVersion: str
    generation: int
    labels: dict[str, str]
    annotations: dict[str, str]
    deletionTimestamp: str
    ownerReferences: list[OwnerReference]


class ObjectReference(TypedDict, total=False):
    kind: str
    name: str
    namespace: str
    uid: str


class Condition(TypedDict, total=False):
    type: str
    status: str
    reason: str
    message: str


class LabelSelectorRequirement(TypedDict, total=False):
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: list[str]


class LabelSelector(TypedDict, total=False):
    matchLabels: dict[str, str]
    matchExpressions: list[LabelSelectorRequirement]


# --- pods ---------------------------------------------------------------------------------


class TerminatedState(TypedDict, total=False):
    exitCode: int
    reason: str
    message: str
    finishedAt: str


class ContainerState(TypedDict, total=False):
    """Only ``terminated`` is read (of ``lastState``)."""

    terminated: TerminatedState


class ContainerStatus(TypedDict, total=False):
    name: str
    ready: bool
    restartCount: int
    lastState: ContainerState


class PodStatus(TypedDict, total=False):
    phase: str
    podIP: str
    conditions: list[Condition]
    containerStatuses: list[ContainerStatus]


class SleepAction(TypedDict, total=False):
    seconds: int


class LifecycleHandler(TypedDict, total=False):
    """A hook; only ``sleep`` is read, another handler (exec, httpGet) is just present."""

    sleep: SleepAction


class Lifecycle(TypedDict, total=False):
    preStop: LifecycleHandler


class Container(TypedDict, total=False):
    name: str
    readinessProbe: RawObject  # only its presence is read
    lifecycle: Lifecycle


class PodSpec(TypedDict, total=False):
    containers: list[Container]


class PodBody(TypedDict, total=False):
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus


# --- deployments and replica sets ---------------------------------------------------------


class ReplicasSpec(TypedDict, total=False):
    replicas: int
    selector: LabelSelector


class ReplicasStatus(TypedDict, total=False):
    observedGeneration: int
    replicas: int
    updatedReplicas: int
    readyReplicas: int
    availableReplicas: int
    conditions: list[Condition]


class DeploymentBody(TypedDict, total=False):
    """A Deployment or a ReplicaSet: the fields read are the same."""

    metadata: ObjectMeta
    spec: ReplicasSpec
    status: ReplicasStatus


# --- horizontal pod autoscalers (autoscaling/v2) ------------------------------------------


class MetricTarget(TypedDict, total=False):
    type: str
    averageUtilization: int
    averageValue: str


class ResourceMetricSource(TypedDict, total=False):
    name: str
    target: MetricTarget


class MetricSpec(TypedDict, total=False):
    type: str
    resource: ResourceMetricSource


class MetricValueStatus(TypedDict, total=False):
    averageUtilization: int
    averageValue: str


class ResourceMetricStatus(TypedDict, total=False):
    name: str
    current: MetricValueStatus


class MetricStatus(TypedDict, total=False):
    type: str
    resource: ResourceMetricStatus


class HpaSpec(TypedDict, total=False):
    minReplicas: int
    maxReplicas: int
    metrics: list[MetricSpec]


class HpaStatus(TypedDict, total=False):
    currentReplicas: int
    desiredReplicas: int
    currentMetrics: list[MetricStatus]


class HpaBody(TypedDict, total=False):
    metadata: ObjectMeta
    spec: HpaSpec
    status: HpaStatus


# --- endpoint slices and events -----------------------------------------------------------


class EndpointConditions(TypedDict, total=False):
    ready: bool | None
    serving: bool | None
    terminating: bool | None


class EndpointBody(TypedDict, total=False):
    addresses: list[str]
    conditions: EndpointConditions
    targetRef: ObjectReference


class EndpointSliceBody(TypedDict, total=False):
    metadata: ObjectMeta
    endpoints: list[EndpointBody] | None


class EventBody(TypedDict, total=False):
    """A core/v1 Event."""

    metadata: ObjectMeta
    involvedObject: ObjectReference
    reason: str
    message: str
    count: int
    type: str


# --- services -----------------------------------------------------------------------------


class PortStatus(TypedDict, total=False):
    port: int
    protocol: str


class IngressBody(TypedDict, total=False):
    ip: str
    hostname: str
    ports: list[PortStatus]


class LoadBalancerStatus(TypedDict, total=False):
    ingress: list[IngressBody]


class ServicePort(TypedDict, total=False):
    name: str
    port: int


class ServiceSpec(TypedDict, total=False):
    ports: list[ServicePort]
    type: str


class ServiceStatus(TypedDict, total=False):
    loadBalancer: LoadBalancerStatus


class ServiceBody(TypedDict, total=False):
    metadata: ObjectMeta
    spec: ServiceSpec
    status: ServiceStatus


# --- helpers ------------------------------------------------------------------------------


def meta(obj: RawObject) -> ObjectMeta:
    """The object's metadata (empty when missing)."""
    value = obj.get("metadata")
    return cast(ObjectMeta, value) if isinstance(value, dict) else ObjectMeta()


def name_of(obj: RawObject) -> str:
    return meta(obj).get("name", "")


def resource_version_of(obj: RawObject) -> str:
    return meta(obj).get("resourceVersion", "")


def selector_text(selector: LabelSelector) -> str:
    """A ``LabelSelector`` as a query string (``app=web,tier in (a,b)``), as kubectl sends it."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for req in selector.get("matchExpressions") or []:
        key, op, values = req.get("key", ""), req.get("operator", ""), req.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)
