"""HPA sync decisions: short cuts, legacy and behavior normalization, conditions, status.

Pods request 1000m each, so usage_m / 10 is percent utilization; the target is 100% unless
a case says otherwise. Each case writes the upstream arithmetic next to its numbers.
"""

from __future__ import annotations

import pytest

from slagate.sandbox.decisions.conditions import Condition, find_condition
from slagate.sandbox.decisions.hpa import (
    HPADecision,
    HPASettings,
    HPASpec,
    MetricError,
    MetricValue,
    UnservedMetric,
    decide_scale,
    format_millis,
)
from slagate.sandbox.decisions.hpa_behavior import (
    Behavior,
    HPAMemory,
    PolicyType,
    Recommendation,
    ScaleEvent,
    ScalingPolicy,
    ScalingRules,
    SelectPolicy,
)
from slagate.sandbox.decisions.hpa_replicas import PodSample, Resource, ResourceTarget
from slagate.sandbox.decisions.pods import PodPhase

NOW = 10_000.0
T100 = ResourceTarget(100)


def hpa(
    max_replicas: int,
    min_replicas: int = 1,
    target: ResourceTarget = T100,
    behavior: Behavior | None = None,
) -> HPASpec:
    """An HPA spec whose target defaults to 100% (the API default would be 80%)."""
    return HPASpec(max_replicas, min_replicas, (target,), behavior)


def pods(*usages: int) -> tuple[PodSample, ...]:
    return tuple(
        PodSample(f"p{i}", cpu_usage_m=u, cpu_request_m=1000, metric_timestamp_s=NOW)
        for i, u in enumerate(usages)
    )


def old(replicas: int, age_s: float = 1000.0) -> HPAMemory:
    """A warm controller whose only recommendation is older than every window."""
    return HPAMemory((Recommendation(replicas, NOW - age_s),))


def reasons(decision: HPADecision) -> dict[str, tuple[bool, str]]:
    return {c.type: (c.status, c.reason) for c in decision.conditions}


def test_scale_to_zero_disables_scaling() -> None:
    decision = decide_scale(hpa(max_replicas=10), 0, pods(900), NOW)

    assert (decision.desired_replicas, decision.rescale) == (0, False)
    assert reasons(decision) == {
        "AbleToScale": (True, "SucceededGetScale"),
        "ScalingActive": (False, "ScalingDisabled"),
    }


def test_scale_to_zero_allowed_when_min_is_zero() -> None:
    # min 0 and current 0: metrics are computed; no pods -> the metric fails
    decision = decide_scale(hpa(max_replicas=10, min_replicas=0), 0, (), NOW)

    assert reasons(decision)["ScalingActive"] == (False, "FailedGetResourceMetric")


@pytest.mark.parametrize(
    ("current", "desired", "reason"),
    [
        pytest.param(12, 10, "Current number of replicas above Spec.MaxReplicas", id="above"),
        pytest.param(1, 2, "Current number of replicas below Spec.MinReplicas", id="below"),
    ],
)
def test_current_outside_range_goes_to_bound_without_metrics(
    current: int, desired: int, reason: str
) -> None:
    spec = hpa(max_replicas=10, min_replicas=2)

    decision = decide_scale(spec, current, (), NOW)

    assert (decision.desired_replicas, decision.rescale, decision.reason) == (
        desired,
        True,
        reason,
    )
    assert decision.current_metrics == ()
    assert reasons(decision) == {"AbleToScale": (True, "SucceededRescale")}


def test_within_tolerance_keeps_current_and_reports_metrics() -> None:
    # util = 1650*100//3000 = 55 against target 50: ratio 1.1, within tolerance
    decision = decide_scale(hpa(10, target=ResourceTarget(50)), 3, pods(550, 550, 550), NOW)

    assert (decision.desired_replicas, decision.rescale) == (3, False)
    assert decision.current_metrics == (MetricValue("550m", 55),)
    assert reasons(decision) == {
        "AbleToScale": (True, "ReadyForNewScale"),
        "ScalingActive": (True, "ValidMetricFound"),
        "ScalingLimited": (False, "DesiredWithinRange"),
    }


@pytest.mark.parametrize(
    ("spec", "current", "usages", "desired", "limit"),
    [
        # util 500: ceil(5.0 * 2) = 10; legacy cap max(2 * 2, 4) = 4
        pytest.param(hpa(20), 2, (5000, 5000), 4, (True, "ScaleUpLimit"), id="cap-minimum-4"),
        # util 500: ceil(5.0 * 3) = 15; cap max(2 * 3, 4) = 6
        pytest.param(hpa(20), 3, (5000,) * 3, 6, (True, "ScaleUpLimit"), id="cap-double-current"),
        # 15 wanted; max 5 <= cap 6: the max binds
        pytest.param(hpa(5), 3, (5000,) * 3, 5, (True, "TooManyReplicas"), id="max-below-cap"),
        # util 150: ceil(1.5 * 3) = 5 <= cap 6 and max 20
        pytest.param(hpa(20), 3, (1500,) * 3, 5, (False, "DesiredWithinRange"), id="within-range"),
        # util 10: ceil(0.1 * 3) = 1 < min 2 (the old recommendation is out of the window)
        pytest.param(hpa(20, min_replicas=2), 3, (100,) * 3, 2, (True, "TooFewReplicas"), id="min"),
    ],
)
def test_legacy_limits(
    spec: HPASpec,
    current: int,
    usages: tuple[int, ...],
    desired: int,
    limit: tuple[bool, str],
) -> None:
    decision = decide_scale(spec, current, pods(*usages), NOW, memory=old(current))

    assert decision.desired_replicas == desired
    assert reasons(decision)["ScalingLimited"] == limit


@pytest.mark.parametrize(
    ("age_s", "desired", "able"),
    [
        # 5 recommended 299 s ago: max(2, 5) = 5 = current, held
        pytest.param(299.0, 5, "ScaleDownStabilized", id="inside-window"),
        # exactly 300 s ago still counts (upstream: not Before(now - 300 s))
        pytest.param(300.0, 5, "ScaleDownStabilized", id="window-edge"),
        # 301 s ago: out of the window, scale to ceil(0.3 * 5) = 2
        pytest.param(301.0, 2, "SucceededRescale", id="outside-window"),
    ],
)
def test_legacy_downscale_stabilization(age_s: float, desired: int, able: str) -> None:
    # util 30: ceil(0.3 * 5) = ceil(1.5) = 2
    decision = decide_scale(hpa(10), 5, pods(*[300] * 5), NOW, memory=old(5, age_s))

    assert decision.desired_replicas == desired
    assert reasons(decision)["AbleToScale"] == (True, able)


def test_fresh_controller_does_not_scale_down_on_first_sync() -> None:
    # the first sync records the current 5 at now; max(2, 5) = 5
    decision = decide_scale(hpa(10), 5, pods(*[300] * 5), NOW)

    assert (decision.desired_replicas, decision.rescale) == (5, False)
    assert decision.memory.recommendations == (
        Recommendation(5, NOW),
        Recommendation(2, NOW),
    )


def test_legacy_path_stores_no_scale_events() -> None:
    decision = decide_scale(hpa(20), 3, pods(*[1500] * 3), NOW, memory=old(3))

    assert decision.rescale
    assert (decision.memory.scale_ups, decision.memory.scale_downs) == ((), ())


DEFAULTS = Behavior()


@pytest.mark.parametrize(
    ("select", "desired"),
    [
        # period start 2: Pods 2 + 4 = 6, Percent ceil(2 * 2.0) = 4; Max picks 6
        pytest.param(None, 6, id="default-max"),
        pytest.param(SelectPolicy.MIN, 4, id="min"),
        # Disabled: the limit is the current count
        pytest.param(SelectPolicy.DISABLED, 2, id="disabled"),
    ],
)
def test_behavior_scale_up_policies(select: SelectPolicy | None, desired: int) -> None:
    # util 1000: ceil(10.0 * 2) = 20 wanted, max 100
    behavior = Behavior(scale_up=ScalingRules(select_policy=select))

    decision = decide_scale(hpa(100, behavior=behavior), 2, pods(10000, 10000), NOW)

    assert decision.desired_replicas == desired
    assert reasons(decision)["ScalingLimited"] == (True, "ScaleUpLimit")


def test_scale_up_rate_limit_counts_events_in_the_period() -> None:
    spec = hpa(100, behavior=DEFAULTS)
    first = decide_scale(spec, 2, pods(10000, 10000), NOW)
    # 10 s later, 6 pods: 4 added within 15 s, period start 6 - 4 = 2: limit 6 again
    later = decide_scale(spec, 6, pods(*[10000] * 6), NOW + 10, memory=first.memory)
    # 15 s after the event it no longer counts (upstream: strictly After(now - 15 s)):
    # start 6, Pods 10, Percent ceil(6 * 2.0) = 12, Max 12
    freed = decide_scale(spec, 6, pods(*[10000] * 6), NOW + 15, memory=first.memory)

    assert first.memory.scale_ups == (ScaleEvent(4, NOW),)
    assert (later.desired_replicas, later.rescale) == (6, False)
    assert freed.desired_replicas == 12


@pytest.mark.parametrize(
    ("select", "desired"),
    [
        # start 10: Pods 10 - 2 = 8, Percent int(10 * 0.5) = 5; Max (most change) picks 5
        pytest.param(SelectPolicy.MAX, 5, id="max"),
        pytest.param(SelectPolicy.MIN, 8, id="min"),
        pytest.param(SelectPolicy.DISABLED, 10, id="disabled"),
    ],
)
def test_behavior_scale_down_policies(select: SelectPolicy, desired: int) -> None:
    # util 10: ceil(0.1 * 10) = 1 wanted; no stabilization
    rules = ScalingRules(
        stabilization_window_s=0,
        select_policy=select,
        policies=(
            ScalingPolicy(PolicyType.PODS, 2, 60),
            ScalingPolicy(PolicyType.PERCENT, 50, 60),
        ),
    )
    spec = hpa(20, behavior=Behavior(scale_down=rules))

    decision = decide_scale(spec, 10, pods(*[100] * 10), NOW, memory=old(10))

    assert decision.desired_replicas == desired
    assert reasons(decision)["ScalingLimited"] == (True, "ScaleDownLimit")


def test_scale_down_period_start_adds_back_removed_pods() -> None:
    # 5 pods removed 30 s ago within a 60 s period: start 5 + 5 = 10; Percent 50:
    # int(10 * 0.5) = 5 = current, so no further scale-down yet
    rules = ScalingRules(0, None, (ScalingPolicy(PolicyType.PERCENT, 50, 60),))
    memory = HPAMemory((Recommendation(5, NOW - 1000),), (), (ScaleEvent(5, NOW - 30),))
    spec = hpa(20, behavior=Behavior(scale_down=rules))

    decision = decide_scale(spec, 5, pods(*[100] * 5), NOW, memory=memory)

    assert (decision.desired_replicas, decision.rescale) == (5, False)
    assert reasons(decision)["ScalingLimited"] == (True, "ScaleDownLimit")


def test_behavior_min_clamp_reports_too_few() -> None:
    # util 10: ceil(0.1 * 4) = 1; default scaleDown allows 100% -> limit 0; min 2 binds
    rules = ScalingRules(stabilization_window_s=0)
    spec = hpa(10, min_replicas=2, behavior=Behavior(scale_down=rules))

    decision = decide_scale(spec, 4, pods(*[100] * 4), NOW, memory=old(4))

    assert decision.desired_replicas == 2
    assert reasons(decision)["ScalingLimited"] == (True, "TooFewReplicas")


def test_behavior_max_clamp_reports_too_many() -> None:
    # util 300: ceil(3.0 * 4) = 12; default scale-up limit max(4 + 4, ceil(4 * 2)) = 8; max 6
    decision = decide_scale(hpa(6, behavior=DEFAULTS), 4, pods(*[3000] * 4), NOW)

    assert decision.desired_replicas == 6
    assert reasons(decision)["ScalingLimited"] == (True, "TooManyReplicas")


def test_default_scale_down_window_comes_from_settings() -> None:
    # util 10 -> 1 wanted; a recommendation of 4 made 200 s ago is inside the default
    # 300 s window: max(1, 4) = 4 holds. With a 100 s flag it is outside: 100% allowed -> 1
    memory = HPAMemory((Recommendation(4, NOW - 200),))
    spec = hpa(10, behavior=DEFAULTS)

    held = decide_scale(spec, 4, pods(*[100] * 4), NOW, memory=memory)
    short = HPASettings(downscale_stabilization_s=100)
    freed = decide_scale(spec, 4, pods(*[100] * 4), NOW, memory=memory, settings=short)

    assert (held.desired_replicas, reasons(held)["AbleToScale"]) == (
        4,
        (True, "ScaleDownStabilized"),
    )
    assert freed.desired_replicas == 1


def test_scale_up_stabilization_takes_the_lowest_recent() -> None:
    # 60 s scaleUp window; 3 recommended 30 s ago; now util 200 -> ceil(2.0 * 3) = 6:
    # up = min(6, 3) = 3, down = max(6, 3) = 6; clamp(current 3, 3, 6) = 3
    rules = ScalingRules(stabilization_window_s=60)
    memory = HPAMemory((Recommendation(3, NOW - 30),))
    spec = hpa(10, behavior=Behavior(scale_up=rules))

    decision = decide_scale(spec, 3, pods(*[2000] * 3), NOW, memory=memory)

    assert (decision.desired_replicas, decision.rescale) == (3, False)
    assert reasons(decision)["AbleToScale"] == (True, "ScaleUpStabilized")


def test_stabilization_window_is_exclusive_on_behavior_path() -> None:
    # the 3 recorded exactly 60 s ago is not After(now - 60 s): up = 6; default scale-up
    # limit for 3 is max(3 + 4, 6) = 7, so 6 goes through
    rules = ScalingRules(stabilization_window_s=60)
    memory = HPAMemory((Recommendation(3, NOW - 60),))
    spec = hpa(10, behavior=Behavior(scale_up=rules))

    decision = decide_scale(spec, 3, pods(*[2000] * 3), NOW, memory=memory)

    assert decision.desired_replicas == 6


def test_rescale_records_scale_down_event_and_reason() -> None:
    rules = ScalingRules(stabilization_window_s=0)
    spec = hpa(10, behavior=Behavior(scale_down=rules))

    decision = decide_scale(spec, 4, pods(*[100] * 4), NOW, memory=old(4))

    assert (decision.desired_replicas, decision.reason) == (1, "All metrics below target")
    assert decision.memory.scale_downs == (ScaleEvent(3, NOW),)


def test_scale_up_reason_names_the_metric() -> None:
    decision = decide_scale(hpa(10), 2, pods(1500, 1500), NOW, memory=old(2))

    assert decision.reason == "cpu resource utilization (percentage of request) above target"


def test_unready_pods_hold_scale_up_decision() -> None:
    # 1 ready at 160%, 3 pending: ratio 1.6, recomputed 0.4 flips direction -> keep 4
    samples = (
        *pods(1600),
        *(PodSample(f"u{i}", phase=PodPhase.PENDING, cpu_request_m=1000) for i in range(3)),
    )

    decision = decide_scale(hpa(10), 4, samples, NOW, memory=old(4))

    assert (decision.desired_replicas, decision.rescale) == (4, False)


def test_average_value_target_reports_raw_value() -> None:
    # mean 2500m against 1000m: ratio 2.5, ceil(2.5 * 2) = 5; legacy cap 4
    spec = hpa(10, target=ResourceTarget(None, 1000))

    decision = decide_scale(spec, 2, pods(2500, 2500), NOW, memory=old(2))

    assert decision.desired_replicas == 4
    assert decision.current_metrics == (MetricValue("2500m", None),)
    assert decision.reason == "cpu resource above target"


def test_metric_failure_keeps_count() -> None:
    samples = (PodSample("a", phase=PodPhase.PENDING, cpu_request_m=100),)

    decision = decide_scale(hpa(10), 3, samples, NOW)

    assert (decision.desired_replicas, decision.rescale) == (3, False)
    assert decision.error == (
        "invalid metrics (1 invalid out of 1), first error is: "
        "failed to get cpu utilization: unable to get metrics for resource cpu: "
        "no metrics returned from resource metrics API"
    )
    assert reasons(decision)["ScalingActive"] == (False, "FailedGetResourceMetric")


def test_condition_transition_time_moves_only_when_status_flips() -> None:
    before = (
        Condition("AbleToScale", True, "ReadyForNewScale", "x", last_transition_s=5.0),
        Condition("ScalingActive", False, "FailedGetResourceMetric", "y", last_transition_s=6.0),
    )

    decision = decide_scale(hpa(10), 2, pods(1000, 1000), NOW, conditions=before)

    able = find_condition(decision.conditions, "AbleToScale")
    active = find_condition(decision.conditions, "ScalingActive")
    assert able is not None and able.last_transition_s == 5.0
    assert active is not None and active.last_transition_s == NOW
    assert [c.type for c in decision.conditions] == [
        "AbleToScale",
        "ScalingActive",
        "ScalingLimited",
    ]


@pytest.mark.parametrize(
    ("millis", "text"),
    [
        pytest.param(0, "0", id="zero"),
        pytest.param(123, "123m", id="millis"),
        pytest.param(1500, "1500m", id="not-whole"),
        pytest.param(2000, "2", id="whole"),
        pytest.param(3_000_000, "3k", id="kilo"),
    ],
)
def test_format_millis(millis: int, text: str) -> None:
    assert format_millis(millis) == text


MEMORY = Resource.MEMORY
MIB_M = 1024 * 1024 * 1000  # one MiB in milli-bytes, as the calculator counts memory
PODS_METRIC = UnservedMetric("FailedGetPodsMetric", "failed to get pods metric value: none")


def with_memory(*usages_mib: int) -> tuple[PodSample, ...]:
    """Pods at 100m of 1000m CPU (10%) using ``usages_mib`` of a 100 MiB request."""
    return tuple(
        PodSample(
            f"p{i}",
            cpu_usage_m=100,
            cpu_request_m=1000,
            memory_usage_m=u * MIB_M,
            memory_request_m=100 * MIB_M,
            metric_timestamp_s=NOW,
        )
        for i, u in enumerate(usages_mib)
    )


def test_the_largest_proposal_over_metrics_wins_and_names_its_metric() -> None:
    # cpu 10% of 50%: 1 pod; memory 150% of 50%: ceil(3 * 2) = 6
    metrics = (ResourceTarget(50), ResourceTarget(50, None, MEMORY))
    spec = HPASpec(10, 1, metrics)

    decision = decide_scale(spec, 2, with_memory(150, 150), NOW, memory=old(2))

    assert decision.desired_replicas == 4  # the legacy scale-up limit: max(2 * 2, 4)
    assert decision.reason == "memory resource utilization (percentage of request) above target"
    assert decision.current_metrics == (
        MetricValue("100m", 10),
        MetricValue(f"{150 * 1024 * 1024}", 150, MEMORY),
    )


def test_an_average_value_memory_target_proposes_in_bytes() -> None:
    # mean 150 MiB against 100 MiB: ratio 1.5, ceil(1.5 * 2) = 3
    spec = HPASpec(10, 1, (ResourceTarget(None, 100 * MIB_M, MEMORY),))

    decision = decide_scale(spec, 2, with_memory(150, 150), NOW, memory=old(2))

    assert (decision.desired_replicas, decision.reason) == (3, "memory resource above target")


def test_an_invalid_metric_blocks_a_scale_down_the_others_propose() -> None:
    spec = HPASpec(10, 1, (ResourceTarget(50), PODS_METRIC))

    decision = decide_scale(spec, 4, with_memory(10, 10, 10, 10), NOW, memory=old(4))

    assert (decision.desired_replicas, decision.rescale) == (4, False)
    assert decision.error == (
        "invalid metrics (1 invalid out of 2), first error is: "
        "failed to get pods metric value: none"
    )
    assert reasons(decision)["ScalingActive"] == (False, "FailedGetPodsMetric")
    assert decision.metric_errors == (MetricError("FailedGetPodsMetric", PODS_METRIC.message),)


def test_an_invalid_metric_lets_the_others_scale_up() -> None:
    spec = HPASpec(10, 1, (PODS_METRIC, ResourceTarget(5)))  # cpu 10% of 5%: 2x

    decision = decide_scale(spec, 2, with_memory(10, 10), NOW, memory=old(2))

    assert (decision.desired_replicas, decision.error) == (4, None)
    assert reasons(decision)["ScalingActive"] == (True, "ValidMetricFound")
    assert [e.reason for e in decision.metric_errors] == ["FailedGetPodsMetric"]


def test_a_failing_resource_metric_says_which_resource_and_kind() -> None:
    bare = (PodSample("a", cpu_usage_m=100, cpu_request_m=1000, metric_timestamp_s=NOW),)
    spec = HPASpec(10, 1, (ResourceTarget(None, 10, MEMORY),))

    decision = decide_scale(spec, 1, bare, NOW)

    assert decision.metric_errors == (
        MetricError(
            "FailedGetResourceMetric",
            "failed to get memory usage: unable to get metrics for resource memory: "
            "no metrics returned from resource metrics API",
        ),
    )
