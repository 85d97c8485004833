"""`slagate run`, `slagate check` and the pytest gate against the real shop with real Locust."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from slagate.shop.launching import LocalShop, ServiceOptions
from slagate.shop.settings import SigtermMode
from tests.e2e.conftest import REPO, scenario_text, slagate

pytestmark = pytest.mark.e2e

SHORT_LOAD = """\
load:
  locustfile: locustfiles/orders.py
  shape: constant
  users: 4
  spawn_rate: 4
  duration: {duration}
drain: 1s
slas:
  - {{id: availability, kind: availability, min_percent: 99, window: load}}
  - {{id: no-failures, kind: failed_requests, max: 0}}
  - {{id: p95, kind: latency, percentile: 95, max_ms: 2000}}
  - {{id: order-create-p99, kind: latency, endpoint: POST /orders, percentile: 99, max_ms: 3000}}
  - {{id: throughput, kind: throughput, min_rps: 5, window: steady}}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def only_run_dir(reports: Path) -> Path:
    runs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_run_passes_and_keeps_a_complete_run_folder(shop: LocalShop, tmp_path: Path) -> None:
    scenario = write(tmp_path, scenario_text(shop, SHORT_LOAD.format(duration="6s")))
    result = slagate(["run", str(scenario), "--reports", str(tmp_path / "reports")])
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path / "reports")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["exit_code"] == 0
    assert [v["id"] for v in summary["verdicts"]] == [
        "availability",
        "no-failures",
        "p95",
        "order-create-p99",
        "throughput",
    ]
    assert {v["status"] for v in summary["verdicts"]} == {"pass"}
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["host"] == shop.order_url
    assert set(info["windows"]) >= {"run", "load", "steady"}
    requests = pd.read_parquet(run_dir / "requests")
    assert requests["requests"].sum() > 30
    assert requests["failures"].sum() == 0
    # every name is one of the locustfile's; which of the rarer tasks ran in 6 s is chance
    # (a loaded machine runs fewer), but order creation is judged above, so it ran
    names = set(requests["name"])
    assert "/orders" in names
    assert names <= {
        "/products",
        "/products/[id]",
        "/orders",
        "/orders/[id]",
        "/orders/[id]/cancel",
    }
    assert len(pd.read_parquet(run_dir / "acks")) > 0
    assert "PASS" in result.stdout and "availability" in result.stdout

    again = slagate(["check", str(run_dir)])
    assert again.returncode == 0, again.stderr


def test_gate_items_per_sla_and_failure_explained(shop: LocalShop, tmp_path: Path) -> None:
    body = SHORT_LOAD.format(duration="5s") + (
        "  - {id: impossible-p50, kind: latency, percentile: 50, max_ms: 0.001}\n"
    )
    scenario = write(tmp_path, scenario_text(shop, body))
    junit = tmp_path / "sla.xml"
    gate = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "sla_checks/",
            "--scenario",
            str(scenario),
            "--reports",
            str(tmp_path / "reports"),
            f"--junitxml={junit}",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert "5 passed" in gate.stdout and "1 failed" in gate.stdout
    assert "FAILED sla_checks/test_slas.py::test_sla[impossible-p50]" in gate.stdout
    assert "threshold: 0.001 ms" in gate.stdout
    # the run's live SLA table went to pytest's live log while it ran
    assert "live log setup" in gate.stdout
    assert "│ impossible-p50" in gate.stdout and "breached" in gate.stdout
    xml = junit.read_text()
    assert 'name="test_sla[impossible-p50]"' in xml and 'name="test_sla[availability]"' in xml


def test_sigterm_aborts_and_keeps_what_was_recorded(shop: LocalShop, tmp_path: Path) -> None:
    scenario = write(tmp_path, scenario_text(shop, SHORT_LOAD.format(duration="60s")))
    reports = tmp_path / "reports"
    proc = subprocess.Popen(
        [sys.executable, "-m", "slagate", "run", str(scenario), "--reports", str(reports)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_requests(reports, timeout_s=30)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out + err
    run_dir = only_run_dir(reports)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["exit_code"] == 3
    assert summary["status"] == "aborted"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "aborted"
    assert pd.read_parquet(run_dir / "requests")["requests"].sum() > 0
    assert "ABORTED" in out
    assert slagate(["check", str(run_dir)]).returncode == 3


def _wait_for_requests(reports: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(reports.glob("*/requests/*.parquet")):
            return
        time.sleep(0.2)
    raise AssertionError(f"no requests recorded under {reports} within {timeout_s} s")


def test_replica_killed_under_load_gate_reports_failures_with_timestamps(tmp_path: Path) -> None:
    with LocalShop.start(
        tmp_path / "shop", order=ServiceOptions(on_sigterm=SigtermMode.EXIT)
    ) as shop:
        scenario = write(tmp_path, scenario_text(shop, SHORT_LOAD.format(duration="10s")))
        reports = tmp_path / "reports"
        proc = subprocess.Popen(
            [sys.executable, "-m", "slagate", "run", str(scenario), "--reports", str(reports)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_requests(reports, timeout_s=30)
        time.sleep(1.0)
        kill_ms = int(time.time() * 1000)
        shop.orders[0].send_signal(signal.SIGTERM)  # exit-at-once mode: dies mid-request
        time.sleep(1.0)
        shop.restart_order(0)
        back_ms = int(time.time() * 1000)
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, out + err
    run_dir = only_run_dir(reports)
    failures = pd.read_parquet(run_dir / "failures")
    assert len(failures) > 0
    assert failures["t_ms"].between(kill_ms - 1000, back_ms + 2000).all()
    assert set(failures["status"]) <= {0, 502, 503}

    gate = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "sla_checks/",
            "--run-dir",
            str(run_dir),
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert "FAILED sla_checks/test_slas.py::test_sla[no-failures]" in gate.stdout
    assert "evidence:" in gate.stdout
    first = pd.Timestamp(int(failures["t_ms"].min()), unit="ms", tz="UTC")
    assert first.strftime("%H:%M:%S") in gate.stdout
