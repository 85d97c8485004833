"""From raw objects to what the timeline records. Pure: no client, no clock, no I/O.

Rows are the timeline's own row types (``PodRow``, ``ReplicaRow``, ``EndpointRow``,
``EventRow``), their enum columns ``PodTransition``, ``ReplicaKind`` and ``EventSource``.

- Pods: ``PodState`` and ``pod_transitions`` (added, deleting, phase, ready/unready,
  restarted).
- Deployments, ReplicaSets, HPAs: ``ReplicaValues`` (the ``replicas`` row without ``t_ms``).
- ``rollout_progress``: how far a Deployment's rollout got, by the rule ``kubectl rollout
  status`` applies.
- EndpointSlices: ``SliceState`` per slice, ``ServiceEndpoints`` summed per Service.
- Events: the ``events`` row of a core/v1 Event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import NamedTuple, cast

from kubernetes.utils.quantity import parse_quantity

from slagate.kube.bodies import (
    Condition,
    Container,
    ContainerStatus,
    DeploymentBody,
    EndpointBody,
    EndpointSliceBody,
    EventBody,
    HpaBody,
    MetricValueStatus,
    PodBody,
    RawObject,
    ResourceMetricSource,
    meta,
)
from slagate.sla.formatting import shorten
from slagate.timeline import (
    AVERAGE_VALUE,
    ERROR_TEXT_MAX,
    EndpointRow,
    EventRow,
    EventSource,
    PodRow,
    PodTransition,
    ReplicaKind,
    ReplicaRow,
)

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH_LABEL = "pod-template-hash"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


# --- pods ---------------------------------------------------------------------------------


class PodState(NamedTuple):
    """One pod as the ``pods`` table describes it (``uid`` tells a re-created pod apart)."""

    name: str
    uid: str
    phase: str
    ready: bool
    deleting: bool
    pod_ip: str | None
    owner: str | None  # the controlling ReplicaSet
    revision: str | None  # pod-template-hash
    restarts: int
    readiness_probe: bool  # some container declares a readinessProbe
    prestop_s: float  # the first container's preStop sleep; 0.0 without one, NaN: unknown
    last_exit_code: int | None = None  # the last termination of the latest restarted one
    last_message: str | None = None  # its message (the log's tail with FallbackToLogsOnError)


def pod_state(obj: RawObject) -> PodState:
    body = cast(PodBody, obj)
    metadata, status = meta(obj), body.get("status") or {}
    containers = (body.get("spec") or {}).get("containers") or []
    exit_code, message = _last_termination(status.get("containerStatuses") or [])
    return PodState(
        name=metadata.get("name", ""),
        uid=metadata.get("uid", ""),
        phase=status.get("phase") or "Pending",
        ready=_condition_true(status.get("conditions"), "Ready"),
        deleting=bool(metadata.get("deletionTimestamp")),
        pod_ip=status.get("podIP") or None,
        owner=_replica_set_owner(obj),
        revision=(metadata.get("labels") or {}).get(TEMPLATE_HASH_LABEL),
        restarts=sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or []),
        readiness_probe=any(c.get("readinessProbe") for c in containers),
        prestop_s=_prestop_s(containers[0]) if containers else 0.0,
        last_exit_code=exit_code,
        last_message=message,
    )


def _last_termination(statuses: list[ContainerStatus]) -> tuple[int | None, str | None]:
    """Exit code and message of the latest ``lastState.terminated`` of any container (the
    one that finished last); the message's end is kept, where a log's tail says why."""
    ended = [
        terminated
        for s in statuses
        if isinstance(terminated := (s.get("lastState") or {}).get("terminated"), dict)
    ]
    if not ended:
        return None, None
    last = max(ended, key=lambda t: str(t.get("finishedAt") or ""))
    code = last.get("exitCode")
    text = " ".join(str(last.get("message") or "").split())
    message = text[-ERROR_TEXT_MAX:] if text else None
    return (int(code) if isinstance(code, int) else None), message


def _prestop_s(container: Container) -> float:
    """The preStop sleep in seconds: 0.0 without a preStop hook; NaN for a hook that is no
    sleep (exec, httpGet), as how long it delays the stop is unknown."""
    hook = (container.get("lifecycle") or {}).get("preStop")
    if not hook:
        return 0.0
    sleep = hook.get("sleep")
    return math.nan if sleep is None else float(sleep.get("seconds", 0))


def _replica_set_owner(obj: RawObject) -> str | None:
    owners = [
        o
        for o in meta(obj).get("ownerReferences") or []
        if o.get("kind") == ReplicaKind.REPLICA_SET
    ]
    owners.sort(key=lambda o: not o.get("controller", False))
    return owners[0].get("name") if owners else None


def _condition_true(conditions: list[Condition] | None, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions or [])


def pod_transitions(old: PodState | None, new: PodState) -> list[PodTransition]:
    """The transitions from ``old`` (None: not seen before) to ``new``, in the order they
    are recorded: a deletion start first (it causes the rest), then phase, then readiness."""
    if old is None:
        return [PodTransition.ADDED]
    transitions = []
    if new.deleting and not old.deleting:
        transitions.append(PodTransition.DELETING)
    if new.phase != old.phase:
        transitions.append(PodTransition.PHASE)
    if new.ready != old.ready:
        transitions.append(PodTransition.READY if new.ready else PodTransition.UNREADY)
    if new.restarts > old.restarts:
        transitions.append(PodTransition.RESTARTED)
    return transitions


def pod_row(t_ms: int, transition: PodTransition, pod: PodState) -> PodRow:
    """The ``pods`` row of ``pod`` at ``transition``."""
    return PodRow(
        t_ms,
        pod.name,
        transition,
        pod.phase,
        pod.ready,
        pod.deleting,
        pod.pod_ip,
        pod.owner,
        pod.revision,
        pod.restarts,
        pod.readiness_probe,
        pod.prestop_s,
        pod.last_exit_code,
        pod.last_message,
    )


# --- rollouts -----------------------------------------------------------------------------


class RolloutPhase(Enum):
    PROGRESSING = "progressing"
    COMPLETE = "complete"
    DEADLINE_EXCEEDED = "deadline-exceeded"


class RolloutProgress(NamedTuple):
    """What ``kubectl rollout status`` would say of a Deployment."""

    phase: RolloutPhase
    message: str  # kubectl's wording


def rollout_progress(obj: RawObject) -> RolloutProgress:
    """``kubectl rollout status`` for a Deployment: generation observed, no progress
    deadline exceeded, updated >= spec, status.replicas <= updated, available >= updated."""
    body = cast(DeploymentBody, obj)
    spec, status, name = body.get("spec") or {}, body.get("status") or {}, meta(obj).get("name")
    if meta(obj).get("generation", 0) > status.get("observedGeneration", 0):
        return _progressing("Waiting for deployment spec update to be observed...")
    if _progressing_reason(status.get("conditions")) == "ProgressDeadlineExceeded":
        return RolloutProgress(
            RolloutPhase.DEADLINE_EXCEEDED, f'deployment "{name}" exceeded its progress deadline'
        )
    wanted, updated = spec.get("replicas", 1), status.get("updatedReplicas", 0)
    replicas, available = status.get("replicas", 0), status.get("availableReplicas", 0)
    if updated < wanted:
        return _progressing(f"{updated} out of {wanted} new replicas have been updated...")
    if replicas > updated:
        return _progressing(f"{replicas - updated} old replicas are pending termination...")
    if available < updated:
        return _progressing(f"{available} of {updated} updated replicas are available...")
    return RolloutProgress(RolloutPhase.COMPLETE, f'deployment "{name}" successfully rolled out')


def _progressing(message: str) -> RolloutProgress:
    return RolloutProgress(RolloutPhase.PROGRESSING, f"Waiting for rollout to finish: {message}")


def _progressing_reason(conditions: list[Condition] | None) -> str | None:
    return next((c.get("reason") for c in conditions or [] if c.get("type") == "Progressing"), None)


# --- replicas -----------------------------------------------------------------------------


class ReplicaValues(NamedTuple):
    """A ``replicas`` row without its ``t_ms``: what is compared to drop repeats."""

    kind: ReplicaKind
    name: str
    desired: int | None
    current: int | None
    ready: int | None
    available: int | None
    updated: int | None
    min_replicas: int | None
    max_replicas: int | None
    metric_value: float | None
    metric_target: float | None
    revision: str | None
    rollout_complete: bool | None
    deleted: bool
    metric_name: str | None = None

    def row(self, t_ms: int) -> ReplicaRow:
        return ReplicaRow(t_ms, *self)


def deployment_values(obj: RawObject) -> ReplicaValues:
    body = cast(DeploymentBody, obj)
    spec, status, metadata = body.get("spec") or {}, body.get("status") or {}, meta(obj)
    complete = rollout_progress(obj).phase is RolloutPhase.COMPLETE
    return ReplicaValues(
        ReplicaKind.DEPLOYMENT,
        metadata.get("name", ""),
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        status.get("availableReplicas", 0),
        status.get("updatedReplicas", 0),
        None,
        None,
        None,
        None,
        (metadata.get("annotations") or {}).get(REVISION_ANNOTATION),
        complete,
        False,
    )


def replicaset_values(obj: RawObject) -> ReplicaValues:
    body = cast(DeploymentBody, obj)
    spec, status, metadata = body.get("spec") or {}, body.get("status") or {}, meta(obj)
    return ReplicaValues(
        ReplicaKind.REPLICA_SET,
        metadata.get("name", ""),
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        status.get("availableReplicas", 0),
        None,
        None,
        None,
        None,
        None,
        (metadata.get("annotations") or {}).get(REVISION_ANNOTATION),
        None,
        False,
    )


def hpa_values(obj: RawObject) -> ReplicaValues:
    """HPA state; the metric is its leading resource metric (``leading_metric``)."""
    body = cast(HpaBody, obj)
    spec, status = body.get("spec") or {}, body.get("status") or {}
    leading = leading_metric(body)
    return ReplicaValues(
        ReplicaKind.HPA,
        meta(obj).get("name", ""),
        status.get("desiredReplicas"),
        status.get("currentReplicas"),
        None,
        None,
        None,
        spec.get("minReplicas", 1),
        spec.get("maxReplicas"),
        leading.value,
        leading.target,
        None,
        None,
        False,
        leading.name,
    )


class LeadingMetric(NamedTuple):
    """The HPA metric recorded in a ``replicas`` row, ``value`` and ``target`` in percent:
    for a Utilization target ``name`` is the resource (``cpu``, ``memory``) and the
    percents are of the pods' requests, as ``status.currentMetrics`` reports them; for an
    AverageValue target ``name`` is e.g. ``memory average value`` and the value is percent
    of the target value, ``target`` 100 (``AVERAGE_VALUE``)."""

    name: str | None
    value: float | None
    target: float | None


def leading_metric(body: HpaBody) -> LeadingMetric:
    """Of the HPA's ``Resource`` metrics, the one furthest above (or least below) its
    target: the one whose proposal is the largest, as the HPA takes the largest (the pod
    counts aside). Before any is measured, the first one's target. Pods, Object and
    External metrics are not recorded."""
    currents = {
        (m.get("resource") or {}).get("name"): (m.get("resource") or {}).get("current") or {}
        for m in (body.get("status") or {}).get("currentMetrics") or []
        if m.get("type") == "Resource"
    }
    measured: list[LeadingMetric] = []
    for metric in (body.get("spec") or {}).get("metrics") or []:
        resource = metric.get("resource") or {}
        if metric.get("type") != "Resource" or "name" not in resource:
            continue
        measured.append(_percent(resource, currents.get(resource["name"], {})))
    if not measured:
        return LeadingMetric(None, None, None)
    known = [m for m in measured if m.value is not None and m.target]
    if not known:
        return measured[0]
    return max(known, key=lambda m: (m.value or 0.0) / (m.target or 1.0))


def _percent(resource: ResourceMetricSource, current: MetricValueStatus) -> LeadingMetric:
    name, target = resource.get("name"), resource.get("target") or {}
    if target.get("type") == "AverageValue":
        value = _ratio_pct(current.get("averageValue"), target.get("averageValue"))
        return LeadingMetric(f"{name}{AVERAGE_VALUE}", value, 100.0)
    utilization = current.get("averageUtilization")
    wanted = target.get("averageUtilization")
    return LeadingMetric(
        name,
        None if utilization is None else float(utilization),
        None if wanted is None else float(wanted),
    )


def _ratio_pct(value: str | None, target: str | None) -> float | None:
    """``value`` as percent of ``target`` (Kubernetes quantities); None if either is
    missing or not a quantity."""
    if value is None or target is None:
        return None
    try:
        wanted: Decimal = parse_quantity(target)  # type: ignore[no-untyped-call]
        used: Decimal = parse_quantity(value)  # type: ignore[no-untyped-call]
    except (ValueError, ArithmeticError):
        return None
    return float(used * 100 / wanted) if wanted else None


# --- endpoints ----------------------------------------------------------------------------


class Endpoint(NamedTuple):
    """One endpoint of a slice, named by its pod (or its first address without one)."""

    pod: str
    ready: bool
    serving: bool
    terminating: bool


class SliceState(NamedTuple):
    service: str
    endpoints: tuple[Endpoint, ...]


def slice_state(obj: RawObject) -> SliceState | None:
    """The slice's endpoints, or None for a slice that belongs to no Service."""
    service = (meta(obj).get("labels") or {}).get(SERVICE_NAME_LABEL)
    if not service:
        return None
    endpoints = cast(EndpointSliceBody, obj).get("endpoints") or []
    return SliceState(service, tuple(_endpoint(e) for e in endpoints))


def _endpoint(body: EndpointBody) -> Endpoint:
    """Upstream semantics: ready unset means ready, serving unset means ``ready``,
    terminating unset means not terminating."""
    conditions = body.get("conditions") or {}
    ready = conditions.get("ready")
    ready = True if ready is None else ready
    serving = conditions.get("serving")
    name = (body.get("targetRef") or {}).get("name") or next(iter(body.get("addresses") or []), "")
    return Endpoint(
        pod=name,
        ready=ready,
        serving=ready if serving is None else serving,
        terminating=bool(conditions.get("terminating")),
    )


class ServiceEndpoints(NamedTuple):
    """An ``endpoints`` row without ``t_ms`` and ``service``: what is compared to drop
    repeats."""

    ready: int
    serving: int
    terminating: int
    ready_pods: str
    terminating_pods: str

    def row(self, t_ms: int, service: str) -> EndpointRow:
        return EndpointRow(t_ms, service, *self)


def service_endpoints(slices: Iterable[SliceState]) -> ServiceEndpoints:
    """Counts over all slices of one Service; an endpoint listed in two slices (while the
    controller moves it) counts once, as kube-proxy counts it."""
    endpoints: dict[str, Endpoint] = {}
    for state in slices:
        for endpoint in state.endpoints:
            endpoints.setdefault(endpoint.pod, endpoint)
    ready = sorted(e.pod for e in endpoints.values() if e.ready)
    terminating = sorted(e.pod for e in endpoints.values() if e.terminating)
    serving = sum(1 for e in endpoints.values() if e.serving)
    return ServiceEndpoints(
        len(ready), serving, len(terminating), ",".join(ready), ",".join(terminating)
    )


# --- events -------------------------------------------------------------------------------


def event_row(t_ms: int, obj: RawObject) -> EventRow:
    """An ``events`` row: source ``kubernetes``, kind = reason, name = ``Kind/name``, the
    message on one line and at most ``ERROR_TEXT_MAX`` characters."""
    body = cast(EventBody, obj)
    involved = body.get("involvedObject") or {}
    name = f"{involved.get('kind', '')}/{involved.get('name', '')}"
    message = shorten(body.get("message") or "", ERROR_TEXT_MAX)
    return EventRow(t_ms, EventSource.KUBERNETES, body.get("reason") or "", name, message)


def event_count(obj: RawObject) -> int:
    """How many times the Event occurred (a repeat bumps ``count`` on the same object)."""
    return int(cast(EventBody, obj).get("count") or 1)
