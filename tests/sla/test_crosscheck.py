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
    """Counters growing by so much a second, sampled from the window's start to its end."""
    rows = [sample(s, errors_per_s * s, query="err:errors") for s in range(seconds + 1)]
    return rows + [sample(s, requests_per_s * s, query="err:requests") for s in range(seconds + 1)]


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


def test_a_restarted_pods_counter_counts_from_zero_again() -> None:
    errors = [
        sample(s, v, query="err:errors", series='{pod="a"}') for s, v in enumerate([0, 2, 4, 1, 3])
    ]
    requests = [
        sample(s, v, query="err:requests", series='{pod="a"}')
        for s, v in enumerate([0, 50, 100, 25, 75])
    ]
    check = check_of([req(s, 25, 1) for s in range(4)], errors + requests)
    # rises 2 + 2, then a reset to 1 (counted) and + 2: 7 errors of 50 + 50 + 25 + 50
    assert check.server_ratio == pytest.approx(7 / 175)


def test_a_counter_born_inside_the_window_counts_from_zero() -> None:
    born = [sample(s, v, query="err:errors", series='{status="500"}') for s, v in [(5, 3), (6, 4)]]
    requests = [sample(s, 10.0 * s, query="err:requests") for s in range(11)]
    check = check_of([req(s, 10, 0) for s in range(10)], born + requests)
    # the window moved a step later for Prometheus: samples at 1..10 s, 90 requests
    assert check.server_ratio == pytest.approx(4 / 90)


def test_failures_at_the_windows_end_are_counted_when_prometheus_shows_them() -> None:
    """Prometheus shows a request about a step after Locust saw it: the five failures of
    the window's last second are in the counter's sample one step after the window."""
    errors = [sample(s, 5.0 if s >= 10 else 0.0, query="err:errors") for s in range(12)]
    requests = [sample(s, 10.0 * s, query="err:requests") for s in range(12)]
    client = [req(s, 10, 5 if s == 9 else 0) for s in range(10)]
    check = check_of(client, errors + requests)
    # samples at 1..10 s: the rises of nine steps, 90 requests (without the shift: 0 errors)
    assert (check.client_ratio, check.server_ratio) == (0.05, pytest.approx(5 / 90))
    assert not check.flagged


def test_a_cross_check_survives_summary_json() -> None:
    check = check_of([req(s, 100, 4) for s in range(10)], server(4.0, 100.0))
    assert CrossCheck.from_json(check.to_json()) == check


def test_own_queries_and_latency_presets_get_no_cross_check() -> None:
    slas = [
        {"kind": "promql", "query": "up", "threshold": 1, "op": ">="},
        {"kind": "promql", "preset": "http_latency_p95", "deployment": "order", "threshold": 300},
    ]
    assert cross_checks(scenario(slas), timeline(events=load_events(10))) == []


def test_a_window_shorter_than_five_steps_is_compared_over_five() -> None:
    """A 2 s window between two late scrapes shows no rise of its own; over five steps
    from its start both sides count the same requests."""
    requests = [req(s, 10, 10 if s in (3, 4) else 0) for s in range(10)]
    # every request of 3..4 s failed; Prometheus scraped at 0..3 s, then not until 7 s
    errors = [sample(s, 20.0 if s >= 7 else 0.0, query="err:errors") for s in range(11)]
    counted = [
        sample(s, 10.0 * (s if s >= 7 else min(s, 3)), query="err:requests") for s in range(11)
    ]
    tl = timeline(events=load_events(10), requests=requests, metrics=errors + counted)
    sc = scenario([{**SLA, "window": "deploy"}], windows={"deploy": {"start": 3, "end": 5}})
    (check,) = cross_checks(sc, tl)
    assert check.window == "deploy [3.0 s, 8.0 s]"
    # Locust: 20 of 50 failed (3..7 s); Prometheus, samples at 4..8 s: 20 of 50 (in the
    # window's own 2 s, samples at 4..5 s: no rise, nothing to compare)
    assert (check.client_requests, check.client_ratio) == (50, 0.4)
    assert check.server_ratio == pytest.approx(0.4)
    assert not check.flagged
