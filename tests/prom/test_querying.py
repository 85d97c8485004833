"""Queries to a real Prometheus: series come back, refusals and outages say what to do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from slagate.errors import ConfigError, PreflightError, PrometheusError, QueryRejected
from slagate.prom.fetching import fetch_metrics, render_labels
from slagate.prom.planning import PlannedQuery, QueryPlan, plan_queries
from slagate.prom.preflight import preflight_prometheus
from slagate.prom.querying import PrometheusQuerier
from slagate.scenario import PrometheusSettings, parse_scenario
from slagate.timeline import EventKind, Table, read_table
from tests.fakes import free_port
from tests.prom.conftest import RunningPrometheus

SETTINGS = PrometheusSettings(timeout=5)


def test_a_range_query_returns_every_series_with_its_samples(prometheus: RunningPrometheus) -> None:
    prometheus.exporter.requests.labels(status="200").inc(5)
    prometheus.exporter.requests.labels(status="500").inc(1)
    prometheus.wait_until('slagate_test_requests_total{status="200"}', 5)
    # three scrapes of the new series: the steps of the last 2 s find it
    prometheus.wait_at_least('count_over_time(slagate_test_requests_total{status="500"}[1m])', 3)
    now = time.time()
    querier = PrometheusQuerier(prometheus.url, SETTINGS)

    found = querier.range_query("slagate_test_requests_total", now - 10, now, 1.0)

    by_status = {s.labels["status"]: s for s in found}
    assert set(by_status) == {"200", "500"}
    assert by_status["200"].samples[-1][1] == 5.0
    assert len(by_status["500"].samples) >= 2
    assert all(isinstance(t, int) for t, _ in by_status["200"].samples)


def test_a_query_prometheus_rejects_names_the_query_and_its_reason(
    prometheus: RunningPrometheus,
) -> None:
    querier = PrometheusQuerier(prometheus.url, SETTINGS)
    with pytest.raises(QueryRejected) as caught:
        querier.instant_query("sum(rate(slagate_test_requests_total[1m])")
    message = str(caught.value)
    assert "sum(rate(slagate_test_requests_total[1m])" in message
    assert "parse error" in message


def test_an_unreachable_prometheus_names_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(
        PrometheusError, match=f"cannot reach Prometheus at {url}: connection refused"
    ):
        PrometheusQuerier(url, SETTINGS).instant_query("up")
    assert time.monotonic() - started < 5  # a few quick retries, not half a minute


def test_user_info_stays_out_of_messages() -> None:
    url = f"http://admin:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(PrometheusError) as caught:
        PrometheusQuerier(url, SETTINGS).instant_query("up")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("headers", "token", "where"),
    [
        pytest.param(
            {"Authorization": " Bearer s3cret"}, None, "headers.Authorization", id="space"
        ),
        pytest.param({"Cookie": "a=s3cret\r\nX: y"}, None, "headers.Cookie", id="line-break"),
        pytest.param({"X-Scope-OrgID": "s3cret\u2019"}, None, "headers.X-Scope-OrgID", id="utf8"),
        pytest.param({}, "s3cret\nmore", "bearer_token_file", id="token"),
    ],
)
def test_a_malformed_header_is_named_without_its_value(
    tmp_path: Path, headers: dict[str, str], token: str | None, where: str
) -> None:
    token_file = None
    if token is not None:
        token_file = tmp_path / "token"
        token_file.write_text(token)
    settings = PrometheusSettings(headers=headers, bearer_token_file=token_file)

    with pytest.raises(ConfigError, match=f"^prometheus.{where}: not a valid HTTP header") as e:
        PrometheusQuerier(f"http://127.0.0.1:{free_port()}", settings)
    assert "s3cret" not in str(e.value)
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_preflight_names_a_missing_preset_metric(prometheus: RunningPrometheus) -> None:
    scenario = parse_scenario(
        "name: p\nload: {shape: constant, users: 1, duration: 5s}\n"
        "slas: [{kind: promql, id: lag, preset: kafka_consumer_lag, consumer_group: orders,"
        " threshold: 10}]\n"
    )
    plan = plan_queries(scenario, "default", sandbox=True)
    with pytest.raises(PreflightError) as caught:
        preflight_prometheus(PrometheusQuerier(prometheus.url, SETTINGS), plan, metric_wait_s=0)
    assert "lag: the preset needs the metric kafka_consumergroup_lag" in str(caught.value)
    assert "no load was sent" in str(caught.value)


def test_preflight_lists_every_rejected_query(prometheus: RunningPrometheus) -> None:
    plan = QueryPlan(
        1.0,
        5.0,
        3.0,
        (
            PlannedQuery("a", "a", "up{", None),
            PlannedQuery("b", "b", "slagate_test_ready", None),
            PlannedQuery("c", "c", "rate(up)", None),
        ),
    )
    with pytest.raises(PreflightError) as caught:
        preflight_prometheus(PrometheusQuerier(prometheus.url, SETTINGS), plan)
    lines = str(caught.value).splitlines()[1:]
    assert len(lines) == 2
    assert "'up{'" in lines[0] and "'rate(up)'" in lines[1]


def test_fetching_files_samples_and_outcomes_in_the_run_folder(
    prometheus: RunningPrometheus, tmp_path: Path
) -> None:
    prometheus.exporter.ready.set(3)
    prometheus.wait_until("slagate_test_ready", 3)
    # a series at the steps of the 8 s window fetched below, even if a scrape of the
    # exporter (a thread of this busy process) timed out and left a gap
    prometheus.wait_at_least("count_over_time(slagate_test_ready[1m])", 10)
    end_ms = int(time.time() * 1000)
    plan = QueryPlan(
        1.0,
        5.0,
        3.0,
        (
            PlannedQuery("ready", "ready", "slagate_test_ready", None),
            PlannedQuery("bad", "bad", "up{", None),
        ),
    )

    fetched = fetch_metrics(
        PrometheusQuerier(prometheus.url, SETTINGS), plan, tmp_path, end_ms - 8000, end_ms
    )

    metrics = read_table(tmp_path, Table.METRICS)
    assert fetched.failed == ("bad",)
    assert fetched.samples == len(metrics) >= 4
    assert set(metrics["query"]) == {"ready"}
    assert 3.0 in set(metrics["value"])
    assert (
        metrics["series"].iloc[0].startswith('{__name__="slagate_test_ready",instance="127.0.0.1:')
    )
    events = read_table(tmp_path, Table.EVENTS)
    outcomes = dict(zip(events["name"], events["kind"], strict=True))
    assert outcomes == {"ready": EventKind.METRICS_FETCHED, "bad": EventKind.METRICS_FAILED}


def test_labels_render_as_promql_does() -> None:
    assert render_labels({"b": 'x"y', "a": "1"}) == '{a="1",b="x\\"y"}'
    assert render_labels({}) == "{}"
