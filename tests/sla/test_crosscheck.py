"""Locust's failure ratio beside Prometheus' error ratio for the same window."""

from __future__ import annotations

from typing import Any

import pytest

from slagate.sla.crosscheck import CrossCheck, cross_checks
from tests.sla.timelines import load_events, req, sample, scenario, timeline

SLA = {
    "kind": "promql",
    "id": "err",
    "preset": "http_error_ratio",
    "deployment": "order",
    "threshold": 0.05,
}


def server(errors_per_s: float, requests_per_s: float, seconds: int = 10) -> list[tuple[Any, ...]]:
    rows = [sample(s, errors_per_s, query="err:errors") for s in range(seconds)]
    return rows + [sample(s, requests_per_s, query="err:requests") for s in range(seconds)]


def check_of(
    requests: list[tuple[Any, ...]], metrics: list[tuple[Any, ...]], **sla: Any
) -> CrossCheck:
    tl = timeline(events=load_events(10), requests=requests, metrics=metrics)
    (check,) = cross_checks(scenario([{**SLA, **sla}]), tl)
    return check


def test_ratios_within_the_tolerance_are_not_flagged() -> None:
    check = check_of([req(s, 100, 4) for s in range(10)], server(4.2, 100.0))
    assert (check.client_ratio, check.server_ratio) == (0.04, pytest.approx(0.042))
    assert not check.flagged
    assert check.note == "Locust 4.00% of 1,000 requests vs Prometheus 4.20%: within 1 pp"


def test_failures_only_the_client_saw_are_flagged_with_the_likely_reason() -> None:
    check = check_of([req(s, 100, 8) for s in range(10)], server(1.0, 100.0))
    assert check.flagged
    assert "differ by 7.00 percentage points (> 1 pp)" in check.note
    assert "requests that never reached a pod" in check.note


def test_only_the_named_endpoints_count_on_the_client_side() -> None:
    requests = [req(s, 50, 5, "POST /orders") for s in range(10)] + [
        req(s, 50, 0, "GET /products") for s in range(10)
    ]
    check = check_of(requests, server(10.0, 100.0), endpoints=["POST /orders"])
    assert (check.client_requests, check.client_ratio) == (500, 0.1)
    assert not check.flagged


def test_without_server_side_requests_there_is_nothing_to_compare() -> None:
    check = check_of([req(s, 100, 1) for s in range(10)], [])
    assert check.server_ratio is None
    assert not check.flagged
    assert check.note.startswith("no server-side requests in the window")


def test_a_cross_check_survives_summary_json() -> None:
    check = check_of([req(s, 100, 4) for s in range(10)], server(4.0, 100.0))
    assert CrossCheck.from_json(check.to_json()) == check


def test_own_queries_and_latency_presets_get_no_cross_check() -> None:
    slas = [
        {"kind": "promql", "query": "up", "threshold": 1, "op": ">="},
        {"kind": "promql", "preset": "http_latency_p95", "deployment": "order", "threshold": 300},
    ]
    assert cross_checks(scenario(slas), timeline(events=load_events(10))) == []
