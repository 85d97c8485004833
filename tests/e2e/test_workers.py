"""Distributed load on Locust's master/worker protocol, against the real shop on loopback.

One master and two worker processes per test: the merge is exact (Locust's own totals
equal the timeline's), a worker killed mid-run fails the ``workers`` verdict (and a
scenario that tolerates it passes), and a master missing a worker sends no load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from slagate.errors import ExitCode
from slagate.run import check_run
from slagate.shop.launching import LocalShop, ServiceOptions
from tests.e2e.conftest import REPO, scenario_text, slagate
from tests.fakes import free_port

pytestmark = pytest.mark.e2e

LOAD = """\
load:
  locustfile: locustfiles/orders.py
  shape: constant
  users: 6
  spawn_rate: 6
  duration: {duration}
{tolerate}drain: 1s
slas:
  - {{id: availability, kind: availability, min_percent: 50, window: load}}
"""


def write_scenario(tmp_path: Path, shop: LocalShop, duration: str, tolerate: bool = False) -> Path:
    line = "  tolerate_worker_loss: true\n" if tolerate else ""
    path = tmp_path / ("tolerant.yaml" if tolerate else "s.yaml")
    path.write_text(scenario_text(shop, LOAD.format(duration=duration, tolerate=line)))
    return path


def only_run_dir(reports: Path) -> Path:
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    return run_dir


def locust_totals(run_dir: Path) -> dict[str, int]:
    events = pd.read_parquet(run_dir / "events")
    (message,) = events.loc[events["kind"] == "locust_totals", "message"]
    return {k: int(v) for k, v in (part.split("=") for part in message.split())}


def joined_workers(run_dir: Path) -> set[str]:
    events = pd.read_parquet(run_dir / "events")
    return set(events.loc[events["kind"] == "worker_joined", "name"])


def verdict(run_dir: Path, sla_id: str) -> dict[str, object]:
    summary = json.loads((run_dir / "summary.json").read_text())
    (found,) = [v for v in summary["verdicts"] if v["id"] == sla_id]
    return dict(found)


def test_gate_with_two_local_workers_merges_exactly_what_locust_counted(tmp_path: Path) -> None:
    erring = ServiceOptions(error_ratio=0.1)  # every 10th order request fails: failure rows
    with LocalShop.start(tmp_path / "shop", order=erring) as shop:
        scenario = write_scenario(tmp_path, shop, "10s")
        reports = tmp_path / "reports"
        argv = [sys.executable, "-m", "pytest", "sla_checks/", "--scenario", str(scenario)]
        argv += ["--workers", "2", "--reports", str(reports), "-p", "no:cacheprovider"]
        gate = subprocess.run(
            argv,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "2 passed" in gate.stdout  # availability, and the workers item
    run_dir = only_run_dir(reports)
    requests = pd.read_parquet(run_dir / "requests")
    failures = pd.read_parquet(run_dir / "failures")
    totals = locust_totals(run_dir)
    assert totals["failures"] > 0
    assert int(requests["requests"].sum()) == totals["requests"]
    assert int(requests["failures"].sum()) == totals["failures"]
    assert len(failures) == totals["failures"]  # every failure row once: none lost, none twice
    keys = ["t_s", "method", "name", "worker"]
    assert not requests.duplicated(keys).any()  # one row per second, endpoint and worker
    assert int(pd.read_parquet(run_dir / "latency")["requests"].sum()) == totals["requests"]
    workers = joined_workers(run_dir)
    assert len(workers) == 2
    per_worker = requests.groupby("worker")["requests"].sum()
    assert set(per_worker.index) == workers and (per_worker > 0).all()
    assert set(failures["worker"]) <= workers
    workers_verdict = verdict(run_dir, "workers")
    assert workers_verdict["status"] == "pass"
    assert all(w in str(workers_verdict["message"]) for w in workers)
    # judged again from the folder alone, the recorded run keeps its workers item
    argv = [sys.executable, "-m", "pytest", "sla_checks/", "--run-dir", str(run_dir)]
    argv += ["-p", "no:cacheprovider"]
    again = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 passed" in again.stdout


def start_workers(port: int, count: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    argv = [sys.executable, "-m", "slagate", "worker", "--master-host", "127.0.0.1"]
    argv += ["--master-port", str(port)]
    workers = []
    for i in range(count):
        with (log_dir / f"w{i}.log").open("wb") as log:
            workers.append(subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
    return workers


def master_argv(scenario: Path, reports: Path, port: int, expect: int) -> list[str]:
    argv = [sys.executable, "-m", "slagate", "run", str(scenario), "--reports", str(reports)]
    argv += ["--master", "--master-bind-host", "127.0.0.1", "--master-port", str(port)]
    return [*argv, "--expect-workers", str(expect), "--expect-workers-max-wait", "30"]


def wait_for_rows_of(workers: int, reports: Path, timeout_s: float) -> None:
    """Until requests rows of ``workers`` distinct workers are flushed (each reported)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen: set[str] = set()
        for part in reports.glob("*/requests/*.parquet"):
            try:
                seen |= set(pd.read_parquet(part, columns=["worker"])["worker"])
            except (OSError, ValueError):  # a part being written
                continue
        if len(seen) >= workers:
            return
        time.sleep(0.2)
    raise AssertionError(f"no rows of {workers} workers under {reports} within {timeout_s} s")


def test_a_worker_killed_mid_run_fails_the_run_by_name_unless_tolerated(tmp_path: Path) -> None:
    port, reports = free_port(), tmp_path / "reports"
    with LocalShop.start(tmp_path / "shop") as shop:
        scenario = write_scenario(tmp_path, shop, "10s")
        master = subprocess.Popen(
            master_argv(scenario, reports, port, expect=2),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        workers = start_workers(port, 2, tmp_path)
        try:
            try:
                wait_for_rows_of(2, reports, timeout_s=60)
            except AssertionError as error:  # say what the master saw (it flaked once in CI)
                master.kill()
                out, err = master.communicate(timeout=30)
                logs = "".join(p.read_text()[-2000:] for p in tmp_path.glob("*.log"))
                raise AssertionError(
                    f"{error}\nmaster:\n{out[-3000:]}{err[-3000:]}\n{logs}"
                ) from None
            workers[1].send_signal(signal.SIGKILL)
            out, err = master.communicate(timeout=120)
        finally:
            for proc in workers:
                proc.kill()
                proc.wait()
        tolerant = write_scenario(tmp_path, shop, "10s", tolerate=True)
    assert master.returncode == 1, out + err
    run_dir = only_run_dir(reports)
    events = pd.read_parquet(run_dir / "events")
    (lost,) = events.loc[events["kind"] == "worker_lost", "name"]
    assert lost in joined_workers(run_dir) and len(joined_workers(run_dir)) == 2
    failed = verdict(run_dir, "workers")
    assert failed["status"] == "fail" and failed["measured"] == 1
    assert lost in str(failed["message"])
    assert "workers" in out and "FAIL" in out
    report = (run_dir / "report.html").read_text()
    assert "worker_lost" in report and lost in report
    survivor = (joined_workers(run_dir) - {lost}).pop()
    per_worker = pd.read_parquet(run_dir / "requests").groupby("worker")["requests"].sum()
    assert per_worker[survivor] > 0 and per_worker[lost] > 0  # what the lost one sent is kept

    again = check_run(run_dir, tolerant)  # what `slagate check --scenario` does, in-process
    assert again.exit_code == ExitCode.PASSED
    tolerated = verdict(run_dir, "workers")
    assert tolerated["status"] == "pass" and lost in str(tolerated["message"])
    assert "tolerated (load.tolerate_worker_loss: true)" in str(tolerated["message"])


def test_a_missing_worker_stops_the_run_before_any_load(tmp_path: Path) -> None:
    port, reports = free_port(), tmp_path / "reports"
    with LocalShop.start(tmp_path / "shop") as shop:
        scenario = write_scenario(tmp_path, shop, "10s")
        argv = ["run", str(scenario), "--reports", str(reports), "--workers", "2", "--master"]
        argv += ["--master-bind-host", "127.0.0.1", "--master-port", str(port)]
        argv += ["--expect-workers", "3", "--expect-workers-max-wait", "3"]
        result = slagate(argv, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "2 of 3 expected workers connected within 3 s: 1 missing" in result.stderr
    assert "no load was sent" in result.stderr
    run_dir = only_run_dir(reports)
    assert not (run_dir / "requests").exists()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"
