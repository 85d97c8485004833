from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import ScaleInSla, ScaleOutSla
from slagate.sla.scaling import Step, breakdown, evaluate_scale_in, evaluate_scale_out
from slagate.sla.verdict import Status, Window
from slagate.timeline import Timeline
from tests.sla.timelines import (
    T0,
    deploy,
    ev,
    hpa,
    kev,
    load_events,
    pod,
    timeline,
    window,
)

RUN = "run [-2.0 s, 120.0 s]"
RESCALE = "New size: 3; reason: cpu resource utilization (percentage of request) above target"

# The brief's slow scale-out: CPU over the 15% target after 8 s, the HPA decides 3 replicas
# after 17.1 s, the ReplicaSet creates two pods by 17.3 s, they are ready after 41.2 s.
SLOW_OUT = {
    "replicas": [
        deploy(-5000, 1, 1),
        hpa(-5000, 1, 5.0, target=15.0),
        hpa(8000, 1, 45.0, target=15.0),
        hpa(17_100, 3, 45.0, target=15.0, current=1),
        deploy(17_150, 3, 1),
        deploy(30_000, 3, 2),
        deploy(41_200, 3, 3),
    ],
    "pods": [
        pod(-9000, "order-6c-a", "added", ready=True),
        pod(17_250, "order-6c-b", "added"),
        pod(17_300, "order-6c-c", "added"),
        pod(30_000, "order-6c-b", "ready", ready=True),
        pod(41_200, "order-6c-c", "ready", ready=True),
    ],
    "events": [
        *load_events(60),
        kev(17_100, "SuccessfulRescale", "HorizontalPodAutoscaler/order", RESCALE),
    ],
}


def scale_out(within: float = 30, replicas: int = 3) -> ScaleOutSla:
    return ScaleOutSla(kind="scale_out", deployment="order", replicas=replicas, within=within)


def scale_in(within: float = 60, replicas: int = 1) -> ScaleInSla:
    return ScaleInSla(kind="scale_in", deployment="order", replicas=replicas, within=within)


def recorded(**tables: list[tuple[Any, ...]]) -> Timeline:
    return timeline(**{"events": load_events(60), **tables})


RUN_WINDOW = window(-2, 120, name="run")


# --- scale-out ----------------------------------------------------------------------------


def test_slow_scale_out_names_the_slow_steps() -> None:
    verdict = evaluate_scale_out(scale_out(), timeline(**SLOW_OUT), RUN_WINDOW)
    assert (verdict.status, verdict.measured) == (Status.FAIL, 41.2)
    assert verdict.message == (
        "order scale-out to 3 took 41.2 s > 30 s after load start: CPU above target after "
        "8.0 s, HPA decided 3 replicas after 17.1 s (sync period or scale-up policy), pods "
        "created after 17.3 s, ready after 41.2 s (slow readiness: pod start-up or probe "
        "timings)"
    )
    assert (verdict.threshold, verdict.unit, verdict.window, verdict.id) == (
        30.0,
        "s",
        RUN,
        "scale-out-order-3",
    )


def test_slow_scale_out_evidence_is_the_hpa_timeline() -> None:
    verdict = evaluate_scale_out(scale_out(), timeline(**SLOW_OUT), RUN_WINDOW)
    hpa_line = "HPA order: CPU {}% of request (target 15%), desired {}, current {}"
    assert [(e.t_ms - T0, e.text) for e in verdict.evidence] == [
        (0, hpa_line.format(5, 1, 1)),
        (0, "Deployment order: desired 1, ready 1, current 1"),
        (8000, hpa_line.format(45, 1, 1)),
        (17_100, hpa_line.format(45, 3, 1)),
        (17_100, f"SuccessfulRescale HorizontalPodAutoscaler/order: {RESCALE}"),
        (17_150, "Deployment order: desired 3, ready 1, current 3"),
        (30_000, "Deployment order: desired 3, ready 2, current 3"),
        (41_200, "Deployment order: desired 3, ready 3, current 3"),
    ]


@pytest.mark.parametrize(
    ("tables", "status", "measured", "message"),
    [
        pytest.param(
            {"replicas": [deploy(-5000, 1, 1), deploy(4000, 3, 1), deploy(12_000, 3, 3)]},
            Status.PASS,
            12.0,
            "order scale-out to 3 took 12.0 s <= 30 s after load start",
            id="pass",
        ),
        pytest.param(
            {"replicas": [deploy(-5000, 3, 3)]},
            Status.PASS,
            0.0,
            "order scale-out to 3 took 0.0 s <= 30 s after load start",
            id="already-there-at-load-start",
        ),
        pytest.param(
            {
                "replicas": [deploy(-5000, 1, 1), deploy(5000, 3, 1), deploy(40_000, 3, 3)],
                "pods": [pod(5100, "order-6c-b", "added"), pod(5050, "order-6c-c", "added")],
            },
            Status.FAIL,
            40.0,
            "order scale-out to 3 took 40.0 s > 30 s after load start: Deployment asked for "
            "3 replicas after 5.0 s, pods created after 5.1 s, ready after 40.0 s (slow "
            "readiness: pod start-up or probe timings)",
            id="no-hpa-the-deployment-decides",
        ),
    ],
)
def test_scale_out(
    tables: dict[str, list[tuple[Any, ...]]], status: Status, measured: float, message: str
) -> None:
    verdict = evaluate_scale_out(scale_out(), recorded(**tables), RUN_WINDOW)
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert not verdict.never


@pytest.mark.parametrize(
    ("tables", "run", "message"),
    [
        pytest.param(
            {
                "replicas": [
                    deploy(-5000, 1, 1),
                    hpa(-5000, 1, 5.0, target=15.0, max_replicas=2),
                    hpa(8000, 2, 45.0, target=15.0, max_replicas=2),
                    deploy(8100, 2, 2),
                ]
            },
            RUN_WINDOW,
            "order never reached 3 ready replicas in 120.0 s after load start (at most 2 "
            f"ready at the end of {RUN}): CPU above target after 8.0 s, HPA never decided 3 "
            "replicas (its max_replicas is 2)",
            id="never-capped-by-the-hpa",
        ),
        pytest.param(
            {"replicas": [deploy(-5000, 1, 1), hpa(-5000, 1, 20.0), hpa(50_000, 1, 30.0)]},
            RUN_WINDOW,
            "order never reached 3 ready replicas in 120.0 s after load start (at most 1 "
            f"ready at the end of {RUN}): CPU never above target",
            id="never-the-metric-stayed-below-target",
        ),
        pytest.param(
            {"replicas": [deploy(-5000, 1, 1), hpa(-5000, 1, 20.0)]},
            window(-2, 20, name="load"),
            "order never reached 3 ready replicas in 20.0 s after load start (at most 1 "
            "ready at the end of load [-2.0 s, 20.0 s], which ended 10.0 s before the 30 s "
            "allowed): CPU never above target",
            id="window-shorter-than-allowed",
        ),
    ],
)
def test_scale_out_that_never_happened_is_a_failure_without_a_measurement(
    tables: dict[str, list[tuple[Any, ...]]], run: Window, message: str
) -> None:
    verdict = evaluate_scale_out(scale_out(), recorded(**tables), run)
    assert (verdict.status, verdict.measured, verdict.never, verdict.measured_text) == (
        Status.FAIL,
        None,
        True,
        "never",
    )
    assert verdict.message == message


FULL = "0/1 nodes are available: 1 Insufficient cpu."


def capacity_bound(bound_ms: int | None) -> dict[str, list[tuple[Any, ...]]]:
    """The HPA decides 3 at 4 s; the node holds one more pod, so order-6c-c waits for a
    node until ``bound_ms`` (never if None) and is ready 3 s later."""
    replicas = [deploy(-5000, 1, 1), hpa(-5000, 1, 5.0), hpa(4000, 3, 90.0), deploy(4050, 3, 1)]
    pods = [pod(4100, "order-6c-b", "added"), pod(4100, "order-6c-c", "added")]
    events = [
        *load_events(40),
        kev(4200, "Scheduled", "Pod/order-6c-b", "Successfully assigned default/order-6c-b"),
        kev(4200, "FailedScheduling", "Pod/order-6c-c", FULL),
        kev(4200, "FailedScheduling", "Pod/product-7d-a", FULL),  # another Deployment's
    ]
    if bound_ms is not None:
        replicas.append(deploy(bound_ms + 3000, 3, 3))
        events.append(kev(bound_ms, "Scheduled", "Pod/order-6c-c", "Successfully assigned"))
    return {"replicas": replicas, "pods": pods, "events": events}


def test_scale_out_held_up_by_capacity_names_the_pending_pods() -> None:
    verdict = evaluate_scale_out(
        scale_out(within=15), timeline(**capacity_bound(24_200)), RUN_WINDOW
    )

    assert (verdict.status, verdict.measured) == (Status.FAIL, 27.2)
    assert verdict.message.endswith(
        "pods created after 4.1 s, pods scheduled after 24.2 s (capacity: 1 pod Pending, "
        f"Unschedulable ({FULL})), ready after 27.2 s"
    )


def test_scale_out_never_scheduled_blames_capacity_not_the_hpa() -> None:
    verdict = evaluate_scale_out(scale_out(within=15), timeline(**capacity_bound(None)), RUN_WINDOW)

    assert (verdict.status, verdict.never) == (Status.FAIL, True)
    assert verdict.message.endswith(
        f"HPA decided 3 replicas after 4.0 s, pods created after 4.1 s, capacity: 1 pod "
        f"Pending, Unschedulable ({FULL})"
    )


def test_pods_bound_at_once_add_no_capacity_step() -> None:
    tables = capacity_bound(24_200)
    tables["events"] = [e for e in tables["events"] if e[2] != "FailedScheduling"]

    verdict = evaluate_scale_out(scale_out(within=15), timeline(**tables), RUN_WINDOW)

    assert "scheduled" not in verdict.message and "capacity" not in verdict.message


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        pytest.param(
            {"events": [ev(0, "run_start")], "replicas": [deploy(0, 3, 3)]},
            f"no data: no load_start event in {RUN}",
            id="no-load-start",
        ),
        pytest.param(
            {"replicas": [deploy(0, 3, 3, name="product")]},
            f"no data: no replicas recorded for Deployment order in {RUN}",
            id="no-deployment-rows",
        ),
    ],
)
def test_scale_out_no_data(tables: dict[str, list[tuple[Any, ...]]], message: str) -> None:
    verdict = evaluate_scale_out(scale_out(), recorded(**tables), RUN_WINDOW)
    assert (verdict.status, verdict.measured, verdict.message) == (Status.NO_DATA, None, message)


# --- scale-in (the load stops 30 s after it started) ---------------------------------------

SCALE_IN = [
    deploy(-5000, 3, 3),
    hpa(-5000, 3, 45.0, target=15.0),
    hpa(40_000, 3, 5.0, target=15.0),
    hpa(75_000, 1, 5.0, target=15.0),
    deploy(75_050, 1, 1),
]


@pytest.mark.parametrize(
    ("rows", "within", "status", "measured", "message"),
    [
        pytest.param(
            SCALE_IN,
            60,
            Status.PASS,
            45.05,
            "order scale-in to 1 took 45.0 s <= 60 s after load stop",
            id="pass",
        ),
        pytest.param(
            SCALE_IN,
            30,
            Status.FAIL,
            45.05,
            "order scale-in to 1 took 45.0 s > 30 s after load stop: CPU below target after "
            "10.0 s (metrics lag: metrics resolution and sync period), HPA decided 1 replica "
            "after 45.0 s (scale-down stabilization window, 300 s by default), down to 1 after "
            "45.0 s",
            id="fail-names-the-stabilization-window",
        ),
        pytest.param(
            [deploy(-5000, 3, 3), deploy(40_000, 1, 1, current=3), deploy(50_000, 1, 1)],
            60,
            Status.PASS,
            20.0,
            "order scale-in to 1 took 20.0 s <= 60 s after load stop",
            id="current-must-follow-desired",
        ),
    ],
)
def test_scale_in(
    rows: list[tuple[Any, ...]], within: float, status: Status, measured: float, message: str
) -> None:
    tl = timeline(events=load_events(30), replicas=rows)
    verdict = evaluate_scale_in(scale_in(within), tl, RUN_WINDOW)
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.id) == (float(within), "s", "scale-in-order-1")


def test_scale_in_held_by_min_replicas_never_happened() -> None:
    rows = [
        deploy(-5000, 3, 3),
        hpa(-5000, 3, 45.0, target=15.0, min_replicas=2),
        hpa(40_000, 2, 5.0, target=15.0, min_replicas=2),
        deploy(40_100, 2, 2),
    ]
    tl = timeline(events=load_events(30), replicas=rows)
    verdict = evaluate_scale_in(scale_in(), tl, RUN_WINDOW)
    assert (verdict.status, verdict.measured, verdict.never, verdict.measured_text) == (
        Status.FAIL,
        None,
        True,
        "never",
    )
    assert verdict.message == (
        "order never came down to 1 replica in 90.0 s after load stop (still 2 desired, 2 "
        f"current at the end of {RUN}): CPU below target after 10.0 s, HPA never decided 1 "
        "replica (its min_replicas is 2)"
    )
    assert (verdict.threshold, verdict.unit, verdict.id) == (60.0, "s", "scale-in-order-1")


def test_scale_in_without_load_stop_is_no_data() -> None:
    tl = timeline(events=[ev(0, "load_start")], replicas=SCALE_IN)
    verdict = evaluate_scale_in(scale_in(), tl, RUN_WINDOW)
    assert (verdict.status, verdict.message) == (
        Status.NO_DATA,
        f"no data: no load_stop event in {RUN}",
    )


# --- the breakdown --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        pytest.param(
            [
                Step("a", "never a", T0 + 1000, "hint a"),
                Step("b", "never b", T0 + 10_000, "hint b"),
            ],
            "a after 1.0 s, b after 10.0 s (hint b)",
            id="only-slow-steps-hinted",
        ),
        pytest.param(
            [Step("a", "never a", None), Step("b", "never b", T0 + 2000)],
            "b after 2.0 s",
            id="a-missing-step-before-a-later-one-is-left-out",
        ),
        pytest.param(
            [Step("a", "never a", T0 + 1000), Step("b", "never b", None), Step("c", "", None)],
            "a after 1.0 s, never b",
            id="the-first-step-that-never-happened-ends-it",
        ),
    ],
)
def test_breakdown(steps: list[Step], text: str) -> None:
    assert breakdown(steps, T0, T0 + 10_000) == text
