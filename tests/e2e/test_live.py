"""The safety stop end to end: an ``abort_on_fail`` SLA breached under real load stops it.

The shop's order replica answers 30 % of its business requests with 500 (``--error-ratio``,
deterministic), so the failed-request budget of 5 is spent a few seconds into a load
planned for 60 s. The breach is the failed request that spent the budget (its ``t_ms`` in
the ``failures`` table: when it ended); the stop is the ``load_stop`` event. Between them
the mechanism's own delays (docs/live.md, "How fast"): the breaching request's second ends
(up to 1 s), the child sends its rows ~50 ms later, the controller judges the
``abort_on_fail`` SLAs on that batch at once (``run.live.LiveJudge``, a few ms here), and
the child stops on the command (~0.1 s): about 1.2 s at worst, the issue's 2 s allowed.
Measured 0.8 to 1.15 s, with a CPU hog on one of the machine's two cores too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from slagate.shop.launching import LocalShop, ServiceOptions
from tests.e2e.conftest import scenario_text, slagate

pytestmark = pytest.mark.e2e

GUARDED_LOAD = """\
load:
  locustfile: locustfiles/orders.py
  shape: constant
  users: 4
  spawn_rate: 4
  duration: 60s
drain: 1s
slas:
  - {id: availability, kind: availability, min_percent: 50}
  - {id: failure-budget, kind: failed_requests, max: 5, abort_on_fail: true, grace: 2s}
  - {id: p95, kind: latency, percentile: 95, max_ms: 5000}
"""
BUDGET = 5
STOP_WITHIN_MS = 2000  # the bound (the mechanism's is ~1.2 s, module doc)


def test_a_spent_failure_budget_stops_the_load_within_2s_and_fails_the_gate_naming_it(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    with LocalShop.start(tmp_path / "shop", order=ServiceOptions(error_ratio=0.3)) as shop:
        scenario = tmp_path / "s.yaml"
        scenario.write_text(scenario_text(shop, GUARDED_LOAD))
        began = time.monotonic()
        result = slagate(["run", str(scenario), "--reports", str(reports)], timeout=120)
        took_s = time.monotonic() - began
    assert result.returncode == 1, result.stdout + result.stderr
    assert took_s < 45, f"the 60 s load was not cut short ({took_s:.0f} s)"
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]

    summary = json.loads((run_dir / "summary.json").read_text())
    verdicts = {v["id"]: v for v in summary["verdicts"]}
    assert summary["stopped_by"] == "failure-budget"
    assert summary["status"] == "aborted" and summary["exit_code"] == 1
    assert verdicts["failure-budget"]["status"] == "fail"
    assert "failure-budget" in summary["note"] and "abort_on_fail" in summary["note"]
    run_info = json.loads((run_dir / "run.json").read_text())
    assert run_info["stopped_by"] == "failure-budget"

    # the breach: the failed request that spent the budget; the stop: the load_stop event
    failures = pd.read_parquet(run_dir / "failures").sort_values("t_ms")
    breach_ms = int(failures["t_ms"].iloc[BUDGET])
    events = pd.read_parquet(run_dir / "events")
    harness = events[events["source"] == "harness"]
    abort = harness[harness["kind"] == "abort"]
    assert list(abort["name"]) == ["abort_on_fail"]
    assert "failure-budget" in abort["message"].iloc[0]
    stop = harness[harness["kind"] == "load_stop"]
    assert list(stop["message"]) == ["abort"]
    stop_ms = int(stop["t_ms"].iloc[0])
    assert 0 <= stop_ms - breach_ms <= STOP_WITHIN_MS, (breach_ms, stop_ms)
    # the data the stop was judged on: whole seconds, the breach's included
    judged_until_ms = run_info["stop_window_end_ms"]
    timing = (breach_ms, judged_until_ms, stop_ms)
    assert judged_until_ms % 1000 == 0 and breach_ms < judged_until_ms <= stop_ms, timing
    # nothing was sent after the stop: the last requests end within the 1 s drain
    last_second = int(pd.read_parquet(run_dir / "requests")["t_s"].max())
    assert last_second * 1000 <= stop_ms + 1000

    # the terminal: the live table saw the breach, the verdict table names the cause
    assert "breached" in result.stdout
    assert "fail, stopped the run" in result.stdout
    assert "failure-budget stopped the run (abort_on_fail)" in result.stdout
    assert "FAIL  exit 1" in result.stdout
    assert "fail, stopped the run" in (run_dir / "report.html").read_text()
