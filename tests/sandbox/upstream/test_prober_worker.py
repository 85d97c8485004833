"""Upstream's probe worker tables, replayed against ``kubelet.probe_states``.

Source: kubernetes/kubernetes pkg/kubelet/prober/worker_test.go, read as stored blob
42702671848 of the search index, which gives no commit for it: the version that probes a
restartable init container and checks ``resultRun``. Inputs and expected outputs are
transcribed; the code is ours. Each upstream ``doProbe`` call is one step here:
``should_probe`` (the worker's guards), then ``record`` with the fake prober's outcome.

Upstream's fixtures, restated: ``getTestRunningStatusWithStarted(probeType != startup)``
marks the container started for liveness and readiness workers and not started for a
startup worker; probes default to successThreshold 1, failureThreshold 3; the fake prober
succeeds unless a case says otherwise.

Replayed: TestDoProbe (the running, deleted and initial-delay-passed cases, for each probe
type), TestInitialDelay, TestFailureThreshold, TestSuccessThreshold,
TestStartupProbeSuccessThreshold, TestStartupProbeFailureThreshold,
TestOnHoldOnLivenessOrStartupCheckFailure, TestResultRunOnLivenessCheckFailure,
TestResultRunOnStartupCheckFailure, TestLivenessProbeDisabledByStarted,
TestStartupProbeDisabledByStarted.

Not replayed, with the reason: TestDoProbe's failed-pod, missing-container-status,
waiting, terminated and terminated-init-container cases (the kubelet decides those from
the pod status before it consults the probe state; probe_states has no input for them);
TestCleanUp and TestHandleCrash (worker goroutine lifecycle and panic recovery).

Fix made for this table: a published startup result, success included, now puts the
worker on hold and resets its run, as upstream does (TestStartupProbeSuccessThreshold);
before, only failures did.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from slagate.sandbox.kubelet.probe_states import (
    ProbeKind,
    ProbeResult,
    ProbeSpec,
    ProbeState,
    initial_state,
    on_container_restart,
    on_deletion,
    probe_allowed_at,
    record,
    should_probe,
)

LIVENESS, READINESS, STARTUP = ProbeKind.LIVENESS, ProbeKind.READINESS, ProbeKind.STARTUP
OK, FAIL, UNKNOWN = ProbeResult.SUCCESS, ProbeResult.FAILURE, ProbeResult.UNKNOWN
NOW = 1_000.0


def do_probe(
    spec: ProbeSpec, state: ProbeState, success: bool, started: bool, deleting: bool = False
) -> tuple[bool, ProbeState]:
    """One upstream ``doProbe``: (probed?, state after)."""
    if not should_probe(state, started, deleting):
        return False, state
    return True, record(spec, state, success, NOW)


def run(
    spec: ProbeSpec,
    kind: ProbeKind,
    outcomes: Sequence[bool],
    started: bool,
    start: ProbeState | None = None,
) -> list[ProbeResult]:
    """The published result after each ``doProbe`` with the given prober outcomes."""
    state = start or initial_state(kind)
    results = []
    for success in outcomes:
        _, state = do_probe(spec, state, success, started)
        results.append(state.result)
    return results


@pytest.mark.parametrize("kind", [LIVENESS, READINESS, STARTUP])
@pytest.mark.parametrize(
    ("deleting", "continues", "expected"),
    [
        pytest.param(False, {LIVENESS: True, READINESS: True, STARTUP: True}, OK, id="running"),
        pytest.param(
            True, {LIVENESS: False, READINESS: True, STARTUP: False}, OK, id="deletion-timestamp"
        ),
    ],
)
def test_do_probe(
    kind: ProbeKind, deleting: bool, continues: dict[ProbeKind, bool], expected: ProbeResult
) -> None:
    """TestDoProbe: a running pod (cases 0, 6, 7 with initialDelaySeconds -100, and 9 are
    the same step here) and a pod being deleted: liveness and startup publish Success and
    stop, readiness keeps probing."""
    state = initial_state(kind)
    if deleting:
        state = on_deletion(state)

    probed, after = do_probe(
        ProbeSpec(), state, True, started=kind is not STARTUP, deleting=deleting
    )

    assert (probed, after.result) == (continues[kind], expected)


@pytest.mark.parametrize(
    ("kind", "during"),
    [(LIVENESS, OK), (READINESS, FAIL), (STARTUP, UNKNOWN)],
)
def test_initial_delay(kind: ProbeKind, during: ProbeResult) -> None:
    """TestInitialDelay: initialDelaySeconds 10; no probe yet right after the start,
    then Success once the container started 100 s ago."""
    spec = ProbeSpec(initial_delay_s=10)
    state = initial_state(kind)

    assert not probe_allowed_at(spec, container_started_s=NOW, now_s=NOW)
    assert state.result is during
    assert probe_allowed_at(spec, container_started_s=NOW - 100, now_s=NOW)
    assert run(spec, kind, [True], started=kind is not STARTUP) == [OK]


def test_failure_threshold() -> None:
    """TestFailureThreshold: readiness 1/3; twice: 3 successes, 2 failures still Success,
    then 3 failures Failure."""
    outcomes = ([True] * 3 + [False] * 2 + [False] * 3) * 2
    expected = ([OK] * 3 + [OK] * 2 + [FAIL] * 3) * 2

    assert (
        run(ProbeSpec(success_threshold=1, failure_threshold=3), READINESS, outcomes, True)
        == expected
    )


def test_success_threshold() -> None:
    """TestSuccessThreshold: readiness 3/1 starting from Failure; twice: 2 successes
    still Failure, 3 more Success, one failure Failure."""
    outcomes = ([True] * 2 + [True] * 3 + [False]) * 2
    expected = ([FAIL] * 2 + [OK] * 3 + [FAIL]) * 2

    assert (
        run(ProbeSpec(success_threshold=3, failure_threshold=1), READINESS, outcomes, True)
        == expected
    )


def test_startup_probe_success_threshold() -> None:
    """TestStartupProbeSuccessThreshold: 1/3; one success publishes Success, then the
    worker is on hold with its run reset."""
    spec = ProbeSpec(success_threshold=1, failure_threshold=3)
    probed, state = do_probe(spec, initial_state(STARTUP), True, started=False)

    assert (probed, state.result) == (True, OK)
    assert (state.on_hold, state.run) == (True, 0)


def test_startup_probe_failure_threshold() -> None:
    """TestStartupProbeFailureThreshold: 1/3; Unknown (run 1), Unknown (run 2), Failure
    (run reset), then on hold."""
    spec = ProbeSpec(success_threshold=1, failure_threshold=3)
    state = initial_state(STARTUP)
    seen = []
    for _ in range(3):
        _, state = do_probe(spec, state, False, started=False)
        seen.append((state.result, state.run))

    assert seen == [(UNKNOWN, 1), (UNKNOWN, 2), (FAIL, 0)]
    assert state.on_hold


@pytest.mark.parametrize("kind", [LIVENESS, STARTUP])
def test_on_hold_on_liveness_or_startup_check_failure(kind: ProbeKind) -> None:
    """TestOnHoldOnLivenessOrStartupCheckFailure: 1/1; a failure holds the worker, a
    success while on hold changes nothing, a new container lifts the hold; afterwards
    liveness keeps probing and startup (now successful) holds again."""
    spec = ProbeSpec(success_threshold=1, failure_threshold=1)
    started = kind is not STARTUP
    _, state = do_probe(spec, initial_state(kind), False, started)
    assert (state.result, state.on_hold) == (FAIL, True)

    probed, state = do_probe(spec, state, True, started)
    assert (probed, state.result, state.on_hold) == (False, FAIL, True)

    _, state = do_probe(spec, on_container_restart(state), True, started)
    assert (state.result, state.on_hold) == (OK, kind is STARTUP)


@pytest.mark.parametrize(
    ("kind", "outcomes", "expected"),
    [
        pytest.param(
            LIVENESS,
            [True, False, False, False],
            [(OK, 1), (OK, 1), (OK, 2), (FAIL, 0)],
            id="TestResultRunOnLivenessCheckFailure",
        ),
        pytest.param(
            STARTUP,
            [False, False, False],
            [(UNKNOWN, 1), (UNKNOWN, 2), (FAIL, 0)],
            id="TestResultRunOnStartupCheckFailure",
        ),
    ],
)
def test_result_run(
    kind: ProbeKind, outcomes: list[bool], expected: list[tuple[ProbeResult, int]]
) -> None:
    spec = ProbeSpec(success_threshold=1, failure_threshold=3)
    state = initial_state(kind)
    seen = []
    for success in outcomes:
        _, state = do_probe(spec, state, success, started=kind is not STARTUP)
        seen.append((state.result, state.run))

    assert seen == expected


def test_liveness_probe_disabled_by_started() -> None:
    """TestLivenessProbeDisabledByStarted: 1/1; before the container started a failing
    probe is not run (Success stays), after it started it fails."""
    spec = ProbeSpec(success_threshold=1, failure_threshold=1)
    _, state = do_probe(spec, initial_state(LIVENESS), False, started=False)
    assert state.result is OK

    _, state = do_probe(spec, state, False, started=True)
    assert state.result is FAIL


def test_startup_probe_disabled_by_started() -> None:
    """TestStartupProbeDisabledByStarted: 1/2; failure Unknown, success Success, then the
    container is started and a failing probe changes nothing."""
    spec = ProbeSpec(success_threshold=1, failure_threshold=2)
    state = initial_state(STARTUP)
    _, state = do_probe(spec, state, False, started=False)
    assert state.result is UNKNOWN
    _, state = do_probe(spec, state, True, started=False)
    assert state.result is OK

    probed, state = do_probe(spec, state, False, started=True)
    assert (probed, state.result) == (False, OK)
