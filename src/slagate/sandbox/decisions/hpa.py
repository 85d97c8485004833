"""One HorizontalPodAutoscaler sync (autoscaling/v2, resource metrics), as a pure function.

``decide_scale`` is upstream ``reconcileAutoscaler`` without the I/O: it takes the HPA spec,
the target's ``scale.spec.replicas``, the selected pods with their CPU and memory samples,
``now_s`` and the controller's memory, and returns the count to write to the scale
subresource, the new memory and the status to write. No clients, no clock reads, no logging.

Covered: the ScalingDisabled and out-of-[min, max] short cuts, the calculator
(``hpa_replicas``) once per metric and the largest proposal (upstream
``computeReplicasForMetrics``, rules in ``_over_metrics``), the legacy and behavior
normalizations (``hpa_behavior``), conditions AbleToScale / ScalingActive / ScalingLimited
with upstream reasons and messages, and currentMetrics. Metrics the sandbox has no source
for (``UnservedMetric``) are invalid metrics, as on a cluster without that metrics API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from slagate.sandbox.decisions.conditions import Condition, set_hpa_condition
from slagate.sandbox.decisions.hpa_behavior import (
    Behavior,
    Bounds,
    HPAMemory,
    Normalized,
    ResolvedRules,
    normalize_legacy,
    normalize_with_behavior,
    record_initial,
    resolve_scale_down,
    resolve_scale_up,
    store_scale_event,
)
from slagate.sandbox.decisions.hpa_replicas import (
    INVALID_TARGET,
    CalculatorSettings,
    MetricFailure,
    PodSample,
    Proposal,
    Resource,
    ResourceTarget,
    propose_replicas,
)

ABLE_TO_SCALE = "AbleToScale"
SCALING_ACTIVE = "ScalingActive"
SCALING_LIMITED = "ScalingLimited"
FAILED_RESOURCE_METRIC = "FailedGetResourceMetric"


@dataclass(frozen=True)
class HPASettings:
    """kube-controller-manager HPA flags, upstream defaults.

    ``calculator``: tolerance, cpu-initialization-period and initial-readiness-delay (see
    ``CalculatorSettings``). ``downscale_stabilization_s``:
    --horizontal-pod-autoscaler-downscale-stabilization, the legacy window and the default
    scaleDown window, so a brief dip in load does not remove pods it will need again.
    """

    calculator: CalculatorSettings = field(default_factory=CalculatorSettings)
    downscale_stabilization_s: float = 300.0


@dataclass(frozen=True)
class UnservedMetric:
    """A metric of ``spec.metrics`` the sandbox has no source for.

    ``Pods``, ``Object`` and ``External`` metrics need a custom or external metrics API,
    which the sandbox does not serve; ``ContainerResource`` and resources other than cpu
    and memory are not measured. Upstream, a metric it cannot fetch is an invalid metric:
    ``reason`` is the condition and Event reason upstream gives it (e.g.
    ``FailedGetPodsMetric``), ``message`` the error, naming what the sandbox lacks.
    """

    reason: str
    message: str


MetricTarget: TypeAlias = ResourceTarget | UnservedMetric
"""One entry of ``spec.metrics``, as the decision reads it."""


@dataclass(frozen=True)
class HPASpec:
    """The parts of ``spec`` the decision reads. ``min_replicas`` defaults to 1 upstream;
    ``metrics`` to one 80% CPU utilization metric (the API's default)."""

    max_replicas: int
    min_replicas: int = 1
    metrics: tuple[MetricTarget, ...] = (ResourceTarget(),)
    behavior: Behavior | None = None


@dataclass(frozen=True)
class MetricValue:
    """One ``status.currentMetrics[].resource`` entry: ``resource`` and its ``current``.

    ``average_value`` is a Kubernetes quantity string, e.g. ``"123m"``.
    """

    average_value: str
    average_utilization: int | None
    resource: Resource = Resource.CPU


@dataclass(frozen=True)
class MetricError:
    """Why one metric gave no proposal: ``reason`` for the Event and the condition
    (upstream's), ``message`` the error text."""

    reason: str
    message: str


@dataclass(frozen=True)
class HPADecision:
    """What one sync decided.

    ``rescale``: write ``desired_replicas`` to scale.spec.replicas and set
    status.lastScaleTime to now. ``desired_replicas`` is status.desiredReplicas (the current
    count when not rescaling). ``conditions`` is the full new status.conditions list.
    ``current_metrics`` are the metrics that could be computed, in ``spec.metrics`` order.
    ``reason`` explains the decision to a human (upstream's rescale reason when rescaling).
    ``metric_errors`` are the metrics that could not be computed (one Warning Event each).
    ``error`` is set when no count could be computed (every metric invalid, or some invalid
    while the others propose scaling down); upstream then leaves status.desiredReplicas as
    it was.
    """

    desired_replicas: int
    rescale: bool
    memory: HPAMemory
    conditions: tuple[Condition, ...]
    current_metrics: tuple[MetricValue, ...]
    reason: str
    error: str | None = None
    metric_errors: tuple[MetricError, ...] = ()


@dataclass(frozen=True)
class _Sync:
    """The inputs of one sync, bundled so helpers stay short."""

    spec: HPASpec
    bounds: Bounds
    pods: Sequence[PodSample]
    now_s: float
    settings: HPASettings


def decide_scale(
    spec: HPASpec,
    current_replicas: int,
    pods: Sequence[PodSample],
    now_s: float,
    *,
    memory: HPAMemory | None = None,
    conditions: tuple[Condition, ...] = (),
    settings: HPASettings | None = None,
) -> HPADecision:
    """Decide one HPA sync at ``now_s`` (seconds); pure.

    ``current_replicas`` is scale.spec.replicas, ``pods`` the pods its selector matches,
    ``memory`` what earlier syncs returned (None: a fresh controller), ``conditions`` the
    current status.conditions.
    """
    bounds = Bounds(current_replicas, spec.min_replicas, spec.max_replicas)
    sync = _Sync(spec, bounds, pods, now_s, settings or HPASettings())
    memory = record_initial(memory or HPAMemory(), current_replicas, now_s)
    conditions = _set(conditions, ABLE_TO_SCALE, True, "SucceededGetScale", now_s)
    if current_replicas == 0 and spec.min_replicas != 0:
        return _disabled(memory, conditions, now_s)
    if current_replicas > spec.max_replicas:
        reason = "Current number of replicas above Spec.MaxReplicas"
        kept = HPADecision(current_replicas, False, memory, conditions, (), reason)
        return _rescaled(sync, spec.max_replicas, kept)
    if current_replicas < spec.min_replicas:
        reason = "Current number of replicas below Spec.MinReplicas"
        kept = HPADecision(current_replicas, False, memory, conditions, (), reason)
        return _rescaled(sync, spec.min_replicas, kept)
    return _from_metrics(sync, memory, conditions)


def _disabled(memory: HPAMemory, conditions: tuple[Condition, ...], now_s: float) -> HPADecision:
    """A target scaled to zero by hand switches the HPA off (min > 0)."""
    conditions = _set(conditions, SCALING_ACTIVE, False, "ScalingDisabled", now_s)
    reason = "scaling is disabled since the replica count of the target is zero"
    return HPADecision(0, False, memory, conditions, (), reason)


@dataclass(frozen=True)
class _Computed:
    """What ``spec.metrics`` gave: the largest proposal and the name of its metric (None:
    no usable count), the values computed and the metrics that failed."""

    replicas: int | None
    name: str
    values: tuple[MetricValue, ...]
    errors: tuple[MetricError, ...]


def _from_metrics(sync: _Sync, memory: HPAMemory, conditions: tuple[Condition, ...]) -> HPADecision:
    """Propose from every metric, take the largest, normalize, and rescale if it changes."""
    current = sync.bounds.current
    computed = _over_metrics(sync)
    if computed.replicas is None:
        return _failed(current, computed, memory, conditions, sync.now_s)
    message = f"the HPA was able to successfully calculate a replica count from {computed.name}"
    conditions = _set(conditions, SCALING_ACTIVE, True, "ValidMetricFound", sync.now_s, message)
    normalized = _normalize(sync, computed.replicas, memory)
    conditions = _set_normalized(conditions, normalized, sync.now_s)
    reason = _rescale_reason(current, computed.replicas, computed.name)
    decided = HPADecision(
        current, False, normalized.memory, conditions, computed.values, reason,
        metric_errors=computed.errors,
    )  # fmt: skip
    if normalized.replicas == current:
        return decided
    return _rescaled(sync, normalized.replicas, decided)


def _over_metrics(sync: _Sync) -> _Computed:
    """Upstream ``computeReplicasForMetrics``: one proposal per metric, the largest wins
    (the first of equals names it). An invalid metric blocks the count when every metric
    is invalid, or when the valid ones propose fewer replicas than scale.spec.replicas:
    the HPA never scales down on partial information; scaling up on the valid ones goes on.
    """
    best: tuple[int, str] | None = None
    values: list[MetricValue] = []
    errors: list[MetricError] = []
    for metric in sync.spec.metrics:
        outcome = _one_metric(metric, sync)
        if isinstance(outcome, MetricError):
            errors.append(outcome)
            continue
        replicas, name, value = outcome
        values.append(value)
        if best is None or replicas > best[0]:
            best = (replicas, name)
    if best is None or (errors and best[0] < sync.bounds.current):
        return _Computed(None, "", tuple(values), tuple(errors))
    return _Computed(best[0], best[1], tuple(values), tuple(errors))


def _one_metric(metric: MetricTarget, sync: _Sync) -> tuple[int, str, MetricValue] | MetricError:
    """One metric's proposal, upstream's name for it and its value, or its error (upstream
    ``computeStatusForResourceMetricGeneric``'s wording)."""
    if isinstance(metric, UnservedMetric):
        return MetricError(metric.reason, metric.message)
    calc = sync.settings.calculator
    proposal = propose_replicas(metric, sync.bounds.current, sync.pods, sync.now_s, calc)
    resource = metric.resource.value
    raw = metric.average_value_m is not None
    if isinstance(proposal, MetricFailure):
        if proposal.message == INVALID_TARGET:
            return MetricError(FAILED_RESOURCE_METRIC, proposal.message)
        kind = "usage" if raw else "utilization"
        return MetricError(
            FAILED_RESOURCE_METRIC, f"failed to get {resource} {kind}: {proposal.message}"
        )
    name = (
        f"{resource} resource"
        if raw
        else f"{resource} resource utilization (percentage of request)"
    )
    return proposal.replicas, name, _metric_value(proposal, metric)


def _failed(
    current: int,
    computed: _Computed,
    memory: HPAMemory,
    conditions: tuple[Condition, ...],
    now_s: float,
) -> HPADecision:
    """No usable count: keep it; ScalingActive=False with the first invalid metric's
    reason (upstream ``getUnableComputeReplicaCountCondition``)."""
    first = computed.errors[0]
    message = f"the HPA was unable to compute the replica count: {first.message}"
    conditions = _set(conditions, SCALING_ACTIVE, False, first.reason, now_s, message)
    total = len(computed.values) + len(computed.errors)
    error = (
        f"invalid metrics ({len(computed.errors)} invalid out of {total}), "
        f"first error is: {first.message}"
    )
    return HPADecision(
        current, False, memory, conditions, computed.values, first.message, error,
        computed.errors,
    )  # fmt: skip


def _normalize(sync: _Sync, desired: int, memory: HPAMemory) -> Normalized:
    """The legacy path without spec.behavior, the behavior path with it."""
    window_s = sync.settings.downscale_stabilization_s
    if sync.spec.behavior is None:
        return normalize_legacy(sync.bounds, desired, memory, sync.now_s, window_s)
    rules = _rules(sync.spec.behavior, window_s)
    return normalize_with_behavior(sync.bounds, desired, memory, sync.now_s, rules)


def _rules(behavior: Behavior, window_s: float) -> tuple[ResolvedRules, ResolvedRules]:
    return resolve_scale_up(behavior.scale_up), resolve_scale_down(behavior.scale_down, window_s)


def _set_normalized(
    conditions: tuple[Condition, ...], normalized: Normalized, now_s: float
) -> tuple[Condition, ...]:
    """AbleToScale says whether stabilization held the count; ScalingLimited whether a
    bound or a rate limit did."""
    able = Condition(ABLE_TO_SCALE, True, normalized.able_reason, normalized.able_message)
    limited = Condition(
        SCALING_LIMITED, normalized.limited, normalized.limit_reason, normalized.limit_message
    )
    return set_hpa_condition(set_hpa_condition(conditions, able, now_s), limited, now_s)


def _rescaled(sync: _Sync, desired: int, decided: HPADecision) -> HPADecision:
    """A rescale: AbleToScale SucceededRescale, and a scale event for the rate limits."""
    message = f"the HPA controller was able to update the target scale to {desired}"
    conditions = _set(
        decided.conditions, ABLE_TO_SCALE, True, "SucceededRescale", sync.now_s, message
    )
    current, behavior, memory = sync.bounds.current, sync.spec.behavior, decided.memory
    if behavior is not None:
        rules = _rules(behavior, sync.settings.downscale_stabilization_s)
        memory = store_scale_event(memory, current, desired, sync.now_s, rules)
    return replace(
        decided, desired_replicas=desired, rescale=True, memory=memory, conditions=conditions
    )


def _rescale_reason(current: int, proposed: int, name: str) -> str:
    """Upstream's event reason, from the raw proposal (before normalization)."""
    if proposed > current:
        return f"{name} above target"
    if proposed < current:
        return "All metrics below target"
    return f"{name} proposes the current replica count"


def _metric_value(proposal: Proposal, target: ResourceTarget) -> MetricValue:
    value = format_millis(proposal.average_value_m)
    return MetricValue(value, proposal.utilization_pct, target.resource)


_MESSAGES = {
    "SucceededGetScale": "the HPA controller was able to get the target's current scale",
    "ScalingDisabled": "scaling is disabled since the replica count of the target is zero",
}


def _set(
    conditions: tuple[Condition, ...],
    type_: str,
    status: bool,
    reason: str,
    now_s: float,
    message: str = "",
) -> tuple[Condition, ...]:
    text = message or _MESSAGES[reason]
    return set_hpa_condition(conditions, Condition(type_, status, reason, text), now_s)


_SUFFIXES = ("", "k", "M", "G", "T", "P", "E")


def format_millis(millis: int) -> str:
    """A milli-value as its canonical Kubernetes DecimalSI quantity string.

    ``123 -> "123m"``, ``1500 -> "1500m"``, ``2000 -> "2"``, ``0 -> "0"``: the largest
    SI suffix that keeps the number whole, as ``resource.NewMilliQuantity(...).String()``.
    """
    if millis % 1000:
        return f"{millis}m"
    value, index = millis // 1000, 0
    while value and value % 1000 == 0 and index < len(_SUFFIXES) - 1:
        value, index = value // 1000, index + 1
    return f"{value}{_SUFFIXES[index]}"
