"""A rollout that never completed names its cause from the new pods' status and Events."""

from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import RolloutDurationSla
from slagate.sla.rollout_duration import evaluate_rollout_duration
from slagate.sla.verdict import Status, Verdict
from tests.sla.timelines import T0, ev, kev, pod, rollout_events, timeline, window

STUCK = "order rollout never completed: the action ended (timeout) after 30.0 s"
NEW = "Pod/order-7d-a"
PULL_FAILED = 'Failed to pull image "shop:broken": image "shop:broken" is not mapped'
CRASH = "Back-off restarting failed container order in pod order-7d-a_shop(u1)"
NO_CPU = "0/1 nodes are available: 1 Insufficient cpu."
DEADLINE = 'deployment "order" exceeded its progress deadline'


def restarted(offset_ms: int, exit_code: int, message: str | None) -> tuple[Any, ...]:
    """A ``restarted`` row of the new pod with its last termination."""
    return (*pod(offset_ms, "order-7d-a", "restarted")[:-2], exit_code, message)


def judge(events: list[tuple[Any, ...]], outcome: str = "timeout", more_pods: Any = ()) -> Verdict:
    spec = RolloutDurationSla(kind="rollout_duration", deployment="order", max=60)
    pods = [
        pod(500, "order-6c-a", "added", ready=True),  # the old revision, there before
        pod(10_500, "order-7d-a", "added"),  # the new one
        pod(10_600, "orderx-9f-a", "added"),  # another Deployment's
        *more_pods,
    ]
    rows = [*rollout_events(10, None, None, 40, outcome), *events]
    return evaluate_rollout_duration(
        spec, timeline(events=rows, pods=pods), window(-2, 120, name="run")
    )


@pytest.mark.parametrize(
    ("events", "cause"),
    [
        pytest.param(
            [
                kev(11_000, "Pulling", NEW, 'Pulling image "shop:broken"'),
                kev(11_000, "Failed", NEW, PULL_FAILED),
                kev(11_000, "Failed", NEW, "Error: ErrImagePull"),
                kev(12_000, "BackOff", NEW, 'Back-off pulling image "shop:broken"'),
                kev(12_000, "Failed", NEW, "Error: ImagePullBackOff"),
                kev(13_000, "Unhealthy", NEW, "Readiness probe failed: connection refused"),
            ],
            f"image cannot be pulled (ImagePullBackOff) on 1 new pod (order-7d-a): {PULL_FAILED}",
            id="image-pull-back-off-first",
        ),
        pytest.param(
            [kev(11_000, "Failed", NEW, PULL_FAILED)],
            f"image cannot be pulled (ErrImagePull) on 1 new pod (order-7d-a): {PULL_FAILED}",
            id="err-image-pull",
        ),
        pytest.param(
            [kev(20_000, "BackOff", NEW, CRASH)],
            "container crashing (CrashLoopBackOff) on 1 new pod (order-7d-a)",
            id="crash-loop",
        ),
        pytest.param(
            [kev(11_000, "FailedScheduling", NEW, NO_CPU)],
            f"Pending for capacity (FailedScheduling) on 1 new pod (order-7d-a): {NO_CPU}",
            id="capacity",
        ),
        pytest.param(
            [
                kev(12_000, "Unhealthy", NEW, "Readiness probe failed: connection refused"),
                kev(14_000, "Unhealthy", NEW, "Liveness probe failed: timeout"),
                kev(
                    15_000,
                    "Unhealthy",
                    NEW,
                    "Readiness probe failed: HTTP probe failed with statuscode: 503",
                ),
            ],
            "readiness probe failed on 1 new pod (order-7d-a): HTTP probe failed with "
            "statuscode: 503",
            id="readiness-last-message",
        ),
    ],
)
def test_the_cause_follows_the_never_completed_message(
    events: list[tuple[Any, ...]], cause: str
) -> None:
    verdict = judge(events)
    assert verdict.status is Status.FAIL
    assert verdict.message == f"{STUCK}; cause: {cause}"
    assert any(e.text.startswith(NEW) for e in verdict.evidence)


def test_a_crash_loop_says_the_last_exit_code_and_the_logs_tail() -> None:
    log = "x" * 500 + " KeyError: 'DB_URL'"
    more = [restarted(12_000, 2, "first"), restarted(16_000, 1, log)]
    verdict = judge([kev(20_000, "BackOff", NEW, CRASH)], more_pods=more)
    cause = verdict.message.partition("; cause: ")[2]
    assert cause.startswith(
        "container crashing (CrashLoopBackOff) on 1 new pod (order-7d-a): last exit code 1, "
        "log tail: ..."
    )
    assert cause.endswith("x KeyError: 'DB_URL'")
    assert len(cause.partition("log tail: ")[2]) == 200


def test_progress_deadline_from_the_action_failure() -> None:
    events = [ev(35_000, "action_failed", "rollout_restart deployment/order", DEADLINE)]
    verdict = judge(events, outcome=DEADLINE)
    assert verdict.message.endswith(
        f"; cause: progress deadline exceeded (ProgressDeadlineExceeded): {DEADLINE}"
    )
    assert (T0 + 35_000, DEADLINE) in [(e.t_ms, e.text) for e in verdict.evidence]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([], id="no-events"),
        pytest.param([kev(11_000, "BackOff", "Pod/order-6c-a", CRASH)], id="old-pod"),
        pytest.param([kev(11_000, "BackOff", "Pod/orderx-9f-a", CRASH)], id="other-deployment"),
        pytest.param([kev(45_000, "BackOff", NEW, CRASH)], id="after-the-action-ended"),
        pytest.param([kev(11_000, "Started", NEW, "Started container order")], id="normal"),
    ],
)
def test_no_evidence_no_cause(events: list[tuple[Any, ...]]) -> None:
    assert judge(events).message == STUCK
