"""Small run folders for the report tests, written with the real timeline writer.

Times are relative to T0 (load start, 22:13:20 UTC); the load lasts 10 s, the run 12 s.
With ``prometheus`` a run also has two PromQL SLAs: ``server-errors`` (an error-ratio
preset whose samples carry a hostile label and a NaN, with its cross-check) and the
optional ``targets-up``, which got no sample.
"""

from __future__ import annotations

from pathlib import Path

from slagate.errors import ExitCode
from slagate.report.summary import Summary, write_summary
from slagate.scenario import parse_scenario
from slagate.sla.crosscheck import CrossCheck
from slagate.sla.verdict import Evidence, Status, Verdict
from slagate.timeline import (
    ClusterInfo,
    PrometheusInfo,
    RunInfo,
    RunStatus,
    TableWriter,
    WindowBounds,
    write_run_info,
)

T0_S = 1_700_000_000
T0 = T0_S * 1000
EVIL = "<script>alert(1)</script>"
EVIL_ERROR = "boom </script><img src=x onerror=alert(2)>"
SECRET = "sha256~TOKEN-abc123"
KUBECONFIG = "/home/ci/.kube/secret-config"
PROM_SECRET = "prom-header-s3cret"
PROM_QUERY = (
    'sum(rate(http_request_duration_seconds_count{namespace="shop",pod=~"order-.*",'
    'status=~"5.."}[5s])) / sum(rate(http_request_duration_seconds_count'
    '{namespace="shop",pod=~"order-.*"}[5s]))'
)
EVIL_SERIES = f'{{pod="{EVIL}"}}'
PROM_SCENARIO = f"""
prometheus:
  url: 'http://admin:{PROM_SECRET}@prom.example:9090'
  headers: {{Authorization: 'Bearer {PROM_SECRET}'}}
slas:
  - {{kind: promql, id: server-errors, preset: http_error_ratio, deployment: order,
      threshold: 0.01}}
  - {{kind: promql, id: targets-up, query: 'min(up)', op: '>=', threshold: 1, optional: true}}
"""

VERDICTS = (
    Verdict(
        "availability",
        "availability",
        Status.FAIL,
        99.5,
        99.9,
        "load [0.0 s, 10.0 s]",
        f"availability 99.5% < 99.9%: 1 of 200 requests failed ({EVIL})",
        "%",
        (Evidence(T0 + 3_120, f"GET {EVIL} status=500 {EVIL_ERROR}"),),
    ),
    Verdict("p95-under-200ms", "latency", Status.PASS, 12.0, 200.0, "load", "ok", "ms"),
    Verdict("ready-endpoints", "ready_endpoints", Status.NO_DATA, None, 1.0, "rollout", "no data"),
)
PROM_VERDICTS = (
    Verdict(
        "server-errors",
        "promql",
        Status.FAIL,
        0.04,
        0.01,
        "load [0.0 s, 10.0 s]",
        "max 0.04 ratio > 0.01 ratio in load [0.0 s, 10.0 s]",
        "ratio",
    ),
    Verdict(
        "targets-up",
        "promql",
        Status.NO_DATA,
        None,
        1.0,
        "load [0.0 s, 10.0 s]",
        "no data in load [0.0 s, 10.0 s]: the query returned no samples",
        optional=True,
    ),
)
CROSS_CHECK = CrossCheck(
    "server-errors",
    "load [0.0 s, 10.0 s]",
    200,
    0.005,
    0.04,
    0.01,
    f"Locust 0.50% of 200 requests vs Prometheus 4.00%: differ ({EVIL})",
)


def write_run(run_dir: Path, *, cluster: bool, prometheus: bool = False) -> Path:
    """A judged run folder; with ``cluster`` it has replicas, pods and endpoints tables,
    with ``prometheus`` PromQL SLAs, their samples and a cross-check (see the docstring)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    writer = TableWriter(run_dir, "test")
    writer.append("requests", [_second(s) for s in range(10)])
    writer.append("latency", [(T0_S + s, "GET", EVIL, 10 + s, 20, "w1") for s in range(10)])
    writer.append("failures", [(T0 + 3_120, "GET", EVIL, 500, EVIL_ERROR, "w1")])
    writer.append("events", _events())
    if cluster:
        _cluster_rows(writer)
    if prometheus:
        writer.append("metrics", _metric_rows())
    writer.flush()
    write_run_info(
        run_dir,
        RunInfo(
            run_id=run_dir.name,
            scenario_name="rolling-deploy",
            scenario_path=KUBECONFIG,
            scenario=parse_scenario(
                "name: rolling-deploy\nload: {shape: constant, users: 1, duration: 10s}\n"
                f"target: {{host: 'http://user:pw@127.0.0.1:8002/?token={SECRET}'}}\n"
                + (PROM_SCENARIO if prometheus else "")
            ),
            host="http://user:pw@127.0.0.1:8002/?token=" + SECRET,
            services={"product": f"http://user:{SECRET}@127.0.0.1:8001"},
            started_ms=T0 - 1_000,
            ended_ms=T0 + 11_000,
            status=RunStatus.COMPLETED,
            versions={"python": "3.11.7", "slagate": "0.1.0"},
            cluster=ClusterInfo(server=f"https://{SECRET}@10.0.0.1", namespace="shop"),
            windows={
                "run": WindowBounds(start_ms=T0 - 1_000, end_ms=T0 + 11_000),
                "load": WindowBounds(start_ms=T0, end_ms=T0 + 10_000),
                "rollout": WindowBounds(start_ms=T0 + 4_000, end_ms=T0 + 8_000),
            },
            prometheus=_prometheus_info() if prometheus else None,
        ),
    )
    if prometheus:
        summary = Summary(ExitCode.FAILED, VERDICTS + PROM_VERDICTS, cross_checks=(CROSS_CHECK,))
    else:
        summary = Summary(ExitCode.FAILED, VERDICTS)
    write_summary(run_dir, summary)
    return run_dir


def _prometheus_info() -> PrometheusInfo:
    return PrometheusInfo(
        url=f"http://admin:{PROM_SECRET}@prom.example:9090/?token={PROM_SECRET}",
        source="scenario",
        step_s=1.0,
        range_s=5.0,
        queries={"server-errors": PROM_QUERY, "targets-up": "min(up)"},
    )


def _metric_rows() -> list[tuple[object, ...]]:
    """``server-errors``: 0 to 0.04, NaN at 2 s (no requests), two series; its counts."""
    ratios = [0.0, 0.001, float("nan"), 0.04, 0.002, 0.0, 0.0, 0.0, 0.0, 0.0]
    rows: list[tuple[object, ...]] = [
        (T0 + s * 1_000, "server-errors", EVIL_SERIES, r) for s, r in enumerate(ratios)
    ]
    rows += [(T0 + s * 1_000, "server-errors", '{pod="order-b"}', 0.0) for s in range(10)]
    rows += [(T0 + s * 1_000, "server-errors:errors", "{}", 0.8) for s in range(10)]
    rows += [(T0 + s * 1_000, "server-errors:requests", "{}", 20.0) for s in range(10)]
    return rows


def _second(s: int) -> tuple[object, ...]:
    failures = 1 if s == 3 else 0
    return (T0_S + s, "GET", EVIL, 20, failures, 300.0, 40.0, 12.0, 30.0, 40.0, "w1")


def _events() -> list[tuple[object, ...]]:
    return [
        (T0 - 1_000, "harness", "run_start", "", ""),
        (T0, "harness", "load_start", "", ""),
        (T0 + 4_000, "harness", "action_start", "rollout_restart deployment/order", "a1"),
        (T0 + 7_000, "harness", "rollout_complete", "rollout_restart deployment/order", EVIL),
        (T0 + 10_000, "harness", "load_stop", "", "finished"),
    ]


def _cluster_rows(writer: TableWriter) -> None:
    hpa = "HorizontalPodAutoscaler"
    writer.append(
        "replicas",
        [
            (T0, hpa, "order", 2, 2, None, None, None, 1, 10, 12.0, 15.0, None, None, False, "cpu"),
            (
                T0 + 5_000,
                hpa,
                "order",
                4,
                3,
                None,
                None,
                None,
                1,
                10,
                40.0,
                15.0,
                None,
                None,
                False,
                "cpu",
            ),
            (
                T0,
                "Deployment",
                "order",
                2,
                2,
                2,
                2,
                2,
                None,
                None,
                None,
                None,
                "1",
                True,
                False,
                None,
            ),
        ],
    )
    writer.append(
        "pods",
        [
            (
                T0 + 6_000,
                EVIL,
                "deleting",
                "Running",
                True,
                True,
                "10.0.0.1",
                "rs",
                "h",
                0,
                True,
                5.0,
                1,
                EVIL,
            )
        ],
    )
    writer.append(
        "endpoints",
        [
            (T0, EVIL, 2, 2, 0, "a,b", ""),
            (T0 + 6_000, EVIL, 2, 3, 1, "a,c", EVIL),
        ],
    )
