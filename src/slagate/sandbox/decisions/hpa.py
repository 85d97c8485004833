"""One HorizontalPodAutoscaler sync (autoscaling/v2, CPU resource metric), as a pure function.

``decide_scale`` is upstream ``reconcileAutoscaler`` without the I/O: it takes the HPA spec,
the target's ``scale.spec.replicas``, the selected pods with their CPU samples, ``now_s`` and
the controller's memory, and returns the count to write to the scale subresource, the new
memory and the status to write. No clients, no clock reads, no logging.

Covered: the ScalingDisabled and out-of-[min, max] short cuts, the calculator
(``hpa_replicas``), the legacy and behavior normalizations (``hpa_behavior``), conditions
AbleToScale / ScalingActive / ScalingLimited with upstream reasons and messages, and
currentMetrics. One metric per HPA (CPU); upstream takes the max over several metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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
    CalculatorSettings,
    CpuTarget,
    MetricFailure,
    PodSample,
    Proposal,
    propose_replicas,
)

ABLE_TO_SCALE = "AbleToScale"
SCALING_ACTIVE = "ScalingActive"
SCALING_LIMITED = "ScalingLimited"
METRIC_NAME = "cpu resource utilization (percentage of request)"
RAW_METRIC_NAME = "cpu resource"


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
class HPASpec:
    """The parts of ``spec`` the decision reads. ``min_replicas`` defaults to 1 upstream."""

    max_replicas: int
    min_replicas: int = 1
    target: CpuTarget = field(default_factory=CpuTarget)
    behavior: Behavior | None = None


@dataclass(frozen=True)
class MetricValue:
    """``status.currentMetrics[0].resource.current`` for cpu.

    ``average_value`` is a Kubernetes quantity string, e.g. ``"123m"``.
    """

    average_value: str
    average_utilization: int | None


@dataclass(frozen=True)
class HPADecision:
    """What one sync decided.

    ``rescale``: write ``desired_replicas`` to scale.spec.replicas and set
    status.lastScaleTime to now. ``desired_replicas`` is status.desiredReplicas (the current
    count when not rescaling). ``conditions`` is the full new status.conditions list.
    ``reason`` explains the decision to a human (upstream's rescale reason when rescaling).
    ``error`` is set when the metric could not be computed; upstream then leaves
    status.desiredReplicas as it was.
    """

    desired_replicas: int
    rescale: bool
    memory: HPAMemory
    conditions: tuple[Condition, ...]
    current_metric: MetricValue | None
    reason: str
    error: str | None = None


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
        return _rescaled(sync, spec.max_replicas, memory, conditions, (None, reason))
    if current_replicas < spec.min_replicas:
        reason = "Current number of replicas below Spec.MinReplicas"
        return _rescaled(sync, spec.min_replicas, memory, conditions, (None, reason))
    return _from_metrics(sync, memory, conditions)


def _disabled(memory: HPAMemory, conditions: tuple[Condition, ...], now_s: float) -> HPADecision:
    """A target scaled to zero by hand switches the HPA off (min > 0)."""
    conditions = _set(conditions, SCALING_ACTIVE, False, "ScalingDisabled", now_s)
    reason = "scaling is disabled since the replica count of the target is zero"
    return HPADecision(0, False, memory, conditions, None, reason)


def _from_metrics(sync: _Sync, memory: HPAMemory, conditions: tuple[Condition, ...]) -> HPADecision:
    """Propose from the CPU metric, normalize, and rescale if the count changes."""
    current = sync.bounds.current
    calc = sync.settings.calculator
    proposal = propose_replicas(sync.spec.target, current, sync.pods, sync.now_s, calc)
    if isinstance(proposal, MetricFailure):
        return _failed(current, proposal, memory, conditions, sync.now_s)
    name = RAW_METRIC_NAME if sync.spec.target.average_value_m is not None else METRIC_NAME
    message = f"the HPA was able to successfully calculate a replica count from {name}"
    conditions = _set(conditions, SCALING_ACTIVE, True, "ValidMetricFound", sync.now_s, message)
    normalized = _normalize(sync, proposal.replicas, memory)
    conditions = _set_normalized(conditions, normalized, sync.now_s)
    metric = (_metric_value(proposal), _rescale_reason(current, proposal.replicas, name))
    if normalized.replicas == current:
        return HPADecision(current, False, normalized.memory, conditions, metric[0], metric[1])
    return _rescaled(sync, normalized.replicas, normalized.memory, conditions, metric)


def _failed(
    current: int,
    failure: MetricFailure,
    memory: HPAMemory,
    conditions: tuple[Condition, ...],
    now_s: float,
) -> HPADecision:
    """No usable metric: keep the count, ScalingActive=False FailedGetResourceMetric."""
    error = f"failed to get cpu utilization: {failure.message}"
    message = f"the HPA was unable to compute the replica count: {error}"
    conditions = _set(conditions, SCALING_ACTIVE, False, "FailedGetResourceMetric", now_s, message)
    return HPADecision(current, False, memory, conditions, None, error, error)


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


def _rescaled(
    sync: _Sync,
    desired: int,
    memory: HPAMemory,
    conditions: tuple[Condition, ...],
    metric: tuple[MetricValue | None, str],
) -> HPADecision:
    """A rescale: AbleToScale SucceededRescale, and a scale event for the rate limits."""
    message = f"the HPA controller was able to update the target scale to {desired}"
    conditions = _set(conditions, ABLE_TO_SCALE, True, "SucceededRescale", sync.now_s, message)
    current, behavior = sync.bounds.current, sync.spec.behavior
    if behavior is not None:
        rules = _rules(behavior, sync.settings.downscale_stabilization_s)
        memory = store_scale_event(memory, current, desired, sync.now_s, rules)
    return HPADecision(desired, True, memory, conditions, metric[0], metric[1])


def _rescale_reason(current: int, proposed: int, name: str) -> str:
    """Upstream's event reason, from the raw proposal (before normalization)."""
    if proposed > current:
        return f"{name} above target"
    if proposed < current:
        return "All metrics below target"
    return f"{name} proposes the current replica count"


def _metric_value(proposal: Proposal) -> MetricValue:
    return MetricValue(format_millis(proposal.average_value_m), proposal.utilization_pct)


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
