from __future__ import annotations

from typing import Any

from slagate.scenario import SLA_KINDS
from slagate.sla.judging import EVALUATORS, judge
from slagate.sla.verdict import Status
from slagate.timeline import Timeline
from tests.sla.timelines import (
    T0,
    ack,
    check,
    deploy,
    eps,
    fail,
    load_events,
    pod,
    req,
    rollout_events,
    scenario,
    timeline,
)

A, B, C, D = "order-6c-a", "order-6c-b", "order-7d-c", "order-7d-d"

# A rolling deploy like scenarios/rolling-deploy.yaml: restart at 15 s, settled at 27.5 s.
SLAS: list[dict[str, Any]] = [
    {"id": "no-failed-requests-during-rollout", "kind": "failed_requests", "window": "rollout"},
    {"id": "ready", "kind": "ready_endpoints", "service": "order", "min": 1, "window": "rollout"},
    {"id": "rollout", "kind": "rollout_duration", "deployment": "order", "max": 60},
    {"id": "ceiling", "kind": "max_replicas", "deployment": "order", "max": 3},
    {"id": "flapping", "kind": "flapping", "deployment": "order", "max_changes": 1},
    {"id": "scale-out", "kind": "scale_out", "deployment": "order", "replicas": 2, "within": 5},
    {"id": "no-order-lost", "kind": "no_lost_writes"},
]


def rolling_deploy() -> Timeline:
    return timeline(
        events=[*load_events(45), *rollout_events(15, 24, 27.5, 27.6)],
        requests=[req(s, 20, 2 if s == 16 else 0) for s in range(45)],
        failures=[fail(16_200, status=503), fail(16_400, status=503)],
        replicas=[deploy(-5000, 2, 2), deploy(15_100, 2, 2, current=3), deploy(27_500, 2, 2)],
        pods=[
            pod(15_100, C, "added"),
            pod(16_000, C, "ready", ready=True),
            pod(16_100, A, "deleting"),
            pod(20_000, D, "added"),
            pod(23_000, D, "ready", ready=True),
            pod(23_100, B, "deleting"),
        ],
        endpoints=[
            eps(-5000, [A, B]),
            eps(16_050, [A, B, C]),
            eps(16_150, [B, C], [A]),
            eps(23_050, [B, C, D]),
            eps(23_150, [C, D], [B]),
            eps(27_400, [C, D]),
        ],
        acks=[ack(5000, "o-1"), ack(16_300, "o-2")],
        integrity=[check(47_000, "o-1", True), check(47_100, "o-2", False, 404)],
        info={"started_ms": T0 - 2000, "ended_ms": T0 + 48_000},
    )


def test_every_sla_kind_has_an_evaluator() -> None:
    assert sorted(EVALUATORS) == sorted(SLA_KINDS)


def test_a_rolling_deploy_is_judged_in_its_windows() -> None:
    verdicts = judge(scenario(SLAS), rolling_deploy())
    assert [(v.id, v.status, v.measured, v.window) for v in verdicts] == [
        ("no-failed-requests-during-rollout", Status.FAIL, 2.0, "rollout [15.0 s, 27.5 s]"),
        ("ready", Status.PASS, 2.0, "rollout [15.0 s, 27.5 s]"),
        ("rollout", Status.PASS, 12.5, "run [-2.0 s, 48.0 s]"),
        ("ceiling", Status.PASS, 2.0, "run [-2.0 s, 48.0 s]"),
        ("flapping", Status.PASS, 0.0, "run [-2.0 s, 48.0 s]"),
        ("scale-out", Status.PASS, 0.0, "run [-2.0 s, 48.0 s]"),
        ("no-order-lost", Status.FAIL, 1.0, "run [-2.0 s, 48.0 s]"),
    ]
    assert verdicts[0].message == (
        "failed requests 2 > 0 in rollout [15.0 s, 27.5 s]: 2 of 260 requests failed; likely "
        f"cause: 2 requests failed within 0.3 s after pod {A} began terminating "
        "(22:13:36.100 UTC): the pod stopped serving before endpoints were updated; add a "
        "preStop delay longer than the propagation delay"
    )


def test_without_kubernetes_tables_the_cluster_slas_have_no_data() -> None:
    verdicts = judge(scenario(SLAS), timeline(events=load_events(45), requests=[req(0, 5)]))
    assert [v.status for v in verdicts] == [Status.NO_DATA] * len(SLAS)
    assert verdicts[0].message == ("no data: the rollout window never began (no rollout recorded)")
