"""How fast the order HPA scales out under shop load and back in after it, on the sandbox.

Writes a temporary scenario: the smoke load (``locustfiles/orders.py``, 10 users, here
constant for ``--duration`` seconds) on the sandbox's order Service, then a 60 s cooldown
to record the scale-in (the overlay's HPA scales down after a 15 s stabilization window),
with two SLAs:

- ``scale_out``: deployment/order has 3 ready replicas within 60 s of load start;
- ``scale_in``: back to 1 (desired and current) within 45 s of load stop (the 15 s
  stabilization + 30 s).

Runs it with ``slagate run SCENARIO --sandbox`` (a fresh sandbox, stopped after), then
prints both SLAs' measured times from ``summary.json`` and the HPA's highest desired
replica count from the run's ``replicas`` table.

    .venv/bin/python benchmarks/sandbox_autoscale.py [--duration 60] [--keep DIR]

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

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SLAGATE = Path(sys.executable).with_name("slagate")
SCALE_OUT = ("scale-out", 3, 60.0)  # SLA id, replicas, within seconds
SCALE_IN = ("scale-in", 1, 45.0)
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
  users: 10
  spawn_rate: 10
  duration: {duration}s
drain: 2s
cooldown: 60s
slas:
  - {{id: {out[0]}, kind: scale_out, deployment: order, replicas: {out[1]}, within: {out[2]}s}}
  - {{id: {in_[0]}, kind: scale_in, deployment: order, replicas: {in_[1]}, within: {in_[2]}s}}
"""


def run(workdir: Path, duration: int) -> tuple[int, Path]:
    """``slagate run --sandbox`` on the scenario; (exit code, run folder)."""
    scenario = workdir / "autoscale-benchmark.yaml"
    locustfile = ROOT / "locustfiles" / "orders.py"
    scenario.write_text(
        SCENARIO.format(locustfile=locustfile, duration=duration, out=SCALE_OUT, in_=SCALE_IN)
    )
    run_dir, log = workdir / "run", workdir / "slagate-run.log"
    argv = [str(SLAGATE), "run", str(scenario), "--sandbox", "--run-dir", str(run_dir)]
    print(f"slagate run {scenario.name} --sandbox ({duration} s load + 60 s cooldown)", flush=True)
    with log.open("w") as out:
        done = subprocess.run(
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=duration + 300
        )
    if done.returncode not in (0, 1):
        print(log.read_text()[-3000:])
    return done.returncode, run_dir


def report(run_dir: Path) -> bool:
    """Print each SLA's measured time vs its target and the HPA's peak; True if both pass."""
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
    replicas = pd.read_parquet(run_dir / "replicas")
    hpa = replicas[(replicas["kind"] == "HorizontalPodAutoscaler") & (replicas["name"] == "order")]
    deployment = replicas[(replicas["kind"] == "Deployment") & (replicas["name"] == "order")]
    print(
        f"HPA order: max desired replicas {hpa['desired'].max():.0f} "
        f"(max CPU {hpa['metric_value'].max():.0f}% of request vs target "
        f"{hpa['metric_target'].max():.0f}%); "
        f"deployment order: max ready {deployment['ready'].max():.0f}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--keep", help="put the scenario, log and run folder here and keep them")
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="slagate-autoscale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        code, run_dir = run(workdir, args.duration)
        if code not in (0, 1):
            print(f"slagate run exited {code}: FAIL")
            return 2
        return 0 if report(run_dir) else 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
