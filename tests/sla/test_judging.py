from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slagate.sla.judging import EVALUATORS, exit_code_for, judge
from slagate.sla.verdict import Status, Verdict, Window
from slagate.timeline import Timeline
from tests.sla.timelines import ev, fail, hist, load_events, req, run_info, scenario, timeline

SLAS: list[dict[str, Any]] = [
    {"id": "availability", "kind": "availability", "min_percent": 99.9},
    {"id": "no-failures-steady", "kind": "failed_requests", "max": 0, "window": "steady"},
    {"id": "p95", "kind": "latency", "percentile": 95, "max_ms": 200},
    {"id": "throughput-deploy", "kind": "throughput", "min_rps": 5, "window": "deploy"},
    {
        "id": "cooldown-availability",
        "kind": "availability",
        "min_percent": 50,
        "window": "cooldown",
    },
    {"kind": "failed_requests", "max": 0, "window": {"start": 20, "end": 25}},
]


def recorded() -> Timeline:
    events = [*load_events(30), ev(0, "users", "5"), ev(10_000, "users", "10")]
    requests = [req(s, 10, 1 if s == 5 else 0) for s in range(30)]
    return timeline(
        events=events,
        requests=requests,
        latency=[hist(s, 40, 10) for s in range(30)],
        failures=[fail(5100)],
        info={"started_ms": events[0][0] - 1000, "ended_ms": events[1][0] + 2000},
    )


def test_verdicts_in_scenario_order_with_their_windows() -> None:
    sc = scenario(SLAS, windows={"deploy": {"start": 10, "end": 20}})
    verdicts = judge(sc, recorded())
    assert [(v.id, v.status, v.window) for v in verdicts] == [
        ("availability", Status.FAIL, "load [0.0 s, 30.0 s]"),
        ("no-failures-steady", Status.PASS, "steady [10.0 s, 30.0 s]"),
        ("p95", Status.PASS, "load [0.0 s, 30.0 s]"),
        ("throughput-deploy", Status.PASS, "deploy [10.0 s, 20.0 s]"),
        ("cooldown-availability", Status.NO_DATA, "cooldown [30.0 s, 32.0 s]"),
        ("failed-requests-20s-25s", Status.PASS, "20s-25s [20.0 s, 25.0 s]"),
    ]
    assert verdicts[0].message == (
        "availability 99.666% < 99.9% in load [0.0 s, 30.0 s]: 1 of 300 requests failed"
    )


def test_empty_timeline_gives_no_data_and_never_raises() -> None:
    sc = scenario(SLAS, windows={"deploy": {"start": 10, "end": 20}})
    verdicts = judge(sc, Timeline(run_dir=Path("/nonexistent"), info=run_info({})))
    assert [v.status for v in verdicts] == [Status.NO_DATA] * len(SLAS)
    assert verdicts[1].message == (
        "no data: the steady window never began "
        "(no load_start event, or no users event during the load)"
    )


def test_events_only_timeline_gives_no_data() -> None:
    verdicts = judge(
        scenario(SLAS, windows={"deploy": {"start": 10}}), timeline(events=load_events())
    )
    assert [v.status for v in verdicts] == [Status.NO_DATA] * len(SLAS)


def test_later_kinds_plug_into_the_registry() -> None:
    seen: list[tuple[str, Window | None]] = []

    def evaluate(spec: Any, tl: Timeline, window: Window | None) -> Verdict:
        seen.append((spec.kind, window))
        return Verdict(spec.sla_id, spec.kind, Status.PASS, 1.0, 1.0, "load", "fine")

    sc = scenario(SLAS[:1])
    verdicts = judge(sc, recorded(), evaluators={**EVALUATORS, "availability": evaluate})
    assert [v.message for v in verdicts] == ["fine"]
    assert seen[0][1] is not None and seen[0][1].name == "load"


def test_a_kind_without_evaluator_is_no_data() -> None:
    [verdict] = judge(scenario(SLAS[:1]), recorded(), evaluators={})
    assert (verdict.status, verdict.message) == (
        Status.NO_DATA,
        "no data: no evaluator for SLA kind 'availability' is installed",
    )


def verdict(status: Status) -> Verdict:
    return Verdict("x", "availability", status, None, 99.9, "load", "")


@pytest.mark.parametrize(
    ("statuses", "aborted", "code"),
    [
        pytest.param([], False, 0, id="no-slas"),
        pytest.param([Status.PASS, Status.PASS], False, 0, id="all-pass"),
        pytest.param([Status.PASS, Status.FAIL], False, 1, id="a-fail"),
        pytest.param([Status.PASS, Status.NO_DATA], False, 1, id="no-data-is-not-a-pass"),
        pytest.param([Status.PASS], True, 3, id="aborted-pass"),
        pytest.param([Status.FAIL], True, 3, id="aborted-fail"),
        pytest.param([], True, 3, id="aborted-no-slas"),
    ],
)
def test_exit_code_for(statuses: list[Status], aborted: bool, code: int) -> None:
    assert exit_code_for([verdict(s) for s in statuses], aborted=aborted) == code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param(Status.FAIL, 1, id="the stopping SLA failed: the gate failed early"),
        pytest.param(Status.PASS, 3, id="judged against other SLAs it passes: aborted"),
    ],
)
def test_a_run_stopped_by_an_abort_on_fail_sla_fails_when_that_sla_fails(
    status: Status, code: int
) -> None:
    verdicts = [verdict(Status.PASS), Verdict("guard", "latency", status, 9.0, 1.0, "load", "")]
    assert exit_code_for(verdicts, aborted=True, stopped_by="guard") == code
