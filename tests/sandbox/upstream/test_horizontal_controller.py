"""Upstream's HPA controller cases for the CPU resource metric, replayed against
``decisions.hpa.decide_scale`` (one sync of a fresh controller).

Source: kubernetes/kubernetes pkg/controller/podautoscaler/horizontal_test.go, read as
stored blob 82418915 of the search index (see test_horizontal.py). Replayed: TestScaleUp,
TestScaleUpUnreadyLessScale, TestScaleUpHotCpuLessScale, TestScaleUpUnreadyNoScale,
TestScaleUpHotCpuNoScale, TestScaleUpIgnoresFailedPods, TestScaleUpIgnoresDeletionPods,
TestScaleUpDeployment, TestScaleUpReplicaSet, TestScaleDown, TestScaleDownWithScalingRules,
TestScaleDownStabilizeInitialSize, TestScaleDownIncludeUnreadyPods,
TestScaleDownIgnoreHotCpuPods, TestScaleDownIgnoresFailedPods,
TestScaleDownIgnoresDeletionPods, TestTolerance, TestMinReplicas,
TestZeroMinReplicasDesiredZero, TestMinReplicasDesiredZero, TestZeroReplicas (the CPU
cases in the first half of the file, read up to TestTooFewReplicas); and the cases with
several metrics among them: TestScaleUpOneMetricInvalid,
TestScaleUpFromZeroOneMetricInvalid, TestScaleUpBothMetricsEmpty. Compared: the
desired replicas, the CPU utilization reported in currentMetrics, and the conditions
(type, status, reason) upstream compares with their messages cleared. Inputs and
expected outputs are transcribed; the code is ours.

Upstream's harness, restated: each pod requests ``reportedCPURequests[i]`` (default 1.0)
and uses ``reportedLevels[i]`` millicores, both split over two containers; the Ready
condition's lastTransitionTime and the pod's startTime are ``reportedPodStartTime[i]``
(default the zero time); samples are taken now over a one-minute window; the controller
has no recommendation yet, so it records the current count first (a fresh
kube-controller-manager), except where a case gives it an empty log (see WARM below).
Flags: tolerance 0.1, CPU initialization period 2 min, initial readiness delay 10 s,
downscale stabilization 5 min. The scale target's kind
(ReplicationController, Deployment, ReplicaSet) does not enter the decision.

Not replayed here: the cases of the same file built on container, pods, object or
external metrics (the sandbox serves no such API), events, backoff, scale-subresource failures and
selectors; and those that upstream runs with its test-only ``scaleUpLimitFactor = 8``
where the sandbox keeps upstream's real factor 2 (none of the cases above reaches either
limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pytest

from slagate.sandbox.decisions.hpa import (
    HPASettings,
    HPASpec,
    MetricTarget,
    UnservedMetric,
    decide_scale,
)
from slagate.sandbox.decisions.hpa_behavior import (
    Behavior,
    HPAMemory,
    PolicyType,
    Recommendation,
    ScalingPolicy,
    ScalingRules,
    SelectPolicy,
)
from slagate.sandbox.decisions.hpa_replicas import CalculatorSettings, PodSample, ResourceTarget
from slagate.sandbox.decisions.pods import PodPhase

NOW = 100_000.0
ZERO, HOT, COOL = 0.0, NOW, NOW - 180.0
SETTINGS = HPASettings(
    CalculatorSettings(
        tolerance=0.1, cpu_initialization_period_s=120.0, initial_readiness_delay_s=10.0
    ),
    downscale_stabilization_s=300.0,
)
R, F = PodPhase.RUNNING, PodPhase.FAILED
T = TypeVar("T")

STATUS_OK = (
    ("AbleToScale", True, "SucceededRescale"),
    ("ScalingActive", True, "ValidMetricFound"),
    ("ScalingLimited", False, "DesiredWithinRange"),
)
READY_FOR_NEW_SCALE = (("AbleToScale", True, "ReadyForNewScale"), *STATUS_OK[1:])
STABILIZED = (("AbleToScale", True, "ScaleDownStabilized"), *STATUS_OK[1:])
TOO_FEW = (*STATUS_OK[:2], ("ScalingLimited", True, "TooFewReplicas"))
SCALING_DISABLED = (
    ("AbleToScale", True, "SucceededGetScale"),
    ("ScalingActive", False, "ScalingDisabled"),
)
# generateScalingRules(0, 0, 100, 15, 30) as scaleUp; scaleDown takes the defaults.
UP_RULES = Behavior(
    scale_up=ScalingRules(30, SelectPolicy.MAX, (ScalingPolicy(PolicyType.PERCENT, 100, 15),))
)


def _at(values: Sequence[T], i: int, default: T) -> T:
    return values[i] if i < len(values) else default


def pods(
    levels: Sequence[int],
    count: int,
    ready: Sequence[bool] = (),
    start: Sequence[float] = (),
    phase: Sequence[PodPhase] = (),
    deleting: Sequence[bool] = (),
    requests: Sequence[int] = (),
) -> list[PodSample]:
    """``count`` pods (1000m requested unless ``requests`` says otherwise); each
    container reports half its pod's level, rounded down; pods beyond ``levels`` have no
    sample."""

    samples = []
    for i in range(count):
        started = _at(start, i, ZERO)
        samples.append(
            PodSample(
                f"test-pod-{i}",
                phase=_at(phase, i, R),
                ready=_at(ready, i, True),
                ready_transition_s=started,
                start_s=started,
                deleting=_at(deleting, i, False),
                cpu_usage_m=2 * (levels[i] // 2) if i < len(levels) else None,
                metric_timestamp_s=NOW,
                metric_window_s=60.0,
                cpu_request_m=_at(requests, i, 1000),
            )
        )
    return samples


_CASES = [
    ("TestScaleUp", 2, 6, 3, pods((300, 500, 700), 3), 5, 50, STATUS_OK),
    (
        "TestScaleUpUnreadyLessScale",
        2,
        6,
        3,
        pods((300, 500, 700), 3, ready=(False, True, True)),
        4,
        60,
        STATUS_OK,
    ),
    (
        "TestScaleUpHotCpuLessScale",
        2,
        6,
        3,
        pods((300, 500, 700), 3, start=(HOT, COOL, COOL)),
        4,
        60,
        STATUS_OK,
    ),
    (
        "TestScaleUpUnreadyNoScale",
        2,
        6,
        3,
        pods((400, 500, 700), 3, ready=(True, False, False)),
        3,
        40,
        READY_FOR_NEW_SCALE,
    ),
    (
        "TestScaleUpHotCpuNoScale",
        2,
        6,
        3,
        pods((400, 500, 700), 3, ready=(True, False, False), start=(COOL, HOT, HOT)),
        3,
        40,
        READY_FOR_NEW_SCALE,
    ),
    (
        "TestScaleUpIgnoresFailedPods",
        2,
        6,
        2,
        pods((500, 700), 4, ready=(True, True, False, False), phase=(R, R, F, F)),
        4,
        60,
        STATUS_OK,
    ),
    (
        "TestScaleUpIgnoresDeletionPods",
        2,
        6,
        2,
        pods((500, 700), 4, ready=(True, True, False, False), deleting=(False, False, True, True)),
        4,
        60,
        STATUS_OK,
    ),
    ("TestScaleUpDeployment", 2, 6, 3, pods((300, 500, 700), 3), 5, 50, STATUS_OK),
    ("TestScaleUpReplicaSet", 2, 6, 3, pods((300, 500, 700), 3), 5, 50, STATUS_OK),
]

# Scale-down cases. Upstream gives them an empty but initialized recommendation log
# (``recommendations: []``), so the first sync does not record the current count; the
# sandbox's memory is empty only for a fresh controller, so WARM holds one recommendation
# older than every window instead, which no decision reads.
WARM = HPAMemory((Recommendation(99, NOW - 3600.0),))
FIVE = (100, 300, 500, 250, 250)
UNEVEN = (900, 1000, 1100)
_SCALE_DOWN = [
    ("TestScaleDown", 50, 2, 6, 5, pods(FIVE, 5), None, WARM, 3, 28, STATUS_OK),
    ("TestScaleDownWithScalingRules", 50, 2, 6, 5, pods(FIVE, 5), UP_RULES, WARM, 3, 28, STATUS_OK),
    (
        "TestScaleDownStabilizeInitialSize",
        50,
        2,
        6,
        5,
        pods(FIVE, 5),
        None,
        None,
        5,
        28,
        STABILIZED,
    ),
    (
        "TestScaleDownIncludeUnreadyPods",
        50,
        2,
        6,
        5,
        pods(FIVE, 5, ready=(True, True, True, False, False)),
        None,
        WARM,
        2,
        30,
        STATUS_OK,
    ),
    (
        "TestScaleDownIgnoreHotCpuPods",
        50,
        2,
        6,
        5,
        pods(FIVE, 5, start=(COOL, COOL, COOL, HOT, HOT)),
        None,
        WARM,
        2,
        30,
        STATUS_OK,
    ),
    (
        "TestScaleDownIgnoresFailedPods",
        50,
        2,
        6,
        5,
        pods(FIVE, 7, ready=(True,) * 5 + (False, False), phase=(R,) * 5 + (F, F)),
        None,
        WARM,
        3,
        28,
        STATUS_OK,
    ),
    (
        "TestScaleDownIgnoresDeletionPods",
        50,
        2,
        6,
        5,
        pods(FIVE, 7, ready=(True,) * 5 + (False, False), deleting=(False,) * 5 + (True, True)),
        None,
        WARM,
        3,
        28,
        STATUS_OK,
    ),
    (
        "TestTolerance",
        100,
        1,
        5,
        3,
        pods((1010, 1030, 1020), 3, requests=UNEVEN),
        None,
        None,
        3,
        None,
        READY_FOR_NEW_SCALE,
    ),
    (
        "TestMinReplicas",
        90,
        2,
        5,
        3,
        pods((10, 95, 10), 3, requests=UNEVEN),
        None,
        WARM,
        2,
        None,
        TOO_FEW,
    ),
    (
        "TestZeroMinReplicasDesiredZero",
        90,
        0,
        5,
        3,
        pods((0, 0, 0), 3, requests=UNEVEN),
        None,
        WARM,
        0,
        None,
        STATUS_OK,
    ),
    (
        "TestMinReplicasDesiredZero",
        90,
        2,
        5,
        3,
        pods((0, 0, 0), 3, requests=UNEVEN),
        None,
        WARM,
        2,
        None,
        TOO_FEW,
    ),
    ("TestZeroReplicas", 90, 3, 5, 0, [], None, None, 0, None, SCALING_DISABLED),
]

CASES = [pytest.param(*case[1:], id=str(case[0])) for case in _CASES]


@pytest.mark.parametrize(
    ("min_replicas", "max_replicas", "current", "samples", "desired", "cpu_pct", "conditions"),
    CASES,
)
def test_reconcile_autoscaler(
    min_replicas: int,
    max_replicas: int,
    current: int,
    samples: list[PodSample],
    desired: int,
    cpu_pct: int,
    conditions: tuple[tuple[str, bool, str], ...],
) -> None:
    """One sync with a 30% CPU utilization target."""
    spec = HPASpec(max_replicas, min_replicas, (ResourceTarget(30),))

    decision = decide_scale(spec, current, samples, NOW, settings=SETTINGS)

    assert decision.desired_replicas == desired
    assert decision.rescale is (desired != current)
    [metric] = decision.current_metrics
    assert metric.average_utilization == cpu_pct
    assert tuple((c.type, c.status, c.reason) for c in decision.conditions) == conditions


SCALE_DOWN = [pytest.param(*case[1:], id=str(case[0])) for case in _SCALE_DOWN]


@pytest.mark.parametrize(
    (
        "target_pct",
        "min_replicas",
        "max_replicas",
        "current",
        "samples",
        "behavior",
        "memory",
        "desired",
        "cpu_pct",
        "conditions",
    ),
    SCALE_DOWN,
)
def test_reconcile_autoscaler_down_and_bounds(
    target_pct: int,
    min_replicas: int,
    max_replicas: int,
    current: int,
    samples: list[PodSample],
    behavior: Behavior | None,
    memory: HPAMemory | None,
    desired: int,
    cpu_pct: int | None,
    conditions: tuple[tuple[str, bool, str], ...],
) -> None:
    """Scale-down, tolerance, min/max and disabled cases, each at its CPU target."""
    spec = HPASpec(max_replicas, min_replicas, (ResourceTarget(target_pct),), behavior)

    decision = decide_scale(spec, current, samples, NOW, memory=memory, settings=SETTINGS)

    assert decision.desired_replicas == desired
    assert decision.rescale is (desired != current)
    if cpu_pct is not None:
        [metric] = decision.current_metrics
        assert metric.average_utilization == cpu_pct
    assert tuple((c.type, c.status, c.reason) for c in decision.conditions) == conditions


# Multiple metrics (same file, read up to TestScaleUpBothMetricsEmpty): upstream's harness
# puts the CPU metric first when CPUTarget > 0 and appends ``metricsTarget``; the invalid
# type "CheddarCheese" is an invalid metric with reason InvalidMetricSourceType.
CHEDDAR = UnservedMetric("InvalidMetricSourceType", 'unknown metric source type "CheddarCheese"')
INVALID_TYPE = (
    ("AbleToScale", True, "SucceededGetScale"),
    ("ScalingActive", False, "InvalidMetricSourceType"),
)
_MULTI = [
    # name, metrics, min, max, current, samples, desired, conditions
    (
        "TestScaleUpOneMetricInvalid",
        (ResourceTarget(30), CHEDDAR),
        2,
        6,
        3,
        pods((300, 400, 500), 3),
        4,
        STATUS_OK,
    ),
    (
        "TestScaleUpFromZeroOneMetricInvalid",
        (ResourceTarget(30), CHEDDAR),
        0,
        6,
        0,
        pods((300, 400, 500), 3),
        4,
        STATUS_OK,
    ),
    ("TestScaleUpBothMetricsEmpty", (CHEDDAR,), 2, 6, 3, pods((), 3), 3, INVALID_TYPE),
]


@pytest.mark.parametrize(
    ("metrics", "min_replicas", "max_replicas", "current", "samples", "desired", "conditions"),
    [pytest.param(*case[1:], id=str(case[0])) for case in _MULTI],
)
def test_multiple_metrics(
    metrics: tuple[MetricTarget, ...],
    min_replicas: int,
    max_replicas: int,
    current: int,
    samples: list[PodSample],
    desired: int,
    conditions: tuple[tuple[str, bool, str], ...],
) -> None:
    """An invalid metric beside a valid one that scales up does not stop the scale-up;
    an HPA whose only metric is invalid keeps its count."""
    spec = HPASpec(max_replicas, min_replicas, metrics)

    decision = decide_scale(spec, current, samples, NOW, settings=SETTINGS)

    assert decision.desired_replicas == desired
    assert tuple((c.type, c.status, c.reason) for c in decision.conditions) == conditions
    assert [e.reason for e in decision.metric_errors] == ["InvalidMetricSourceType"]
