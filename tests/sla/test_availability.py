from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import AvailabilitySla, FailedRequestsSla
from slagate.sla.availability import evaluate_availability, evaluate_failed_requests
from slagate.sla.verdict import Status, Verdict
from tests.sla.timelines import T0, fail, req, timeline, window

LOAD = "load [0.0 s, 30.0 s]"


def availability(min_percent: float, endpoint: str | None = None) -> AvailabilitySla:
    return AvailabilitySla(kind="availability", min_percent=min_percent, endpoint=endpoint)


def failed_requests(maximum: int, endpoint: str | None = None) -> FailedRequestsSla:
    return FailedRequestsSla(kind="failed_requests", max=maximum, endpoint=endpoint)


@pytest.mark.parametrize(
    ("rows", "min_percent", "status", "measured", "message"),
    [
        pytest.param(
            [req(0, 2500, 20), req(1, 2512, 24)],
            99.9,
            Status.FAIL,
            99.122,
            f"availability 99.122% < 99.9% in {LOAD}: 44 of 5,012 requests failed",
            id="fail",
        ),
        pytest.param(
            [req(0, 1000, 1)],
            99.9,
            Status.PASS,
            99.9,
            f"availability 99.9% >= 99.9% in {LOAD}: 1 of 1,000 requests failed",
            id="exactly-at-threshold",
        ),
        pytest.param(
            [req(0, 10_000, 11)],
            99.9,
            Status.FAIL,
            99.89,
            f"availability 99.89% < 99.9% in {LOAD}: 11 of 10,000 requests failed",
            id="just-below",
        ),
        pytest.param(
            [req(0, 250_000, 251)],
            99.9,
            Status.FAIL,
            99.899,  # 99.8996 rounded to nearest would print as "99.9% < 99.9%"
            f"availability 99.899% < 99.9% in {LOAD}: 251 of 250,000 requests failed",
            id="rounded-down",
        ),
        pytest.param(
            [req(0, 1_000_000, 1)],
            99.9999,
            Status.PASS,
            99.9999,
            f"availability 99.9999% >= 99.9999% in {LOAD}: 1 of 1,000,000 requests failed",
            id="threshold-decimals",
        ),
        pytest.param(
            [req(0, 7), req(3, 3, 0, worker="w2")],
            100,
            Status.PASS,
            100.0,
            f"availability 100% >= 100% in {LOAD}: 0 of 10 requests failed",
            id="workers-summed",
        ),
    ],
)
def test_availability(
    rows: list[tuple[Any, ...]], min_percent: float, status: Status, measured: float, message: str
) -> None:
    verdict = evaluate_availability(availability(min_percent), timeline(requests=rows), window())
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.window) == (min_percent, "%", LOAD)
    assert verdict.id == "availability-load"


def test_no_requests_is_no_data() -> None:
    verdict = evaluate_availability(availability(99.9), timeline(), window())
    assert verdict == Verdict(
        id="availability-load",
        kind="availability",
        status=Status.NO_DATA,
        measured=None,
        threshold=99.9,
        window=LOAD,
        message=f"no data: no requests in {LOAD}",
        unit="%",
    )


def test_window_that_never_began_is_no_data() -> None:
    verdict = evaluate_availability(availability(99.9), timeline(), None)
    assert verdict.status is Status.NO_DATA
    assert verdict.window == "load (never began)"
    assert verdict.message == (
        "no data: the load window never began (no load_start event, or nothing recorded after it)"
    )


@pytest.mark.parametrize(
    ("seconds", "expected_requests"),
    [
        pytest.param([0], 1, id="row-at-start-included"),
        pytest.param([29], 1, id="last-second-included"),
        pytest.param([30], 0, id="row-at-end-excluded"),
        pytest.param([-1], 0, id="second-before-start-excluded"),
        pytest.param([-1, 0, 15, 29, 30], 3, id="mixed"),
    ],
)
def test_window_edges(seconds: list[int], expected_requests: int) -> None:
    tl = timeline(requests=[req(s, 1) for s in seconds])
    verdict = evaluate_failed_requests(failed_requests(0), tl, window(0, 30))
    expected = f"of {expected_requests} request" if expected_requests else "no data"
    assert expected in verdict.message


def test_a_second_starting_before_an_unaligned_window_is_outside() -> None:
    tl = timeline(requests=[req(0, 100), req(1, 1)])
    verdict = evaluate_failed_requests(failed_requests(0), tl, window(0.5, 30))
    assert (
        verdict.message == "failed requests 0 <= 0 in load [0.5 s, 30.0 s]: 0 of 1 request failed"
    )


ENDPOINT_ROWS = [
    req(0, 100, 1, "GET /orders/[id]"),
    req(0, 50, 5, "DELETE /orders/[id]"),
    req(0, 400, 0, "GET /products"),
    req(1, 10, 10, "POST checkout flow"),
]


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        pytest.param(
            None, f"failed requests 16 > 0 in {LOAD}: 16 of 560 requests failed", id="all"
        ),
        pytest.param(
            "/orders/[id]",
            f"/orders/[id] failed requests 6 > 0 in {LOAD}: 6 of 150 requests failed",
            id="name-any-method",
        ),
        pytest.param(
            "GET /orders/[id]",
            f"GET /orders/[id] failed requests 1 > 0 in {LOAD}: 1 of 100 requests failed",
            id="method-and-name",
        ),
        pytest.param(
            "checkout flow",
            f"checkout flow failed requests 10 > 0 in {LOAD}: 10 of 10 requests failed",
            id="name-with-space",
        ),
        pytest.param(
            "PUT /orders/[id]",
            f"no data: no requests to PUT /orders/[id] in {LOAD}; recorded endpoints: "
            "DELETE /orders/[id], GET /orders/[id], GET /products, POST checkout flow",
            id="unknown-endpoint-names-the-known-ones",
        ),
    ],
)
def test_endpoint_filter(endpoint: str | None, message: str) -> None:
    verdict = evaluate_failed_requests(
        failed_requests(0, endpoint), timeline(requests=ENDPOINT_ROWS), window()
    )
    assert verdict.message == message


def test_endpoint_known_but_idle_in_the_window_has_no_hint() -> None:
    tl = timeline(requests=[req(40, 5, 0, "GET /orders")])
    verdict = evaluate_failed_requests(failed_requests(0, "GET /orders"), tl, window())
    assert verdict.message == f"no data: no requests to GET /orders in {LOAD}"


@pytest.mark.parametrize(
    ("maximum", "failures", "status", "measured"),
    [
        pytest.param(0, 0, Status.PASS, 0.0, id="none-allowed-none-failed"),
        pytest.param(0, 44, Status.FAIL, 44.0, id="none-allowed"),
        pytest.param(50, 44, Status.PASS, 44.0, id="under-max"),
        pytest.param(44, 44, Status.PASS, 44.0, id="at-max"),
    ],
)
def test_failed_requests(maximum: int, failures: int, status: Status, measured: float) -> None:
    tl = timeline(requests=[req(0, 5000, failures), req(1, 12)])
    verdict = evaluate_failed_requests(failed_requests(maximum), tl, window())
    assert (verdict.status, verdict.measured, verdict.threshold) == (status, measured, maximum)
    assert verdict.unit == "requests"
    sign = ">" if status is Status.FAIL else "<="
    assert verdict.message == (
        f"failed requests {failures} {sign} {maximum} in {LOAD}: "
        f"{failures} of 5,012 requests failed"
    )


def test_zero_traffic_is_no_data_not_zero_failures() -> None:
    verdict = evaluate_failed_requests(failed_requests(0), timeline(), window())
    assert (verdict.status, verdict.measured) == (Status.NO_DATA, None)


def test_only_failing_verdicts_carry_evidence() -> None:
    tl = timeline(requests=[req(3, 100, 2)], failures=[fail(3120), fail(3480)])
    assert evaluate_failed_requests(failed_requests(5), tl, window()).evidence == ()
    evidence = evaluate_availability(availability(99.9), tl, window()).evidence
    assert [(e.t_ms, e.text) for e in evidence] == [
        (T0 + 3120, "failures concentrated 22:13:23.120-22:13:23.480 UTC (2 of 2)"),
        (T0 + 3120, "GET /orders status=0 boom"),
        (T0 + 3480, "GET /orders status=0 boom"),
    ]
