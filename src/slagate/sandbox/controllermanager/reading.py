"""Reading stored objects into the values the pure decisions take.

Each function turns one raw body (``RawObject``) into a frozen value of
``slagate.sandbox.decisions``, with upstream defaults for absent fields and times as
float Unix seconds. Nothing here writes; ``writing`` is the way back. Quantities
(``"250m"``) are parsed here, by the official client's parser, so that the decisions
(which never import ``kubernetes``) only see integers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from slagate.numbers import INT32_MAX
from slagate.sandbox.decisions.conditions import Condition
from slagate.sandbox.decisions.deployments import (
    DeploymentStatus,
    DeploymentView,
    ReplicaSetView,
    StrategyType,
)
from slagate.sandbox.decisions.fenceposts import DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE
from slagate.sandbox.decisions.hpa import (
    FAILED_RESOURCE_METRIC,
    HPASpec,
    MetricTarget,
    UnservedMetric,
)
from slagate.sandbox.decisions.hpa_behavior import (
    Behavior,
    PolicyType,
    ScalingPolicy,
    ScalingRules,
    SelectPolicy,
)
from slagate.sandbox.decisions.hpa_replicas import PodSample, Resource, ResourceTarget
from slagate.sandbox.decisions.pods import PodPhase
from slagate.sandbox.decisions.replicaset import PodView
from slagate.sandbox.decisions.revisions import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    POD_TEMPLATE_HASH_LABEL,
    parse_revision,
    pod_template_hash,
)
from slagate.sandbox.metrics import PodCpu
from slagate.sandbox.objects.bodies import (
    RawObject,
    labels_of,
    mapping_at,
    metadata,
    name_of,
    parse_time,
    pod_condition,
)
from slagate.sandbox.objects.labelselectors import LabelSelector
from slagate.sandbox.objects.quantities import cpu_request_m, milli_value, request_m

NO_PROGRESS_DEADLINE = INT32_MAX
"""progressDeadlineSeconds meaning "never" (upstream math.MaxInt32)."""
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"


def integer(raw: Any, default: int = 0) -> int:
    """A JSON integer field, ``default`` when absent or not an integer."""
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else default


def is_deleting(obj: RawObject) -> bool:
    return bool(metadata(obj).get("deletionTimestamp"))


def created_s(obj: RawObject) -> float:
    return parse_time(metadata(obj).get("creationTimestamp")) or 0.0


def annotations_of(obj: RawObject) -> dict[str, str]:
    raw = metadata(obj).get("annotations")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


# -- conditions --------------------------------------------------------------------------


def conditions_of(status: Mapping[str, Any]) -> tuple[Condition, ...]:
    """``status.conditions`` as values; entries without a type are skipped."""
    raw = status.get("conditions")
    if not isinstance(raw, list):
        return ()
    return tuple(_condition(c) for c in raw if isinstance(c, dict) and c.get("type"))


def _condition(raw: dict[str, Any]) -> Condition:
    return Condition(
        type=str(raw["type"]),
        status=raw.get("status") == "True",
        reason=str(raw.get("reason", "")),
        message=str(raw.get("message", "")),
        last_transition_s=parse_time(raw.get("lastTransitionTime")) or 0.0,
        last_update_s=parse_time(raw.get("lastUpdateTime")),
    )


# -- Deployments and ReplicaSets ---------------------------------------------------------


def deployment_view(obj: RawObject) -> DeploymentView:
    """A stored Deployment as ``sync_deployment`` reads it (API defaults already applied
    by the store; the same defaults are repeated here for bodies that lack them)."""
    spec, status = mapping_at(obj, "spec"), mapping_at(obj, "status")
    strategy = mapping_at(spec, "strategy")
    rolling = mapping_at(strategy, "rollingUpdate")
    deadline = spec.get("progressDeadlineSeconds", 600)
    history = spec.get("revisionHistoryLimit", 10)
    return DeploymentView(
        name=name_of(obj),
        replicas=integer(spec.get("replicas"), 1),
        template_hash=template_hash(obj),
        generation=integer(metadata(obj).get("generation"), 1),
        strategy=StrategyType(strategy.get("type", StrategyType.ROLLING_UPDATE.value)),
        max_surge=rolling.get("maxSurge", DEFAULT_MAX_SURGE),
        max_unavailable=rolling.get("maxUnavailable", DEFAULT_MAX_UNAVAILABLE),
        min_ready_s=integer(spec.get("minReadySeconds")),
        progress_deadline_s=None if deadline in (None, NO_PROGRESS_DEADLINE) else int(deadline),
        revision_history_limit=None if history is None else int(history),
        status=deployment_status(status),
    )


def template_hash(deployment: RawObject) -> str:
    """The pod-template-hash of a Deployment's current template and collisionCount."""
    collisions = mapping_at(deployment, "status").get("collisionCount")
    template = mapping_at(deployment, "spec", "template")
    return pod_template_hash(template, collisions if isinstance(collisions, int) else None)


def deployment_status(status: Mapping[str, Any]) -> DeploymentStatus:
    return DeploymentStatus(
        observed_generation=integer(status.get("observedGeneration")),
        replicas=integer(status.get("replicas")),
        updated_replicas=integer(status.get("updatedReplicas")),
        ready_replicas=integer(status.get("readyReplicas")),
        available_replicas=integer(status.get("availableReplicas")),
        unavailable_replicas=integer(status.get("unavailableReplicas")),
        conditions=conditions_of(status),
    )


def replica_set_view(obj: RawObject) -> ReplicaSetView:
    spec, status = mapping_at(obj, "spec"), mapping_at(obj, "status")
    annotations = annotations_of(obj)
    return ReplicaSetView(
        name=name_of(obj),
        template_hash=labels_of(obj).get(POD_TEMPLATE_HASH_LABEL, ""),
        created_s=created_s(obj),
        spec_replicas=integer(spec.get("replicas"), 1),
        replicas=integer(status.get("replicas")),
        ready_replicas=integer(status.get("readyReplicas")),
        available_replicas=integer(status.get("availableReplicas")),
        revision=parse_revision(annotations),
        desired_replicas=_int_annotation(annotations, DESIRED_REPLICAS_ANNOTATION),
        max_replicas=_int_annotation(annotations, MAX_REPLICAS_ANNOTATION),
        deleting=is_deleting(obj),
    )


def _int_annotation(annotations: Mapping[str, str], key: str) -> int | None:
    text = annotations.get(key, "")
    return int(text) if text.isdigit() else None


# -- pods --------------------------------------------------------------------------------


def pod_phase(pod: RawObject) -> PodPhase:
    raw = mapping_at(pod, "status").get("phase", PodPhase.PENDING.value)
    try:
        return PodPhase(raw)
    except ValueError:
        return PodPhase.UNKNOWN


def pod_view(pod: RawObject) -> PodView:
    """A pod as the ReplicaSet controller ranks and counts it."""
    ready = pod_condition(pod, "Ready")
    is_ready = ready is not None and ready.get("status") == "True"
    statuses = mapping_at(pod, "status").get("containerStatuses") or []
    restarts = [integer(s.get("restartCount")) for s in statuses if isinstance(s, dict)]
    cost = annotations_of(pod).get(DELETION_COST_ANNOTATION, "0")
    return PodView(
        name=name_of(pod),
        created_s=created_s(pod),
        phase=pod_phase(pod),
        ready=is_ready,
        ready_since_s=parse_time(ready.get("lastTransitionTime")) if is_ready and ready else None,
        deleting=is_deleting(pod),
        scheduled=bool(mapping_at(pod, "spec").get("nodeName")),
        restarts=max(restarts, default=0),
        deletion_cost=int(cost) if cost.lstrip("-").isdigit() else 0,
    )


def pod_sample(pod: RawObject, cpu: PodCpu | None, memory_bytes: int | None = None) -> PodSample:
    """A pod with its latest CPU sample and memory, as the HPA replica calculator reads
    it (memory in milli-bytes, as upstream's ``MilliValue``; only with a CPU sample)."""
    ready = pod_condition(pod, "Ready")
    sample = PodSample(
        name=name_of(pod),
        phase=pod_phase(pod),
        ready=None if ready is None else ready.get("status") == "True",
        ready_transition_s=parse_time((ready or {}).get("lastTransitionTime")) or 0.0,
        start_s=parse_time(mapping_at(pod, "status").get("startTime")),
        deleting=is_deleting(pod),
        cpu_request_m=cpu_request_m(pod),
        memory_request_m=request_m(pod, Resource.MEMORY.value),
    )
    if cpu is None:
        return sample
    return replace(
        sample,
        cpu_usage_m=cpu.millicores,
        memory_usage_m=None if memory_bytes is None else memory_bytes * 1000,
        metric_timestamp_s=cpu.timestamp_s,
        metric_window_s=cpu.window_s,
    )


# -- HorizontalPodAutoscalers ------------------------------------------------------------


def hpa_spec(hpa: RawObject) -> HPASpec:
    spec = mapping_at(hpa, "spec")
    behavior = spec.get("behavior")
    return HPASpec(
        max_replicas=integer(spec.get("maxReplicas"), 1),
        min_replicas=integer(spec.get("minReplicas"), 1),
        metrics=hpa_metrics(spec.get("metrics")),
        behavior=_behavior(behavior) if isinstance(behavior, dict) else None,
    )


def hpa_metrics(metrics: Any) -> tuple[MetricTarget, ...]:
    """Every entry of ``spec.metrics`` in order; the API default (80% CPU utilization)
    when there are none. What the sandbox cannot feed is kept as an ``UnservedMetric``."""
    if not isinstance(metrics, list) or not metrics:
        return (ResourceTarget(),)
    return tuple(_metric(m if isinstance(m, dict) else {}) for m in metrics)


_UNSERVED = {
    "Pods": ("FailedGetPodsMetric", "pods metric value", "custom.metrics.k8s.io"),
    "Object": ("FailedGetObjectMetric", "object metric value", "custom.metrics.k8s.io"),
    "External": ("FailedGetExternalMetric", "external metric value", "external.metrics.k8s.io"),
}
"""Metric types that need a metrics API the sandbox does not serve: upstream's condition
reason, the value its error names, and the API."""


def _metric(metric: dict[str, Any]) -> MetricTarget:
    kind = str(metric.get("type", ""))
    if kind in _UNSERVED:
        reason, value, api = _UNSERVED[kind]
        return UnservedMetric(
            reason,
            f"failed to get {value}: the sandbox serves no {api} API "
            "(modelled: Resource metrics on cpu and memory)",
        )
    if kind == "ContainerResource":
        name = mapping_at(metric, "containerResource").get("name", "")
        return UnservedMetric(
            "FailedGetContainerResourceMetric",
            f"failed to get {name} container metric: the sandbox measures whole pods, "
            "not containers (modelled: Resource metrics on cpu and memory)",
        )
    if kind != "Resource":
        return UnservedMetric("InvalidMetricSourceType", f'unknown metric source type "{kind}"')
    return resource_target(mapping_at(metric, "resource"))


def resource_target(resource: dict[str, Any]) -> MetricTarget:
    """A ``Resource`` metric's target; neither value set when its target has no value of
    its type, which the calculator reports as invalid."""
    name = str(resource.get("name", ""))
    if name not in {r.value for r in Resource}:
        return UnservedMetric(
            FAILED_RESOURCE_METRIC,
            f"failed to get {name} utilization: unable to get metrics for resource {name}: "
            "the sandbox measures cpu and memory only",
        )
    target = mapping_at(resource, "target")
    if target.get("type") == "AverageValue":
        return ResourceTarget(None, milli_value(target.get("averageValue")), Resource(name))
    if target.get("type") == "Utilization":
        return ResourceTarget(integer(target.get("averageUtilization"), 80), None, Resource(name))
    return ResourceTarget(None, None, Resource(name))


def _behavior(raw: dict[str, Any]) -> Behavior:
    return Behavior(_rules(raw.get("scaleUp")), _rules(raw.get("scaleDown")))


def _rules(raw: Any) -> ScalingRules | None:
    if not isinstance(raw, dict):
        return None
    window = raw.get("stabilizationWindowSeconds")
    select = raw.get("selectPolicy")
    policies = raw.get("policies")
    return ScalingRules(
        stabilization_window_s=window if isinstance(window, int) else None,
        select_policy=SelectPolicy(select) if select else None,
        policies=None if policies is None else tuple(_policy(p) for p in policies),
    )


def _policy(raw: dict[str, Any]) -> ScalingPolicy:
    return ScalingPolicy(
        PolicyType(raw.get("type")), integer(raw.get("value")), integer(raw.get("periodSeconds"))
    )


def selecting_pod(
    objects: Iterable[RawObject],
    selector_of: Callable[[RawObject], LabelSelector | None],
    pod: RawObject,
    old: RawObject | None,
) -> Iterator[RawObject]:
    """The ``objects`` (Services, PodDisruptionBudgets...) whose selector matches ``pod``'s
    labels now or before its change (``old``): the ones a pod event concerns."""
    states = [labels_of(pod)] + ([labels_of(old)] if old is not None else [])
    for obj in objects:
        selector = selector_of(obj)
        if selector is not None and any(selector.matches(s) for s in states):
            yield obj
