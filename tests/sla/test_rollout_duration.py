from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import RolloutDurationSla
from slagate.sla.rollout_duration import evaluate_rollout_duration
from slagate.sla.verdict import Status, Verdict
from tests.sla.timelines import T0, pod, rollout_events, timeline, window

RUN = "run [-2.0 s, 120.0 s]"
OTHER = "set_image deployment/product"


def rollout_duration(maximum: float = 60) -> RolloutDurationSla:
    return RolloutDurationSla(kind="rollout_duration", deployment="order", max=maximum)


def judge(events: list[tuple[Any, ...]], maximum: float = 60) -> Verdict:
    run = window(-2, 120, name="run")
    return evaluate_rollout_duration(rollout_duration(maximum), timeline(events=events), run)


@pytest.mark.parametrize(
    ("events", "status", "measured", "message"),
    [
        pytest.param(
            rollout_events(10, 30, 42.5, 42.6),
            Status.PASS,
            32.5,
            "order rollout took 32.5 s <= 60 s",
            id="pass",
        ),
        pytest.param(
            [*rollout_events(10, 30, 42.5, 42.6), *rollout_events(50, 90, 111, 111.1)],
            Status.FAIL,
            61.0,
            "order rollout took 61.0 s > 60 s (longest of 2)",
            id="fail-longest-of-two",
        ),
        pytest.param(
            rollout_events(10, 40, 70.04, 70.1),
            Status.FAIL,
            60.04,
            "order rollout took 60.040 s > 60 s",
            id="milliseconds-when-one-decimal-would-hide-the-failure",
        ),
        pytest.param(
            [*rollout_events(10, 30, 42.5, 42.6), *rollout_events(5, 90, 100, 100.1, name=OTHER)],
            Status.PASS,
            32.5,
            "order rollout took 32.5 s <= 60 s",
            id="other-deployments-ignored",
        ),
    ],
)
def test_rollout_duration(
    events: list[tuple[Any, ...]], status: Status, measured: float, message: str
) -> None:
    verdict = judge(events)
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.window) == (60.0, "s", RUN)
    assert verdict.id == "rollout-duration-order"
    assert not verdict.never


@pytest.mark.parametrize(
    ("events", "message"),
    [
        pytest.param(
            rollout_events(10, 30, None, 40, "timeout"),
            "order rollout never settled: complete after 20.0 s, old pods never gone; the "
            "action ended (timeout) after 30.0 s",
            id="timeout-fails-even-under-max",
        ),
        pytest.param(
            rollout_events(10, None, None, 40, "timeout"),
            "order rollout never completed: the action ended (timeout) after 30.0 s",
            id="never-complete",
        ),
        pytest.param(
            [*rollout_events(10, 30, 42.5, 42.6), *rollout_events(50, None, None, None)],
            f"order rollout never completed: still rolling after 70.0 s at the end of {RUN} "
            "(1 of 2 rollouts never settled)",
            id="unfinished-at-the-window-end",
        ),
    ],
)
def test_rollout_that_never_settled_is_a_failure_without_a_measurement(
    events: list[tuple[Any, ...]], message: str
) -> None:
    verdict = judge(events)
    assert (verdict.status, verdict.measured, verdict.never, verdict.measured_text) == (
        Status.FAIL,
        None,
        True,
        "never",
    )
    assert (verdict.message, verdict.threshold_text, verdict.window) == (message, "60 s", RUN)


def test_evidence_times_each_phase() -> None:
    events = [*rollout_events(10, 30, 42.5, 42.6), *rollout_events(50, 70, None, 110, "timeout")]
    assert [(e.t_ms, e.text) for e in judge(events).evidence] == [
        (
            T0 + 10_000,
            "rollout_restart deployment/order started: complete after 20.0 s, "
            "old pods gone after 32.5 s",
        ),
        (
            T0 + 50_000,
            "rollout_restart deployment/order started: complete after 20.0 s, "
            "old pods never gone, action ended after 60.0 s (timeout)",
        ),
    ]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([], id="no-rollout"),
        pytest.param(rollout_events(5, 10, 20, 20.1, name=OTHER), id="other-deployment"),
        pytest.param(rollout_events(121, 130, 140, 140.1), id="started-after-the-window"),
    ],
)
def test_no_rollout_is_no_data(events: list[tuple[Any, ...]]) -> None:
    verdict = judge(events)
    assert (verdict.status, verdict.measured, verdict.message) == (
        Status.NO_DATA,
        None,
        f"no data: no rollout of Deployment order recorded in {RUN}",
    )


def test_window_that_never_began_is_no_data() -> None:
    verdict = evaluate_rollout_duration(rollout_duration(), timeline(), None)
    assert (verdict.status, verdict.window) == (Status.NO_DATA, "run (never began)")


def settled_late(prestop_s: float | None, gone_s: float) -> Verdict:
    """A rollout of order settling at 25 s; its old pod deleted at 10 s, gone at ``gone_s``."""
    pods = [
        pod(9_000, "order-6c-new", "ready", ready=True),
        pod(10_000, "order-5b-old", "deleting", prestop_s=prestop_s),
        pod(round(gone_s * 1000), "order-5b-old", "deleted", prestop_s=prestop_s),
        pod(10_000, "product-4a-x", "deleting"),  # another Deployment's pod
        pod(40_000, "product-4a-x", "deleted"),
    ]
    data = timeline(events=rollout_events(0, 10, 25, 25.1), pods=pods)
    return evaluate_rollout_duration(rollout_duration(10), data, window(-2, 120, name="run"))


def test_an_old_pod_that_outlived_its_prestop_is_named_as_the_cause() -> None:
    verdict = settled_late(prestop_s=2.0, gone_s=25.0)

    assert verdict.status is Status.FAIL
    assert verdict.message == (
        "order rollout took 25.0 s > 10 s; cause: old pod order-5b-old lived 15.0 s after "
        "its deletion, 13.0 s past its 2 s preStop: it did not exit on SIGTERM and was most "
        "likely SIGKILLed when its grace period ended (is the app PID 1? a `sh -c` "
        "entrypoint without `exec` drops SIGTERM; or its drain is that slow)"
    )


@pytest.mark.parametrize(
    ("prestop_s", "gone_s"),
    [
        pytest.param(2.0, 16.9, id="drained-within-5s-of-its-prestop"),
        pytest.param(12.0, 25.0, id="a-long-prestop-explains-it"),
    ],
)
def test_no_cause_named_when_old_pods_left_soon_after_their_prestop(
    prestop_s: float, gone_s: float
) -> None:
    verdict = settled_late(prestop_s, gone_s)

    assert verdict.status is Status.FAIL
    assert verdict.message == "order rollout took 25.0 s > 10 s"
