"""Upstream's replica calculator tables, replayed against ``decisions.hpa_replicas``.

Source: kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator_test.go, read
as stored blob 51982554829 of the search index, which gives no commit for it: the version
with ``calcScenario`` fixtures, per-direction ``Tolerances`` (added in 1.33) and the
four-way ``groupPods``. The inputs and
expected outputs below are transcribed; the code is ours.

How a fixture maps (upstream's test harness, restated):

- Every pod has two containers; a request of ``"1.0"`` is per container, so a pod requests
  2000m. ``makePodMetricLevels(300, ...)`` gives each container 300m, so the pod uses 600m.
  Hence the expected raw value ``numContainersPerPod * 500`` is 1000m here.
- Pod start time defaults to the zero time (long ago); the Ready condition has no
  lastTransitionTime (zero) and defaults to True; metric samples carry the zero timestamp
  and a one-minute window. ``hotCPUCreationTime`` is now, ``coolCPUCreationTime`` now - 3 min.
- The testing flags are tolerance 0.1, CPU initialization period 2 min and initial
  readiness delay 10 s (``defaultTesting*`` in replica_calculator.go).

Skipped, with the reason (the sandbox models one CPU resource metric per HPA, pod-level):

- TestReplicaCalcResourceScale, the 11 ``container metric`` cases: ContainerResource
  metrics are not modelled.
- TestReplicaCalcDisjointResourcesMetrics and TestReplicaCalcSuperfluousMetrics: the
  sandbox's input pairs each sample with its pod, so a metric for a pod the selector did not
  return cannot be expressed.
- Every ``CM``, ``CMObject``, ``PerPodCMObject``, ``CMExternal`` and ``PerPodCMExternal``
  case, the overflow cases (TestReplicaCalcScaleUpOverflow,
  TestExternalPerPodMetricReplicaOverflow, TestExternalPerPodMetricUsageOverflow,
  TestReplicaCalcExternalMetricUsageOverflow) and TestReplicaCalcConfigurableTolerance{CM,
  CMObject, PerPodCMObject, CMExternal, PerPodCMExternal}: object and external metrics are
  not modelled; except the pods-metric cases in ``PLAIN`` below, whose arithmetic is the
  one upstream also uses for a CPU AverageValue target (``calcPlainMetricReplicas``).
- TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale and ...ScaleWouldScaleDown: for a pods
  metric upstream does not apply the CPU readiness rules, for CPU it does; replaying them
  as CPU would test a different rule.
- TestGroupPods ``count in a ready pod - memory``: memory metrics are not modelled.
- TestCalculateRequests and TestCalculatePodRequestsFromContainers_NonExistentContainer:
  the sandbox sums container requests where it reads the pod (``cpu_request_m``), before
  the calculator; pod-level resources and restartable init containers are not modelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import pytest

from slagate.sandbox.decisions.hpa_replicas import (
    CalculatorSettings,
    MetricFailure,
    PodGroup,
    PodSample,
    Proposal,
    ResourceTarget,
    classify_pod,
    propose_replicas,
)
from slagate.sandbox.decisions.pods import PodPhase

NOW = 100_000.0
ZERO = 0.0  # Go's zero time: long before NOW
HOT = NOW  # hotCPUCreationTime()
COOL = NOW - 180.0  # coolCPUCreationTime()
CONTAINERS = 2  # numContainersPerPod
SETTINGS = CalculatorSettings(
    tolerance=0.1, cpu_initialization_period_s=120.0, initial_readiness_delay_s=10.0
)
R, P, F = PodPhase.RUNNING, PodPhase.PENDING, PodPhase.FAILED
T = TypeVar("T")


@dataclass(frozen=True)
class Fixture:
    """One upstream ``calcScenario`` for CPU: per-pod lists, shorter lists use defaults.

    ``requests_m`` is the request per container (len = pods that have one); ``levels_m``
    the usage per container of pods 0..n-1 (pods beyond have no metric).
    """

    current: int
    levels_m: tuple[int, ...]
    requests_m: tuple[int, ...]
    ready: tuple[bool, ...] = ()
    start: tuple[float, ...] = ()
    phase: tuple[PodPhase, ...] = ()
    deleting: tuple[bool, ...] = ()

    def pods(self) -> list[PodSample]:
        count = max(self.current, len(self.phase))
        return [self._pod(i) for i in range(count)]

    def _pod(self, i: int) -> PodSample:
        return PodSample(
            f"test-pod-{i}",
            phase=_at(self.phase, i, R),
            ready=_at(self.ready, i, True),
            ready_transition_s=ZERO,
            start_s=_at(self.start, i, ZERO),
            deleting=_at(self.deleting, i, False),
            cpu_usage_m=CONTAINERS * self.levels_m[i] if i < len(self.levels_m) else None,
            metric_timestamp_s=ZERO,
            metric_window_s=60.0,
            cpu_request_m=CONTAINERS * self.requests_m[i] if i < len(self.requests_m) else None,
        )


def _at(values: Sequence[T], i: int, default: T) -> T:
    return values[i] if i < len(values) else default


def ones(n: int) -> tuple[int, ...]:
    """``cpuRequests(n, "1.0")``: 1000m per container."""
    return (1000,) * n


@dataclass(frozen=True)
class Expected:
    """Replicas, utilization (percent) and raw value (millicores per pod)."""

    replicas: int
    utilization: int | None
    raw_m: int


def _run(
    fixture: Fixture, target: ResourceTarget, tolerance: float = 0.1
) -> Proposal | MetricFailure:
    settings = CalculatorSettings(
        tolerance, SETTINGS.cpu_initialization_period_s, SETTINGS.initial_readiness_delay_s
    )
    return propose_replicas(target, fixture.current, fixture.pods(), NOW, settings)


# TestReplicaCalcResourceScale (the pod-level cases; container-metric ones are skipped).
RESOURCE_SCALE = [
    pytest.param(Fixture(3, (300, 500, 700), ones(3)), 30, Expected(5, 50, 1000), id="scale_up"),
    pytest.param(
        Fixture(3, (300, 500, 700), ones(3), ready=(False, True, True)),
        30,
        Expected(4, 60, 1200),
        id="scale_up:_unready_pod_scales_less",
    ),
    pytest.param(
        Fixture(3, (300, 500, 700), ones(3), start=(HOT, COOL, COOL)),
        30,
        Expected(4, 60, 1200),
        id="scale_up:_hot-CPU_pod_scales_less",
    ),
    pytest.param(
        Fixture(3, (400, 500, 700), ones(3), ready=(True, False, False)),
        30,
        Expected(3, 40, 800),
        id="no_scale:_unready_pods_ignored",
    ),
    pytest.param(
        Fixture(3, (400, 500, 700), ones(3), ready=(True, False, False), start=(COOL, HOT, HOT)),
        30,
        Expected(3, 40, 800),
        id="no_scale:_hot-CPU_pods_ignored",
    ),
    pytest.param(
        Fixture(2, (500, 700), ones(4), ready=(True, True, False, False), phase=(R, R, F, F)),
        30,
        Expected(4, 60, 1200),
        id="scale_up:_failed_pods_ignored",
    ),
    pytest.param(
        Fixture(
            2,
            (500, 700),
            ones(4),
            ready=(True, True, False, False),
            phase=(R, R, R, R),
            deleting=(False, False, True, True),
        ),
        30,
        Expected(4, 60, 1200),
        id="scale_up:_pods_being_deleted_are_ignored",
    ),
    pytest.param(
        Fixture(5, (100, 300, 500, 250, 250), ones(5)),
        50,
        Expected(3, 28, 560),
        id="scale_down",
    ),
    pytest.param(
        Fixture(5, (100, 300, 500, 250, 250), ones(5), ready=(True, True, True, False, False)),
        50,
        Expected(2, 30, 600),
        id="scale_down:_exclude_unready_pods",
    ),
    pytest.param(
        Fixture(
            5,
            (100,),
            ones(5),
            ready=(True, False, False, False, False),
            phase=(R, P, P, P, P),
        ),
        50,
        Expected(1, 10, 200),
        id="scale_down:_exclude_unscheduled_pods",
    ),
    pytest.param(
        Fixture(5, (100, 300, 500, 250, 250), ones(5), start=(COOL, COOL, COOL, HOT, HOT)),
        50,
        Expected(2, 30, 600),
        id="scale_down:_ignore_hot-CPU_pods",
    ),
    pytest.param(
        Fixture(
            5,
            (100, 300, 500, 250, 250),
            ones(7),
            ready=(True,) * 5 + (False, False),
            phase=(R,) * 5 + (F, F),
        ),
        50,
        Expected(3, 28, 560),
        id="scale_down:_failed_pods_ignored",
    ),
    pytest.param(
        Fixture(
            5,
            (100, 300, 500, 250, 250),
            ones(7),
            ready=(True,) * 5 + (False, False),
            phase=(R,) * 7,
            deleting=(False,) * 5 + (True, True),
        ),
        50,
        Expected(3, 28, 560),
        id="scale_down:_pods_being_deleted_are_ignored",
    ),
]


@pytest.mark.parametrize(("fixture", "target_pct", "expected"), RESOURCE_SCALE)
def test_resource_scale(fixture: Fixture, target_pct: int, expected: Expected) -> None:
    """TestReplicaCalcResourceScale: replicas, utilization and raw value per case."""
    proposal = _run(fixture, ResourceTarget(target_pct))

    assert proposal == Proposal(expected.replicas, expected.utilization, expected.raw_m)


# TestReplicaCalcComputedToleranceAlgImplementation: upstream derives these from 10 pods at
# 150m per container, requests 300m +/- jitter per container (mean 300m), and a target of
# int32((1 / (2 * 0.9) + 0.01) * 100) = 56 then + 0.004 -> 55. Transcribed as computed.
_JITTER = (400, 200, 310, 290, 302, 298, 301, 299, 300, 300)

# The standalone resource tests (one upstream test function each), and the per-direction
# tolerance cases of TestReplicaCalcConfigurableTolerance. The sandbox has one tolerance
# (--horizontal-pod-autoscaler-tolerance); upstream's isWithin only reads the scale-down
# tolerance when the ratio is below 1 and the scale-up one when above, and none of these
# cases re-computes for missing or unready pods, so each is replayed with the tolerance
# of the direction its ratio points.
RESOURCE_SINGLE = [
    pytest.param(
        Fixture(3, (1010, 1030, 1020), (900, 1000, 1100)),
        100,
        0.1,
        Expected(3, 102, 2040),
        id="TestReplicaCalcTolerance",
    ),
    pytest.param(
        Fixture(3, (909, 1010, 1111), (900, 1000, 1100)),
        100,
        0.0,
        Expected(4, 101, 2020),
        id="TestReplicaCalcConfigurableTolerance/Outside_of_a_0%_tolerance",
    ),
    pytest.param(
        Fixture(3, (1890, 1910, 1900), (900, 1000, 1100)),
        100,
        2.0,
        Expected(3, 190, 3800),
        id="TestReplicaCalcConfigurableTolerance/Within_a_200%_scale-up_tolerance",
    ),
    pytest.param(
        Fixture(3, (1100, 1080, 1090), (900, 1000, 1100)),
        100,
        0.08,
        Expected(4, 109, 2180),
        id="TestReplicaCalcConfigurableTolerance/Outside_8%_scale-up_tolerance",
    ),
    pytest.param(
        Fixture(3, (660, 640, 650), (900, 1000, 1100)),
        100,
        0.36,
        Expected(3, 65, 1300),
        id="TestReplicaCalcConfigurableTolerance/Within_a_36%_scale-down_tolerance",
    ),
    pytest.param(
        Fixture(3, (660, 640, 650), (900, 1000, 1100)),
        100,
        0.34,
        Expected(2, 65, 1300),
        id="TestReplicaCalcConfigurableTolerance/Outside_a_34%_scale-down_tolerance",
    ),
    pytest.param(
        Fixture(4, (400, 95), ones(4)),
        100,
        0.1,
        Expected(3, 24, 495),
        id="TestReplicaCalcMissingMetrics",
    ),
    pytest.param(
        Fixture(2, (1000,), ones(2)),
        100,
        0.1,
        Expected(2, 100, 2000),
        id="TestReplicaCalcMissingMetricsNoChangeEq",
    ),
    pytest.param(
        Fixture(2, (1900,), ones(2)),
        100,
        0.1,
        Expected(2, 190, 3800),
        id="TestReplicaCalcMissingMetricsNoChangeGt",
    ),
    pytest.param(
        Fixture(2, (600,), ones(2)),
        100,
        0.1,
        Expected(2, 60, 1200),
        id="TestReplicaCalcMissingMetricsNoChangeLt",
    ),
    pytest.param(
        Fixture(3, (100, 450), ones(3), ready=(False, True, True)),
        50,
        0.1,
        Expected(3, 45, 900),
        id="TestReplicaCalcMissingMetricsUnreadyChange",
    ),
    pytest.param(
        Fixture(3, (100, 450), ones(3), start=(HOT, COOL, COOL)),
        50,
        0.1,
        Expected(3, 45, 900),
        id="TestReplicaCalcMissingMetricsHotCpuNoChange",
    ),
    pytest.param(
        Fixture(3, (100, 2000), ones(3), ready=(False, True, True)),
        50,
        0.1,
        Expected(4, 200, 4000),
        id="TestReplicaCalcMissingMetricsUnreadyScaleUp",
    ),
    pytest.param(
        Fixture(3, (100, 2000), ones(3), ready=(False, True, True), start=(HOT, COOL, COOL)),
        50,
        0.1,
        Expected(4, 200, 4000),
        id="TestReplicaCalcMissingMetricsHotCpuScaleUp",
    ),
    pytest.param(
        Fixture(4, (100, 100, 100), ones(4), ready=(False, True, True, True)),
        50,
        0.1,
        Expected(3, 10, 200),
        id="TestReplicaCalcMissingMetricsUnreadyScaleDown",
    ),
    pytest.param(
        Fixture(4, (200, 100, 100), (1000, 1000, 2000, 2000), ready=(False, True, True, True)),
        300,
        0.1,
        Expected(2, 6, 200),
        id="TestReplicaCalcMissingMetricsScaleDownTargetOver100",
    ),
    pytest.param(
        Fixture(2, (100, 100), ones(3), phase=(R, R, R)),
        50,
        0.1,
        Expected(2, 10, 200),
        id="TestReplicaCalcDuringRollingUpdateWithMaxSurge",
    ),
    pytest.param(
        Fixture(10, (150,) * 10, _JITTER),
        56,
        0.1,
        Expected(9, 50, 300),
        id="TestReplicaCalcComputedToleranceAlgImplementation/just-outside",
    ),
    pytest.param(
        Fixture(10, (150,) * 10, _JITTER),
        55,
        0.1,
        Expected(10, 50, 300),
        id="TestReplicaCalcComputedToleranceAlgImplementation/just-within",
    ),
]


@pytest.mark.parametrize(("fixture", "target_pct", "tolerance", "expected"), RESOURCE_SINGLE)
def test_resource_single(
    fixture: Fixture, target_pct: int, tolerance: float, expected: Expected
) -> None:
    """The single-case TestReplicaCalc* functions for the CPU resource metric."""
    proposal = _run(fixture, ResourceTarget(target_pct), tolerance)

    assert proposal == Proposal(expected.replicas, expected.utilization, expected.raw_m)


# Errors: upstream asserts the error text contains these.
ERRORS = [
    pytest.param(
        Fixture(4, (), ones(3)),
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
        id="TestReplicaCalcEmptyMetrics",
    ),
    pytest.param(
        Fixture(1, (200,), ()), "missing request for", id="TestReplicaCalcEmptyCPURequest"
    ),
]


@pytest.mark.parametrize(("fixture", "message"), ERRORS)
def test_resource_errors(fixture: Fixture, message: str) -> None:
    proposal = _run(fixture, ResourceTarget(100))

    assert isinstance(proposal, MetricFailure)
    assert message in proposal.message


def plain(current: int, levels_m: tuple[int, ...], pods: int = 0) -> list[PodSample]:
    """Pods-metric fixture: ready, started long ago, one sample per pod in ``levels_m``
    (the value is per pod, not per container), pods beyond have none."""
    count = max(current, pods)
    return [
        PodSample(
            f"test-pod-{i}",
            cpu_usage_m=levels_m[i] if i < len(levels_m) else None,
            metric_timestamp_s=ZERO,
        )
        for i in range(count)
    ]


# Pods-metric cases whose pods are all ready and long started: upstream computes them in
# calcPlainMetricReplicas, the same function as a CPU AverageValue target, so they replay
# as ResourceTarget(average_value_m=target). Expected: replicas and the mean usage.
PLAIN = [
    pytest.param(
        3, plain(3, (20000, 10000, 30000)), 15000, 0.1, (4, 20000), id="TestReplicaCalcScaleUpCM"
    ),
    pytest.param(
        5, plain(5, (12000,) * 5), 20000, 0.1, (3, 12000), id="TestReplicaCalcScaleDownCM"
    ),
    pytest.param(
        3, plain(3, (20000, 21000, 21000)), 20000, 0.1, (3, 20666), id="TestReplicaCalcToleranceCM"
    ),
    pytest.param(
        3,
        plain(3, (20000, 21000, 21000)),
        20000,
        0.01,
        (4, 20666),
        id="TestReplicaCalcConfigurableToleranceCM",
    ),
    pytest.param(
        5,
        plain(5, (20000, 19000, 21000)),
        20000,
        0.1,
        (5, 20000),
        id="TestPlainMetricReplicaCalcMissingMetricsNoChangeEq",
    ),
    pytest.param(
        2,
        plain(2, (10000, 10000), pods=3),
        17000,
        0.1,
        (2, 10000),
        id="TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM",
    ),
]


@pytest.mark.parametrize(("current", "pods", "target_m", "tolerance", "expected"), PLAIN)
def test_plain_metric(
    current: int,
    pods: list[PodSample],
    target_m: int,
    tolerance: float,
    expected: tuple[int, int],
) -> None:
    settings = CalculatorSettings(tolerance, 120.0, 10.0)
    target = ResourceTarget(utilization_pct=None, average_value_m=target_m)

    proposal = propose_replicas(target, current, pods, NOW, settings)

    assert proposal == Proposal(expected[0], None, expected[1])


# TestGroupPods: (pod, has metric) -> group, at NOW. Every upstream pod here is in phase
# Succeeded unless stated (upstream's fixtures; the phase only matters when Pending/Failed).
S = PodPhase.SUCCEEDED
GROUP_PODS = [
    pytest.param((), {}, id="void"),
    pytest.param(
        (PodSample("lucretius", S, ready=None, start_s=NOW, cpu_usage_m=1),),
        {"lucretius": PodGroup.UNREADY},
        id="unready_a_pod_without_ready_condition_-_CPU",
    ),
    pytest.param(
        (
            PodSample(
                "bentham",
                S,
                ready=True,
                ready_transition_s=NOW - 30,
                start_s=NOW - 60,
                cpu_usage_m=1,
                metric_timestamp_s=NOW,
                metric_window_s=30,
            ),
        ),
        {"bentham": PodGroup.READY},
        id="count_in_a_ready_pod_with_fresh_metrics_during_initialization_period_-_CPU",
    ),
    pytest.param(
        (
            PodSample(
                "bentham",
                S,
                ready=True,
                ready_transition_s=NOW - 30,
                start_s=NOW - 60,
                cpu_usage_m=1,
                metric_timestamp_s=NOW,
                metric_window_s=60,
            ),
        ),
        {"bentham": PodGroup.UNREADY},
        id="unready_a_ready_pod_without_fresh_metrics_during_initialization_period_-_CPU",
    ),
    pytest.param(
        (
            PodSample(
                "lucretius",
                S,
                ready=False,
                ready_transition_s=NOW - 594,
                start_s=NOW - 600,
                cpu_usage_m=1,
                metric_timestamp_s=ZERO,
                metric_window_s=0,
            ),
        ),
        {"lucretius": PodGroup.UNREADY},
        id="unready_an_unready_pod_during_initialization_period_-_CPU",
    ),
    pytest.param(
        (
            PodSample(
                "bentham",
                S,
                ready=True,
                ready_transition_s=NOW - 180,
                start_s=NOW - 180,
                cpu_usage_m=1,
                metric_timestamp_s=NOW - 120,
                metric_window_s=60,
            ),
        ),
        {"bentham": PodGroup.READY},
        id="count_in_a_ready_pod_without_fresh_metrics_after_initialization_period_-_CPU",
    ),
    pytest.param(
        (
            PodSample(
                "lucretius",
                S,
                ready=False,
                ready_transition_s=NOW - 540,
                start_s=NOW - 600,
                cpu_usage_m=1,
                metric_timestamp_s=ZERO,
                metric_window_s=0,
            ),
        ),
        {"lucretius": PodGroup.READY},
        id="count_in_an_unready_pod_that_was_ready_after_initialization_period_-_CPU",
    ),
    pytest.param(
        (
            PodSample(
                "lucretius",
                S,
                ready=False,
                ready_transition_s=NOW - 590,
                start_s=NOW - 600,
                cpu_usage_m=1,
                metric_timestamp_s=ZERO,
                metric_window_s=0,
            ),
        ),
        {"lucretius": PodGroup.READY},
        id="unready_pod_that_has_never_been_ready_after_initialization_period_-_CPU",
    ),
    pytest.param(
        (PodSample("epicurus", S, ready=None, start_s=NOW - 180),),
        {"epicurus": PodGroup.MISSING},
        id="a_missing_pod",
    ),
    pytest.param(
        (
            PodSample("lucretius", S, ready=None, start_s=NOW, cpu_usage_m=1),
            PodSample(
                "niccolo",
                S,
                ready=True,
                ready_transition_s=NOW - 180,
                start_s=NOW - 180,
                cpu_usage_m=1,
                metric_timestamp_s=ZERO,
                metric_window_s=0,
            ),
            PodSample("epicurus", S, ready=None, start_s=NOW - 180),
        ),
        {"lucretius": PodGroup.UNREADY, "niccolo": PodGroup.READY, "epicurus": PodGroup.MISSING},
        id="several_pods",
    ),
    pytest.param(
        (PodSample("unscheduled", P, ready=None, start_s=None),),
        {"unscheduled": PodGroup.UNREADY},
        id="pending_pods_are_unreadied",
    ),
    pytest.param(
        (PodSample("deleted", P, ready=None, start_s=None, deleting=True, cpu_usage_m=1),),
        {"deleted": PodGroup.IGNORED},
        id="ignore_pods_with_deletion_timestamps",
    ),
    pytest.param(
        (PodSample("failed", F, ready=None, start_s=None, cpu_usage_m=1),),
        {"failed": PodGroup.IGNORED},
        id="ignore_pods_in_a_failed_state",
    ),
]


@pytest.mark.parametrize(("pods", "expected"), GROUP_PODS)
def test_group_pods(pods: tuple[PodSample, ...], expected: dict[str, PodGroup]) -> None:
    """TestGroupPods: upstream's ready count and unready/missing/ignored sets, as groups."""
    groups = {pod.name: classify_pod(pod, NOW, SETTINGS) for pod in pods}

    assert groups == expected
