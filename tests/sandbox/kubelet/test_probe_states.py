"""The probe state machine and termination timing."""

from __future__ import annotations

import pytest

from slagate.sandbox.kubelet.probe_states import (
    ProbeKind,
    ProbeResult,
    ProbeSpec,
    ProbeState,
    http_success,
    initial_state,
    is_ready,
    is_started,
    needs_restart,
    next_probe_at,
    on_container_restart,
    on_deletion,
    probe_allowed_at,
    record,
    replay,
    should_probe,
)
from slagate.sandbox.kubelet.termination import (
    TerminationPlan,
    exit_at,
    killed,
    plan_termination,
)

S, F = ProbeResult.SUCCESS, ProbeResult.FAILURE


def test_upstream_defaults() -> None:
    spec = ProbeSpec()

    assert (
        spec.initial_delay_s,
        spec.period_s,
        spec.timeout_s,
        spec.success_threshold,
        spec.failure_threshold,
    ) == (0, 10, 1, 1, 3)


def test_initial_results() -> None:
    assert [initial_state(k).result for k in ProbeKind] == [F, S, ProbeResult.UNKNOWN]


@pytest.mark.parametrize(
    ("spec", "outcomes", "published"),
    [
        # default thresholds: ready at the first success; unready only at the third failure
        pytest.param(
            ProbeSpec(),
            [True, False, False, False, True],
            [S, S, S, F, S],
            id="failure-threshold-3",
        ),
        pytest.param(ProbeSpec(success_threshold=2), [True, True], [F, S], id="success-2"),
        # a failure in between restarts the success count
        pytest.param(
            ProbeSpec(success_threshold=2),
            [True, False, True, True],
            [F, F, F, S],
            id="success-run-resets",
        ),
        # a success in between restarts the failure count
        pytest.param(
            ProbeSpec(failure_threshold=2),
            [True, False, True, False, False],
            [S, S, S, S, F],
            id="failure-run-resets",
        ),
    ],
)
def test_readiness_thresholds(
    spec: ProbeSpec, outcomes: list[bool], published: list[ProbeResult]
) -> None:
    timed = [(10.0 * i, ok) for i, ok in enumerate(outcomes)]

    states = replay(spec, ProbeKind.READINESS, timed)

    assert [s.result for s in states] == published


def test_readiness_loss_takes_period_times_threshold() -> None:
    # probes at 0 (ok), 10, 20, 30 (fail): published not-ready at 30 s, 30 s after the
    # last success
    states = replay(
        ProbeSpec(), ProbeKind.READINESS, [(0, True), (10, False), (20, False), (30, False)]
    )

    first_unready = next(s.last_probe_s for s in states if s.result is F)

    assert first_unready == 30.0


def test_liveness_failure_holds_until_new_container() -> None:
    spec = ProbeSpec(period_s=5)
    states = replay(spec, ProbeKind.LIVENESS, [(0, False), (5, False), (10, False)])
    failed = states[-1]

    restarted = on_container_restart(failed)

    assert [s.result for s in states] == [S, S, F]
    assert (failed.on_hold, needs_restart(failed, None)) == (True, True)
    assert should_probe(failed, started=True, deleting=False) is False
    assert (restarted.result, restarted.on_hold, restarted.last_probe_s) == (S, False, None)


def test_startup_probe_gates_the_others() -> None:
    startup = initial_state(ProbeKind.STARTUP)
    readiness = initial_state(ProbeKind.READINESS)
    started = record(ProbeSpec(), startup, True, 12.0)

    assert (is_started(startup), is_started(started), is_started(None)) == (False, True, True)
    assert should_probe(startup, started=False, deleting=False) is True
    assert should_probe(started, started=True, deleting=False) is False
    assert should_probe(readiness, started=False, deleting=False) is False
    assert should_probe(readiness, started=True, deleting=False) is True


def test_startup_failure_threshold_restarts() -> None:
    spec = ProbeSpec(failure_threshold=2)

    states = replay(spec, ProbeKind.STARTUP, [(0, False), (10, False)])

    assert [s.result for s in states] == [ProbeResult.UNKNOWN, F]
    assert needs_restart(None, states[-1]) is True


def test_deletion_stops_liveness_but_not_readiness() -> None:
    liveness = replay(ProbeSpec(), ProbeKind.LIVENESS, [(0, False), (10, False)])[-1]
    readiness = replay(ProbeSpec(), ProbeKind.READINESS, [(0, True)])[-1]

    assert on_deletion(liveness).result is S
    assert should_probe(on_deletion(liveness), started=True, deleting=True) is False
    assert on_deletion(readiness) == readiness
    assert should_probe(readiness, started=True, deleting=True) is True


@pytest.mark.parametrize(
    ("spec", "last_probe_s", "due_s"),
    [
        pytest.param(ProbeSpec(), None, 100.0, id="first-no-delay"),
        pytest.param(ProbeSpec(initial_delay_s=5), None, 105.0, id="first-after-delay"),
        pytest.param(ProbeSpec(initial_delay_s=5), 105.0, 115.0, id="then-every-period"),
        pytest.param(ProbeSpec(period_s=3), 120.0, 123.0, id="custom-period"),
    ],
)
def test_next_probe_at(spec: ProbeSpec, last_probe_s: float | None, due_s: float) -> None:
    state = ProbeState(ProbeKind.READINESS, F, last_probe_s=last_probe_s)

    assert next_probe_at(spec, 100.0, state) == due_s


@pytest.mark.parametrize(
    ("now_s", "allowed"),
    [
        pytest.param(104.9, False, id="4.9s-truncates-to-4"),
        pytest.param(105.0, True, id="5s"),
    ],
)
def test_initial_delay_truncates_to_seconds(now_s: float, allowed: bool) -> None:
    assert probe_allowed_at(ProbeSpec(initial_delay_s=5), 100.0, now_s) is allowed


@pytest.mark.parametrize(
    ("status", "elapsed_s", "success"),
    [
        pytest.param(200, 0.1, True, id="200"),
        pytest.param(399, 0.1, True, id="399"),
        pytest.param(400, 0.1, False, id="400"),
        pytest.param(503, 0.1, False, id="503"),
        pytest.param(None, 0.0, False, id="refused"),
        pytest.param(200, 1.0, True, id="at-timeout"),
        pytest.param(200, 1.5, False, id="too-slow"),
    ],
)
def test_http_success(status: int | None, elapsed_s: float, success: bool) -> None:
    assert http_success(status, elapsed_s, 1.0) is success


@pytest.mark.parametrize(
    ("running", "startup", "readiness", "ready"),
    [
        pytest.param(True, None, None, True, id="no-probes"),
        pytest.param(False, None, None, False, id="not-running"),
        pytest.param(True, None, initial_state(ProbeKind.READINESS), False, id="not-yet-probed"),
        pytest.param(
            True,
            initial_state(ProbeKind.STARTUP),
            ProbeState(ProbeKind.READINESS, S),
            False,
            id="not-started",
        ),
        pytest.param(
            True,
            ProbeState(ProbeKind.STARTUP, S),
            ProbeState(ProbeKind.READINESS, S),
            True,
            id="started-and-ready",
        ),
    ],
)
def test_is_ready(
    running: bool, startup: ProbeState | None, readiness: ProbeState | None, ready: bool
) -> None:
    assert is_ready(running, startup, readiness) is ready


@pytest.mark.parametrize(
    ("deleted_s", "grace_s", "pre_stop_s", "plan"),
    [
        pytest.param(0.0, 30, None, TerminationPlan(0.0, None, 0.0, 30.0), id="no-prestop"),
        pytest.param(0.0, 30, 10.0, TerminationPlan(0.0, 10.0, 10.0, 30.0), id="prestop-10"),
        # preStop overruns: cut at 30 s, then the 2 s minimum for SIGTERM
        pytest.param(0.0, 30, 40.0, TerminationPlan(0.0, 30.0, 30.0, 32.0), id="overrun"),
        # 30 - int(5.5) = 25 s left after SIGTERM at 5.5
        pytest.param(0.0, 30, 5.5, TerminationPlan(0.0, 5.5, 5.5, 30.5), id="whole-seconds"),
        # 30 - 29 = 1 s left, raised to 2
        pytest.param(0.0, 30, 29.0, TerminationPlan(0.0, 29.0, 29.0, 31.0), id="minimum-2"),
        pytest.param(0.0, 0, 10.0, TerminationPlan(0.0, None, 0.0, 2.0), id="grace-0"),
        pytest.param(
            100.0, 60, 15.0, TerminationPlan(100.0, 115.0, 115.0, 160.0), id="offset-grace-60"
        ),
    ],
)
def test_plan_termination(
    deleted_s: float, grace_s: int, pre_stop_s: float | None, plan: TerminationPlan
) -> None:
    assert plan_termination(deleted_s, grace_s, pre_stop_s) == plan


@pytest.mark.parametrize(
    ("drain_s", "exit_s", "was_killed"),
    [
        pytest.param(5.0, 15.0, False, id="drains-in-time"),
        pytest.param(25.0, 30.0, True, id="drain-too-long"),
        pytest.param(None, 30.0, True, id="ignores-sigterm"),
    ],
)
def test_exit_time(drain_s: float | None, exit_s: float, was_killed: bool) -> None:
    plan = plan_termination(0.0, 30, 10.0)

    assert (exit_at(plan, drain_s), killed(plan, drain_s)) == (exit_s, was_killed)
