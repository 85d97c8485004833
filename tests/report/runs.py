"""Small run folders for the report tests, written with the real timeline writer.

Times are relative to T0 (load start, 22:13:20 UTC); the load lasts 10 s, the run 12 s.
"""

from __future__ import annotations

from pathlib import Path

from slagate.errors import ExitCode
from slagate.report.summary import Summary, write_summary
from slagate.scenario import parse_scenario
from slagate.sla.verdict import Evidence, Status, Verdict
from slagate.timeline import (
    ClusterInfo,
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


def write_run(run_dir: Path, *, cluster: bool) -> Path:
    """A judged run folder; with ``cluster`` it has replicas, pods and endpoints tables."""
    run_dir.mkdir(parents=True, exist_ok=True)
    writer = TableWriter(run_dir, "test")
    writer.append("requests", [_second(s) for s in range(10)])
    writer.append("latency", [(T0_S + s, "GET", EVIL, 10 + s, 20, "w1") for s in range(10)])
    writer.append("failures", [(T0 + 3_120, "GET", EVIL, 500, EVIL_ERROR, "w1")])
    writer.append("events", _events())
    if cluster:
        _cluster_rows(writer)
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
        ),
    )
    write_summary(run_dir, Summary(ExitCode.FAILED, VERDICTS))
    return run_dir


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
            (T0, hpa, "order", 2, 2, None, None, None, 1, 10, 12.0, 15.0, None, None, False),
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
            ),
            (T0, "Deployment", "order", 2, 2, 2, 2, 2, None, None, None, None, "1", True, False),
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
