"""Upstream's HPA controller cases for the CPU resource metric, replayed against
``decisions.hpa.decide_scale`` (one sync of a fresh controller).

Source: kubernetes/kubernetes pkg/controller/podautoscaler/horizontal_test.go, read as
stored blob 82418915 of the search index (see test_horizontal.py). Replayed: TestScaleUp,
TestScaleUpUnreadyLessScale, TestScaleUpHotCpuLessScale, TestScaleUpUnreadyNoScale,
TestScaleUpHotCpuNoScale, TestScaleUpIgnoresFailedPods, TestScaleUpIgnoresDeletionPods,
TestScaleUpDeployment, TestScaleUpReplicaSet. Compared: the desired replicas, the CPU
utilization reported in currentMetrics, and the three conditions (type, status, reason)
upstream compares with their messages cleared. Inputs and expected outputs are
transcribed; the code is ours.

Upstream's harness, restated: each pod requests ``reportedCPURequests[i]`` (default 1.0)
and uses ``reportedLevels[i]`` millicores, both split over two containers; the Ready
condition's lastTransitionTime and the pod's startTime are ``reportedPodStartTime[i]``
(default the zero time); samples are taken now over a one-minute window; the controller
has no recommendation yet, so it records the current count first (a fresh
kube-controller-manager). Flags: tolerance 0.1, CPU initialization period 2 min, initial
readiness delay 10 s, downscale stabilization 5 min. The scale target's kind
(ReplicationController, Deployment, ReplicaSet) does not enter the decision.

Not replayed here: the cases of the same file built on container, pods, object or
external metrics, multiple metrics, events, backoff, scale-subresource failures and
selectors; and those that upstream runs with its test-only ``scaleUpLimitFactor = 8``
where the sandbox keeps upstream's real factor 2 (none of the cases above reaches either
limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pytest

from slagate.sandbox.decisions.hpa import HPASettings, HPASpec, decide_scale
from slagate.sandbox.decisions.hpa_replicas import CalculatorSettings, CpuTarget, PodSample
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


def _at(values: Sequence[T], i: int, default: T) -> T:
    return values[i] if i < len(values) else default


def pods(
    levels: Sequence[int],
    count: int,
    ready: Sequence[bool] = (),
    start: Sequence[float] = (),
    phase: Sequence[PodPhase] = (),
    deleting: Sequence[bool] = (),
) -> list[PodSample]:
    """``count`` pods requesting 1000m; pods beyond ``levels`` have no sample."""

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
                cpu_usage_m=levels[i] if i < len(levels) else None,
                metric_timestamp_s=NOW,
                metric_window_s=60.0,
                cpu_request_m=1000,
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
CASES = [pytest.param(*case[1:], id=case[0]) for case in _CASES]


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
    spec = HPASpec(max_replicas, min_replicas, CpuTarget(30))

    decision = decide_scale(spec, current, samples, NOW, settings=SETTINGS)

    assert decision.desired_replicas == desired
    assert decision.rescale is (desired != current)
    assert decision.current_metric is not None
    assert decision.current_metric.average_utilization == cpu_pct
    assert tuple((c.type, c.status, c.reason) for c in decision.conditions) == conditions
