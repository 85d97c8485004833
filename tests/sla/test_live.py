"""The live judge's reading of verdicts on data still growing (slagate.sla.live)."""

from __future__ import annotations

from typing import Any

import pytest

from slagate.errors import ExitCode
from slagate.scenario import NO_IRREPARABLE_BREACH, SLA_KINDS
from slagate.sla.judging import exit_code_for, judge
from slagate.sla.live import STOPPING, LiveState, judge_live, stop_cause
from slagate.sla.verdict import Status
from tests.sla.timelines import (
    T0,
    deploy,
    ev,
    fail,
    hist,
    req,
    rollout_events,
    scenario,
    timeline,
)

LOAD = [ev(0, "load_start"), ev(0, "users", "10")]


def live(slas: list[dict[str, Any]], now_s: float, **rows: Any) -> list[Any]:
    """Judged at ``now_s`` after load start; unless ``requests`` are given, one request
    ended in each second so far (what extends the ``run`` window, as in a live run)."""
    events = [*LOAD, *rows.pop("events", [])]
    rows.setdefault("requests", [req(s, 1) for s in range(int(now_s))])
    run = timeline(events=events, **rows)
    return list(judge_live(scenario(slas), run, T0 + round(now_s * 1000)))


def state(sla: dict[str, Any], now_s: float = 10, **rows: Any) -> LiveState:
    (status,) = live([sla], now_s, **rows)
    assert isinstance(status.state, LiveState)
    return status.state


@pytest.mark.parametrize(
    ("failed", "expected"),
    [
        pytest.param(1, LiveState.OK, id="a tenth of the budget"),
        pytest.param(5, LiveState.OK, id="half the budget: still ok"),
        pytest.param(6, LiveState.AT_RISK, id="more than half the budget"),
        pytest.param(11, LiveState.BREACHED, id="budget spent"),
    ],
)
def test_a_failure_budget_is_at_risk_past_half_and_breached_once_spent(
    failed: int, expected: LiveState
) -> None:
    sla = {"kind": "failed_requests", "max": 10}
    assert state(sla, requests=[req(1, 100, failed)]) is expected


@pytest.mark.parametrize(
    ("failed", "expected"),
    [
        pytest.param(4, LiveState.OK, id="99.6% of 99%: 40% of the budget"),
        pytest.param(6, LiveState.AT_RISK, id="99.4%: 60% of the budget spent"),
        pytest.param(11, LiveState.BREACHED, id="98.9%"),
    ],
)
def test_availability_is_at_risk_once_more_than_half_its_budget_is_spent(
    failed: int, expected: LiveState
) -> None:
    sla = {"kind": "availability", "min_percent": 99}
    assert state(sla, requests=[req(1, 1000, failed)]) is expected


@pytest.mark.parametrize(
    ("bucket_ms", "expected"),
    [
        pytest.param(80, LiveState.OK, id="80 of 100 ms"),
        pytest.param(95, LiveState.AT_RISK, id="within 10% of 100 ms"),
        pytest.param(110, LiveState.BREACHED, id="above"),
    ],
)
def test_a_latency_bound_is_at_risk_within_10_percent(bucket_ms: int, expected: LiveState) -> None:
    sla = {"kind": "latency", "percentile": 95, "max_ms": 100}
    assert state(sla, requests=[req(1, 10)], latency=[hist(1, bucket_ms, 10)]) is expected


def test_a_window_without_data_yet_and_kinds_judged_after_the_run_are_pending() -> None:
    slas = [
        {"id": "rollout-failures", "kind": "failed_requests", "max": 0, "window": "rollout"},
        {"id": "quiet", "kind": "availability", "min_percent": 99},
        {"id": "lost", "kind": "no_lost_writes"},
        {"id": "server", "kind": "promql", "query": "up", "threshold": 1},
    ]
    statuses = live(slas, 10, requests=[])
    assert [s.state for s in statuses] == [LiveState.PENDING] * 4
    assert statuses[2].note == "judged after the run"
    assert statuses[0].window_start_ms is None


def test_a_time_until_sla_waits_then_is_at_risk_then_breached_for_good() -> None:
    sla = {"kind": "scale_out", "deployment": "order", "replicas": 3, "within": 20}
    rows = {"replicas": [deploy(0, 1, 1)]}
    waiting = live([sla], 5, **rows)[0]
    assert (waiting.state, waiting.measured_text) == (LiveState.PENDING, "5.0 s so far")
    assert state(sla, 19, **rows) is LiveState.AT_RISK
    late = live([sla], 21, **rows)[0]
    assert (late.state, late.stops) == (LiveState.BREACHED, True)
    assert state(sla, 10, replicas=[deploy(0, 1, 1), deploy(4000, 3, 3)]) is LiveState.OK


def test_a_rollout_still_rolling_is_pending_until_its_time_is_up() -> None:
    sla = {"kind": "rollout_duration", "deployment": "order", "max": 10}
    rolling = rollout_events(start_s=5, complete_s=None, settled_s=None, end_s=None)
    assert state(sla, 12, events=rolling) is LiveState.PENDING
    assert state(sla, 16, events=rolling) is LiveState.BREACHED


@pytest.mark.parametrize(
    ("sla", "rows", "stops"),
    [
        pytest.param(
            {"kind": "max_replicas", "deployment": "order", "max": 3},
            {"replicas": [deploy(2000, 5, 5)]},
            True,
            id="a replica ceiling crossed stays crossed",
        ),
        pytest.param(
            {"kind": "latency", "percentile": 95, "max_ms": 100},
            {"requests": [req(1, 10)], "latency": [hist(1, 300, 10)]},
            True,
            id="a latency bound broken over the window so far",
        ),
        pytest.param(
            {"kind": "throughput", "min_rps": 1000},
            {"requests": [req(1, 10)]},
            False,
            id="low throughput is no reason to stop",
        ),
    ],
)
def test_which_breaches_may_stop_the_run(
    sla: dict[str, Any], rows: dict[str, Any], stops: bool
) -> None:
    (status,) = live([sla], 10, **rows)
    assert status.state is LiveState.BREACHED
    assert status.stops is stops


def test_abort_on_fail_stops_only_once_its_grace_has_passed_since_its_window_began() -> None:
    slas = [
        {"id": "watched", "kind": "failed_requests", "max": 0},
        {"id": "guard", "kind": "failed_requests", "max": 0, "abort_on_fail": True, "grace": 5},
    ]
    rows = {"requests": [req(1, 10, 1)], "failures": [fail(1200)]}
    armed = scenario(slas)
    early = judge_live(armed, timeline(events=LOAD, **rows), T0 + 4000)
    assert stop_cause(armed, early, T0 + 4000) is None
    later = judge_live(armed, timeline(events=LOAD, **rows), T0 + 5000)
    cause = stop_cause(armed, later, T0 + 5000)
    assert cause is not None
    spec, status = cause
    assert spec.sla_id == "guard"
    assert "failed requests 1 > 0" in status.verdict.message


def test_once_the_run_ended_the_status_is_the_verdict() -> None:
    sla = {"kind": "scale_out", "deployment": "order", "replicas": 3, "within": 60}
    events = [*LOAD, ev(30_000, "load_stop", message="finished")]
    run = timeline(events=events, replicas=[deploy(0, 1, 1)], info={"ended_ms": T0 + 31_000})
    (status,) = judge_live(scenario([sla]), run, T0 + 31_000, ended=True)
    assert status.state is LiveState.BREACHED
    assert status.verdict.never and status.measured_text == "never"


def test_every_kind_either_may_stop_the_run_or_refuses_abort_on_fail() -> None:
    assert sorted([*STOPPING, *NO_IRREPARABLE_BREACH]) == sorted(SLA_KINDS)


def test_an_availability_stop_is_reported_with_the_verdict_that_stopped_the_run() -> None:
    """Defect B5: the requests of the seconds between the breach and the load's stop
    (here 2 s of clean ones) must not dilute the verdict that stopped the run into a pass."""
    sla = {"id": "avail", "kind": "availability", "min_percent": 90, "abort_on_fail": True}
    breaching = [req(s, 10, 2) for s in range(5)]  # 80 %
    (status,) = live([sla], 5.1, requests=breaching)
    assert stop_cause(scenario([sla]), [status], T0 + 5100) is not None
    assert status.window_end_ms == T0 + 5000  # the data judged: seconds 0 to 4

    recorded = [*breaching, req(5, 100), req(6, 100)]  # 96 % over the whole load
    events = [*LOAD, ev(7000, "load_stop", message="abort")]
    stopped = {"status": "aborted", "stopped_by": "avail", "stop_window_end_ms": T0 + 5000}
    unstopped = timeline(events=events, requests=recorded, info={"status": "aborted"})
    run = timeline(events=events, requests=recorded, info=stopped)

    assert judge(scenario([sla]), unstopped)[0].status is Status.PASS
    (verdict,) = judge(scenario([sla]), run)
    assert (verdict.status, verdict.measured) == (Status.FAIL, 80.0)
    assert verdict.window == "load [0.0 s, 5.0 s]"
    assert exit_code_for([verdict], aborted=True, stopped_by="avail") is ExitCode.FAILED
    (final,) = judge_live(scenario([sla]), run, T0 + 8000, ended=True)
    assert final.verdict == verdict  # the last live status is still the verdict


def test_only_the_stopping_sla_of_a_ratio_kind_is_judged_up_to_the_stop() -> None:
    slas = [
        {"id": "avail", "kind": "availability", "min_percent": 90},
        {"id": "budget", "kind": "failed_requests", "max": 5, "abort_on_fail": True},
    ]
    recorded = [*[req(s, 10, 2) for s in range(5)], req(5, 100), req(6, 100)]
    events = [*LOAD, ev(7000, "load_stop", message="abort")]
    stopped = {"status": "aborted", "stopped_by": "budget", "stop_window_end_ms": T0 + 3000}
    avail, budget = judge(scenario(slas), timeline(events=events, requests=recorded, info=stopped))
    assert (avail.status, avail.measured) == (Status.PASS, 96.0)  # not the stopping SLA
    assert budget.measured == 10  # failures only add up: judged over the whole load
