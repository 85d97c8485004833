"""`slagate run` and `slagate check` with a real Prometheus: refusals before load, series kept."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from slagate.timeline import EventKind, Table, read_run_info, read_table
from tests.e2e.conftest import slagate
from tests.fakes import free_port
from tests.prom.conftest import RunningPrometheus

pytestmark = pytest.mark.e2e


def scenario(tmp_path: Path, host: str, query: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: s\ntarget: {{host: '{host}'}}\n"
        "load: {shape: constant, users: 1, duration: 2s}\n"
        f"slas:\n  - {{kind: promql, id: errors, query: '{query}', threshold: 0.01}}\n"
    )
    return path


def test_a_promql_typo_exits_2_before_load_naming_the_query(
    tmp_path: Path, prometheus: RunningPrometheus
) -> None:
    path = scenario(tmp_path, prometheus.url, "sum(rate(slagate_test_requests_total[1m])")
    reports = tmp_path / "reports"
    done = slagate(
        ["run", str(path), "--prometheus-url", prometheus.url, "--reports", str(reports)]
    )
    assert done.returncode == 2, done.stderr
    assert "no load was sent" in done.stderr
    assert "'sum(rate(slagate_test_requests_total[1m])'" in done.stderr
    assert "parse error" in done.stderr
    assert "Traceback" not in done.stderr
    assert not reports.exists()


def test_an_unreachable_prometheus_exits_2_before_load_naming_the_url(
    tmp_path: Path, prometheus: RunningPrometheus
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    path = scenario(tmp_path, prometheus.url, "up")
    done = slagate(["run", str(path), "--prometheus-url", url, "--reports", str(tmp_path / "r")])
    assert done.returncode == 2, done.stderr
    assert f"cannot reach Prometheus at {url}: connection refused" in done.stderr
    assert "no load was sent" in done.stderr


def test_promql_slas_without_any_prometheus_say_how_to_get_one(
    tmp_path: Path, prometheus: RunningPrometheus
) -> None:
    path = scenario(tmp_path, prometheus.url, "up")
    done = slagate(["run", str(path), "--reports", str(tmp_path / "r")])
    assert done.returncode == 2, done.stderr
    assert (
        "the scenario has PromQL SLAs but no Prometheus: pass --prometheus-url URL" in done.stderr
    )


PROBE = """
import slagate.locust_plugin
from locust import FastHttpUser, constant, task

class Probe(FastHttpUser):
    wait_time = constant(0.2)

    @task
    def home(self):
        self.client.get("/-/healthy")
"""


def test_a_run_fetches_its_series_and_check_judges_them_offline_or_fetches_again(
    tmp_path: Path, prometheus: RunningPrometheus
) -> None:
    prometheus.exporter.ready.set(2)
    (tmp_path / "probe.py").write_text(PROBE)
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: s\ntarget: {{host: '{prometheus.url}'}}\n"
        f"load: {{locustfile: {tmp_path / 'probe.py'}, shape: constant, users: 1, duration: 4s}}\n"
        "prometheus: {step: 1s}\n"
        "slas:\n"
        "  - {kind: promql, id: ready, query: 'max(slagate_test_ready)', reduce: min, op: '>=',"
        " threshold: 2, window: run}\n"
    )
    done = slagate(
        ["run", str(path), "--prometheus-url", prometheus.url, "--run-dir", str(tmp_path / "run")]
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = tmp_path / "run"
    info = read_run_info(run_dir)
    assert info.prometheus is not None
    assert (info.prometheus.url, info.prometheus.source) == (prometheus.url, "option")
    assert info.prometheus.queries == {"ready": "max(slagate_test_ready)"}
    assert len(read_table(run_dir, Table.METRICS)) >= 4

    offline = slagate(["check", str(run_dir)])  # Prometheus not needed: the series are kept
    assert offline.returncode == 0, offline.stderr

    # the gauge changes after the run and Prometheus' lag (which the SLA still reads)
    assert info.ended_ms is not None and info.prometheus.lag_s == 3.0
    time.sleep(max(0.0, info.ended_ms / 1000 + info.prometheus.lag_s + 0.5 - time.time()))
    prometheus.exporter.ready.set(1)
    prometheus.wait_until("slagate_test_ready", 1)
    again = slagate(["check", str(run_dir), "--prometheus-url", prometheus.url])
    assert again.returncode == 0, again.stderr  # the same window, fetched again: still 2
    events = read_table(run_dir, Table.EVENTS)
    assert list(events["kind"]).count(EventKind.METRICS_FETCHED) == 2
