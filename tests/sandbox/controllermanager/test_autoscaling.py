"""The HPA loop: reads CPU from a ``StaticMetrics``, scales the Deployment, writes status.

HPAs sync when the test calls ``resync`` (the period is an hour), so each sync is chosen;
one test checks the period itself. Pods request 500m of CPU; the fake clock is moved past
the CPU initialization period so every sample counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from slagate.sandbox.metrics import PodCpu, StaticMetrics
from slagate.sandbox.objects.bodies import RawObject, name_of, rfc3339
from slagate.sandbox.objects.resources import DEPLOYMENTS, HORIZONTAL_POD_AUTOSCALERS
from slagate.sandbox.objects.selection import Selection
from slagate.sandbox.settings import SandboxSettings
from tests.sandbox.controllermanager.fakes import (
    NS,
    Sandbox,
    deployment,
    running_sandbox,
)

SETTINGS = SandboxSettings(
    hpa_sync_period_s=3600.0,
    hpa_cpu_initialization_period_s=30.0,
    hpa_initial_readiness_delay_s=10.0,
    hpa_downscale_stabilization_s=120.0,
)
MIB = 1024 * 1024
AVERAGE_100MI = {"type": "AverageValue", "averageValue": "100Mi"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(SETTINGS) as running:
        yield running


def hpa(target: dict[str, Any] | None = None, name: str = "web", **spec: Any) -> RawObject:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": target or {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
            **spec,
        },
    }


def serve(sandbox: Sandbox, replicas: int) -> None:
    """A ready Deployment of ``replicas`` pods, started longer ago than the CPU
    initialization period."""
    sandbox.create(DEPLOYMENTS, deployment(replicas=replicas))
    sandbox.run_kubelet()
    sandbox.clock.advance(60.0)


def load(sandbox: Sandbox, millicores: int) -> None:
    """Every web pod used ``millicores`` over the last 15 s, measured now."""
    for pod in sandbox.pods():
        sandbox.metrics.set(NS, name_of(pod), PodCpu(millicores, sandbox.clock(), 15.0))


def sync_hpas(sandbox: Sandbox) -> RawObject:
    sandbox.manager.resync()
    sandbox.settle()
    return sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web")


def conditions(obj: RawObject) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"].get("conditions", [])}


def replicas(sandbox: Sandbox) -> int:
    return int(sandbox.get(DEPLOYMENTS, "web")["spec"]["replicas"])


def test_high_cpu_scales_up_by_the_upstream_formula(sandbox: Sandbox) -> None:
    serve(sandbox, 1)
    load(sandbox, 750)
    sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa())

    status = sync_hpas(sandbox)["status"]

    # 750m of 500m = 150%, target 50%: ratio 3.0, ceil(3.0 * 1 ready pod) = 3
    assert replicas(sandbox) == 3
    assert len(sandbox.pods()) == 3
    assert status == {
        "observedGeneration": 1,
        "lastScaleTime": rfc3339(sandbox.clock.utc()),
        "currentReplicas": 1,
        "desiredReplicas": 3,
        "currentMetrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {"averageValue": "750m", "averageUtilization": 150},
                },
            }
        ],
        "conditions": status["conditions"],
    }
    assert conditions(sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web")) == {
        "AbleToScale": ("True", "SucceededRescale"),
        "ScalingActive": ("True", "ValidMetricFound"),
        "ScalingLimited": ("False", "DesiredWithinRange"),
    }
    assert sandbox.messages("SuccessfulRescale") == [
        "New size: 3; reason: cpu resource utilization (percentage of request) above target"
    ]
    [event] = sandbox.events("SuccessfulRescale")
    assert event["involvedObject"]["kind"] == "HorizontalPodAutoscaler"
    assert event["source"] == {"component": "horizontal-pod-autoscaler"}


def test_an_average_value_target_scales_by_millicores_per_pod(sandbox: Sandbox) -> None:
    serve(sandbox, 2)
    load(sandbox, 600)
    sandbox.create(
        HORIZONTAL_POD_AUTOSCALERS, hpa({"type": "AverageValue", "averageValue": "250m"})
    )

    status = sync_hpas(sandbox)["status"]

    # mean 600m / 250m = 2.4, ceil(2.4 * 2) = 5; without spec.behavior one sync may
    # at most double (or reach 4): max(2 * 2, 4) = 4
    assert replicas(sandbox) == 4
    assert status["currentMetrics"][0]["resource"]["current"] == {"averageValue": "600m"}
    assert conditions(sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web"))["ScalingLimited"] == (
        "True",
        "ScaleUpLimit",
    )
    assert sandbox.messages("SuccessfulRescale") == [
        "New size: 4; reason: cpu resource above target"
    ]


def test_low_cpu_scales_down_only_after_the_stabilization_window(sandbox: Sandbox) -> None:
    serve(sandbox, 1)
    load(sandbox, 750)
    sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa())
    scaled_at = sync_hpas(sandbox)["status"]["lastScaleTime"]
    sandbox.run_kubelet()
    sandbox.clock.advance(60.0)
    load(sandbox, 50)

    status = sync_hpas(sandbox)["status"]

    # 10% of a 50% target proposes 1, but 3 was recommended 60 s ago (window 120 s)
    assert replicas(sandbox) == 3
    assert (status["desiredReplicas"], status["lastScaleTime"]) == (3, scaled_at)
    assert conditions(sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web"))["AbleToScale"] == (
        "True",
        "ScaleDownStabilized",
    )

    sandbox.clock.advance(61.0)
    load(sandbox, 50)
    status = sync_hpas(sandbox)["status"]

    assert replicas(sandbox) == 1
    assert (status["currentReplicas"], status["desiredReplicas"]) == (3, 1)
    assert status["lastScaleTime"] == rfc3339(sandbox.clock.utc())
    assert sandbox.messages("SuccessfulRescale")[-1] == (
        "New size: 1; reason: All metrics below target"
    )


REAL_TIME = replace(SandboxSettings.timed("real-time"), hpa_sync_period_s=3600.0)
"""Upstream's timings (``--timing real-time``); only the syncs are chosen by the test."""


def test_without_behavior_scale_up_is_capped_at_twice_current_or_4_per_sync() -> None:
    with running_sandbox(REAL_TIME) as sandbox:
        serve(sandbox, 1)
        load(sandbox, 2500)
        sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa())  # no spec.behavior, like base/

        sync_hpas(sandbox)

    # 2500m of 500m = 500%, 10x the 50% target: 10 proposed; max(2 x 1, 4) = 4 per sync
    assert replicas(sandbox) == 4
    assert conditions(sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web"))["ScalingLimited"] == (
        "True",
        "ScaleUpLimit",
    )


@pytest.mark.parametrize(
    ("after_s", "expected"),
    [
        pytest.param(299.0, 3, id="299s-held"),
        pytest.param(300.0, 3, id="300s-still-held"),  # upstream: not Before(now - 300 s)
        pytest.param(301.0, 1, id="301s-scaled-in"),
    ],
)
def test_without_behavior_scale_down_waits_upstreams_five_minutes(
    after_s: float, expected: int
) -> None:
    with running_sandbox(REAL_TIME) as sandbox:
        serve(sandbox, 1)
        load(sandbox, 750)
        sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa())  # no spec.behavior, like base/
        sync_hpas(sandbox)  # 150% of 50%: 3
        recommended_at = sandbox.clock()
        sandbox.run_kubelet()
        sandbox.clock.advance(60.0)
        load(sandbox, 50)
        sync_hpas(sandbox)  # 10%: 1 proposed, 3 recommended ~60 s ago holds
        sandbox.clock.advance(recommended_at + after_s - sandbox.clock())
        load(sandbox, 50)

        sync_hpas(sandbox)

    assert replicas(sandbox) == expected


def test_pods_without_metrics_leave_the_count_and_report_why(sandbox: Sandbox) -> None:
    serve(sandbox, 2)
    sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa())

    status = sync_hpas(sandbox)["status"]

    error = (
        "failed to get cpu utilization: unable to get metrics for resource cpu: "
        "no metrics returned from resource metrics API"
    )
    assert replicas(sandbox) == 2
    assert (status["currentReplicas"], status["desiredReplicas"]) == (2, 0)
    assert conditions(sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web"))["ScalingActive"] == (
        "False",
        "FailedGetResourceMetric",
    )
    assert sandbox.messages("FailedGetResourceMetric") == [error]
    assert sandbox.messages("FailedComputeMetricsReplicas") == [
        f"invalid metrics (1 invalid out of 1), first error is: {error}"
    ]
    assert {e["type"] for e in sandbox.events("FailedGetResourceMetric")} == {"Warning"}

    sync_hpas(sandbox)

    [event] = sandbox.events("FailedGetResourceMetric")
    assert event["count"] == 2


def test_a_missing_target_is_failed_get_scale(sandbox: Sandbox) -> None:
    sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa(name="nope"))

    hpa_obj = sync_hpas(sandbox)

    assert conditions(hpa_obj) == {"AbleToScale": ("False", "FailedGetScale")}
    assert sandbox.messages("FailedGetScale") == ['deployments.apps "nope" not found']


class RacingMetrics(StaticMetrics):
    """Samples as set; the first read after ``race`` is set also runs it, as if a user
    changed the target while the HPA was computing."""

    def __init__(self) -> None:
        super().__init__()
        self.race: Callable[[], None] | None = None

    def pod_cpu(self, namespace: str, name: str) -> PodCpu | None:
        race, self.race = self.race, None
        if race is not None:
            race()
        return super().pod_cpu(namespace, name)


def test_a_target_changed_during_the_sync_is_a_failed_rescale() -> None:
    metrics = RacingMetrics()
    with running_sandbox(SETTINGS, metrics) as sandbox:
        serve(sandbox, 1)
        load(sandbox, 750)
        sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa())
        metrics.race = lambda: sandbox.store.modify(
            DEPLOYMENTS, NS, "web", lambda d: {**d, "spec": {**d["spec"], "replicas": 2}}
        )

        sync_hpas(sandbox)

        assert replicas(sandbox) == 2  # the user's write stands
        assert conditions(sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web"))["AbleToScale"] == (
            "False",
            "FailedUpdateScale",
        )
        [message] = sandbox.messages("FailedRescale")
        assert message.startswith(
            "New size: 3; reason: cpu resource utilization (percentage of request) above "
            'target; error: Operation cannot be fulfilled on deployments.apps "web"'
        )


def wait_for(
    sandbox: Sandbox, predicate: Callable[[RawObject], bool], timeout_s: float = 5.0
) -> RawObject:
    """The HPA once ``predicate`` holds, woken by the store's watch (no polling)."""
    deadline = time.monotonic() + timeout_s
    listing = sandbox.store.list(Selection(HORIZONTAL_POD_AUTOSCALERS, NS))
    with sandbox.store.watch(
        Selection(HORIZONTAL_POD_AUTOSCALERS, NS), since=listing.revision
    ) as watcher:
        current = listing.items
        while not any(predicate(o) for o in current):
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the HPA never got there"
            current = [e.object for e in watcher.poll(timeout_s=remaining)]
    return next(o for o in current if predicate(o))


def test_each_hpa_syncs_every_sync_period_by_itself() -> None:
    settings = SandboxSettings(hpa_sync_period_s=0.05, hpa_cpu_initialization_period_s=30.0)
    with running_sandbox(settings) as sandbox:
        serve(sandbox, 1)
        load(sandbox, 750)
        sandbox.store.create(HORIZONTAL_POD_AUTOSCALERS, hpa(), NS)

        synced = wait_for(sandbox, lambda o: o["status"].get("desiredReplicas") == 3)

    assert synced["status"]["currentReplicas"] == 1


def test_spec_behavior_replaces_the_legacy_limits(sandbox: Sandbox) -> None:
    serve(sandbox, 1)
    load(sandbox, 750)
    behavior = {
        "scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
        "scaleDown": {"stabilizationWindowSeconds": 0},
    }
    sandbox.create(HORIZONTAL_POD_AUTOSCALERS, hpa(behavior=behavior))

    sync_hpas(sandbox)

    # 3 proposed, but the only scale-up policy adds 1 pod per 60 s
    assert replicas(sandbox) == 2
    assert conditions(sandbox.get(HORIZONTAL_POD_AUTOSCALERS, "web"))["ScalingLimited"] == (
        "True",
        "ScaleUpLimit",
    )
    sandbox.run_kubelet()
    sandbox.clock.advance(60.0)
    load(sandbox, 50)

    sync_hpas(sandbox)

    # no scale-down window: 10% of 50% proposes ceil(0.2 * 2) = 1 at once
    assert replicas(sandbox) == 1


def test_cpu_and_memory_both_reported_and_the_larger_proposal_applied(sandbox: Sandbox) -> None:
    serve(sandbox, 2)
    for pod in sandbox.pods():  # 100m of 500m CPU (20%), 300 MiB: 3x a 100 MiB average
        sandbox.metrics.set(NS, name_of(pod), PodCpu(100, sandbox.clock(), 15.0), 300 * MIB)
    memory = {"type": "Resource", "resource": {"name": "memory", "target": AVERAGE_100MI}}
    body = hpa()
    body["spec"]["metrics"].append(memory)
    sandbox.create(HORIZONTAL_POD_AUTOSCALERS, body)

    status = sync_hpas(sandbox)["status"]

    assert replicas(sandbox) == 4  # memory ceil(3.0 * 2) = 6, the legacy limit max(2*2, 4)
    assert [
        (m["resource"]["name"], m["resource"]["current"]) for m in status["currentMetrics"]
    ] == [
        ("cpu", {"averageValue": "100m", "averageUtilization": 20}),
        ("memory", {"averageValue": str(300 * MIB)}),
    ]
    assert sandbox.messages("SuccessfulRescale") == [
        "New size: 4; reason: memory resource above target"
    ]


def test_a_metric_without_a_source_is_named_and_blocks_scale_down(sandbox: Sandbox) -> None:
    serve(sandbox, 3)
    load(sandbox, 50)  # 10% of a 50% target: cpu alone would scale in
    body = hpa()
    body["spec"]["metrics"].append(
        {"type": "External", "external": {"metric": {"name": "queue_depth"}}}
    )
    sandbox.create(HORIZONTAL_POD_AUTOSCALERS, body)

    hpa_obj = sync_hpas(sandbox)

    error = (
        "failed to get external metric value: the sandbox serves no external.metrics.k8s.io "
        "API (modelled: Resource metrics on cpu and memory)"
    )
    assert replicas(sandbox) == 3
    assert conditions(hpa_obj)["ScalingActive"] == ("False", "FailedGetExternalMetric")
    assert sandbox.messages("FailedGetExternalMetric") == [error]
    assert sandbox.messages("FailedComputeMetricsReplicas") == [
        f"invalid metrics (1 invalid out of 2), first error is: {error}"
    ]
