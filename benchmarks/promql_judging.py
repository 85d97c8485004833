"""Fetching and judging 20 PromQL SLAs over a 1-hour window: target < 2 s.

Builds an hour of shop-like series at 1 s resolution (request counters by status for four
order pods, ready replicas) as TSDB blocks with promtool, starts Debian's Prometheus on
them, then times what a run does after its load: the range queries of 20 PromQL SLAs at a
1 s step into a run folder's ``metrics`` table (``slagate.prom.fetching``), and judging
them (``slagate.sla.judging``) over the hour.

    .venv/bin/python benchmarks/promql_judging.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from slagate.lifecycle import begin_run, end_run
from slagate.prom.fetching import fetch_metrics
from slagate.prom.planning import plan_queries
from slagate.prom.querying import PrometheusQuerier
from slagate.scenario import parse_scenario
from slagate.shop.launching import free_port
from slagate.sla.judging import judge
from slagate.timeline import PrometheusInfo, RunStatus, compact_run, load_timeline

TARGET_S = 2.0
HOUR_S = 3600
PODS = ("order-6c-a", "order-6c-b", "order-6c-c", "order-6c-d")
PRESET_SLAS = [
    "{kind: promql, preset: http_error_ratio, deployment: order, threshold: 0.01, window: run}",
    "{kind: promql, preset: http_latency_p95, deployment: order, threshold: 500, window: run}",
    "{kind: promql, preset: http_latency_p99, deployment: order, threshold: 800, window: run}",
    "{kind: promql, preset: ready_replicas, deployment: order, threshold: 2, window: run}",
    "{kind: promql, preset: available_replicas, deployment: order, threshold: 2, window: run}",
]
OWN = 'sum(rate(http_request_duration_seconds_count{{namespace="shop",pod="{pod}"}}[{{range}}]))'


def scenario_text() -> str:
    slas = [f"  - {s}" for s in PRESET_SLAS]
    reductions = ("max", "min", "avg", "last", "p50", "p90", "p95", "p99")
    for i in range(20 - len(slas)):
        pod = PODS[i % len(PODS)]
        query = OWN.format(pod=pod)
        fields = f"id: own-{i}, query: '{query}', reduce: {reductions[i % 8]}"
        slas.append(f"  - {{kind: promql, {fields}, threshold: 1000, window: run}}")
    return (
        "name: bench\nload: {shape: constant, users: 1, duration: 1h}\n"
        "prometheus: {step: 1s, range: 5s, timeout: 30s}\n"
        "slas:\n" + "\n".join(slas) + "\n"
    )


def openmetrics(start_s: int) -> str:
    """An hour of counters (1 s apart) and a gauge, in OpenMetrics text."""
    lines = [
        "# TYPE http_request_duration_seconds counter",
        "# TYPE kube_deployment_status_replicas_ready gauge",
        "# TYPE kube_deployment_status_replicas_available gauge",
    ]
    for s in range(HOUR_S):
        t = start_s + s
        for n, pod in enumerate(PODS):
            labels = f'namespace="shop",pod="{pod}"'
            ok, failed = 50 * s + n, s // 100
            lines.append(f'http_request_duration_seconds_count{{{labels},status="200"}} {ok} {t}')
            lines.append(
                f'http_request_duration_seconds_count{{{labels},status="503"}} {failed} {t}'
            )
            for le, share in (("0.1", 0.6), ("0.25", 0.9), ("0.5", 0.99), ("+Inf", 1.0)):
                bucket = f'http_request_duration_seconds_bucket{{{labels},le="{le}"}}'
                lines.append(f"{bucket} {int(share * ok)} {t}")
        for name in (
            "kube_deployment_status_replicas_ready",
            "kube_deployment_status_replicas_available",
        ):
            lines.append(f'{name}{{namespace="shop",deployment="order"}} {4 if s % 600 else 3} {t}')
    return "\n".join(lines) + "\n# EOF\n"


def start_prometheus(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    (home / "prometheus.yml").write_text("global: {scrape_interval: 1m}\nscrape_configs: []\n")
    port = free_port()
    process = subprocess.Popen(
        [
            "/usr/bin/prometheus",
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            "--storage.tsdb.retention.time=10y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1, trust_env=False).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("Prometheus did not become ready")


def main() -> int:
    now_s = int(time.time())
    start_s = (now_s - 3 * HOUR_S) // 3600 * 3600  # whole hours, well before the head block
    scenario = parse_scenario(scenario_text())
    with tempfile.TemporaryDirectory(prefix="slagate-promql-") as tmp:
        home = Path(tmp)
        (home / "data").mkdir()
        (home / "series.om").write_text(openmetrics(start_s))
        subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                str(home / "series.om"),
                str(home / "data"),
            ],
            check=True,
            capture_output=True,
        )
        process, url = start_prometheus(home)
        try:
            return measure(scenario, url, home / "run", start_s)
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(scenario, url: str, run_dir: Path, start_s: int) -> int:  # type: ignore[no-untyped-def]
    plan = plan_queries(scenario, "shop", sandbox=True)
    run_dir.mkdir()
    info = PrometheusInfo(url=url, source="option", step_s=plan.step_s, range_s=plan.range_s)
    begin_run(
        run_dir,
        started_ms=start_s * 1000,
        scenario=scenario,
        scenario_path=None,
        host=None,
        services={},
        prometheus=info,
    )
    querier = PrometheusQuerier(url, scenario.prometheus)
    began = time.perf_counter()
    fetched = fetch_metrics(querier, plan, run_dir, start_s * 1000, (start_s + HOUR_S) * 1000)
    fetch_s = time.perf_counter() - began
    end_run(run_dir, ended_ms=(start_s + HOUR_S) * 1000, status=RunStatus.COMPLETED, reason=None)
    compact_run(run_dir)
    began = time.perf_counter()
    timeline = load_timeline(run_dir)
    verdicts = judge(scenario, timeline)
    judge_s = time.perf_counter() - began
    total = fetch_s + judge_s
    kinds = {v.status.value: sum(1 for w in verdicts if w.status is v.status) for v in verdicts}
    print(
        f"{len(plan.queries)} range queries ({len(verdicts)} PromQL SLAs) over 1 h at 1 s: "
        f"{fetched.samples:,} samples fetched in {fetch_s:.2f} s; judged in {judge_s:.2f} s; "
        f"total {total:.2f} s (target < {TARGET_S:g} s): {'PASS' if total < TARGET_S else 'FAIL'}"
    )
    print(f"  verdicts: {kinds}; failed fetches: {list(fetched.failed) or 'none'}")
    return 0 if total < TARGET_S and not fetched.failed else 1


if __name__ == "__main__":
    sys.exit(main())
