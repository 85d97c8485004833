"""The issue's proof: rolling deploys and autoscaling judged on the embedded sandbox.

Each test runs `slagate run --sandbox` (real API server, controllers, kubelet, proxy, shop
pods as processes, real Locust) with shortened scenarios; ~1 minute each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.e2e.conftest import REPO

pytestmark = pytest.mark.e2e

OVERLAY = REPO / "deploy" / "shop" / "sandbox"

ROLLING = """\
name: rolling-e2e
target:
  kubernetes:
    service: order
    services: {product: product}
    allow_mutations_in: [default]
load:
  shape: constant
  users: 6
  spawn_rate: 6
  duration: 24s
actions:
  - {kind: rollout_restart, deployment: order, at: 6s, timeout: 60s}
slas:
  - {id: no-failed-requests-during-rollout, kind: failed_requests, max: 0, window: rollout}
  - {id: ready-endpoints-never-zero, kind: ready_endpoints, service: order, min: 1, window: rollout}
  - {id: rollout-within-60s, kind: rollout_duration, deployment: order, max: 60s}
  - {id: no-order-lost, kind: no_lost_writes, ack_kind: order}
  # the server side, from the sandbox's Prometheus: what the pods served, and what the
  # proxy in front of them answered (requests that never reached a pod included)
  - {id: pods-error-ratio, kind: promql, preset: http_error_ratio, deployment: order,
     threshold: 0, window: rollout, endpoints: ["/orders", "/orders/[id]", "/orders/[id]/cancel"]}
  - {id: proxy-error-ratio, kind: promql, preset: istio_error_ratio, service: order,
     threshold: 0, window: rollout}
  - {id: pods-p95, kind: promql, preset: http_latency_p95, deployment: order, threshold: 2500}
"""


def run_sandbox(tmp_path: Path, scenario: str, manifests: Path = OVERLAY) -> tuple[int, Path, str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario)
    reports = tmp_path / "reports"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "slagate",
            "run",
            str(path),
            "--sandbox",
            "--manifests",
            str(manifests),
            "--reports",
            str(reports),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    runs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(runs) == 1, proc.stdout + proc.stderr
    return proc.returncode, runs[0], proc.stdout + proc.stderr


def summary_of(run_dir: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return summary


def verdicts(run_dir: Path) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in summary_of(run_dir)["verdicts"]}


def overlay_copy(tmp_path: Path, file: str, kind: str, change: Any) -> Path:
    """A copy of the sandbox overlay with ``change`` applied to the ``kind`` object of
    ``file`` (its parsed body)."""
    target = tmp_path / "manifests"
    if not target.exists():
        shutil.copytree(OVERLAY, target)
    path = target / file
    docs = list(yaml.safe_load_all(path.read_text()))
    for doc in docs:
        if doc and doc.get("kind") == kind:
            change(doc)
    path.write_text(yaml.safe_dump_all(docs))
    return target


def overlay_with(tmp_path: Path, change: Any) -> Path:
    """A copy of the sandbox overlay with the order Deployment's container changed."""

    def change_container(deployment: dict[str, Any]) -> None:
        change(deployment["spec"]["template"]["spec"]["containers"][0])

    return overlay_copy(tmp_path, "order.yaml", "Deployment", change_container)


def test_rolling_deploy_as_shipped_loses_nothing(tmp_path: Path) -> None:
    code, run_dir, output = run_sandbox(tmp_path, ROLLING)
    assert code == 0, output
    assert {v["status"] for v in verdicts(run_dir).values()} == {"pass"}
    pods = pd.read_parquet(run_dir / "pods")
    assert {"added", "ready", "deleting", "deleted"} <= set(pods["transition"])
    events = pd.read_parquet(run_dir / "events")
    assert {"action_start", "rollout_complete", "rollout_settled"} <= set(events["kind"])
    assert "watch_gap" not in set(events["kind"])  # the watches held the whole run
    metrics = pd.read_parquet(run_dir / "metrics")
    assert {"pods-error-ratio", "proxy-error-ratio", "pods-p95"} <= set(metrics["query"])
    cluster = json.loads((run_dir / "run.json").read_text())["cluster"]
    assert cluster["server"].startswith("https://127.0.0.1:")
    assert list(run_dir.rglob("kubeconfig")) == []  # the sandbox's token left with it
    # the verdict states the clock and the data plane it was reached under: the overlay's
    profile = cluster["sandbox_profile"]
    assert (profile["timing"], profile["overridden"]) == ("compressed", [])
    assert profile["timings"]["hpa_sync_period_s"] == 2.0
    assert profile["timings"]["hpa_downscale_stabilization_s"] == 15.0
    assert profile["data_plane"] == "per-request"
    stated = "timing compressed (crashloop_backoff_initial_s 2 s,"
    assert stated in (run_dir / "report.html").read_text()
    assert stated in output  # said when the sandbox started


def test_rolling_deploy_without_prestop_fails_and_names_the_race(tmp_path: Path) -> None:
    def drop_prestop(container: dict[str, Any]) -> None:
        container.pop("lifecycle")

    code, run_dir, output = run_sandbox(tmp_path, ROLLING, overlay_with(tmp_path, drop_prestop))
    assert code == 1, output
    failed = verdicts(run_dir)["no-failed-requests-during-rollout"]
    assert failed["status"] == "fail", failed
    assert "began terminating" in failed["message"]
    assert "add a preStop delay longer than the propagation delay" in failed["message"]
    # the proxy answered the failures itself; the pods never saw them, and the
    # cross-check of the pods' view against Locust's says so
    found = verdicts(run_dir)
    assert found["proxy-error-ratio"]["status"] == "fail", found["proxy-error-ratio"]
    assert found["pods-error-ratio"]["status"] == "pass", found["pods-error-ratio"]
    checks = {c["sla"]: c for c in summary_of(run_dir)["cross_checks"]}
    check = checks["pods-error-ratio"]
    assert check["flagged"], check
    assert "requests that never reached a pod" in check["note"]


def test_rolling_deploy_without_readiness_probe_fails_naming_readiness(tmp_path: Path) -> None:
    def drop_readiness(container: dict[str, Any]) -> None:
        container.pop("readinessProbe")
        # an app that answers 503 for its first 3 s, as when warming up
        container["args"] += ["--startup-delay", "3", "--fail-while-starting"]

    code, run_dir, output = run_sandbox(tmp_path, ROLLING, overlay_with(tmp_path, drop_readiness))
    assert code == 1, output
    failed = verdicts(run_dir)["no-failed-requests-during-rollout"]
    assert failed["status"] == "fail", failed
    assert "the readiness probe is missing or too lenient" in failed["message"]


CEILING = 2
"""The test's maxReplicas: the overlay's 10 would need ~10 x 33% of order CPU and nine pod
starts on a two-core machine; at 2 the ramp's load must hit the ceiling, so the ceiling
SLA is proven, not passed for want of load, and the scale-in is the 2 -> 1 step."""

# Margins (deploy/shop/sandbox/order-hpa.yaml; docs/sandbox.md, "Autoscaling margins"):
# 10 users load one replica to ~180% of its request, ~90% per replica at the ceiling of 2
# (the lowest sync seen at 3 replicas was 41%, i.e. ~60% at 2), against the scale-out line
# of 1.1 x 30% = 33%. Idle reads ~4%, against the 2 -> 1 line at 30% / 2 = 15%. Timings: a
# decision follows a load change by one metric window + one sync (2 s + 2 s), a pod is
# ready ~3 s after it is created, so 2 ready replicas take ~7 s (20 s allowed, within the
# 22 s of load); scale-in takes the same plus the 15 s stabilization, ~21 s (40 s allowed
# and recorded). Up under load, down after it: one reversal, and the margins leave no room
# for another.
AUTOSCALE = f"""\
name: autoscale-e2e
target:
  kubernetes: {{service: order, services: {{product: product}}}}
load:
  shape: ramp
  start_users: 2
  end_users: 10
  ramp: 6s
  hold: 16s
cooldown: 40s
slas:
  - {{id: scale-out, kind: scale_out, deployment: order, replicas: {CEILING}, within: 20s}}
  - {{id: ceiling, kind: max_replicas, deployment: order, max: {CEILING}}}
  - {{id: scale-in, kind: scale_in, deployment: order, replicas: 1, within: 40s}}
  - {{id: flapping, kind: flapping, deployment: order, max_changes: 1}}
"""


def hpa_timeline(run_dir: Path) -> tuple[pd.DataFrame, int, int]:
    """The order HPA's rows, each with the order Deployment's ready count in force at
    that time (``ready``), and the load window (epoch ms)."""
    replicas = pd.read_parquet(run_dir / "replicas").sort_values("t_ms", kind="stable")
    hpa = replicas[replicas["kind"] == "HorizontalPodAutoscaler"].drop(columns="ready")
    deployment = replicas[(replicas["kind"] == "Deployment") & (replicas["name"] == "order")]
    rows = pd.merge_asof(hpa, deployment[["t_ms", "ready"]], on="t_ms")
    events = pd.read_parquet(run_dir / "events")
    start = int(events.loc[events["kind"] == "load_start", "t_ms"].min())
    stop = int(events.loc[events["kind"] == "load_stop", "t_ms"].max())
    return rows, start, stop


def test_autoscale_scales_out_and_in_and_records_the_hpa(tmp_path: Path) -> None:
    def lower_the_ceiling(hpa: dict[str, Any]) -> None:
        hpa["spec"]["maxReplicas"] = CEILING

    manifests = overlay_copy(
        tmp_path, "order-hpa.yaml", "HorizontalPodAutoscaler", lower_the_ceiling
    )
    code, run_dir, output = run_sandbox(tmp_path, AUTOSCALE, manifests)
    assert code == 0, output
    assert {v["status"] for v in verdicts(run_dir).values()} == {"pass"}
    hpa, load_start, load_stop = hpa_timeline(run_dir)
    target = hpa["metric_target"].max()
    loaded = hpa[(hpa["t_ms"] >= load_start) & (hpa["t_ms"] < load_stop)]
    at_ceiling = loaded[(loaded["current"] == CEILING) & (loaded["ready"] == CEILING)]
    scaled_in = hpa[hpa["t_ms"] >= load_stop]
    scaled_in = scaled_in[(scaled_in["desired"] == 1).cummax()]

    # under load, every sync at the ceiling measured more than the scale-out line: the
    # HPA wanted more replicas and the ceiling held it
    assert len(at_ceiling) >= 1, loaded
    assert (at_ceiling["metric_value"] > 1.1 * target).all(), at_ceiling
    assert hpa["desired"].max() == CEILING
    # after the load, it decided 1 and stayed there, idle under the 2 -> 1 line
    assert len(scaled_in) >= 1, hpa[hpa["t_ms"] >= load_stop]
    assert (scaled_in["desired"] == 1).all(), scaled_in
    assert (scaled_in["metric_value"] <= target / 2).all(), scaled_in
    assert scaled_in["current"].iloc[-1] == 1


def assert_rolling_invariants(run_dir: Path, replicas: int) -> int:
    """maxSurge 1, maxUnavailable 0 held under load: at every recorded order pod transition
    from the rollout's start until it settled, at most ``replicas`` + 1 pods were alive and
    not terminating, and whenever an old pod began terminating, at least ``replicas``
    others were ready (the controller's decision; a readiness flap under load between two
    decisions is the world's, not the controller's). The transitions checked."""
    events = pd.read_parquet(run_dir / "events")
    start = int(events.loc[events["kind"] == "action_start", "t_ms"].min())
    settled = int(events.loc[events["kind"] == "rollout_settled", "t_ms"].max())
    pods = pd.read_parquet(run_dir / "pods")
    pods = pods[pods["name"].str.startswith("order-")].sort_values("t_ms", kind="stable")
    state: dict[str, tuple[bool, bool]] = {}  # pod -> (ready, terminating)
    checked = deletions = 0
    for row in pods.itertuples():
        if row.transition == "deleted":
            state.pop(row.name, None)
        else:
            state[row.name] = (bool(row.ready), bool(row.deleting))
        if start <= row.t_ms <= settled:
            serving = [ready for ready, terminating in state.values() if not terminating]
            assert len(serving) <= replicas + 1, (row, state)
            if row.transition == "deleting":
                assert sum(serving) >= replicas - 0, (row, state)
                deletions += 1
            checked += 1
    assert deletions >= replicas  # every old pod was replaced
    assert checked >= 3 * replicas  # each old pod: its successor added and ready, it deleting
    return checked


# The capacity proof. One node holds the two product pods and 4 order pods (100m
# each, 600m allocatable); a second node comes 20 s after a pod finds no room. The order
# HPA keeps 4 to 6 replicas, so the node is full before the load and the scale-out is one
# HPA decision: 12 users load 4 replicas to ~55% of their request each (~18% per user), so
# the HPA wants 8 at the first sync over the line (33%) and takes the ceiling of 6 (the
# scale-up limit is max(2 x 4, 4)), a metric window and a sync (2 s + 2 s) after the load
# rises. The 2 new pods wait Pending ~20 s for the new node, so 6 ready take ~25 s against
# the 15 s allowed (without the limit, about 7 s); the decision's few seconds stay under
# the fifth of the delay that would earn them a hint. The load holds 30 s and the cooldown
# 8 s, so the new node's pods are bound and recorded.
CAPACITY_CEILING = 6
CAPACITY = f"""\
name: capacity-e2e
target:
  kubernetes: {{service: order, services: {{product: product}}}}
load:
  shape: ramp
  start_users: 2
  end_users: 12
  ramp: 4s
  hold: 26s
cooldown: 8s
slas:
  - {{id: scale-out, kind: scale_out, deployment: order, replicas: {CAPACITY_CEILING}, within: 15s}}
"""
FULL_NODE = "0/1 nodes are available: 1 Insufficient cpu."


def test_autoscale_beyond_node_capacity_waits_for_a_node_and_blames_capacity(
    tmp_path: Path,
) -> None:
    def four_to_six(hpa: dict[str, Any]) -> None:
        hpa["spec"]["minReplicas"] = 4
        hpa["spec"]["maxReplicas"] = CAPACITY_CEILING

    manifests = overlay_copy(tmp_path, "order-hpa.yaml", "HorizontalPodAutoscaler", four_to_six)
    with (manifests / "sandbox-settings.yaml").open("a") as settings:
        settings.write("node_cpu_m: 600\nmax_nodes: 2\nnode_provisioning_delay_s: 20\n")

    code, run_dir, output = run_sandbox(tmp_path, CAPACITY, manifests)

    assert code == 1, output
    verdict = verdicts(run_dir)["scale-out"]
    assert verdict["status"] == "fail", verdict
    # the time went to pods waiting for a node, and the verdict says so, not the HPA
    assert f"Pending, Unschedulable ({FULL_NODE})" in verdict["message"], verdict
    assert "sync period or scale-up policy" not in verdict["message"], verdict
    events = pd.read_parquet(run_dir / "events")
    failed = events[events["kind"] == "FailedScheduling"]
    waited = set(failed["name"].str.removeprefix("Pod/"))
    assert len(waited) >= 2 and set(failed["message"]) == {FULL_NODE}, failed
    # the pods table shows them Pending, then Running on the provisioned node ~20 s later
    pods = pd.read_parquet(run_dir / "pods")
    pods = pods[pods["name"].isin(waited)]
    added = pods[pods["transition"] == "added"].groupby("name")["t_ms"].min()
    running = pods[pods["phase"] == "Running"].groupby("name")["t_ms"].min()
    assert set(pods.loc[pods["transition"] == "added", "phase"]) == {"Pending"}, pods
    assert ((running - added).dropna() >= 15_000).all(), running - added
    scheduled = events[(events["kind"] == "Scheduled") & events["name"].isin("Pod/" + added.index)]
    assert scheduled["message"].str.endswith(" to slagate-sandbox-2").all(), scheduled
    assert len(scheduled) >= 1, events[events["kind"] == "Scheduled"]
    profile = json.loads((run_dir / "run.json").read_text())["cluster"]["sandbox_profile"]
    assert profile["timings"]["node_provisioning_delay_s"] == 20.0
    assert profile["capacity"].startswith("nodes of 600m CPU and 110 pods, up to 2"), profile
    assert profile["cpu_limits"].startswith("CPU limits "), profile  # enforced, or why not
