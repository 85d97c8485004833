from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import ThroughputSla
from slagate.sla.judging import judge
from slagate.sla.throughput import evaluate_throughput
from slagate.sla.verdict import Status
from tests.sla.timelines import ev, req, scenario, timeline, window

LOAD = "load [0.0 s, 30.0 s]"


def throughput(min_rps: float, endpoint: str | None = None) -> ThroughputSla:
    return ThroughputSla(kind="throughput", min_rps=min_rps, endpoint=endpoint)


@pytest.mark.parametrize(
    ("spec", "rows", "status", "measured", "message"),
    [
        pytest.param(
            throughput(10),
            [req(s, 10) for s in range(30)],
            Status.PASS,
            10.0,
            f"throughput 10 rps >= 10 rps in {LOAD}: 300 requests in 30 s",
            id="at-threshold",
        ),
        pytest.param(
            throughput(10),
            [req(s, 10) for s in range(29)] + [req(29, 9)],
            Status.FAIL,
            9.96,
            f"throughput 9.96 rps < 10 rps in {LOAD}: 299 requests in 30 s",
            id="fail",
        ),
        pytest.param(
            throughput(333),
            [req(0, 10_000)],
            Status.PASS,
            333.33,
            f"throughput 333.33 rps >= 333 rps in {LOAD}: 10,000 requests in 30 s",
            id="rounded-down",
        ),
        pytest.param(
            throughput(0.125, "POST /orders"),
            [req(0, 4, 0, "POST /orders"), req(1, 500, 0, "GET /orders")],
            Status.PASS,
            0.133,
            f"POST /orders throughput 0.133 rps >= 0.125 rps in {LOAD}: 4 requests in 30 s",
            id="endpoint-threshold-decimals",
        ),
    ],
)
def test_throughput(
    spec: ThroughputSla, rows: list[tuple[Any, ...]], status: Status, measured: float, message: str
) -> None:
    verdict = evaluate_throughput(spec, timeline(requests=rows), window())
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.window) == (spec.min_rps, "rps", LOAD)


def test_no_requests_is_no_data_even_with_a_zero_threshold() -> None:
    verdict = evaluate_throughput(throughput(0), timeline(), window())
    assert (verdict.status, verdict.message) == (Status.NO_DATA, f"no data: no requests in {LOAD}")


def test_killed_run_is_judged_over_the_time_the_load_lasted() -> None:
    rows = [req(s, 100) for s in range(10)]
    tl = timeline(events=[ev(0, "load_start")], requests=rows)
    [verdict] = judge(scenario([{"kind": "throughput", "min_rps": 100}]), tl)
    assert verdict.message == (
        "throughput 100 rps >= 100 rps in load [0.0 s, 10.0 s]: 1,000 requests in 10 s"
    )
