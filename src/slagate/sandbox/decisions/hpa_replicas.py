"""The HPA replica calculator for resource metrics (upstream ``replica_calculator.go``).

Given the pods behind the scale target, their CPU or memory samples and a target, propose
a replica count. Both resources are computed in milli-units, as upstream computes them
(``Quantity.MilliValue``): millicores for CPU, thousandths of a byte for memory.
Pure: ``now_s`` is passed in; nothing is read from a clock or the API.

Arithmetic follows upstream exactly, because the sandbox's verdicts must transfer to a real
cluster: utilization is an integer percent, ``int(100 * sum(usage) / sum(request))``;
the average value is ``sum(usage) // n`` millicores; the usage ratio is a float64 division
and the proposal is ``ceil(ratio * pods)`` on floats, as Go computes it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

from slagate.sandbox.decisions.pods import PodPhase


class PodGroup(enum.Enum):
    """How the calculator treats a pod (upstream ``groupPods``)."""

    IGNORED = "ignored"  # being deleted or Failed: left out entirely
    UNREADY = "unready"  # Pending, or CPU not yet trustworthy: 0% on scale-up, else left out
    MISSING = "missing"  # no metric: 0% on scale-up, max(100%, target) on scale-down
    READY = "ready"  # its metric counts as measured


@dataclass(frozen=True)
class PodSample:
    """One pod selected by the scale target, with its latest CPU sample.

    ``ready`` is the Ready condition status (None: the pod has no Ready condition yet) and
    ``ready_transition_s`` its lastTransitionTime. ``start_s`` is status.startTime (None
    before the kubelet set it). ``cpu_usage_m`` is the metrics API usage in millicores
    (None: no metric for this pod), measured over ``[metric_timestamp_s -
    metric_window_s, metric_timestamp_s]``. ``cpu_request_m`` is the sum of its containers'
    CPU requests in millicores (None: a container has no request, which upstream rejects).
    ``memory_usage_m`` and ``memory_request_m`` are the same for memory, in milli-bytes
    (bytes times 1000, upstream's ``MilliValue``); memory shares the CPU sample's timestamp
    and window, as metrics-server reports both in one PodMetrics.
    """

    name: str
    phase: PodPhase = PodPhase.RUNNING
    ready: bool | None = True
    ready_transition_s: float = 0.0
    start_s: float | None = 0.0
    deleting: bool = False
    cpu_usage_m: int | None = None
    metric_timestamp_s: float = 0.0
    metric_window_s: float = 15.0
    cpu_request_m: int | None = None
    memory_usage_m: int | None = None
    memory_request_m: int | None = None


class Resource(enum.Enum):
    """The resources a ``Resource`` metric can name that the sandbox measures."""

    CPU = "cpu"
    MEMORY = "memory"


@dataclass(frozen=True)
class ResourceTarget:
    """The target of one ``Resource`` metric of the HPA.

    ``average_value_m`` (AverageValue, milli-units per pod: millicores, milli-bytes) wins
    over ``utilization_pct`` (Utilization, percent of the request) when both are set, as
    upstream; neither set is an invalid metric. The API default for an HPA without metrics
    is 80% CPU utilization.
    """

    utilization_pct: int | None = 80
    average_value_m: int | None = None
    resource: Resource = Resource.CPU


@dataclass(frozen=True)
class CalculatorSettings:
    """The kube-controller-manager flags the calculator reads.

    ``tolerance``: --horizontal-pod-autoscaler-tolerance; ratios in ``[1 - t, 1 + t]`` keep
    the current count, so metric noise does not flap the workload.
    ``cpu_initialization_period_s``: --horizontal-pod-autoscaler-cpu-initialization-period;
    within it after startTime a pod's CPU only counts once it is Ready and a full metric
    window has passed since it became Ready (startup CPU spikes would over-scale).
    ``initial_readiness_delay_s``: --horizontal-pod-autoscaler-initial-readiness-delay;
    after the initialization period an unready pod is left out only if it went unready
    within this delay of starting, i.e. it has never been ready.
    """

    tolerance: float = 0.1
    cpu_initialization_period_s: float = 300.0
    initial_readiness_delay_s: float = 30.0


@dataclass(frozen=True)
class Proposal:
    """What one metric proposes.

    ``utilization_pct`` (None for an AverageValue target) and ``average_value_m`` are the
    measured values over ready pods, as status.currentMetrics reports them.
    """

    replicas: int
    utilization_pct: int | None
    average_value_m: int


def no_metrics(resource: Resource) -> str:
    """Upstream's error when the resource metrics API returns no sample for the selector."""
    return (
        f"unable to get metrics for resource {resource.value}: "
        "no metrics returned from resource metrics API"
    )


@dataclass(frozen=True)
class MetricFailure:
    """The metric could not be computed; ``message`` says why (upstream's error text)."""

    message: str


def classify_pod(
    pod: PodSample,
    now_s: float,
    settings: CalculatorSettings,
    resource: Resource = Resource.CPU,
) -> PodGroup:
    """Which group ``pod`` falls in at ``now_s`` (upstream ``groupPods``): only CPU has the
    start-up rules; for memory a Running pod with a sample counts, ready or not."""
    if pod.deleting or pod.phase is PodPhase.FAILED:
        return PodGroup.IGNORED
    if pod.phase is PodPhase.PENDING:
        return PodGroup.UNREADY
    if usage_of(pod, resource) is None:
        return PodGroup.MISSING
    if resource is Resource.CPU and _cpu_unready(pod, now_s, settings):
        return PodGroup.UNREADY
    return PodGroup.READY


def usage_of(pod: PodSample, resource: Resource) -> int | None:
    """The pod's sampled usage of ``resource`` in milli-units (None: no metric)."""
    return pod.cpu_usage_m if resource is Resource.CPU else pod.memory_usage_m


def request_of(pod: PodSample, resource: Resource) -> int | None:
    """The pod's summed request of ``resource`` in milli-units (None: a container has none)."""
    return pod.cpu_request_m if resource is Resource.CPU else pod.memory_request_m


def _cpu_unready(pod: PodSample, now_s: float, settings: CalculatorSettings) -> bool:
    """Whether a pod's CPU sample is not trustworthy yet (startup CPU, never ready)."""
    if pod.ready is None or pod.start_s is None:
        return True
    if pod.start_s + settings.cpu_initialization_period_s > now_s:
        window_end = pod.ready_transition_s + pod.metric_window_s
        return not pod.ready or pod.metric_timestamp_s < window_end
    never_ready = pod.start_s + settings.initial_readiness_delay_s > pod.ready_transition_s
    return not pod.ready and never_ready


def propose_replicas(
    target: ResourceTarget,
    current_replicas: int,
    pods: Sequence[PodSample],
    now_s: float,
    settings: CalculatorSettings,
) -> Proposal | MetricFailure:
    """The replica count one resource metric proposes (upstream ``GetResourceReplicas``
    and ``GetRawResourceReplicas``), or why it cannot.

    Upstream asks the metrics API first: when it returns no sample at all (no pods, or none
    with a metric yet) that error wins over every check on the pods themselves.
    """
    resource = target.resource
    if all(usage_of(p, resource) is None for p in pods):
        return MetricFailure(no_metrics(resource))
    if target.average_value_m is not None:
        rule: _Utilization | _Plain = _Plain(resource, target.average_value_m)
        return _propose(rule, current_replicas, pods, now_s, settings)
    if target.utilization_pct is None:
        return MetricFailure(INVALID_TARGET)
    missing = [p.name for p in pods if request_of(p, resource) is None]
    if missing:
        return MetricFailure(f"missing request for {resource.value} in Pod {missing[0]}")
    rule = _Utilization(resource, target.utilization_pct)
    return _propose(rule, current_replicas, pods, now_s, settings)


INVALID_TARGET = (
    "invalid resource metric source: neither an average utilization target nor an "
    "average value (usage) target was set"
)
"""Upstream's error for a resource metric target without a value."""


@dataclass(frozen=True)
class _Utilization:
    """Utilization target: the ratio is integer percent of the summed requests / target."""

    resource: Resource
    target_pct: int

    def ratio(self, usage: dict[str, int], pods: dict[str, PodSample]) -> float:
        return self.percent(usage, pods) / self.target_pct

    def percent(self, usage: dict[str, int], pods: dict[str, PodSample]) -> int:
        requests = sum(self.request(pods[name]) for name in usage)
        return sum(usage.values()) * 100 // requests if requests else 0

    def scale_down_fill(self, pod: PodSample) -> int:
        """Missing pods on scale-down use max(100%, target) of their request."""
        return self.request(pod) * max(100, self.target_pct) // 100

    def request(self, pod: PodSample) -> int:
        return request_of(pod, self.resource) or 0


@dataclass(frozen=True)
class _Plain:
    """AverageValue target: the ratio is the integer mean usage / target, in milli-units."""

    resource: Resource
    target_m: int

    def ratio(self, usage: dict[str, int], pods: dict[str, PodSample]) -> float:
        return (sum(usage.values()) // len(usage)) / self.target_m

    def percent(self, usage: dict[str, int], pods: dict[str, PodSample]) -> None:
        return None

    def scale_down_fill(self, pod: PodSample) -> int:
        """Missing pods on scale-down use exactly the target."""
        return self.target_m


def _propose(
    rule: _Utilization | _Plain,
    current: int,
    pods: Sequence[PodSample],
    now_s: float,
    settings: CalculatorSettings,
) -> Proposal | MetricFailure:
    """The shared algorithm of both target types, after upstream's two functions."""
    groups = {p.name: classify_pod(p, now_s, settings, rule.resource) for p in pods}
    by_name = {p.name: p for p in pods}
    usage = {
        n: usage_of(by_name[n], rule.resource) or 0
        for n, g in groups.items()
        if g is PodGroup.READY
    }
    if not usage:
        return MetricFailure("did not receive metrics for targeted pods (pods might be unready)")
    if isinstance(rule, _Utilization) and not sum(rule.request(by_name[n]) for n in usage):
        return MetricFailure("no metrics returned matched known pods")
    ratio = rule.ratio(usage, by_name)
    measured = (rule.percent(usage, by_name), sum(usage.values()) // len(usage))
    replicas = _replicas(rule, current, ratio, usage, groups, by_name, settings.tolerance)
    return Proposal(replicas, *measured)


def _replicas(
    rule: _Utilization | _Plain,
    current: int,
    ratio: float,
    usage: dict[str, int],
    groups: dict[str, PodGroup],
    pods: dict[str, PodSample],
    tolerance: float,
) -> int:
    """Apply tolerance, then the missing/unready re-computation with its direction checks."""
    unready = [n for n, g in groups.items() if g is PodGroup.UNREADY]
    missing = [n for n, g in groups.items() if g is PodGroup.MISSING]
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        return current if _within(ratio, tolerance) else math.ceil(ratio * len(usage))
    filled = dict(usage)
    if ratio < 1.0:
        filled.update({n: rule.scale_down_fill(pods[n]) for n in missing})
    elif ratio > 1.0:
        filled.update(dict.fromkeys(missing, 0))
    if scale_up_with_unready:
        filled.update(dict.fromkeys(unready, 0))
    return _recomputed(current, ratio, rule.ratio(filled, pods), len(filled), tolerance)


def _recomputed(current: int, ratio: float, new_ratio: float, n: int, tolerance: float) -> int:
    """Keep ``current`` if the re-computed ratio is within tolerance or flips direction."""
    flipped = (ratio < 1.0 < new_ratio) or (new_ratio < 1.0 < ratio)
    if _within(new_ratio, tolerance) or flipped:
        return current
    proposed = math.ceil(new_ratio * n)
    if (new_ratio < 1.0 and proposed > current) or (new_ratio > 1.0 and proposed < current):
        return current
    return proposed


def _within(ratio: float, tolerance: float) -> bool:
    """Upstream ``Tolerances.isWithin``: ``1 - t <= ratio <= 1 + t`` on float64.

    Both ends are inclusive: ``1.0 + 0.1 == 1.1`` in float64, so 110% of a 100% target
    keeps the current count, and 111% does not.
    """
    return (1.0 - tolerance) <= ratio <= (1.0 + tolerance)
