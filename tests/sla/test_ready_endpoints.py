from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import ReadyEndpointsSla
from slagate.sla.ready_endpoints import evaluate_ready_endpoints
from slagate.sla.verdict import Status, Verdict
from tests.sla.timelines import T0, eps, timeline, window

LOAD = "load [0.0 s, 30.0 s]"
A, B, C = "order-6c-a", "order-6c-b", "order-7d-c"


def ready_endpoints(minimum: int = 2) -> ReadyEndpointsSla:
    return ReadyEndpointsSla(kind="ready_endpoints", service="order", min=minimum)


@pytest.mark.parametrize(
    ("rows", "status", "measured", "message"),
    [
        pytest.param(
            [eps(-5000, [A, B]), eps(10_000, [A, B, C])],
            Status.PASS,
            2.0,
            f"order ready endpoints min 2 >= 2 in {LOAD}",
            id="pass-with-the-state-carried-in",
        ),
        pytest.param(
            [eps(-5000, [A]), eps(1000, [A, B])],
            Status.FAIL,
            1.0,
            f"order ready endpoints min 1 < 2 in {LOAD}: below 2 for 1.0 s in 1 span",
            id="state-before-the-window-counts",
        ),
        pytest.param(
            [eps(-5000, [A]), eps(0, [A, B])],
            Status.PASS,
            2.0,
            f"order ready endpoints min 2 >= 2 in {LOAD}",
            id="replaced-exactly-at-the-start",
        ),
        pytest.param(
            [eps(0, [A, B]), eps(40_000, [])],
            Status.PASS,
            2.0,
            f"order ready endpoints min 2 >= 2 in {LOAD}",
            id="after-the-window-ignored",
        ),
        pytest.param(
            [eps(0, [A, B]), eps(10_000, [B], [A]), eps(12_800, [B, C]), eps(20_000, [], [B, C])],
            Status.FAIL,
            0.0,
            f"order ready endpoints min 0 < 2 in {LOAD}: below 2 for 12.8 s in 2 spans",
            id="two-spans",
        ),
    ],
)
def test_ready_endpoints(
    rows: list[tuple[Any, ...]], status: Status, measured: float, message: str
) -> None:
    verdict = evaluate_ready_endpoints(ready_endpoints(), timeline(endpoints=rows), window())
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.window) == (2.0, "endpoints", LOAD)
    assert verdict.id == "ready-endpoints-order-load"


def test_spans_name_the_ready_and_terminating_pods() -> None:
    rows = [
        eps(0, [A, B]),
        eps(10_000, [B], [A]),
        eps(11_000, [], [A, B]),
        eps(12_800, [B, C]),
        eps(20_000, [C], [B]),
    ]
    verdict = evaluate_ready_endpoints(ready_endpoints(), timeline(endpoints=rows), window())
    assert [(e.t_ms, e.text) for e in verdict.evidence] == [
        (
            T0 + 10_000,
            "22:13:30.000-22:13:32.800 UTC (2.8 s): 0 ready < 2; ready: none; "
            f"terminating: {A}, {B}",
        ),
        (
            T0 + 20_000,
            f"22:13:40.000-22:13:50.000 UTC (10.0 s): 1 ready < 2; ready: {C}; terminating: {B}",
        ),
    ]


def test_other_services_are_ignored() -> None:
    rows = [eps(0, [A, B]), eps(5000, [], service="product")]
    verdict = evaluate_ready_endpoints(ready_endpoints(), timeline(endpoints=rows), window())
    assert verdict.status is Status.PASS


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([], id="nothing-recorded"),
        pytest.param([eps(0, [A, B], service="product")], id="other-service-only"),
        pytest.param([eps(31_000, [A, B])], id="only-after-the-window"),
    ],
)
def test_no_endpoints_is_no_data(rows: list[tuple[Any, ...]]) -> None:
    verdict = evaluate_ready_endpoints(ready_endpoints(), timeline(endpoints=rows), window())
    assert verdict == Verdict(
        id="ready-endpoints-order-load",
        kind="ready_endpoints",
        status=Status.NO_DATA,
        measured=None,
        threshold=2.0,
        window=LOAD,
        message=f"no data: no endpoints recorded for Service order in {LOAD}",
        unit="endpoints",
    )


def test_window_that_never_began_is_no_data() -> None:
    spec = ReadyEndpointsSla(kind="ready_endpoints", service="order", window="rollout")
    verdict = evaluate_ready_endpoints(spec, timeline(), None)
    assert (verdict.status, verdict.window, verdict.message) == (
        Status.NO_DATA,
        "rollout (never began)",
        "no data: the rollout window never began (no rollout recorded)",
    )
