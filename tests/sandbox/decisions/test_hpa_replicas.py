"""The HPA replica calculator against hand-computed upstream arithmetic.

Every pod requests 1000m unless a case says otherwise, so usage in millicores / 10 is the
pod's utilization in percent. util = int(100 * sum(usage) / sum(request)) over the pods
that count; ratio = util / target; proposal = ceil(ratio * pods counted).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from slagate.sandbox.decisions.hpa_replicas import (
    CalculatorSettings,
    MetricFailure,
    PodGroup,
    PodSample,
    Proposal,
    Resource,
    ResourceTarget,
    classify_pod,
    propose_replicas,
)
from slagate.sandbox.decisions.pods import PodPhase

NOW = 1000.0
SETTINGS = CalculatorSettings()


def ready(name: str, usage_m: int, request_m: int = 1000) -> PodSample:
    """A pod started long ago, Ready for long, with a fresh sample."""
    return PodSample(name, cpu_usage_m=usage_m, cpu_request_m=request_m, metric_timestamp_s=NOW)


def pending(name: str) -> PodSample:
    return PodSample(name, phase=PodPhase.PENDING, ready=False, start_s=None, cpu_request_m=1000)


def missing(name: str) -> PodSample:
    return PodSample(name, cpu_usage_m=None, cpu_request_m=1000)


def pods(*usages: int) -> tuple[PodSample, ...]:
    return tuple(ready(f"p{i}", u) for i, u in enumerate(usages))


@pytest.mark.parametrize(
    ("target", "current", "samples", "expected"),
    [
        # util = 1650*100//3000 = 55; ratio 55/50 = 1.1 <= 1 + 0.1 (equal in float64): keep 3
        pytest.param(50, 3, pods(550, 550, 550), 3, id="ratio-exactly-1.1-keeps"),
        # util = 3330*100//3000 = 111; ratio 1.11 > 1.1; ceil(1.11 * 3) = ceil(3.33) = 4
        pytest.param(100, 3, pods(1110, 1110, 1110), 4, id="ratio-1.11-scales-up"),
        # util = 90; ratio 0.9 >= 1 - 0.1 (equal in float64): keep 10
        pytest.param(100, 10, pods(*[900] * 10), 10, id="ratio-exactly-0.9-keeps"),
        # util = 89; ratio 0.89; ceil(0.89 * 10) = ceil(8.9) = 9
        pytest.param(100, 10, pods(*[890] * 10), 9, id="ratio-0.89-scales-down"),
        # util = 3001*100//3000 = 100 (integer division drops .03): ratio 1.0, keep 3
        pytest.param(100, 3, pods(1000, 1000, 1001), 3, id="integer-percent-truncates"),
        # util = 600*100//3000 = 20; ratio 0.2; ceil(0.2 * 3) = 1
        pytest.param(100, 3, pods(200, 200, 200), 1, id="scale-down"),
        # util = 0; ratio 0; ceil(0) = 0 (min replicas clamp comes later)
        pytest.param(100, 3, pods(0, 0, 0), 0, id="idle-proposes-zero"),
    ],
)
def test_ready_pods_only(
    target: int, current: int, samples: tuple[PodSample, ...], expected: int
) -> None:
    proposal = propose_replicas(ResourceTarget(target), current, samples, NOW, SETTINGS)

    assert isinstance(proposal, Proposal)
    assert proposal.replicas == expected


@pytest.mark.parametrize(
    ("target", "current", "samples", "expected"),
    [
        # ready: p0..p2 at 200%. ratio 2.0 > 1 with 1 unready -> unready counts 0%:
        # util = 6000*100//4000 = 150; ratio 1.5; ceil(1.5 * 4) = 6
        pytest.param(
            100, 4, (*pods(2000, 2000, 2000), pending("u")), 6, id="unready-zero-on-scale-up"
        ),
        # ready: p0 at 160%, 3 unready. ratio 1.6; recomputed util = 1600*100//4000 = 40,
        # ratio 0.4 < 1 < 1.6: the direction flips, keep 4
        pytest.param(
            100,
            4,
            (*pods(1600), pending("u1"), pending("u2"), pending("u3")),
            4,
            id="unready-flip-keeps-current",
        ),
        # ready p0, p1 at 20%, 2 unready. ratio 0.2 < 1: unready pods are simply left out,
        # ceil(0.2 * 2) = 1
        pytest.param(
            100, 4, (*pods(200, 200), pending("u1"), pending("u2")), 1, id="unready-left-out-down"
        ),
        # 3 ready at 10%, 1 missing, target 50. util 300*100//3000 = 10, ratio 0.2 < 1:
        # missing counts max(100, 50)% = 1000m: util = 1300*100//4000 = 32, ratio 0.64,
        # ceil(0.64 * 4) = ceil(2.56) = 3 (naive would be ceil(0.2 * 3) = 1)
        pytest.param(50, 4, (*pods(100, 100, 100), missing("m")), 3, id="missing-100pct-down"),
        # 2 ready at 200%, 1 missing. ratio 2.0 > 1: missing counts 0:
        # util = 4000*100//3000 = 133, ratio 1.33, ceil(1.33 * 3) = ceil(3.99) = 4
        pytest.param(100, 3, (*pods(2000, 2000), missing("m")), 4, id="missing-zero-on-scale-up"),
        # 1 ready at 120%, 2 missing. ratio 1.2; missing 0: util = 1200*100//3000 = 40,
        # ratio 0.4: the direction flips, keep 3
        pytest.param(
            100, 3, (*pods(1200), missing("m1"), missing("m2")), 3, id="missing-flip-keeps"
        ),
        # 3 ready at 50%, 1 missing, current 2 (pods lag the scale). ratio 0.5; missing 100%:
        # util = 2500*100//4000 = 62, ratio 0.62, ceil(0.62 * 4) = ceil(2.48) = 3 > current 2
        # while the ratio says down: keep 2
        pytest.param(
            100, 2, (*pods(500, 500, 500), missing("m")), 2, id="count-flip-keeps-current"
        ),
        # 3 ready at 95%, 1 missing. ratio 0.95 (within tolerance, but missing pods force the
        # re-computation): missing 100%: util = 3850*100//4000 = 96, ratio 0.96: within, keep
        pytest.param(
            100, 4, (*pods(950, 950, 950), missing("m")), 4, id="missing-within-tolerance"
        ),
    ],
)
def test_unready_and_missing(
    target: int, current: int, samples: tuple[PodSample, ...], expected: int
) -> None:
    proposal = propose_replicas(ResourceTarget(target), current, samples, NOW, SETTINGS)

    assert isinstance(proposal, Proposal)
    assert proposal.replicas == expected


def test_missing_fill_uses_target_above_100_percent() -> None:
    # target 150; 2 ready at 30%: util 30, ratio 0.2. Missing counts max(100, 150)% = 1500m:
    # util = (600 + 1500)*100//3000 = 70; ratio 70/150 = 0.4667; ceil(0.4667 * 3) = ceil(1.4) = 2
    samples = (*pods(300, 300), missing("m"))

    proposal = propose_replicas(ResourceTarget(150), 3, samples, NOW, SETTINGS)

    assert proposal == Proposal(2, 30, 300)


@pytest.mark.parametrize(
    ("current", "samples", "expected"),
    [
        # mean = 901 // 3 = 300m; ratio 300/200 = 1.5; ceil(1.5 * 3) = 5
        pytest.param(3, pods(300, 300, 301), Proposal(5, None, 300), id="scale-up"),
        # mean = 210m; ratio 1.05: within tolerance, keep 3
        pytest.param(3, pods(210, 210, 210), Proposal(3, None, 210), id="within-tolerance"),
        # 2 ready at 100m, 1 missing: ratio 0.5; missing counts the target 200m:
        # mean = 400 // 3 = 133; ratio 0.665; ceil(0.665 * 3) = ceil(1.995) = 2
        pytest.param(3, (*pods(100, 100), missing("m")), Proposal(2, None, 100), id="missing"),
    ],
)
def test_average_value_target(
    current: int, samples: tuple[PodSample, ...], expected: Proposal
) -> None:
    target = ResourceTarget(utilization_pct=None, average_value_m=200)

    assert propose_replicas(target, current, samples, NOW, SETTINGS) == expected


def test_measured_values_are_over_ready_pods() -> None:
    # usage 550 + 600 over requests 1000 + 1000: util = 1150*100//2000 = 57, mean 575m
    samples = (ready("a", 550), ready("b", 600), pending("c"))

    proposal = propose_replicas(ResourceTarget(50), 3, samples, NOW, SETTINGS)

    assert isinstance(proposal, Proposal)
    assert (proposal.utilization_pct, proposal.average_value_m) == (57, 575)


@pytest.mark.parametrize(
    ("target", "samples", "message"),
    [
        pytest.param(
            ResourceTarget(80),
            (),
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
            id="no-pods",
        ),
        pytest.param(
            ResourceTarget(80),
            (pending("a"), missing("b")),
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
            id="no-metric-at-all",
        ),
        pytest.param(
            ResourceTarget(80),
            (PodSample("a", deleting=True, cpu_usage_m=100, cpu_request_m=1000), missing("b")),
            "did not receive metrics for targeted pods (pods might be unready)",
            id="no-ready-metrics",
        ),
        pytest.param(
            ResourceTarget(80),
            (ready("a", 100), PodSample("b", cpu_usage_m=10)),
            "missing request for cpu in Pod b",
            id="missing-request",
        ),
        pytest.param(
            ResourceTarget(None, None),
            pods(100),
            "invalid resource metric source: neither an average utilization target nor an "
            "average value (usage) target was set",
            id="no-target",
        ),
    ],
)
def test_failures(target: ResourceTarget, samples: tuple[PodSample, ...], message: str) -> None:
    assert propose_replicas(target, 1, samples, NOW, SETTINGS) == MetricFailure(message)


def sample(**fields: object) -> PodSample:
    base: dict[str, object] = {
        "name": "p",
        "cpu_usage_m": 100,
        "cpu_request_m": 1000,
        "start_s": 0.0,
        "ready": True,
        "ready_transition_s": 10.0,
        "metric_timestamp_s": 40.0,
        "metric_window_s": 15.0,
    }
    return PodSample(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pod", "now_s", "group"),
    [
        pytest.param(sample(deleting=True), 100.0, PodGroup.IGNORED, id="deleting"),
        pytest.param(sample(phase=PodPhase.FAILED), 100.0, PodGroup.IGNORED, id="failed"),
        pytest.param(sample(phase=PodPhase.PENDING), 100.0, PodGroup.UNREADY, id="pending"),
        pytest.param(sample(cpu_usage_m=None), 100.0, PodGroup.MISSING, id="no-metric"),
        pytest.param(sample(ready=None), 100.0, PodGroup.UNREADY, id="no-ready-condition"),
        pytest.param(sample(start_s=None), 100.0, PodGroup.UNREADY, id="no-start-time"),
        # within 300 s of start: Ready since 10 s, sample at 40 s >= 10 + 15: counts
        pytest.param(sample(), 100.0, PodGroup.READY, id="init-ready-full-window"),
        # sample at 24 s < 10 + 15: the window still covers startup CPU
        pytest.param(
            sample(metric_timestamp_s=24.0), 100.0, PodGroup.UNREADY, id="init-window-not-passed"
        ),
        # sample exactly at 25 s is not before 10 + 15: counts
        pytest.param(sample(metric_timestamp_s=25.0), 100.0, PodGroup.READY, id="init-window-edge"),
        pytest.param(sample(ready=False), 100.0, PodGroup.UNREADY, id="init-not-ready"),
        # after 300 s: unready since 10 s, and 0 + 30 > 10: never ready, left out
        pytest.param(sample(ready=False), 400.0, PodGroup.UNREADY, id="never-ready"),
        # after 300 s: unready since 100 s, 0 + 30 <= 100: it was ready before, counts
        pytest.param(
            sample(ready=False, ready_transition_s=100.0), 400.0, PodGroup.READY, id="was-ready"
        ),
        # after 300 s, a stale sample no longer matters
        pytest.param(
            sample(metric_timestamp_s=0.0), 400.0, PodGroup.READY, id="after-init-any-sample"
        ),
    ],
)
def test_classify_pod(pod: PodSample, now_s: float, group: PodGroup) -> None:
    assert classify_pod(pod, now_s, SETTINGS) is group


def test_initialization_period_is_configurable() -> None:
    pod = sample(metric_timestamp_s=24.0)
    short = CalculatorSettings(cpu_initialization_period_s=60.0)

    assert classify_pod(pod, 100.0, short) is PodGroup.READY


def test_tolerance_is_configurable() -> None:
    # util 105 with tolerance 0.01: ratio 1.05 > 1.01, ceil(1.05 * 2) = ceil(2.1) = 3
    loose = CalculatorSettings(tolerance=0.01)

    proposal = propose_replicas(ResourceTarget(100), 2, pods(1050, 1050), NOW, loose)

    assert isinstance(proposal, Proposal)
    assert proposal.replicas == 3


def test_memory_counts_pods_cpu_would_call_unready() -> None:
    """Only CPU has start-up rules (upstream groupPods): a Running pod that is not Ready
    yet counts with its memory, while its CPU is left out."""
    starting = PodSample(
        "b",
        ready=False,
        start_s=NOW - 5.0,
        cpu_usage_m=900,
        cpu_request_m=1000,
        memory_usage_m=900,
        memory_request_m=1000,
        metric_timestamp_s=NOW,
    )
    settled = replace(starting, name="a", ready=True, start_s=0.0)
    memory = ResourceTarget(100, None, Resource.MEMORY)

    assert classify_pod(starting, NOW, SETTINGS) is PodGroup.UNREADY
    assert classify_pod(starting, NOW, SETTINGS, Resource.MEMORY) is PodGroup.READY
    assert propose_replicas(memory, 2, (settled, starting), NOW, SETTINGS) == Proposal(2, 90, 900)


def test_memory_utilization_needs_memory_requests() -> None:
    pod = PodSample(
        "a", cpu_usage_m=1, cpu_request_m=1000, memory_usage_m=5, metric_timestamp_s=NOW
    )

    failure = propose_replicas(ResourceTarget(80, None, Resource.MEMORY), 1, (pod,), NOW, SETTINGS)

    assert failure == MetricFailure("missing request for memory in Pod a")
