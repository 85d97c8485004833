"""The order HPA on the sandbox: scale-out and scale-in times, and its margins.

How fast the HPA scales out under shop load and back in after it, and how far idle and
load sit from the lines it decides by.

Writes a temporary scenario: the smoke load (``locustfiles/orders.py``, ``--users`` users,
constant for ``--duration`` seconds) on the sandbox's order Service, then a 75 s cooldown
to record the scale-in and the idle pod after it, with two SLAs:

- ``scale_out``: deployment/order has 3 ready replicas within 60 s of load start;
- ``scale_in``: back to 1 (desired and current) within 60 s of load stop: the overlay's
  15 s stabilization, twice if idle is above the one-step line from the peak (below).

Runs it with ``slagate run SCENARIO --sandbox`` (a fresh sandbox, stopped after), prints
both SLAs' measured times from ``summary.json``, then the margins from the HPA's rows in
the run's ``replicas`` table (docs/sandbox.md, "Autoscaling margins"):

- the lines: scale out above 1.1 x target (the tolerance), scale in 2 -> 1 at or below
  target / 2, and N -> 1 in one step at or below target / N from the peak N;
- idle: the HPA's utilization once it decided 1 replica after the load;
- load at one replica: utilization x ready replicas during the load's second half (the
  load spreads evenly over ready pods, so this is what one replica would carry);
- the margins: scale-in line / idle (want >= 3) and load / scale-out line (want >= 2).

    .venv/bin/python benchmarks/sandbox_autoscale.py [--duration 60] [--users 10] [--keep DIR]

Exits 1 if either SLA fails (or has no data), 2 if the run could not run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SLAGATE = Path(sys.executable).with_name("slagate")
SCALE_OUT = ("scale-out", 3, 60.0)  # SLA id, replicas, within seconds
SCALE_IN = ("scale-in", 1, 60.0)
COOLDOWN_S = 75
IDLE_MARGIN = 3.0  # scale-in line / idle utilization, wanted at least
LOAD_MARGIN = 2.0  # load at one replica / scale-out line, wanted at least
TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
SCENARIO = """
name: autoscale-benchmark
description: Smoke-like load on the sandbox's order service; scale-out and scale-in times.
target:
  kubernetes:
    namespace: default
    service: order
    services: {{product: product}}
load:
  locustfile: {locustfile}
  shape: constant
  users: {users}
  spawn_rate: {users}
  duration: {duration}s
drain: 2s
cooldown: {cooldown}s
slas:
  - {{id: {out[0]}, kind: scale_out, deployment: order, replicas: {out[1]}, within: {out[2]}s}}
  - {{id: {in_[0]}, kind: scale_in, deployment: order, replicas: {in_[1]}, within: {in_[2]}s}}
"""


class Timeline(NamedTuple):
    """The order HPA's rows with the Deployment's ready count in force (``ready``), and
    the load window (epoch ms)."""

    hpa: pd.DataFrame
    load_start_ms: int
    load_stop_ms: int


def run(workdir: Path, duration: int, users: int) -> tuple[int, Path]:
    """``slagate run --sandbox`` on the scenario; (exit code, run folder)."""
    scenario = workdir / "autoscale-benchmark.yaml"
    locustfile = ROOT / "locustfiles" / "orders.py"
    scenario.write_text(
        SCENARIO.format(
            locustfile=locustfile,
            users=users,
            duration=duration,
            cooldown=COOLDOWN_S,
            out=SCALE_OUT,
            in_=SCALE_IN,
        )
    )
    run_dir, log = workdir / "run", workdir / "slagate-run.log"
    argv = [str(SLAGATE), "run", str(scenario), "--sandbox", "--run-dir", str(run_dir)]
    print(
        f"slagate run {scenario.name} --sandbox ({users} users, {duration} s load"
        f" + {COOLDOWN_S} s cooldown)",
        flush=True,
    )
    with log.open("w") as out:
        done = subprocess.run(
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=duration + 300
        )
    if done.returncode not in (0, 1):
        print(log.read_text()[-3000:])
    return done.returncode, run_dir


def report_slas(run_dir: Path) -> bool:
    """Print each SLA's measured time vs its target; True if both pass."""
    verdicts = {v["id"]: v for v in json.loads((run_dir / "summary.json").read_text())["verdicts"]}
    ok = True
    for sla_id, replicas, within in (SCALE_OUT, SCALE_IN):
        v = verdicts[sla_id]
        measured = "no data" if v["measured"] is None else f"{v['measured']:.1f} s"
        passed = v["status"] == "pass"
        ok = ok and passed
        print(
            f"{sla_id} to {replicas}: {measured} (target <= {within:g} s): "
            f"{'PASS' if passed else 'FAIL'}  [{v['message']}]"
        )
    return ok


def read_timeline(run_dir: Path) -> Timeline:
    replicas = pd.read_parquet(run_dir / "replicas").sort_values("t_ms", kind="stable")
    is_hpa = (replicas["kind"] == "HorizontalPodAutoscaler") & (replicas["name"] == "order")
    is_deployment = (replicas["kind"] == "Deployment") & (replicas["name"] == "order")
    hpa = replicas[is_hpa].drop(columns="ready")
    hpa = pd.merge_asof(hpa, replicas.loc[is_deployment, ["t_ms", "ready"]], on="t_ms")
    events = pd.read_parquet(run_dir / "events")
    start = int(events.loc[events["kind"] == "load_start", "t_ms"].min())
    stop = int(events.loc[events["kind"] == "load_stop", "t_ms"].max())
    return Timeline(hpa, start, stop)


def idle_rows(timeline: Timeline) -> pd.DataFrame:
    """HPA rows from its first decision of 1 replica after the load on."""
    after = timeline.hpa[timeline.hpa["t_ms"] >= timeline.load_stop_ms]
    return after[(after["desired"] == 1).cummax()]


def load_at_one_replica(timeline: Timeline) -> pd.Series:
    """Utilization x ready replicas over the load's second half, percent of one request."""
    middle_ms = (timeline.load_start_ms + timeline.load_stop_ms) // 2
    hpa = timeline.hpa
    rows = hpa[(hpa["t_ms"] >= middle_ms) & (hpa["t_ms"] < timeline.load_stop_ms)]
    return (rows["metric_value"] * rows["ready"]).dropna()


def report_margins(timeline: Timeline) -> None:
    """Print the HPA's lines, idle and load at one replica, and the margins between them."""
    target = float(timeline.hpa["metric_target"].max())
    peak = int(timeline.hpa["desired"].max())
    out_line, in_line = (1 + TOLERANCE) * target, target / 2
    print(f"HPA order: target {target:g}% of request, peak {peak} replicas")
    print(f"  scale-out line: > {out_line:g}% (1.1 x target)")
    print(f"  scale-in line:  <= {in_line:g}% for 2 -> 1 (target / 2); from {peak} to 1 in one")
    print(f"                  step <= {target / peak:.3g}% (target / {peak})")
    idle = idle_rows(timeline)["metric_value"].dropna()
    load = load_at_one_replica(timeline)
    if idle.empty or load.empty:
        print("  no HPA rows at idle after the load or during it: no margins")
        return
    print(
        f"  idle at 1 replica after the load: median {idle.median():g}%, max {idle.max():g}%"
        f" ({len(idle)} rows); scale-in line / idle = {in_line / idle.median():.1f}"
        f" (want >= {IDLE_MARGIN:g})"
    )
    print(
        f"  load at 1 replica (utilization x ready): median {load.median():.0f}%,"
        f" min {load.min():.0f}% ({len(load)} rows); load / scale-out line ="
        f" {load.median() / out_line:.1f} (want >= {LOAD_MARGIN:g})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--users", type=int, default=10, help="shop users (locustfiles/orders.py)")
    parser.add_argument("--keep", help="put the scenario, log and run folder here and keep them")
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="slagate-autoscale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        code, run_dir = run(workdir, args.duration, args.users)
        if code not in (0, 1):
            print(f"slagate run exited {code}: FAIL")
            return 2
        ok = report_slas(run_dir)
        report_margins(read_timeline(run_dir))
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
