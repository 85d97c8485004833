"""The live judge replayed second by second over real recorded runs.

The two folders under tests/fixtures/runs were recorded by ``slagate run`` on the sandbox
(``scenarios/rolling-deploy.yaml`` and ``scenarios/autoscale.yaml``, tables, run.json and
summary.json kept as written). Each is judged as it would have been live, once a second
from the run's start (``Timeline.so_far``), against its own SLAs plus client-side ones of
every kind, some of them tight enough to be at risk or breached on the way. The fixture
data is fixed, so every state asserted here is determined by it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slagate.scenario import Scenario
from slagate.sla.judging import judge
from slagate.sla.live import MONOTONE, TIME_UNTIL, LiveState, judge_live, stop_cause
from slagate.sla.verdict import Status
from slagate.sla.windows import anchors_of
from slagate.timeline import Timeline, load_timeline

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"

EXTRA_SLAS: list[dict[str, Any]] = [
    {"id": "all-p95", "kind": "latency", "percentile": 95, "max_ms": 2000},
    {"id": "near-p95", "kind": "latency", "percentile": 95, "max_ms": 88},
    {"id": "tight-p50", "kind": "latency", "percentile": 50, "max_ms": 3},
    {"id": "order-create-p99", "kind": "latency", "endpoint": "POST /orders",
     "percentile": 99, "max_ms": 3000},
    {"id": "throughput", "kind": "throughput", "min_rps": 5, "window": "steady"},
    {"id": "no-failures-load", "kind": "failed_requests", "max": 0},
    {"id": "span-availability", "kind": "availability", "min_percent": 99.99,
     "window": {"start": 10, "end": 20}},
    {"id": "order-max-11", "kind": "max_replicas", "deployment": "order", "max": 11},
    {"id": "order-flapping", "kind": "flapping", "deployment": "order", "max_changes": 0},
    {"id": "order-ready", "kind": "ready_endpoints", "service": "order", "min": 2,
     "window": "load"},
    {"id": "order-scale-out-2", "kind": "scale_out", "deployment": "order", "replicas": 2,
     "within": 5},
]  # fmt: skip

FINAL_STATES = {
    Status.PASS: {LiveState.OK, LiveState.AT_RISK},
    Status.FAIL: {LiveState.BREACHED},
    Status.NO_DATA: {LiveState.PENDING},
}


def _scenario(run: Timeline) -> Scenario:
    assert run.info.scenario is not None
    data = run.info.scenario.model_dump(by_alias=True, exclude_none=True)
    return Scenario.model_validate({**data, "slas": [*data["slas"], *EXTRA_SLAS]})


def _seconds(run: Timeline) -> range:
    """Each second from the run's start to the load's end: the live judge runs while the
    load does (the cooldown's scale-in is judged at the end)."""
    load_end = anchors_of(run).load_end_ms
    assert load_end is not None
    return range(run.info.started_ms, load_end + 2000, 1000)


@pytest.fixture(scope="module", params=["rolling-deploy", "autoscale"])
def replay(request: pytest.FixtureRequest) -> tuple[Timeline, Scenario, list[Any]]:
    run = load_timeline(RUNS / request.param)
    scenario = _scenario(run)
    live = [judge_live(scenario, run.so_far(now), now) for now in _seconds(run)]
    return run, scenario, live


def test_the_last_live_status_is_the_final_verdict_of_every_sla(
    replay: tuple[Timeline, Scenario, list[Any]],
) -> None:
    run, scenario, _ = replay
    assert run.info.ended_ms is not None
    final = judge(scenario, run)
    last = judge_live(scenario, run, run.info.ended_ms, ended=True)
    assert [s.verdict for s in last] == final
    for status, verdict in zip(last, final, strict=True):
        assert status.state in FINAL_STATES[verdict.status], (status.id, status.state)
    # and the recorded SLAs' verdicts are the ones `slagate run` wrote to summary.json
    recorded = json.loads((run.run_dir / "summary.json").read_text())["verdicts"]
    assert [s.verdict.to_json() for s in last[: len(recorded)]] == recorded


def test_a_breach_called_final_on_the_way_is_a_failure_in_the_end(
    replay: tuple[Timeline, Scenario, list[Any]],
) -> None:
    run, scenario, live = replay
    final = {v.id: v for v in judge(scenario, run)}
    final_kinds = {s.sla_id for s in scenario.slas if s.kind in MONOTONE + TIME_UNTIL}
    breaches = {s.id for statuses in live for s in statuses if s.stops and s.id in final_kinds}
    assert breaches, "the replay should see at least one breach beyond repair"
    assert {i: final[i].status for i in breaches} == {i: Status.FAIL for i in breaches}


def test_the_replay_passes_through_each_state_and_judges_after_the_run_later(
    replay: tuple[Timeline, Scenario, list[Any]],
) -> None:
    _, scenario, live = replay
    seen = {s.state for statuses in live for s in statuses}
    assert seen == set(LiveState)
    kinds = {s.sla_id: s.kind for s in scenario.slas}
    late = [s for s in live[-1] if kinds[s.id] in ("promql", "no_lost_writes")]
    assert all(s.state is LiveState.PENDING for s in late)


def test_an_abort_on_fail_sla_would_have_stopped_the_run_at_its_first_breach_after_grace(
    replay: tuple[Timeline, Scenario, list[Any]],
) -> None:
    run, scenario, _ = replay
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    guarded = [
        {**s, "abort_on_fail": True, "grace": 3} if s["id"] == "tight-p50" else s
        for s in data["slas"]
    ]
    armed = Scenario.model_validate({**data, "slas": guarded})
    for now in _seconds(run):
        cause = stop_cause(armed, judge_live(armed, run.so_far(now), now), now)
        if cause is not None:
            spec, status = cause
            assert spec.sla_id == "tight-p50"
            assert status.state is LiveState.BREACHED
            assert status.window_start_ms is not None
            assert now >= status.window_start_ms + 3000
            return
    pytest.fail("tight-p50 never stopped the replayed run")
