from __future__ import annotations

from typing import Any

import pytest

from slagate.scenario import FailedRequestsSla, LatencySla, ThroughputSla
from slagate.sla.availability import evaluate_failed_requests
from slagate.sla.latency import evaluate_latency
from slagate.sla.throughput import evaluate_throughput
from slagate.sla.verdict import Evidence
from tests.sla.timelines import T0, fail, hist, req, timeline, window


def failure_evidence(
    requests: list[tuple[Any, ...]], failures: list[tuple[Any, ...]], endpoint: str | None = None
) -> list[tuple[int, str]]:
    spec = FailedRequestsSla(kind="failed_requests", max=0, endpoint=endpoint)
    verdict = evaluate_failed_requests(
        spec, timeline(requests=requests, failures=failures), window()
    )
    return [(e.t_ms, e.text) for e in verdict.evidence]


def test_burst_then_first_failures_in_time_order() -> None:
    requests = [req(3, 100, 20), req(4, 100, 15), req(5, 100, 6), req(20, 100, 3)]
    failures = [fail(3120 + 10 * i) for i in range(20)] + [fail(5480)] + [fail(20_100)]
    evidence = failure_evidence(requests, failures)
    assert evidence[0] == (
        T0 + 3120,
        "failures concentrated 22:13:23.120-22:13:25.480 UTC (41 of 44)",
    )
    assert evidence[1] == (
        T0,
        "the failures table holds 22 of 44 counted failures "
        "(stored rows are capped per second; counts are exact)",
    )
    assert evidence[2:12] == [(T0 + 3120 + 10 * i, "GET /orders status=0 boom") for i in range(10)]
    assert evidence[12:] == [(T0 + 3220, "... 12 more stored failures not listed")]


def test_background_failures_do_not_stretch_a_burst() -> None:
    requests = [req(s, 100, 1) for s in range(30)] + [req(10, 100, 40), req(11, 100, 40)]
    failures = [fail(10_000), fail(11_999)]
    assert failure_evidence(requests, failures)[0] == (
        T0 + 10_000,
        "failures concentrated 22:13:30.000-22:13:31.999 UTC (82 of 110)",
    )


def test_failures_spread_over_the_window() -> None:
    requests = [req(s, 100, 1) for s in range(0, 30, 2)]
    assert failure_evidence(requests, [])[0] == (
        T0,
        "failures spread over 15 of 30 seconds; at most 1 in one second (22:13:20 UTC)",
    )


def test_spread_names_the_worst_second() -> None:
    requests = [req(s, 100, 1) for s in range(0, 30, 2)] + [req(17, 10, 5)]
    assert failure_evidence(requests, [])[0] == (
        T0 + 17_000,
        "failures spread over 16 of 30 seconds; at most 5 in one second (22:13:37 UTC)",
    )


def test_one_failure_is_concentrated_at_its_instant() -> None:
    evidence = failure_evidence([req(3, 100, 1)], [fail(3120, "POST /orders", 503, "HTTPError")])
    assert evidence == [
        (T0 + 3120, "failures concentrated 22:13:23.120 UTC (1 of 1)"),
        (T0 + 3120, "POST /orders status=503 HTTPError"),
    ]


def test_burst_without_stored_failures_uses_the_second_edges() -> None:
    assert failure_evidence([req(3, 100, 2)], []) == [
        (T0 + 3000, "failures concentrated 22:13:23.000-22:13:23.999 UTC (2 of 2)"),
        (
            T0,
            "the failures table holds 0 of 2 counted failures "
            "(stored rows are capped per second; counts are exact)",
        ),
    ]


def test_stored_failures_outside_the_window_or_endpoint_are_not_evidence() -> None:
    requests = [req(3, 100, 1), req(3, 100, 1, "GET /products")]
    failures = [
        fail(-1, error="before"),
        fail(3500, error="inside"),
        fail(3600, "GET /products", error="other endpoint"),
        fail(30_000, error="at the end"),
    ]
    evidence = failure_evidence(requests, failures, endpoint="GET /orders")
    assert [text for _, text in evidence[1:]] == ["GET /orders status=0 inside"]


def test_error_text_is_flattened_and_truncated_and_a_missing_status_shown() -> None:
    error = "Traceback:\n  " + "x" * 300
    evidence = failure_evidence([req(3, 10, 1)], [fail(3000, status=None, error=error)])
    text = evidence[1][1]
    assert text.startswith("GET /orders status=? Traceback: xxx")
    assert text.endswith("xxx...")
    assert len(text) == len("GET /orders status=? ") + 160


def test_latency_evidence_counts_slow_requests_and_lists_the_worst_seconds() -> None:
    latency = [
        hist(1, 20, 99),
        hist(1, 3400, 1),
        hist(2, 150, 10),
        hist(3, 20, 10),
        hist(4, 150, 8),
        hist(4, 3400, 2),
        hist(5, 20, 10),
        hist(6, 20, 10),
        hist(7, 20, 10),
    ]
    spec = LatencySla(kind="latency", percentile=95, max_ms=100)
    verdict = evaluate_latency(spec, timeline(latency=latency), window())
    assert verdict.evidence == (
        Evidence(T0, "21 of 160 requests (13.1%) took longer than 100 ms"),
        Evidence(T0 + 4000, "22:13:24 UTC: p95 3,400 ms over 10 requests"),
        Evidence(T0 + 2000, "22:13:22 UTC: p95 150 ms over 10 requests"),
        Evidence(T0 + 1000, "22:13:21 UTC: p95 20 ms over 100 requests"),
        Evidence(T0 + 3000, "22:13:23 UTC: p95 20 ms over 10 requests"),
        Evidence(T0 + 5000, "22:13:25 UTC: p95 20 ms over 10 requests"),
    )


@pytest.mark.parametrize(
    ("requests", "text", "t_ms"),
    [
        pytest.param(
            [req(s, 10) for s in range(1, 30)],
            "requests per second: lowest 0 (22:13:20 UTC), highest 10; 1 of 30 seconds had none",
            T0,
            id="idle-second",
        ),
        pytest.param(
            [req(s, 10 + s) for s in range(30)],
            "requests per second: lowest 10 (22:13:20 UTC), highest 39; 0 of 30 seconds had none",
            T0,
            id="busy",
        ),
    ],
)
def test_throughput_evidence(requests: list[tuple[Any, ...]], text: str, t_ms: int) -> None:
    spec = ThroughputSla(kind="throughput", min_rps=1000)
    verdict = evaluate_throughput(spec, timeline(requests=requests), window())
    assert verdict.evidence == (Evidence(t_ms, text),)
