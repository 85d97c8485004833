"""Prometheus on the timeline, end to end on the sandbox with its real Prometheus.

The rolling-deploy runs of test_sandbox_runs.py carry PromQL SLAs too (pods' and proxy's
error ratios, the pods' p95); these two runs add what those cannot show: injected 5xx seen
alike by Locust and Prometheus (the same ratio, and the same count exactly: summary.json,
Locust's own statistics and the proxy's counter), and a Prometheus that stops in the middle
of a run.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest

from tests.e2e.test_sandbox_runs import overlay_with, run_sandbox, summary_of, verdicts

pytestmark = pytest.mark.e2e

ORDER_ENDPOINTS = '["/orders", "/orders/[id]", "/orders/[id]/cancel"]'

PROXY_5XX = (
    'sum(istio_requests_total{reporter="source",source_workload="unknown",'
    'response_code=~"5.."}) or vector(0)'
)
"""Every 5xx the proxy answered to a client outside the cluster (Locust), since it started:
an exact counter, read at its last sample."""

INJECTED = f"""\
name: injected-errors
target:
  kubernetes: {{service: order, services: {{product: product}}}}
load: {{shape: constant, users: 12, spawn_rate: 12, duration: 24s}}
slas:
  # window run: quiet before and after the load, so both sides count the same requests
  - {{id: pods-error-ratio, kind: promql, preset: http_error_ratio, deployment: order,
     threshold: 0.01, window: run, endpoints: {ORDER_ENDPOINTS}}}
  - {{id: availability, kind: availability, min_percent: 50, window: load}}
  # the same failures counted three ways: the timeline, Locust's statistics, the proxy
  - {{id: failed, kind: failed_requests, max: 1000000, window: run}}
  - {{id: proxy-failed, kind: promql, query: '{PROXY_5XX}', reduce: last,
     threshold: 1000000, window: run}}
"""


def test_injected_errors_fail_the_server_side_sla_and_every_count_agrees(tmp_path: Path) -> None:
    def inject(container: dict[str, Any]) -> None:
        container["args"] += ["--error-ratio", "0.1"]

    manifests = overlay_with(tmp_path, inject)
    (manifests / "order-hpa.yaml").unlink()  # one order pod: it fails exactly every 10th
    code, run_dir, output = run_sandbox(tmp_path, INJECTED, manifests)

    assert code == 1, output
    found = verdicts(run_dir)
    assert found["availability"]["status"] == "pass"
    errors = found["pods-error-ratio"]
    assert errors["status"] == "fail", errors
    assert errors["measured"] > 0.05  # about 0.1: every 10th order request answers 500
    (check,) = summary_of(run_dir)["cross_checks"]
    assert check["client_requests"] > 100
    assert abs(check["server_ratio"] - check["client_ratio"]) <= 0.01, check
    assert not check["flagged"]
    # exactly equal: the failed-requests verdict, Locust's own totals, the proxy's counter
    assert set(pd.read_parquet(run_dir / "failures")["status"]) == {500}
    failed = found["failed"]["measured"]
    (totals,) = pd.read_parquet(run_dir / "events").query("kind == 'locust_totals'")["message"]
    assert totals.endswith(f" failures={failed:.0f}"), (totals, failed)
    assert found["proxy-failed"]["measured"] == failed > 10


STOPPING = """\
name: prometheus-stops
target:
  kubernetes: {service: order, services: {product: product}}
load: {shape: constant, users: 4, spawn_rate: 4, duration: 16s}
slas:
  - {id: pods-p95, kind: promql, preset: http_latency_p95, deployment: order,
     threshold: 2500, window: load}
  - {id: availability, kind: availability, min_percent: 99, window: load}
"""


def test_a_prometheus_gone_mid_run_is_no_data_with_the_reason(tmp_path: Path) -> None:
    stopper = threading.Thread(target=_kill_prometheus_under, args=(tmp_path, 4.0), daemon=True)
    stopper.start()

    code, run_dir, output = run_sandbox(tmp_path, STOPPING)

    stopper.join(timeout=1)
    assert code == 1, output
    found = verdicts(run_dir)
    assert found["availability"]["status"] == "pass"  # every other SLA is still judged
    p95 = found["pods-p95"]
    assert p95["status"] == "no-data", p95
    assert "could not be fetched (cannot reach Prometheus at http://127.0.0.1:" in p95["message"]
    assert (run_dir / "requests").is_dir() and (run_dir / "report.html").is_file()


def _kill_prometheus_under(folder: Path, into_load_s: float) -> None:
    """Once the load is recording (request parts appear under ``folder``), let it run
    ``into_load_s`` more seconds, then SIGKILL the sandbox's Prometheus (its TSDB lies
    under ``folder``), as a crash would."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list(folder.glob("reports/*/requests/*.parquet")):
        time.sleep(0.5)
    time.sleep(into_load_s)
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "--storage.tsdb.path" in cmdline and str(folder) in cmdline:
            process.kill()
