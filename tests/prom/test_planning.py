"""PromQL SLAs become the queries a run sends: placeholders filled, ids given."""

from __future__ import annotations

import pytest

from slagate.errors import ScenarioError
from slagate.prom.planning import duration, plan_queries
from slagate.scenario import parse_scenario

HEAD = "name: p\nload: {shape: constant, users: 1, duration: 5s}\n"


def scenario_with(slas: str, prometheus: str = ""):  # type: ignore[no-untyped-def]
    return parse_scenario(HEAD + prometheus + "slas:\n" + slas, "s.yaml")


def test_a_preset_expands_and_brings_its_counts_for_the_cross_check() -> None:
    sc = scenario_with(
        "  - {kind: promql, preset: http_error_ratio, deployment: order, threshold: 0.01}\n"
    )
    plan = plan_queries(sc, "shop", sandbox=True)
    assert (plan.step_s, plan.range_s) == (1.0, 5.0)
    ids = [q.id for q in plan.queries]
    assert ids == [
        "http-error-ratio-order-load",
        "http-error-ratio-order-load:errors",
        "http-error-ratio-order-load:requests",
    ]
    errors, requests = plan.queries[1].query, plan.queries[2].query
    assert errors == (
        'http_request_duration_seconds_count{namespace="shop",pod=~"order-.*",status=~"5.."}'
    )
    assert requests == 'http_request_duration_seconds_count{namespace="shop",pod=~"order-.*"}'
    assert plan.queries[0].query == (
        f"(sum(rate({errors}[5s])) or vector(0)) / sum(rate({requests}[5s]))"
    )
    assert {q.metric for q in plan.queries} == {"http_request_duration_seconds_count"}


def test_own_queries_fill_placeholders_and_keep_label_matchers() -> None:
    sc = scenario_with(
        "  - kind: promql\n    id: cpu\n    deployment: order\n    threshold: 0.5\n"
        '    query: \'max(rate(container_cpu_usage_seconds_total{namespace="{namespace}",'
        'pod=~"{deployment}-.*"}[{range}]))\'\n',
        "prometheus: {step: 30s, range: 2m}\n",
    )
    (query,) = plan_queries(sc, "default", sandbox=False).queries
    assert query.query == (
        'max(rate(container_cpu_usage_seconds_total{namespace="default",pod=~"order-.*"}[120s]))'
    )
    assert query.metric is None


def test_defaults_follow_the_prometheus_the_run_uses() -> None:
    sc = scenario_with("  - {kind: promql, query: up, threshold: 1, op: '>='}\n")
    assert (
        plan_queries(sc, "d", sandbox=False).step_s,
        plan_queries(sc, "d", sandbox=False).range_s,
    ) == (15.0, 60.0)


@pytest.mark.parametrize(
    ("sla", "problem"),
    [
        pytest.param(
            "{kind: promql, threshold: 1}",
            "give exactly one of query (PromQL) or preset",
            id="neither",
        ),
        pytest.param(
            "{kind: promql, preset: http_error_ratio, threshold: 1}",
            "the query needs deployment: set it on this SLA",
            id="missing-variable",
        ),
        pytest.param(
            "{kind: promql, query: 'up{job=\"{job}\"}', threshold: 1}",
            "unknown placeholder {job} in the query",
            id="unknown-placeholder",
        ),
        pytest.param(
            "{kind: promql, query: 'rate(x[{window}])', threshold: 1}",
            "the rate() range is {range} (prometheus.range), not {window}",
            id="window-placeholder",
        ),
        pytest.param(
            "{kind: promql, preset: p42, threshold: 1}",
            "slas[0].preset: Input should be",
            id="preset",
        ),
        pytest.param(
            "{kind: promql, query: up, threshold: 1, reduce: median}", "slas[0].reduce", id="reduce"
        ),
    ],
)
def test_mistakes_in_a_promql_sla_name_the_field(sla: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_with(f"  - {sla}\n")
    assert problem in "\n".join(caught.value.problems)
    assert caught.value.problems[0].startswith("s.yaml:4: slas[0]")


def test_durations_are_promql_durations() -> None:
    assert [duration(s) for s in (5.0, 60.0, 1.5)] == ["5s", "60s", "1500ms"]
