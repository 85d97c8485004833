from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from slagate.scenario import LatencySla
from slagate.sla.latency import evaluate_latency
from slagate.sla.percentiles import locust_percentile, percentile_per_second
from slagate.sla.verdict import Status
from tests.sla.timelines import T0_S, hist, timeline, window

LOAD = "load [0.0 s, 30.0 s]"


def histogram(pairs: list[tuple[int, int]]) -> pd.Series:
    return pd.Series([c for _, c in pairs], index=[b for b, _ in pairs], dtype="int64")


ONE_TO_HUNDRED = [(ms, 1) for ms in range(1, 101)]


@pytest.mark.parametrize(
    ("pairs", "percentile", "expected"),
    [
        pytest.param(ONE_TO_HUNDRED, 50, 51, id="1..100-p50"),
        pytest.param(ONE_TO_HUNDRED, 95, 96, id="1..100-p95-next-rank-like-locust"),
        pytest.param(ONE_TO_HUNDRED, 99, 100, id="1..100-p99"),
        pytest.param(ONE_TO_HUNDRED, 100, 100, id="1..100-p100"),
        pytest.param(ONE_TO_HUNDRED, 0.5, 1, id="1..100-p0.5"),
        pytest.param([(10, 19), (1000, 1)], 95, 1000, id="20-requests-one-slow-p95"),
        pytest.param([(10, 20), (1000, 1)], 95, 10, id="21-requests-one-slow-p95"),
        pytest.param([(150, 90), (3400, 10)], 50, 150, id="bucketed-p50"),
        pytest.param([(150, 90), (3400, 10)], 89, 150, id="bucketed-p89"),
        pytest.param([(150, 90), (3400, 10)], 90, 3400, id="bucketed-p90"),
        pytest.param([(3400, 10), (150, 90)], 95, 3400, id="unsorted-buckets"),
        pytest.param([(150, 40), (3400, 10), (150, 50)], 89, 150, id="repeated-buckets-summed"),
        pytest.param([(42, 7)], 99.9, 42, id="single-bucket"),
        pytest.param([(10, 5), (20, 0)], 100, 10, id="empty-buckets-ignored"),
        pytest.param([(58000, 3), (59000, 1)], 75, 59000, id="slow-buckets"),
    ],
)
def test_locust_percentile(pairs: list[tuple[int, int]], percentile: float, expected: int) -> None:
    assert locust_percentile(histogram(pairs), percentile) == expected


def test_locust_percentile_of_nothing_is_none() -> None:
    assert locust_percentile(histogram([]), 95) is None
    assert locust_percentile(histogram([(10, 0)]), 95) is None


def test_percentile_per_second_sums_endpoints_and_workers_first() -> None:
    rows = [
        hist(0, 10, 9),
        hist(0, 900, 1, "POST /orders"),
        hist(1, 150, 5, worker="w1"),
        hist(1, 3400, 5, worker="w2"),
        hist(2, 20, 0),
    ]
    per_second = percentile_per_second(timeline(latency=rows).latency, 90)
    assert per_second.to_dict() == {T0_S: 900, T0_S + 1: 3400}
    assert per_second.name == "p"


def latency(percentile: float, max_ms: float, endpoint: str | None = None) -> LatencySla:
    return LatencySla(kind="latency", percentile=percentile, max_ms=max_ms, endpoint=endpoint)


@pytest.mark.parametrize(
    ("spec", "rows", "status", "measured", "message"),
    [
        pytest.param(
            latency(95, 200),
            [hist(0, 12, 50), hist(1, 38, 46), hist(2, 150, 4)],
            Status.PASS,
            38.0,
            f"p95 latency 38 ms <= 200 ms in {LOAD} over 100 requests",
            id="pass",
        ),
        pytest.param(
            latency(95, 38),
            [hist(0, 12, 50), hist(1, 38, 46), hist(2, 150, 4)],
            Status.PASS,
            38.0,
            f"p95 latency 38 ms <= 38 ms in {LOAD} over 100 requests",
            id="at-threshold",
        ),
        pytest.param(
            latency(99, 1000),
            [hist(0, 150, 97), hist(5, 3400, 3)],
            Status.FAIL,
            3400.0,
            f"p99 latency 3,400 ms > 1,000 ms in {LOAD}",
            id="fail",
        ),
        pytest.param(
            latency(99.9, 500, "POST /orders"),
            [hist(0, 150, 999, "POST /orders"), hist(0, 4000, 50, "GET /orders")],
            Status.PASS,
            150.0,
            f"POST /orders p99.9 latency 150 ms <= 500 ms in {LOAD} over 999 requests",
            id="endpoint",
        ),
        pytest.param(
            latency(50, 100),
            [hist(-1, 900, 100), hist(0, 20, 3), hist(29, 30, 2), hist(30, 900, 100)],
            Status.PASS,
            20.0,
            f"p50 latency 20 ms <= 100 ms in {LOAD} over 5 requests",
            id="window-edges",
        ),
    ],
)
def test_latency(
    spec: LatencySla, rows: list[tuple[Any, ...]], status: Status, measured: float, message: str
) -> None:
    verdict = evaluate_latency(spec, timeline(latency=rows), window())
    assert (verdict.status, verdict.measured, verdict.message) == (status, measured, message)
    assert (verdict.threshold, verdict.unit, verdict.window) == (spec.max_ms, "ms", LOAD)


def test_window_percentile_is_not_an_average_of_per_second_ones() -> None:
    rows = [hist(s, 10, 99) for s in range(10)] + [hist(10, 900, 20)]
    verdict = evaluate_latency(latency(95, 100), timeline(latency=rows), window())
    assert verdict.measured == 10.0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        pytest.param([], f"no data: no latency histogram for requests in {LOAD}", id="empty"),
        pytest.param(
            [hist(3, 10, 0)], f"no data: no latency histogram for requests in {LOAD}", id="zero"
        ),
    ],
)
def test_no_histogram_is_no_data(rows: list[tuple[Any, ...]], message: str) -> None:
    verdict = evaluate_latency(latency(95, 200), timeline(latency=rows), window())
    assert (verdict.status, verdict.measured, verdict.message) == (Status.NO_DATA, None, message)


def test_no_histogram_for_an_unknown_endpoint_names_the_known_ones() -> None:
    tl = timeline(latency=[hist(0, 10, 1)])
    verdict = evaluate_latency(latency(95, 200, "GET /ordres"), tl, window())
    assert verdict.message == (
        f"no data: no latency histogram for requests to GET /ordres in {LOAD}; "
        "recorded endpoints: GET /orders"
    )


def test_latency_window_never_began() -> None:
    verdict = evaluate_latency(latency(95, 200), timeline(), None)
    assert verdict.status is Status.NO_DATA
    assert verdict.id == "p95-latency-load"
