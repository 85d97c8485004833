"""How long judging takes on a long, busy run: load_timeline + judge on a 1 h timeline.

Builds a synthetic run folder the way the recorder writes one (``TableWriter``, one part
file per table every ``--flush-every`` seconds of data) at 5,000 rps over 10 endpoints for
an hour (``write_run``, which report_size.py shares): 36,000 requests rows, a
Locust-bucketed latency histogram (~30-40 buckets per second per endpoint, ~1.2 M rows)
and a few thousand failures (a deploy-like burst plus background noise). Then times
``load_timeline`` and ``judge`` with 12 SLAs across kinds, windows and endpoints: once as
written (a killed run judged offline) and once compacted (as ``slagate run`` leaves a run
folder before judging).

    .venv/bin/python benchmarks/judging.py [--flush-every 5] [--keep DIR]

Exits 1 if a total exceeds the target.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from slagate.scenario import Scenario, parse_scenario
from slagate.sla.judging import judge
from slagate.timeline import (
    RunInfo,
    RunStatus,
    TableWriter,
    compact_run,
    load_timeline,
    write_run_info,
)

TARGET_S = 5.0
DURATION_S = 3600
RPS = 5000
T0_S = 1_700_000_000
DEPLOY_S = (1200, 1230)  # seconds after load start with a burst of failures and slow requests
ENDPOINTS = [  # method, name, median latency ms
    ("GET", "/", 120),
    ("GET", "/products", 150),
    ("GET", "/products/[id]", 130),
    ("POST", "/products", 250),
    ("GET", "/orders", 200),
    ("GET", "/orders/[id]", 140),
    ("POST", "/orders", 250),
    ("DELETE", "/orders/[id]", 180),
    ("GET", "/health", 120),
    ("PUT", "/cart", 160),
]
SCENARIO = """
name: judging-benchmark
load: {shape: constant, users: 1000, duration: 1h}
windows:
  deploy: {start: 19m, end: 22m}
slas:
  - {id: availability, kind: availability, min_percent: 99.9}
  - {id: availability-orders-deploy, kind: availability, min_percent: 99.9,
     endpoint: POST /orders, window: deploy}
  - {id: availability-steady, kind: availability, min_percent: 99.5, window: steady}
  - {id: no-failed-product-reads, kind: failed_requests, max: 0, endpoint: "/products/[id]"}
  - {id: failed-requests-deploy, kind: failed_requests, max: 100, window: deploy}
  - {id: failed-requests-late, kind: failed_requests, max: 500, window: {start: 50m}}
  - {id: p95, kind: latency, percentile: 95, max_ms: 400}
  - {id: p99-orders, kind: latency, percentile: 99, max_ms: 400, endpoint: POST /orders}
  - {id: p50-steady, kind: latency, percentile: 50, max_ms: 200, window: steady}
  - {id: p999-deploy, kind: latency, percentile: 99.9, max_ms: 500, window: deploy}
  - {id: throughput, kind: throughput, min_rps: 4900}
  - {id: throughput-orders-steady, kind: throughput, min_rps: 600,
     endpoint: POST /orders, window: steady}
"""


def main() -> int:
    args = _parser().parse_args()
    scenario = parse_scenario(SCENARIO, "benchmark")
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="slagate-bench-"))
    try:
        run_dir = base / "run"
        print(f"synthetic run: {write_run(run_dir, args.flush_every)}")
        ok = _time(f"part files every {args.flush_every} s", run_dir, scenario)
        compact_run(run_dir)
        ok = _time("compacted", run_dir, scenario) and ok
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Time load_timeline + judge on a 1 h run.")
    parser.add_argument("--flush-every", type=int, default=5, help="seconds of data per part")
    parser.add_argument("--keep", help="write the run folder under this folder and keep it")
    return parser


def _time(label: str, run_dir: Path, scenario: Scenario) -> bool:
    started = time.perf_counter()
    timeline = load_timeline(run_dir)
    loaded = time.perf_counter()
    verdicts = judge(scenario, timeline)
    judged = time.perf_counter()
    total = judged - started
    outcome = "PASS" if total < TARGET_S else "FAIL"
    print(
        f"judging a 1 h timeline at {RPS:,} rps x {len(ENDPOINTS)} endpoints ({label}): "
        f"load {loaded - started:.2f} s, judge {judged - loaded:.2f} s, total {total:.2f} s "
        f"(target < {TARGET_S:g} s): {outcome}"
    )
    statuses = [v.status.value for v in verdicts]
    tally = ", ".join(f"{statuses.count(s)} {s}" for s in ("pass", "fail", "no-data"))
    print(f"  {len(verdicts)} verdicts: {tally}")
    return total < TARGET_S


# --- the synthetic run ------------------------------------------------------------------------


def write_run(run_dir: Path, flush_every: int) -> str:
    """Write the run folder part by part; return a line describing its size."""
    rng = np.random.default_rng(7)
    counts = rng.poisson(RPS / len(ENDPOINTS), size=(len(ENDPOINTS), DURATION_S))
    failed = _failed(rng, counts)
    tables = {
        "requests": _requests_rows(counts, failed),
        "latency": _latency_rows(rng, counts),
        "failures": _failure_rows(rng, failed),
    }
    run_dir.mkdir(parents=True)
    writer = TableWriter(run_dir, "load")
    for lo in range(0, DURATION_S, flush_every):
        for table, (seconds, rows) in tables.items():
            first, stop = np.searchsorted(seconds, [T0_S + lo, T0_S + lo + flush_every])
            writer.append(table, rows[first:stop])
        writer.flush()
    writer.append("events", _events())
    writer.flush()
    write_run_info(run_dir, _run_info())
    return ", ".join(f"{len(rows):,} {table} rows" for table, (_, rows) in tables.items())


def _failed(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """Background failures everywhere plus a 5% burst on the order endpoints during a deploy."""
    ratio = np.full(counts.shape, 0.0002)
    orders = [i for i, (_, name, _) in enumerate(ENDPOINTS) if name.startswith("/orders")]
    ratio[np.ix_(np.array(orders), np.arange(*DEPLOY_S))] = 0.05
    return rng.binomial(counts, ratio)


def _requests_rows(counts: np.ndarray, failed: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    rows = []
    for second in range(DURATION_S):
        for e, (method, name, median) in enumerate(ENDPOINTS):
            n = int(counts[e, second])
            rows.append(
                (T0_S + second, method, name, n, int(failed[e, second]), n * median * 1.03,
                 median * 2.5, median, median * 1.5, median * 1.8, "local")
            )  # fmt: skip
    return np.array([r[0] for r in rows]), rows


def _latency_rows(rng: np.random.Generator, counts: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Locust-bucketed histograms per second and endpoint, ordered by second."""
    parts = [_endpoint_histogram(rng, e, counts[e]) for e in range(len(ENDPOINTS))]
    seconds = np.concatenate([p[0] for p in parts])
    order = np.argsort(seconds, kind="stable")
    columns = [np.concatenate([p[i] for p in parts])[order].tolist() for i in range(4)]
    rows = [
        (t, ENDPOINTS[e][0], ENDPOINTS[e][1], b, c, "local")
        for t, e, b, c in zip(*columns, strict=True)
    ]
    return seconds[order], rows


def _endpoint_histogram(
    rng: np.random.Generator, e: int, counts: np.ndarray
) -> tuple[np.ndarray, ...]:
    second = np.repeat(np.arange(DURATION_S), counts)
    median = np.where((second >= DEPLOY_S[0]) & (second < DEPLOY_S[1]), 3.0, 1.0)
    latency = rng.lognormal(np.log(ENDPOINTS[e][2] * median), 0.25)
    key = second * 100_000 + _bucket(latency)
    keys, n = np.unique(key, return_counts=True)
    return T0_S + keys // 100_000, np.full(len(keys), e), keys % 100_000, n


def _bucket(ms: np.ndarray) -> np.ndarray:
    """``locust.stats.bucket_response_time``, vectorised."""
    rounded = np.select(
        [ms < 100, ms < 1000, ms < 10000],
        [np.round(ms), np.round(ms, -1), np.round(ms, -2)],
        np.round(ms, -3),
    )
    return rounded.astype(np.int64)


def _failure_rows(rng: np.random.Generator, failed: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    e, second = np.nonzero(failed)
    repeats = failed[e, second]
    e, second = np.repeat(e, repeats), np.repeat(second, repeats)
    t_ms = (T0_S + second) * 1000 + rng.integers(0, 1000, len(second))
    order = np.lexsort((t_ms,))
    rows = [
        (int(t), ENDPOINTS[i][0], ENDPOINTS[i][1], 0 if i % 2 else 503, _error(i), "local")
        for t, i in zip(t_ms[order], e[order], strict=True)
    ]
    return t_ms[order] // 1000, rows


def _error(e: int) -> str:
    if e % 2:
        return "ConnectionRefusedError(111, 'Connection refused')"
    return "HTTPError('503 Server Error: Service Unavailable for url: /orders')"


def _events() -> list[tuple[int, str, str, str, str]]:
    t0 = T0_S * 1000
    users = [(t0 + i * 1000, "harness", "users", str(100 * (i + 1)), "") for i in range(10)]
    return [
        (t0 - 2000, "harness", "run_start", "", ""),
        (t0, "harness", "load_start", "", ""),
        *users,
        (t0 + 10_000, "harness", "spawn_complete", "1000", ""),
        (t0 + 3_540_000, "harness", "users", "500", ""),
        (t0 + DURATION_S * 1000, "harness", "load_stop", "", "finished"),
        (t0 + DURATION_S * 1000 + 2000, "harness", "run_end", "", ""),
    ]


def _run_info() -> RunInfo:
    t0 = T0_S * 1000
    return RunInfo(
        run_id="run",
        scenario_name="judging-benchmark",
        started_ms=t0 - 2000,
        ended_ms=t0 + DURATION_S * 1000 + 2000,
        status=RunStatus.COMPLETED,
    )


if __name__ == "__main__":
    sys.exit(main())
